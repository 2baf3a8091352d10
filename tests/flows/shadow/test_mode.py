"""The definition's `mode`: default live, hash unchanged for definitions without it, shadow refused
for a process whose writes do not go through the side-effect boundary; the comparison's rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.catalogue import DefinitionError, parse_definition
from config.settings import PathSettings, Settings
from flows.kit.context import definition_hash
from flows.registry import load_definition
from workqueue.shadow import Outcome, compare

CATALOGUE = Path(__file__).resolve().parents[3] / "config" / "processes"


def test_shipped_processes_are_live_and_keep_their_hash_without_a_mode_line(tmp_path):
    for path in sorted(CATALOGUE.glob("*.yaml")):
        definition = parse_definition(path)
        assert definition.mode == "live", path.name
    text = (CATALOGUE / "retention.yaml").read_text(encoding="utf-8")
    assert "mode:" not in text
    explicit = tmp_path / "retention.yaml"
    explicit.write_text(text + "mode: live\n", encoding="utf-8")
    assert definition_hash(parse_definition(explicit)) == definition_hash(parse_definition(CATALOGUE / "retention.yaml"))
    shadow = tmp_path / "x" / "retention.yaml"
    shadow.parent.mkdir()
    shadow.write_text(text + "mode: shadow\n", encoding="utf-8")
    assert definition_hash(parse_definition(shadow)) != definition_hash(parse_definition(explicit))


def test_shadow_is_refused_for_a_process_without_the_boundary(tmp_path):
    folder = tmp_path / "processes"
    shutil.copytree(CATALOGUE, folder)
    path = folder / "retention.yaml"  # its package has no shadow.py
    path.write_text(path.read_text(encoding="utf-8") + "mode: shadow\n", encoding="utf-8")
    settings = Settings(paths=PathSettings(data_dir=tmp_path / "data", processes_dir=folder))
    with pytest.raises(DefinitionError, match="does not support shadow mode"):
        load_definition("retention", settings)
    for process_id in ("nav-refund-offsetting", "invoice-attachment-upload", "vehicle-data-collection", "tjenestebevis"):
        path = folder / f"{process_id}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("\nmode: live", "\nmode: shadow"), encoding="utf-8")
        definition, _ = load_definition(process_id, settings)
        assert definition.mode == "shadow"


def test_compare_counts_each_key_once_by_its_sides():
    robot = [Outcome("ledger", "offset", "A", "EXACT", 100.0), Outcome("ledger", "offset", "B", "EXACT", 50.0),
             Outcome("ledger", "offset", "B", "EXACT", 50.0), Outcome("ledger", "offset", "C", "ROUNDING", 10.0),
             Outcome("ledger", "manual", "D", "GRADE"), Outcome("ledger", "manual", "E", "GRADE")]
    human = [Outcome("ledger", "done", "A", amount=100.0), Outcome("ledger", "done", "B", amount=99.0),
             Outcome("ledger", "done", "D", amount=5.0)]
    rows = {r.key: r for r in compare(robot, human, {"B": "human"})}
    assert {k: r.verdict for k, r in rows.items()} == {"A": "agree", "B": "differ", "C": "robot_only",
                                                      "D": "human_only"}
    assert rows["B"].robot_amount == 100.0 and rows["B"].sign_off == "human"
    assert rows["D"].category == "GRADE"  # the robot's category where only the people acted
