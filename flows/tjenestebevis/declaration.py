"""Tjenestebevis's declaration (light: `rpa run` imports it; the run loads when a run starts)."""

from flows.kit.declare import Declaration, Param
from flows.tjenestebevis import PROCESS_ID

PROCESS = Declaration(
    PROCESS_ID, run="flows.tjenestebevis.run:run", description="Utstedelse av tjenestebevis fra HR-systemets eksport.",
    json_keys=("run_id", "requests", "issued", "exceptions", "cases_opened", "decisions_applied", "decisions_refused",
               "definition_version", "outputs"),
    params=[Param("requests", "Requests (.xlsx, sheet Bestillinger). Default: the definition's input.", kind="path"),
            Param("employment", "Employment records (.xlsx). Default: the definition's input.", kind="path"),
            Param("as_of", "Issue date (ÅÅÅÅ-MM-DD; default today).", kind="date")])
