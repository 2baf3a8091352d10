"""What a case shows beside its message, built the same way by every process.

`attachments(error)`: the files a bot or connector saved when it failed (its `evidence` paths:
a screenshot, a Playwright trace) as case attachments. `system_case(...)`: an operator case for
an error outside any work item (a source that could not be read), with that evidence.
`scrub(sections)`: no fnr in clear in what the review app renders. `comparison(...)`: the usual
case evidence, a table of what was compared and the explanation under it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.identifiers import mask_fnrs_in_text
from flows.kit.context import RunContext
from workqueue.models import CaseKind, ExceptionCase

__all__ = ["attachments", "comparison", "scrub", "system_case"]

MEDIA_TYPES = {".png": "image/png", ".zip": "application/zip"}


def attachments(error: BaseException) -> list[tuple[str, str, bytes]]:
    """(file name, media type, bytes) of every evidence file the error names that exists."""
    paths = [Path(p) for p in getattr(error, "evidence", None) or []]
    return [(p.name, MEDIA_TYPES.get(p.suffix, "application/octet-stream"), p.read_bytes())
            for p in paths if p.exists()]


def system_case(ctx: RunContext, reference: str, message: str, *, error: BaseException | None = None,
                data: dict[str, Any] | None = None, org_unit: str | None = None) -> ExceptionCase:
    """Open a SYSTEM_ERROR case for the operators (fnr masked), with the error's evidence files."""
    message = mask_fnrs_in_text(message)
    return ctx.store.open_case(ctx.process_id, reference, ctx.new_case(
        "SYSTEM_ERROR", message, attachments=attachments(error) if error is not None else [], org_unit=org_unit,
        evidence={"sections": [{"title": "Feil", "text": message}], "data": data or {}}), kind=CaseKind.system)


def scrub(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Belt and braces: every text and table cell with its fnr masked."""
    out = []
    for section in sections:
        section = dict(section)
        if "text" in section:
            section["text"] = mask_fnrs_in_text(section["text"])
        if "rows" in section:
            section["rows"] = [[mask_fnrs_in_text(str(cell)) for cell in row] for row in section["rows"]]
        out.append(section)
    return out


def comparison(columns: list[str], rows: list[list[str]], text: str, data: dict[str, Any], **more: Any
               ) -> dict[str, Any]:
    """A case's evidence: the comparison table ("Sammenligning": field, then one column per source),
    the explanation ("Forklaring"), the structured `data`; `more`: e.g. the clear `fnr`."""
    return {"sections": [{"title": "Sammenligning", "columns": columns, "rows": rows},
                         {"title": "Forklaring", "text": text}], "data": data, **more}
