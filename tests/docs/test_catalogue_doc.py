"""docs/catalogue.md is what `rpa processes catalogue` renders from the definitions (kept in step)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_page_is_generated_from_the_definitions() -> None:
    from config.catalogue import load_catalogue
    from config.catalogue_page import render_catalogue

    rendered = render_catalogue(list(load_catalogue(ROOT / "config" / "processes").values()))
    assert (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8") == rendered, \
        "docs/catalogue.md is stale: run `rpa processes catalogue --out docs/catalogue.md`"
