"""The README stays true: its settings table is the generated one, and CI runs its test command."""

from pathlib import Path

from config.settings_doc import settings_markdown

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_setting_as_generated():
    start, end = "<!-- settings:begin -->", "<!-- settings:end -->"
    assert start in README and end in README, "README lost its settings markers"
    table = README.split(start, 1)[1].split(end, 1)[0].strip()
    assert table == settings_markdown().strip(), (
        "README's settings table is stale: regenerate it with `.venv/bin/python -m config.settings_doc`")


def test_ci_runs_the_readme_test_command():
    assert "make test" in README.split("## The two commands", 1)[1].split("##", 1)[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci.splitlines()[-1]
