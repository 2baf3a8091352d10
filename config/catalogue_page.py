"""The process catalogue as one Markdown page a process owner can read (`rpa processes catalogue`).

Generated from the process definitions only, so the page and the robots never disagree.
Structure and explanations are in English; names, meanings, sources, schedules (the same words as
the Prefect schedule label) and reviewer actions (the review app's labels) are Norwegian, as staff know them. The output is deterministic (no dates, no "next
run" times), so a regenerated page only changes when a definition changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from config.process_definition import (
    Classification,
    ExceptionKind,
    Input,
    InputFormat,
    ProcessDefinition,
    ResolvedBy,
)
from config.schedule_text import schedule_words
from connectors.norwegian import fmt_int

FORMATS = {
    InputFormat.k27_csv: "NAV settlement report K27 (CSV lines without a header)",
    InputFormat.xlsx: "Excel workbook (.xlsx)",
    InputFormat.csv: "CSV file (header row)",
    InputFormat.xlsx_or_csv: "Excel workbook (.xlsx) or CSV file",
    InputFormat.json: "JSON",
    InputFormat.folder: "Folder of files",
    InputFormat.ehf_xml: "EHF invoice (XML)",
}

RESOLVERS = {
    ResolvedBy.hr: "HR (lønn og personal)",
    ResolvedBy.finance: "Finance (økonomi)",
    ResolvedBy.fleet: "Fleet (bilpark)",
    ResolvedBy.operator: "Operators (drift)",
    ResolvedBy.owner: "Process owner (prosesseier)",
}

KINDS = {
    ExceptionKind.business: "business: a person decides; never retried",
    ExceptionKind.system: "system: retried, then escalated to operators",
}

CLASSIFICATIONS = {
    Classification.none: "none: no personal data",
    Classification.internal: "internal: no personal data, internal use only",
    Classification.personal: "personal: personal data (personopplysninger)",
    Classification.sensitive: "sensitive: special categories of personal data (særlige kategorier, e.g. health)",
}

def render_catalogue(definitions: list[ProcessDefinition]) -> str:
    """The whole catalogue: an overview table, then one section per process."""
    definitions = sorted(definitions, key=lambda d: d.id)
    lines = ["# Process catalogue", "",
             "Every process the robots run, as its process definition describes it "
             "(`config/processes/<id>.yaml`, checked by `rpa processes validate`). "
             "A robot refuses to run a process whose definition is invalid.", ""]
    if not definitions:
        return "\n".join([*lines, "_No process definitions yet._", ""])
    lines += _table(["Process", "Id", "Owner", "Schedule", "Manual minutes per case"], [
        [f"[{d.name}](#{d.id})", f"`{d.id}`", f"{d.owner.name} ({d.owner.org_unit})",
         _schedule_summary(d), _number(d.baseline.manual_minutes_per_case)] for d in definitions])
    for d in definitions:
        lines += ["", *render_process(d)]
    return "\n".join(lines).rstrip() + "\n"


def render_process(d: ProcessDefinition) -> list[str]:
    lines = [f'<a id="{d.id}"></a>', "", f"## {d.name}", "",
             f"**Id** `{d.id}` · **Version** {d.version}" + (f" · **Tags** {', '.join(d.tags)}" if d.tags else ""),
             "", _text(d.purpose), "",
             "### Owner", "",
             f"- {d.owner.name}, {d.owner.org_unit} ({d.owner.email})", "",
             "### Schedule", "",
             f"- {_schedule_summary(d)}",
             f"- Cron `{d.schedule.cron}` in time zone {d.schedule.timezone}"
             + ("" if d.schedule.active else " (**paused**: not scheduled now)"), "",
             "### Systems", ""]
    lines += _table(["Id", "System", "Access"],
                    [[f"`{s.id}`", s.name, ", ".join(a.value for a in s.access)] for s in d.systems])
    lines += ["", f"Main input fetched from **{d.source}** (supported: {', '.join(d.sources)}).", "",
              "### Inputs", ""]
    for i in d.inputs:
        lines += _input(i)
    lines += ["### Business rules", ""]
    lines += _rules(d)
    lines += ["", "### Exception categories", "",
              "Cases the robot hands to a person, with who resolves them and how soon (SLA).", ""]
    labels = _action_labels(d)
    lines += _table(["Code", "Meaning", "Who resolves", "SLA", "Kind", "Reviewer actions"], [
        [f"`{c.code}`", c.meaning, RESOLVERS.get(c.resolved_by, str(c.resolved_by)), _hours(c.sla_hours),
         KINDS[c.kind], ", ".join(labels.get(a, a) for a in c.actions)] for c in d.exception_categories])
    if d.controls.approval:
        lines += ["", "### Approval limits (four-eyes)", "",
                  "A reviewer's decision matching a rule waits for an attestant (never the one who decided); "
                  "the run applies only approved decisions.", ""]
        lines += _table(["Action", "Needs approval when", "Why (shown to staff)"], [
            ["every action" if a.action == "*" else f"`{a.action}`",
             " or ".join(filter(None, [f"amount above {_number(a.above)} kr" if a.above is not None else "",
                                       f"`{a.when_changed}` differs from the proposed value" if a.when_changed
                                       else ""])),
             a.reason] for a in d.controls.approval])
    r = d.retry
    lines += ["", "### Retry on system errors", "",
              f"- Up to {r.max_attempts} attempts per item; the first retry after {_seconds(r.backoff_seconds)}, "
              f"each further wait ×{_number(r.backoff_factor)}, at most {_seconds(r.max_backoff_seconds)}.",
              f"- The run stops after {r.stop_after_consecutive_system_errors} system errors in a row "
              "(the system is probably down: do not hammer it).",
              f"- An item held for more than {_seconds(r.lease_seconds)} by a robot that stopped is "
              "taken up again (abandoned item).", "",
              "### Benefits baseline", "",
              f"- Manual work: {_number(d.baseline.manual_minutes_per_case)} minutes per case; "
              f"left for a person per automated case: {_number(d.baseline.robot_minutes_per_case)} minutes; "
              f"saved: {_number(d.baseline.manual_minutes_per_case - d.baseline.robot_minutes_per_case)} "
              "minutes per automated case.",
              f"- Source of the baseline: {d.baseline.source}", "",
              "### Personal data", ""]
    p = d.personal_data
    lines += [f"- Classification: {CLASSIFICATIONS.get(p.classification, str(p.classification))}"]
    if p.fields:
        lines += [f"- Personal data handled: {', '.join(p.fields)}"]
    cleared = ("outputs and archived files deleted, closed cases' personal data cleared"
               if p.classification in (Classification.personal, Classification.sensitive)
               else "outputs and archived files deleted")
    lines += [f"- Kept for {_number(p.retention_days)} days{_days_in_words(p.retention_days)}, then deleted "
              f"by the nightly `retention` process ({cleared})",
              f"- Legal basis: {p.legal_basis}", "",
              "### Rate limits", ""]
    if d.rate_limits:
        lines += _table(["System", "Requests per second", "Requests at once", "Daily quota"], [
            [f"`{rl.system}`", _number(rl.requests_per_second), str(rl.concurrency),
             fmt_int(rl.daily_quota) if rl.daily_quota else "none"] for rl in d.rate_limits])
    else:
        lines += ["No limits beyond the systems' own."]
    if d.parameters:
        lines += ["", "### Default run parameters", ""]
        lines += _table(["Parameter", "Value"], [[f"`{k}`", _value(v)] for k, v in d.parameters.items()])
    return lines


# ---------------------------------------------------------------- sections


def _input(i: Input) -> list[str]:
    lines = [f"#### {i.description} (`{i.id}`)", "",
             f"- From system `{i.system}`, format: {FORMATS.get(i.format, str(i.format))}"]
    if i.path:
        lines.append(f"- Path: `{i.path}` (relative paths are under the data folder)")
    if i.encoding:
        lines.append(f"- Text encoding: {i.encoding}")
    lines.append("")
    if i.columns:
        lines += _table(["Field", "Column header in the file", "Required"],
                        [[f"`{field}`", header, "yes" if field in i.required_columns else "no"]
                         for field, header in i.columns.items()])
        lines.append("")
    return lines


def _rules(d: ProcessDefinition) -> list[str]:
    if not d.rules:
        return ["No process-specific rules."]
    meanings = _rule_meanings(d)
    rows = [[f"`{key}`", _value(value), meanings.get(key.split(".")[0], "")] for key, value in _flatten(d.rules)]
    return _table(["Rule", "Value", "Meaning"], rows)


def _rule_meanings(d: ProcessDefinition) -> dict[str, str]:
    """Field descriptions of the flow's Rules model, when the flow package is installed.
    Optional: the page is still complete without them (e.g. a process without its flow yet)."""
    import importlib

    try:  # by name, at run time: config/ imports nothing from flows/ (the layering test checks)
        model = getattr(importlib.import_module(f"{d.flow_package}.rules"), "Rules", None)
    except ImportError:
        return {}
    if model is None:
        return {}
    return {name: field.description or "" for name, field in model.model_fields.items()}


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


# ---------------------------------------------------------------- schedule and actions in words


def _schedule_summary(d: ProcessDefinition) -> str:
    """The same Norwegian wording as the Prefect schedule label (config.schedule_text)."""
    return f"{schedule_words(d.schedule.cron)} ({d.schedule.timezone})" + ("" if d.schedule.active else ", paused")


def _action_labels(d: ProcessDefinition) -> dict[str, str]:
    """The labels reviewers see in the review app: the kit's defaults plus the process's own
    declared actions (flows/<package>/actions.py `ACTIONS`, imported by name at run time:
    config/ imports nothing from flows/)."""
    import importlib

    from workqueue.actions import KIT_ACTIONS

    try:
        own = getattr(importlib.import_module(f"{d.flow_package}.actions"), "ACTIONS", None) or {}
    except ImportError:
        own = {}
    return {code: spec.label for code, spec in {**KIT_ACTIONS, **own}.items()}


# ---------------------------------------------------------------- formatting


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _cell(value: str) -> str:
    return _text(value).replace("|", "\\|")


def _text(value: str) -> str:
    return " ".join(str(value).split())


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) if value else "(none)"
    if isinstance(value, int | float):
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    """1234567 -> '1 234 567'; 2.5 -> '2.5' (the page's structure is English, spaces group thousands)."""
    if float(value).is_integer():
        return fmt_int(int(value))
    return f"{value:,}".replace(",", " ")  # an English decimal point, as the rest of the page


def _hours(hours: float) -> str:
    text = f"{_number(hours)} h"
    if hours >= 48 and hours % 24 == 0:
        text += f" ({int(hours // 24)} days)"
    return text


def _seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{_number(seconds)} s"
    if seconds < 7200:
        return f"{_number(round(seconds / 60, 1))} min"
    return f"{_number(round(seconds / 3600, 1))} h"


def _days_in_words(days: int) -> str:
    if days >= 365:
        years = days / 365
        return f" (about {_number(round(years, 1))} years)" if years >= 2 else f" (about {round(days / 30.4)} months)"
    return ""
