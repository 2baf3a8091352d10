"""The sandbox's NAV data set: deterministic, in NAV's formats, with a ground truth per line."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from connectors.identifiers import valid_fnr, valid_orgnr
from connectors.nav.hr_claims import read_claims
from connectors.nav.k27 import parse_k27
from sandbox.nav.seed import nav_day_rate, seed


def _digest(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".xlsx"}


def test_the_same_seed_gives_the_same_data_set_and_another_seed_another(tmp_path):
    seed(tmp_path / "a", seed=7)
    seed(tmp_path / "b", seed=7)
    seed(tmp_path / "c", seed=8)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_reports_follow_the_contract_and_nav_formats(tmp_path):
    written = seed(tmp_path)
    index = json.loads(written["index"].read_text(encoding="utf-8"))
    assert [r["id"] for r in index] == ["1001", "1002", "1003", "1004", "1005"]
    for r in index:
        assert set(r) == {"id", "orgnr", "orgNavn", "type", "datoValutert", "bankkonto", "opprettet", "arkivert",
                          "file"}
        assert r["type"] == "ref-arbg" and r["arkivert"] is False and valid_orgnr(r["orgnr"])
    contents = {r["id"]: (written["reports"] / r["file"]).read_bytes() for r in index}
    assert contents["1004"] == contents["1003"]  # the second Altinn channel's copy
    report = parse_k27(contents["1002"], "1002.csv")
    assert report.encoding == "iso-8859-1"  # names with æøå, as NAV sends them
    assert b"\r\n" in contents["1002"] and not contents["1002"].startswith(b"\xef\xbb\xbf")
    assert all(valid_fnr(f"{v:011d}") for v in report.lines["fnr"])
    assert all(int(f"{v:011d}"[2:4]) > 40 for v in report.lines["fnr"])  # synthetic: month + 40
    assert set(report.lines["code"]) >= {"4", "H", "A"}
    assert (report.lines["amount_ore"] < 0).any()
    assert len(report.invalid) >= 1  # a deliberately broken line
    assert len(list(written["folder"].glob("*.csv"))) == 5


def test_ground_truth_covers_every_line_and_every_category(tmp_path):
    written = seed(tmp_path)
    truth = pd.read_csv(written["ground_truth"], dtype=str, keep_default_na=False)
    index = json.loads(written["index"].read_text(encoding="utf-8"))
    lines = sum(len([ln for ln in (written["reports"] / r["file"]).read_bytes().split(b"\r\n") if ln]) for r in index)
    assert (truth.kind == "line").sum() == lines
    assert not truth[truth.kind == "line"].duplicated(["report_id", "line_no"]).any()
    categories = set(truth.outcome)
    assert categories >= {"EXACT", "ROUNDING", "WEEKDAYS", "CAP_6G", "GRADE", "PARTIAL_REFUND", "SEVERAL_EMPLOYERS",
                          "SPLIT_POSITIONS", "PERIOD_SHIFT", "CLAIM_UNPAID_PENDING", "CLAIM_UNPAID_FINAL",
                          "PAYMENT_WITHOUT_CLAIM", "HOLIDAY_PAY", "NEGATIVE_LINE", "DUPLICATE", "UNKNOWN_EMPLOYEE",
                          "WRONG_BENEFIT_CODE", "BANK_TOTAL_MISMATCH", "MAKSDATO_CHANGED", "INVALID_LINE",
                          "AMOUNT_DIFFERENCE"}
    claims = read_claims(written["claims"])
    offset = truth[truth.outcome.isin(["EXACT", "ROUNDING", "WEEKDAYS", "CAP_6G"])]
    assert set(offset.claim_id) <= set(claims.krav_id)
    assert 300 <= lines <= 2000


def test_scale_grows_the_data_set(tmp_path):
    small = seed(tmp_path / "s", scale=0.5)
    large = seed(tmp_path / "l", scale=3)
    n = [(pd.read_csv(w["ground_truth"], dtype=str).kind == "line").sum() for w in (small, large)]
    assert n[1] > 4 * n[0]


def test_nav_day_rate_matches_the_domain_brief_examples():
    g2025 = 130_160
    assert nav_day_rate(50_000_00, g2025) == 2_308
    assert nav_day_rate(50_000_00, g2025, 50) == 1_154
    assert nav_day_rate(80_000_00, g2025) == 3_004
    assert 22 * nav_day_rate(50_000_00, g2025) == 50_776
