"""Tjenestebevis as a Prefect flow: one task for the whole run (per-request state is in the store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.runtime import open_run, publish_artifacts
from flows.tjenestebevis import PROCESS_ID
from flows.tjenestebevis.run import run_tjenestebevis


@flow(name="tjenestebevis", description="Utstedelse av tjenestebevis fra HR-systemets eksport.")
def tjenestebevis(requests: str | None = None, employment: str | None = None, out: str | None = None) -> dict[str, Any]:
    ctx = open_run(PROCESS_ID, out_dir=Path(out) if out else None)
    summary = run_tjenestebevis(ctx, Path(requests) if requests else None, Path(employment) if employment else None)
    publish_artifacts(ctx, summary, [])
    return summary.to_dict()
