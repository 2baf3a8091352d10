"""NAV refund offsetting at scale: 1 000 000 K27 lines against 1 000 000 claims.

    .venv/bin/python -m benchmarks.bench_nav [--sizes 100000,1000000] [--workdir DIR]

Measures what a run does with the data once it has it: parse the K27 file, read HR's claims
(CSV), match + classify, and write the offset journal, in a fresh process per size (peak
memory = that process's max RSS). Prints seconds per phase, the peak, and the 100k -> 1M
scaling factor. Targets (issue 4): <= 15 s wall and <= 2 GB at 1M; scaling <= 11x.

The data is generated column-wise (a million lines in seconds; the sandbox seed writes a
realistic month line by line and is the oracle of the acceptance test instead). The mix:
82 % exact, 6 % rounding, 8 % monthly claims with income data (weekday count / 6G), 4 % other
differences; 1 % holiday-pay code; claims shuffled, so the join does real work.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ORGNR = 974600013
BNRS = np.array([973100009, 973110004, 973120018, 973130005, 973140000, 973150006, 973160001], dtype=np.int64)
ACCOUNT = 15031043325
W1 = np.array([3, 7, 6, 1, 8, 9, 4, 5, 2])
W2 = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2])


def synthetic_fnr(n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct synthetic fnr (month + 40) with valid check digits, as int64."""
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = int((n - have) * 1.5) + 1000
        day = rng.integers(1, 29, m)
        month = rng.integers(41, 53, m)
        year = rng.integers(40, 100, m)
        individ = rng.integers(0, 500, m)
        first9 = np.stack([day // 10, day % 10, month // 10, month % 10, year // 10, year % 10,
                           individ // 100, individ // 10 % 10, individ % 10], axis=1)
        r1 = 11 - (first9 @ W1) % 11
        k1 = np.where(r1 == 11, 0, r1)
        r2 = 11 - (np.concatenate([first9, k1[:, None]], axis=1) @ W2) % 11
        k2 = np.where(r2 == 11, 0, r2)
        ok = (k1 != 10) & (k2 != 10)
        digits = np.concatenate([first9, k1[:, None], k2[:, None]], axis=1)[ok]
        values = digits @ (10 ** np.arange(10, -1, -1)).astype(np.int64)
        out.append(values)
        have = len(np.unique(np.concatenate(out)))
    return np.unique(np.concatenate(out))[:n][rng.permutation(n)]


def _digits_into(mat: np.ndarray, start: int, width: int, values: np.ndarray) -> None:
    powers = (10 ** np.arange(width - 1, -1, -1)).astype(np.int64)
    mat[:, start:start + width] = (values[:, None] // powers % 10 + 48).astype(np.uint8)


def k27_bytes(fnr, bnr, code, fra, til, amount_ore, maks) -> bytes:
    """The K27 file for these columns (ISO-8859-1, CRLF), assembled as one byte matrix."""
    n = len(fnr)
    mat = np.full((n, 129), ord(" "), dtype=np.uint8)
    pos = 0
    layout = []
    for width in (4, 9, 9, 1, 11, 8, 11, 25, 8, 11, 11, 8):
        layout.append(pos)
        pos += width + 1
    for sep in layout[1:]:
        mat[:, sep - 1] = ord(";")
    _digits_into(mat, layout[0], 4, np.full(n, 8020))
    _digits_into(mat, layout[1], 9, np.full(n, ORGNR))
    _digits_into(mat, layout[2], 9, bnr)
    mat[:, layout[3]] = np.frombuffer("".join(code).encode("ascii"), dtype=np.uint8) if isinstance(code, list) \
        else code.astype("S1").view(np.uint8)
    _digits_into(mat, layout[4], 11, fnr)

    def ymd(d: np.ndarray) -> np.ndarray:
        s = pd.DatetimeIndex(d)
        return np.where(np.isnat(d), 0, s.year * 10000 + s.month * 100 + s.day).astype(np.int64)

    _digits_into(mat, layout[5], 8, ymd(fra))
    _digits_into(mat, layout[6], 11, np.full(n, ACCOUNT))
    name = np.frombuffer(b"ANSATT S\xd8RENSEN \xc5SE".ljust(25), dtype=np.uint8)
    mat[:, layout[7]:layout[7] + 25] = name
    _digits_into(mat, layout[8], 8, ymd(til))
    _digits_into(mat, layout[9], 10, np.abs(amount_ore))
    mat[:, layout[9] + 10] = np.where(amount_ore < 0, ord("-"), ord(" "))
    _digits_into(mat, layout[10], 10, np.zeros(n, dtype=np.int64))
    _digits_into(mat, layout[11], 8, ymd(maks))
    mat[:, 127] = 13
    mat[:, 128] = 10
    return mat.tobytes()


def _fmt_dates(d: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(d)
    texts = np.array([pd.Timestamp(u).strftime("%d.%m.%Y") for u in uniques], dtype=object)
    return texts[codes]


def generate(n: int, folder: Path, seed: int = 1) -> dict[str, Path]:
    """n lines in one K27 file and n claims in a semicolon CSV (HR's CSV export form)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    fnr = synthetic_fnr(n, rng)
    bnr = BNRS[rng.integers(0, len(BNRS), n)]
    month = rng.integers(1, 13, n)
    fra = (np.datetime64("2025-01", "M") + (month - 1).astype("timedelta64[M]")).astype("datetime64[D]")
    til = ((fra.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1)
    wd = np.busday_count(fra, til + 1)
    income = rng.integers(30_000, 90_000, n) * 100
    first = fra - rng.integers(20, 200, n).astype("timedelta64[D]")
    g = np.where(first >= np.datetime64("2025-05-01"), 130_160, 124_028)
    annual = np.minimum(income * 12, g * 600)
    rate = (2 * annual + 26_000) // 52_000  # round half up of annual/100/260
    nav = rate * wd * 100
    kind = rng.random(n)
    claim_amt = nav.copy()
    rounding = (kind >= 0.82) & (kind < 0.88)
    claim_amt[rounding] += rng.integers(-3000, 3000, rounding.sum())
    monthly = (kind >= 0.88) & (kind < 0.96)
    claim_amt[monthly] = income[monthly]
    other = kind >= 0.96
    claim_amt[other] += rng.integers(10_000, 500_000, other.sum())
    code = np.full(n, "4", dtype="<U1")
    holiday = rng.random(n) < 0.01
    code[holiday] = "H"
    maks = first + 360
    data = k27_bytes(fnr, bnr, code, fra, til, nav, maks)
    report = folder / f"{n}_974600013_ref-arbg_2026-01-05.csv"
    report.write_bytes(data)

    order = rng.permutation(n)
    has_income = monthly | (rng.random(n) < 0.5)
    claims = pd.DataFrame({
        "krav_id": np.char.add("K", np.arange(n).astype(str))[order],
        "fnr": pd.Series(fnr[order]).astype(str).str.zfill(11).to_numpy(),
        "bedriftsnummer": bnr[order],
        "ytelse": code[order],
        "fra_dato": _fmt_dates(fra[order]),
        "til_dato": _fmt_dates(til[order]),
        "krav_belop": claim_amt[order] / 100,
        "org_enhet": np.array(["Helse og velferd", "Oppvekst", "Teknisk"], dtype=object)[order % 3],
        "manedsinntekt": np.where(has_income, income, np.nan)[order] / 100,
        "refusjon_per_mnd": np.where(has_income, income, np.nan)[order] / 100,
        "grad": np.where(has_income, 100.0, np.nan)[order],
        "forste_fravaersdag": np.where(has_income[order], _fmt_dates(first[order]), ""),
    })
    claims_path = folder / "refusjonskrav.csv"
    claims.to_csv(claims_path, sep=";", index=False, decimal=",", float_format="%.2f")
    return {"report": report, "claims": claims_path}


def pipeline(folder: Path) -> dict:
    """What the flow does with the files, timed per phase (the same functions the flow calls)."""
    from connectors.nav.hr_claims import read_claims
    from connectors.nav.k27 import read_k27
    from flows.nav_refund_offsetting.matching import MatchInput, match
    from flows.nav_refund_offsetting.outputs import journal_from_result, write_journal
    from flows.nav_refund_offsetting.rules import Rules

    rules = Rules()
    times: dict[str, float] = {}
    cpu0 = time.process_time()
    start = t = time.perf_counter()
    report = read_k27(next(folder.glob("*_ref-arbg_*.csv")), report_id="1")
    times["parse"] = time.perf_counter() - t
    t = time.perf_counter()
    claims = read_claims(folder / "refusjonskrav.csv")
    times["claims"] = time.perf_counter() - t
    t = time.perf_counter()
    lines = report.lines.assign(report_seq=0, report_id="1", held=False)
    result = match(MatchInput(lines=lines, claims=claims.assign(settled=False, in_case=False), rules=rules,
                              as_of=date(2026, 1, 5)))
    times["match"] = time.perf_counter() - t
    t = time.perf_counter()
    journal = journal_from_result(result, "bench", date(2026, 1, 5), rules.ledger)
    rows = write_journal([journal], folder / "utligningsbilag.csv")
    times["journal"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    times["cpu"] = time.process_time() - cpu0  # all threads (Arrow's CSV reader uses both cores)
    offset = int(result.lines["outcome"].isin(["EXACT", "ROUNDING", "WEEKDAYS", "CAP_6G"]).sum())
    return {"lines": len(lines), "claims": len(claims), "offset": offset, "journal_rows": rows, **times,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_size(n: int, workdir: Path) -> dict:
    folder = workdir / f"nav-{n}"
    if not (folder / "refusjonskrav.csv").exists():
        t = time.perf_counter()
        generate(n, folder)
        print(f"  generated {n:,} lines and claims in {time.perf_counter() - t:.1f} s ({folder})", flush=True)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_nav", "--child", str(folder)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="Line counts, comma-separated.")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rpa-bench-nav",
                        help="Where the generated files are kept (reused between runs).")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(pipeline(args.child)))
        return 0
    sizes = [int(x) for x in args.sizes.split(",")]
    results = {}
    print(f"{'lines':>10} {'parse':>7} {'claims':>7} {'match':>7} {'journal':>8} {'total s':>8} {'cpu s':>7} "
          f"{'peak MB':>8} {'offset':>7}")
    for n in sizes:
        r = run_size(n, args.workdir)
        results[n] = r
        print(f"{n:>10,} {r['parse']:>7.2f} {r['claims']:>7.2f} {r['match']:>7.2f} {r['journal']:>8.2f} "
              f"{r['total']:>8.2f} {r['cpu']:>7.2f} {r['peak_mb']:>8.0f} {r['offset'] / r['lines']:>7.1%}", flush=True)
    ok = True
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work slows wall time)")
    if 1_000_000 in results:
        big = results[1_000_000]
        ok &= big["total"] <= 15 and big["peak_mb"] <= 2048
        print(f"1M lines: {big['total']:.2f} s wall (target <= 15 s), peak {big['peak_mb']:.0f} MB (target <= 2048 MB)")
    if 100_000 in results and 1_000_000 in results:
        factor = results[1_000_000]["total"] / results[100_000]["total"]
        cpu_factor = results[1_000_000]["cpu"] / results[100_000]["cpu"]
        ok &= factor <= 11
        print(f"scaling 100k -> 1M: {factor:.1f}x wall, {cpu_factor:.1f}x CPU (goal <= 11x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
