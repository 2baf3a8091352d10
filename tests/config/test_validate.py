"""`rpa processes validate`: the shipped definitions pass; every kind of broken definition fails
with exit code 1 and a message naming the file, the field path and what is wrong, never a
traceback. Each broken file is a copy of a shipped definition with one thing broken."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from config.settings import DEFAULT_PROCESSES_DIR
from rpa.cli import app

SHIPPED = ["nav-refund-offsetting", "vehicle-data-collection", "invoice-attachment-upload"]
NAV = "nav-refund-offsetting"
ROOT = Path(__file__).resolve().parents[2]


def shipped(process_id: str = NAV) -> dict[str, Any]:
    return yaml.safe_load((DEFAULT_PROCESSES_DIR / f"{process_id}.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: Any, name: str = f"{NAV}.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def validate(*files: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["processes", "validate", *map(str, files)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            d = d[int(key)] if isinstance(d, list) else d[key]
        if isinstance(d, list):
            d[int(last)] = value
        else:
            d[last] = value
    return change


def _delete(key: str) -> Callable[[dict], None]:
    return lambda d: d.pop(key)


def _rename(old: str, new: str) -> Callable[[dict], None]:
    return lambda d: d.__setitem__(new, d.pop(old))


def _duplicate_category(d: dict) -> None:
    d["exception_categories"].append(dict(d["exception_categories"][0], meaning="En annen betydning"))


# the index the duplicate lands at: after the definition's own categories
_NEXT_CATEGORY = len(yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "processes" /
                                     "nav-refund-offsetting.yaml").read_text(encoding="utf-8"))["exception_categories"])


def _required_not_mapped(d: dict) -> None:
    del d["inputs"][1]["columns"]["fnr"]


# (id, change to the nav definition, field path expected in the output, words of the message)
BROKEN = [
    ("missing-required-field", _delete("owner"), "owner", "required field is missing"),
    ("unknown-field-typo", _rename("purpose", "purpsoe"), "purpsoe", "unknown field (check the spelling)"),
    ("unknown-nested-field", _set("retry.max_atempts", 3), "retry.max_atempts", "unknown field"),
    ("bad-cron", _set("schedule.cron", "0 7 32 * *"), "schedule.cron", "invalid cron expression '0 7 32 * *'"),
    ("cron-with-six-fields", _set("schedule.cron", "0 0 7 3 * *"), "schedule.cron", "cron needs 5 fields"),
    ("unknown-time-zone", _set("schedule.timezone", "Europe/Olso"), "schedule.timezone",
     "unknown time zone 'Europe/Olso'"),
    ("duplicate-category-code", _duplicate_category, f"exception_categories.{_NEXT_CATEGORY}.code",
     "'GRADE' must be unique (also at exception_categories.0.code)"),
    ("bad-category-code-format", _set("exception_categories.0.code", "grade"), "exception_categories.0.code",
     "must be UPPER_SNAKE_CASE"),
    ("input-from-unknown-system", _set("inputs.1.system", "lonn"), "inputs.1.system",
     "unknown system 'lonn' (known: nav, hr, ledger)"),
    ("rate-limit-for-unknown-system", _set("rate_limits.0.system", "altinn"), "rate_limits.0.system",
     "unknown system 'altinn'"),
    ("source-not-in-sources", _set("source", "email"), "source", "'email' is not one of `sources`"),
    ("sla-hours-zero", _set("exception_categories.2.sla_hours", 0), "exception_categories.2.sla_hours",
     "greater than 0"),
    ("sla-hours-negative", _set("exception_categories.2.sla_hours", -24), "exception_categories.2.sla_hours",
     "greater than 0"),
    ("personal-without-fields", _set("personal_data.fields", []), "personal_data.fields",
     "classification 'sensitive' needs the personal-data fields listed"),
    ("required-column-not-mapped", _required_not_mapped, "inputs.1.required_columns", "'fnr' has no mapping"),
    ("empty-column-header", _set("inputs.1.columns.krav_id", " "), "inputs.1.columns.krav_id",
     "the column header is empty"),
    ("unknown-input-encoding", _set("inputs.0.encoding", "latin-99"), "inputs.0.encoding",
     "unknown text encoding 'latin-99'"),
    ("unknown-input-format", _set("inputs.0.format", "xls"), "inputs.0.format", "Input should be"),
    ("id-not-matching-file-name", _set("id", "nav-refusjon"), "id",
     "'nav-refusjon' does not match the file name (expected 'nav-refund-offsetting')"),
    ("bad-id-format", _set("id", "NAV_Refund"), "id", "must be lower-case letters"),
    ("wrong-type", _set("version", "første"), "version", "valid integer"),
    ("bad-owner-email", _set("owner.email", "refusjon(at)kommune"), "owner.email", "String should match"),
    ("backoff-cap-below-base", _set("retry.max_backoff_seconds", 10), "retry.max_backoff_seconds",
     "10 is smaller than backoff_seconds (30)"),
    ("retention-too-long", _set("personal_data.retention_days", 99999), "personal_data.retention_days",
     "less than or equal to 3650"),
    ("no-exception-categories", _set("exception_categories", []), "exception_categories", "at least 1 item"),
    # The rules block is checked by the flow's own model (flows/nav_refund_offsetting/rules.py).
    ("rule-out-of-range", _set("rules.tolerance_days", -2), "rules.tolerance_days",
     "greater than or equal to 0"),
    ("rule-typo", _set("rules.tolerence_nok", 50), "rules.tolerence_nok", "unknown field (check the spelling)"),
]


@pytest.mark.parametrize("process_id", SHIPPED)
def test_shipped_definitions_validate(process_id):
    code, output = validate(DEFAULT_PROCESSES_DIR / f"{process_id}.yaml")
    assert code == 0, output
    assert f"OK    {DEFAULT_PROCESSES_DIR / process_id}.yaml  ({process_id} v1)" in output


@pytest.mark.parametrize(("change", "field", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_definition_is_refused_with_file_field_and_reason(tmp_path, change, field, message):
    data = shipped()
    change(data)
    path = write(tmp_path, data)
    code, output = validate(path)
    assert code == 1
    assert "Traceback" not in output
    assert f"FAIL  {path}: invalid process definition" in output
    assert f"  - {field}: " in output, output
    line = next(ln for ln in output.splitlines() if ln.startswith(f"  - {field}: "))
    assert message in line, output


def test_several_problems_are_reported_together(tmp_path):
    data = shipped()
    data["schedule"]["timezone"] = "Oslo"
    data["exception_categories"][0]["sla_hours"] = 0
    data["owner"]["navn"] = "typo"
    code, output = validate(write(tmp_path, data))
    assert code == 1
    for field in ("schedule.timezone", "exception_categories.0.sla_hours", "owner.navn"):
        assert f"  - {field}: " in output


RAW_BROKEN = [
    ("yaml-syntax-error", "id: nav-refund-offsetting\nowner: {name: Leder\n  email: x\n",
     "YAML syntax error at line"),
    ("tab-indentation", "id: nav-refund-offsetting\nowner:\n\tname: x\n", "YAML syntax error at line 3"),
    ("not-a-mapping", "- id: nav-refund-offsetting\n- name: x\n", "must be a YAML mapping (key: value), not a list"),
    ("plain-text", "Dette er ikke en prosessdefinisjon\n", "must be a YAML mapping (key: value), not a text"),
    ("empty-file", "", "the file is empty"),
    ("duplicate-key", "id: nav-refund-offsetting\nretry: {max_attempts: 3}\nname: x\nretry: {max_attempts: 9}\n",
     "the key 'retry' appears twice (first on line 2)"),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in RAW_BROKEN], ids=[b[0] for b in RAW_BROKEN])
def test_unreadable_file_is_refused_with_a_readable_message(tmp_path, text, message):
    path = tmp_path / f"{NAV}.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = validate(path)
    assert code == 1 and "Traceback" not in output
    assert f"FAIL  {path}: invalid process definition" in output
    assert message in output, output


def test_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / f"{NAV}.yaml"
    path.write_bytes((DEFAULT_PROCESSES_DIR / f"{NAV}.yaml").read_text(encoding="utf-8").encode("iso-8859-1"))
    code, output = validate(path)
    assert code == 1 and "Traceback" not in output
    assert f"{path}: invalid process definition" in output and "not UTF-8 text" in output


def test_missing_file_is_refused(tmp_path):
    code, output = validate(tmp_path / "finnes-ikke.yaml")
    assert code == 1 and "file not found" in output and "Traceback" not in output


def test_definition_without_a_flow_package_is_refused(tmp_path):
    data = shipped()
    data["id"] = "lonnsslipp-utsending"
    code, output = validate(write(tmp_path, data, "lonnsslipp-utsending.yaml"))
    assert code == 1
    assert "  - id: no flow package 'flows.lonnsslipp_utsending' implements this process" in output


def test_good_and_bad_files_in_one_call(tmp_path):
    bad = shipped()
    bad["schedule"]["cron"] = "hver dag"
    bad_path = write(tmp_path, bad)
    code, output = validate(DEFAULT_PROCESSES_DIR / "invoice-attachment-upload.yaml", bad_path)
    assert code == 1
    assert "OK    " in output and f"FAIL  {bad_path}" in output


def test_the_installed_command_prints_no_traceback(tmp_path):
    """Through the real entry point (`rpa`, as a process owner runs it), not the test runner."""
    data = shipped()
    data["schedule"]["cron"] = "0 25 * * *"
    path = write(tmp_path, data)
    rpa = Path(sys.executable).with_name("rpa")
    command = [str(rpa)] if rpa.exists() else [sys.executable, "-m", "rpa"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([*command, "processes", "validate", str(path)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{path}: invalid process definition" in proc.stderr
    assert "  - schedule.cron: invalid cron expression '0 25 * * *'" in proc.stderr
