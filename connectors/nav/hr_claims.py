"""HR's refund claims (refusjonskrav) and the employee register, exported from the HR system.

Excel or CSV; the column headers are mapped in the process definition (`inputs[].columns`),
so a municipality whose export says "Fødselsnummer" instead of "fnr" changes YAML, not code.
`read_claims`: either the whole file is imported or nothing is: a missing column, an unreadable
file or a bad cell raises InputFileError naming the file, the row, the column and the value.
`read_claims_rows`: the same whole-file checks, but a bad row (or a krav_id on several rows) is
set aside as a `ClaimRowIssue` naming row and column, and every other row is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.nav.k27 import CODE_LIST
from connectors.nav.tables import (
    InputFileError,
    Problems,
    arrow_text,
    check_pattern,
    open_table,
    parse_amounts,
    parse_dates,
    parse_fnr,
    parse_orgnr,
    require_rows,
)

CLAIM_COLUMNS = {c: c for c in ("krav_id", "fnr", "bedriftsnummer", "ytelse", "fra_dato", "til_dato", "krav_belop",
                                 "org_enhet", "manedsinntekt", "refusjon_per_mnd", "grad", "forste_fravaersdag")}
CLAIM_REQUIRED = ["krav_id", "fnr", "bedriftsnummer", "ytelse", "fra_dato", "til_dato", "krav_belop", "org_enhet"]
EMPLOYEE_COLUMNS = {"fnr": "fnr", "bedriftsnummer": "bedriftsnummer", "org_enhet": "org_enhet",
                    "stillingsprosent": "stillingsprosent"}
EMPLOYEE_REQUIRED = ["fnr", "bedriftsnummer", "org_enhet"]

# What HR systems write in the benefit column besides NAV's own one-character codes.
BENEFIT_ALIASES = {
    "sykepenger": "4", "syk": "4", "sp": "4",
    "feriepenger": "H", "sykepenger feriepenger": "H", "feriepenger sykepenger": "H",
    "forsikret agp": "5", "stort sykefravær": "6", "kronisk": "6", "gravid": "7", "gravide": "7",
    "reisetilskudd": "8", "pleiepenger": "9", "foreldrepenger": "2", "svangerskapspenger": "3",
    "omsorgspenger": "Z", "opplæringspenger": "Y",
}

def _STRING_MAPPER(t):
    """Arrow strings -> pandas' default 'str' dtype (Arrow-backed, NaN for missing)."""
    import pyarrow as pa

    return pd.StringDtype("pyarrow", na_value=np.nan) if t == pa.string() else None


CLAIM_FRAME_COLUMNS = ["krav_id", "fnr", "bnr", "code", "fra", "til", "amount_ore", "org_enhet", "inntekt_ore",
                       "refusjon_ore", "grad", "forste_fravaersdag", "row_no"]


def parse_benefit_codes(s: pd.Series, rows: np.ndarray, column: str, problems: Problems) -> np.ndarray:
    """NAV's code ('4', 'H') or a known name ('sykepenger') -> index into CODE_LIST."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = arrow_text(s)
    found = pc.fill_null(pc.index_in(pc.utf8_upper(text), value_set=pa.array(CODE_LIST)), -1)
    idx = np.asarray(found.to_numpy(zero_copy_only=False)).astype(np.int64)
    named = np.flatnonzero(idx < 0)
    if len(named):
        lookup = {c: i for i, c in enumerate(CODE_LIST)}
        names = text.take(pa.array(named)).to_pylist()
        for pos, name in zip(named, names, strict=True):
            code = BENEFIT_ALIASES.get(name.strip().lower())
            if code is not None:
                idx[pos] = lookup[code]
        bad = idx < 0
        if bad.any():
            problems.add(rows[bad], column, "ukjent ytelse (bruk NAVs kode, f.eks. 4 for sykepenger)",
                         [names[list(named).index(i)] for i in np.flatnonzero(bad)])
    return np.where(idx < 0, 0, idx).astype(np.int8)


def parse_grade(s: pd.Series, rows: np.ndarray, column: str, problems: Problems) -> np.ndarray:
    """'50', '50 %', '50,0' or '0,5' -> percent (NaN where empty)."""
    import pyarrow.compute as pc

    cleaned = pd.Series(pc.utf8_trim_whitespace(pc.replace_substring(arrow_text(s), "%", "")).to_pandas(
        types_mapper=_STRING_MAPPER))
    value = parse_amounts(cleaned, rows, column, problems, required=False) / 100
    value = np.where(value <= 1.0, value * 100, value)
    bad = ~np.isnan(value) & ((value <= 0) | (value > 100))
    if bad.any():
        problems.add(rows[bad], column, "grad må være mellom 1 og 100 %", s[bad].tolist())
    return value


@dataclass
class ClaimRowIssue:
    """One claim row that cannot be used (or one krav_id found on several rows): for one case."""

    rows: list[int]                 # row numbers as the user sees them (header = row 1)
    krav_id: str
    fnrs: list[int]                 # the person(s), where the fnr cell could be read
    problems: list[str]             # "rad 3, kolonne til_dato: mangler dato"
    duplicate: bool = False


@dataclass
class _RowProblems(Problems):
    """Problems that also remember which row and column each one was."""

    cells: list[tuple[int, str, str]] = field(default_factory=list)   # row, column, the message

    def add(self, rows: np.ndarray | list[int], column: str, reason: str, values: list[str] | None = None) -> None:
        start = len(self.items)
        super().add(rows, column, reason, values)
        for n, row in enumerate(rows):
            shown = f" («{values[n]}»)" if values is not None and values[n] != "" else ""
            text = self.items[start + n] if start + n < len(self.items) else f"rad {int(row)}, kolonne {column}: {reason}{shown}"
            self.cells.append((int(row), column, text))


@dataclass
class ClaimsRead:
    claims: pd.DataFrame            # the usable rows (CLAIM_FRAME_COLUMNS + open_ended)
    issues: list[ClaimRowIssue]     # rows set aside, one per row (or per duplicated krav_id)


def read_claims(path: Path | str, columns: dict[str, str] | None = None,
                required: list[str] | None = None, patterns: dict[str, str] | None = None) -> pd.DataFrame:
    """The claims as a frame of CLAIM_FRAME_COLUMNS (amounts in øre), or InputFileError.

    `patterns` (field -> regular expression, from the definition) are identifiers that feed the
    ledger import: a value that does not match is refused with file/row/column, never rewritten."""
    frame, problems, _ = _parse_claims(path, columns, required, Problems, allow_open_end=False, patterns=patterns)
    problems.raise_if_any()
    return frame.drop(columns=["open_ended"])


def read_claims_rows(path: Path | str, columns: dict[str, str] | None = None, required: list[str] | None = None,
                     allow_open_end: bool = False, patterns: dict[str, str] | None = None) -> ClaimsRead:
    """The usable claim rows and one ClaimRowIssue per row that is not; InputFileError only for
    the file as a whole (missing column, unreadable, or not one usable row). allow_open_end: an
    empty til_dato is an open-ended claim (til NaT, open_ended True), not a bad cell."""
    frame, problems, krav_ids = _parse_claims(path, columns, required, _RowProblems, allow_open_end=allow_open_end,
                                              patterns=patterns)
    if not problems.cells:
        return ClaimsRead(frame, [])
    rows = frame["row_no"].to_numpy(np.int64)
    by_row: dict[int, list[tuple[str, str]]] = {}
    for row, column, text in problems.cells:
        by_row.setdefault(row, []).append((column, text))
    fnr_cols = {c for r in by_row.values() for c, t in r if "fødselsnummer" in t}
    ids = pd.Series(krav_ids, dtype=object)
    dup = ids.duplicated(keep=False).to_numpy() & (ids != "").to_numpy()
    bad_rows = set(by_row) | set(rows[dup].tolist())
    fnr = frame["fnr"].to_numpy(np.int64)

    def person(pos: int) -> int | None:
        row = int(rows[pos])
        readable = not any(c in fnr_cols for c, _ in by_row.get(row, []))
        return int(fnr[pos]) if readable and fnr[pos] else None

    issues: list[ClaimRowIssue] = []
    if dup.any():
        for krav_id, positions in pd.Series(np.flatnonzero(dup)).groupby(ids[dup].to_numpy()):
            pos = positions.to_list()
            listed = [int(rows[p]) for p in pos]
            texts = [f"rad {', '.join(map(str, listed))}, kolonne {_header(columns, 'krav_id')}: krav-id "
                     f"«{krav_id}» finnes på {len(listed)} rader"]
            texts += [t for p in pos for _, t in by_row.get(int(rows[p]), []) if "flere ganger" not in t]
            fnrs = sorted({f for f in (person(p) for p in pos) if f is not None})
            issues.append(ClaimRowIssue(listed, str(krav_id), fnrs, texts, duplicate=True))
    for pos in np.flatnonzero(~dup & np.isin(rows, list(by_row))):
        row = int(rows[pos])
        f = person(int(pos))
        issues.append(ClaimRowIssue([row], str(krav_ids[pos]), [f] if f is not None else [],
                                    [t for _, t in by_row[row]]))
    issues.sort(key=lambda i: i.rows[0])
    good = ~np.isin(rows, list(bad_rows))
    if not good.any():  # nothing usable: the file as a whole is wrong
        problems.raise_if_any()
    return ClaimsRead(frame[good].reset_index(drop=True), issues)


def _header(columns: dict[str, str] | None, name: str) -> str:
    return (columns or CLAIM_COLUMNS).get(name, name)


def _parse_claims(path: Path | str, columns: dict[str, str] | None, required: list[str] | None,
                  problems_cls: type[Problems], allow_open_end: bool, patterns: dict[str, str] | None = None
                  ) -> tuple[pd.DataFrame, Problems, list[str]]:
    columns = columns or CLAIM_COLUMNS
    required = CLAIM_REQUIRED if required is None else required
    path, df, cols, rows, problems = open_table(path, "refusjonskravfilen", columns, required)
    require_rows(path, df, "refusjonskravfilen")
    problems = problems_cls(problems.path, problems.items)

    def col(name: str) -> pd.Series:
        return df[cols[name]] if name in cols else pd.Series([""] * len(df), index=df.index, dtype=object)

    def header(name: str) -> str:
        return cols.get(name, columns.get(name, name))

    import pyarrow.compute as pc

    krav_id = arrow_text(col("krav_id"))
    empty_id = np.asarray(pc.equal(krav_id, "").to_numpy(zero_copy_only=False))
    if empty_id.any():
        problems.add(rows[empty_id], header("krav_id"), "mangler krav-id")
    if len(pc.unique(krav_id)) != len(krav_id):  # only then find which (hashing 1M ids twice is not free)
        ids = pd.Series(krav_id.to_pylist())
        dup = ids.duplicated(keep="first").to_numpy() & ~empty_id
        if dup.any():
            problems.add(rows[dup], header("krav_id"), "krav-id finnes flere ganger i filen", ids[dup].tolist())
    fnr = parse_fnr(col("fnr"), rows, header("fnr"), problems)
    bnr = parse_orgnr(col("bedriftsnummer"), rows, header("bedriftsnummer"), problems)
    code = parse_benefit_codes(col("ytelse"), rows, header("ytelse"), problems)
    fra = parse_dates(col("fra_dato"), rows, header("fra_dato"), problems)
    til = parse_dates(col("til_dato"), rows, header("til_dato"), problems, required=not allow_open_end)
    open_ended = np.isnat(til) & ~np.isnat(fra) if allow_open_end else np.zeros(len(rows), dtype=bool)
    order = ~np.isnat(fra) & ~np.isnat(til) & (fra > til)
    if order.any():
        problems.add(rows[order], header("til_dato"), "til-dato er før fra-dato")
    amount = parse_amounts(col("krav_belop"), rows, header("krav_belop"), problems)
    negative = amount < 0
    if negative.any():
        problems.add(rows[negative], header("krav_belop"), "et refusjonskrav kan ikke være negativt (en korreksjon "
                     "registreres som endring av kravet)", [f"{v / 100:.2f}".replace(".", ",") for v in amount[negative]])
    org_unit = arrow_text(col("org_enhet"))
    no_unit = np.asarray(pc.equal(org_unit, "").to_numpy(zero_copy_only=False))
    if "org_enhet" in required and no_unit.any():
        problems.add(rows[no_unit], header("org_enhet"), "mangler organisasjonsenhet")
    income = parse_amounts(col("manedsinntekt"), rows, header("manedsinntekt"), problems, required=False)
    refund = parse_amounts(col("refusjon_per_mnd"), rows, header("refusjon_per_mnd"), problems, required=False)
    grade = parse_grade(col("grad"), rows, header("grad"), problems)
    first_day = parse_dates(col("forste_fravaersdag"), rows, header("forste_fravaersdag"), problems,
                            required=False)
    for name, pattern in (patterns or {}).items():
        if name in cols:
            check_pattern(arrow_text(col(name)), rows, header(name), pattern, problems)
    frame = pd.DataFrame({
        "krav_id": krav_id.to_pandas(types_mapper=_STRING_MAPPER),
        "fnr": fnr,
        "bnr": bnr,
        "code": pd.Categorical.from_codes(code, categories=CODE_LIST),
        "fra": fra.astype("datetime64[s]"),
        "til": til.astype("datetime64[s]"),
        "amount_ore": np.nan_to_num(amount).astype(np.int64),
        "org_enhet": org_unit.to_pandas(types_mapper=_STRING_MAPPER),
        "inntekt_ore": income,
        "refusjon_ore": refund,
        "grad": grade,
        "forste_fravaersdag": first_day.astype("datetime64[s]"),
        "row_no": rows.astype(np.int32),
        "open_ended": open_ended,
    })
    return frame, problems, krav_id.to_pylist() if problems.items else []


def empty_claims() -> pd.DataFrame:
    return pd.DataFrame({
        "krav_id": pd.array([], dtype="str"), "fnr": np.array([], np.int64), "bnr": np.array([], np.int64),
        "code": pd.Categorical.from_codes(np.array([], np.int8), categories=CODE_LIST),
        "fra": np.array([], "datetime64[s]"), "til": np.array([], "datetime64[s]"),
        "amount_ore": np.array([], np.int64), "org_enhet": pd.array([], dtype="str"),
        "inntekt_ore": np.array([], np.float64), "refusjon_ore": np.array([], np.float64),
        "grad": np.array([], np.float64), "forste_fravaersdag": np.array([], "datetime64[s]"),
        "row_no": np.array([], np.int32)})


def read_employees(path: Path | str, columns: dict[str, str] | None = None,
                   required: list[str] | None = None) -> pd.DataFrame:
    """The employee register (one row per position): fnr, bnr, org_enhet, stillingsprosent."""
    path, df, cols, rows, problems = open_table(path, "ansattregisteret", columns or EMPLOYEE_COLUMNS,
                                                EMPLOYEE_REQUIRED if required is None else required)
    fnr = parse_fnr(df[cols["fnr"]], rows, cols["fnr"], problems)
    bnr = parse_orgnr(df[cols["bedriftsnummer"]], rows, cols["bedriftsnummer"], problems)
    org_unit = arrow_text(df[cols["org_enhet"]] if "org_enhet" in cols else pd.Series([""] * len(df), dtype="str"))
    pct = (parse_amounts(df[cols["stillingsprosent"]], rows, cols["stillingsprosent"], problems, required=False) / 100
           if "stillingsprosent" in cols else np.full(len(df), np.nan))
    problems.raise_if_any()
    return pd.DataFrame({"fnr": fnr, "bnr": bnr, "org_enhet": org_unit.to_pandas(types_mapper=_STRING_MAPPER),
                         "stillingsprosent": pct})


__all__ = ["InputFileError", "read_claims", "read_claims_rows", "ClaimsRead", "ClaimRowIssue", "read_employees", "empty_claims", "CLAIM_COLUMNS", "CLAIM_REQUIRED"]
