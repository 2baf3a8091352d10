"""Declared actions: the YAML's actions and approval rules are validated against what the process
declares (a typo names the file and the field path); the bounds of NAV's own actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.catalogue import DefinitionError
from flows.nav_refund_offsetting.actions import ACTIONS as NAV
from workqueue.actions import approval_reasons, check_decision, from_json, to_json

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "processes"


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (SHIPPED / "nav-refund-offsetting.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "nav-refund-offsetting.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_typo_in_a_categorys_actions_names_file_and_field(tmp_path):
    from flows.registry import validate_file

    path = _copy(tmp_path, "actions: [approve_nav_amount, write_off, handled_manually, dismiss]}",
                 "actions: [aprove_nav_amount, write_off, handled_manually, dismiss]}")
    with pytest.raises(DefinitionError) as info:
        validate_file(path)
    text = str(info.value)
    assert str(path) in text and "exception_categories.0.actions.0: unknown action 'aprove_nav_amount'" in text


def test_a_typo_in_an_approval_rule_names_the_field(tmp_path):
    from flows.registry import validate_file

    path = _copy(tmp_path, "- {action: write_off, above: 5000", "- {action: writeoff, above: 5000")
    with pytest.raises(DefinitionError, match=r"controls\.approval\.1\.action: unknown action 'writeoff'"):
        validate_file(path)


def test_shipped_definitions_validate_and_declarations_survive_json():
    from flows.registry import validate_file

    for path in sorted(SHIPPED.glob("*.yaml")):
        validate_file(path)
    assert from_json(to_json(NAV.values())) == NAV


def _data(nav_kr: float, claim_kr: float | None = None, **extra):
    claims = [] if claim_kr is None else [{"krav_id": "K1", "claim_ore": round(claim_kr * 100)}]
    return {"nav_ore": round(nav_kr * 100), "claims": claims, **extra}


@pytest.mark.parametrize(("action", "amount", "data", "problem"), [
    ("approve_nav_amount", 26_114.0, _data(26_114, 52_228), None),
    ("approve_nav_amount", 26_114.01, _data(26_114, 52_228), "over grensen"),
    ("approve_nav_amount", 0, _data(26_114, 52_228), "kan ikke være 0,00"),
    ("approve_nav_amount", 100, _data(26_114), "krever både et krav og en utbetaling"),
    ("approve_nav_amount", 100, _data(-500, 1000), "krever både et krav og en utbetaling"),
    ("write_off", 26_114.0, _data(26_114, 52_228), None),
    ("write_off", 26_115.0, _data(26_114, 52_228), "kravets restbeløp"),
    ("approve_negative_line", -500.0, _data(-500, 1000), None),
    ("approve_negative_line", -500.01, _data(-500, 1000), "under grensen"),
    ("approve_negative_line", 5.0, _data(-500, 1000), "negativt"),
    ("confirm_reversal", 800.0, _data(-800, None, reversal={"offset_amount_ore": 80_000,
                                                            "proposed_amount_ore": 80_000}), None),
    ("confirm_reversal", 900.0, _data(-800, None, reversal={"offset_amount_ore": 80_000}), "den tidligere utligningen"),
    ("confirm_reversal", 10.0, _data(-800), "krever en tidligere utligning"),
])
def test_nav_bounds_and_preconditions(action, amount, data, problem):
    problems = check_decision(NAV[action], {"amount": amount}, data)
    if problem is None:
        assert problems == []
    else:
        assert problems and problem in problems[0].message, problems


def test_approval_limits_from_the_definition():
    from flows.registry import validate_file

    rules = validate_file(SHIPPED / "nav-refund-offsetting.yaml").controls.approval
    data = _data(25_388, 50_776)
    assert approval_reasons(rules, NAV["approve_nav_amount"], {"amount": 25_388.0}, data) == []
    assert approval_reasons(rules, NAV["approve_nav_amount"], {"amount": 20_000.0}, data) == [
        "Utlignet beløp avviker fra beløpet NAV har betalt"]
    assert approval_reasons(rules, NAV["write_off"], {"amount": 5_000.0}, data) == []
    assert approval_reasons(rules, NAV["write_off"], {"amount": 5_000.01}, data) == ["Avskrivning over 5 000 kr"]
    big = _data(60_000, 60_000)
    assert approval_reasons(rules, NAV["approve_nav_amount"], {"amount": 60_000.0}, big) == [
        "Beslutning over 50 000 kr"]
