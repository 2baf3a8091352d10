"""Invoice attachment upload's declaration: parameters and console lines (light: `rpa run` and
`rpa --help` import it; the flow and the run function load when a run starts)."""

from __future__ import annotations

from flows.kit.declare import Declaration, Param

PROCESS_ID = "invoice-attachment-upload"


def _console(data: dict) -> list[str]:
    lines = [f"Kjøring {data['run_id']} via {data['door']}: {data['files']} dokumenter, "
             f"{data['uploaded']} lastet opp, {data['already_attached']} lå allerede på bilaget, "
             f"{data['quarantined']} i karantene, {data['pending_files']} filer venter på nytt forsøk."]
    lines += [f"  {code:28} {n}" for code, n in data["exceptions"].items()]
    return lines + [f"{name}: {path}" for name, path in data["outputs"].items()]


PROCESS = Declaration(
    PROCESS_ID, run="flows.invoice_attachment_upload.run:run_summary", console=_console,
    description="Opplasting av underbilag: hvert dokument til riktig bilag nøyaktig én gang; arkiv med "
                "kvittering eller karantene med begrunnelse.",
    params=[Param("inbox", "Drop folder (default: the definition's input `drop-folder`).", kind="path"),
            Param("via", "Door into the finance system: api or web (default: the definition's `source`).",
                  choices=("api", "web"))])
