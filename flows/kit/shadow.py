"""The side-effect boundary: every write of a process to an external system and every import
file it produces goes through `ctx.effects` (docs/shadow.md).

    live    the write is performed
    shadow  the write is not performed; what it would have been is recorded in the store as the
            run's "would do" outcomes (workqueue.shadow), for the agreement report

A process never asks which mode it runs in: it hands its write to the boundary with the outcomes
the write stands for, and the boundary decides, from the definition's `mode`, in this one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from config.process_definition import Mode
from workqueue.shadow import MANUAL, SHADOW, Outcome, record_outcomes

if TYPE_CHECKING:
    from flows.kit.context import RunContext

__all__ = ["SideEffects", "Outcome", "MANUAL"]

T = TypeVar("T")
Outcomes = Iterable[Outcome] | Callable[[], Iterable[Outcome]]


class SideEffects:
    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.mode = Mode(ctx.definition.mode)
        self.withheld: list[str] = []  # Norwegian: what a shadow run did not do, for its summary
        self.recorded = 0

    @property
    def shadow(self) -> bool:
        return self.mode == Mode.shadow

    def _record(self, outcomes: Outcomes) -> int:
        rows = list(outcomes() if callable(outcomes) else outcomes)
        n = record_outcomes(self.ctx.store, self.ctx.process_id, SHADOW, self.ctx.run_id, rows)
        self.recorded += n
        return n

    def write_file(self, system: str, path: Path, write: Callable[[Path], T], outcomes: Outcomes,
                   what: str) -> T | None:
        """An import file for `system` (e.g. the ledger's journal): written in live; in shadow not
        written, its rows recorded as outcomes. `what` names the file for people, in Norwegian."""
        if not self.shadow:
            return write(path)
        n = self._record(outcomes)
        self.withheld.append(f"{what} ble ikke laget (skyggemodus): {n} rader registrert som «ville gjort»")
        return None

    def call(self, system: str, action: str, key: str, perform: Callable[[], T], what: str,
             outcome: Outcome | None = None) -> T | None:
        """One write on an external system (an upload, an archive move, an update)."""
        if not self.shadow:
            return perform()
        self._record([outcome or Outcome(system=system, action=action, key=key)])
        self.withheld.append(f"{what} ble ikke utført (skyggemodus)")
        return None

    def would_hand_over(self, outcomes: Outcomes) -> int:
        """Cases the robot leaves to a person (action `manual`): recorded in shadow so the agreement
        report can name the robot's category where the people acted and the robot would not have."""
        if not self.shadow:
            return 0
        rows = [o if o.action == MANUAL else Outcome(**{**o.__dict__, "action": MANUAL})
                for o in (outcomes() if callable(outcomes) else outcomes)]
        return self._record(rows)

    def summary_figures(self) -> dict[str, Any]:
        """For the run summary: the mode, and in shadow what was withheld and recorded."""
        if not self.shadow:
            return {"mode": self.mode.value}
        return {"mode": self.mode.value, "would_do_recorded": self.recorded, "withheld": list(self.withheld)}


def read_human_outcome(definition: Any, settings: Any, path: Path | None = None, period: str | None = None,
                       since: str | None = None) -> tuple[str, list[Outcome]]:
    """The people's outcome -> (its source's name, the outcomes). Without a file, a process whose
    shadow module has its own `read_human_outcome(definition, settings, period, since)` reads it
    there (from the system itself, e.g. through its API; `since`: the pilot's first day, ISO, or None);
    otherwise, and with a file, it is read as below."""
    if path is None:
        from flows.registry import flow_module

        module = flow_module(definition, "shadow")
        reader = getattr(module, "read_human_outcome", None)
        if reader is not None:
            return reader(definition, settings, period, since)
    found, outcomes = _read_human_file(definition, settings, path)
    return found.name, outcomes


def _read_human_file(definition: Any, settings: Any, path: Path | None = None) -> tuple[Path, list[Outcome]]:
    """The people's outcome for a period, from the file the definition's `shadow.human_outcome`
    input describes (its `columns` map our fields to the file's headers): `key` (required),
    `amount`, `day`, `category`, `action`, and any `value…` fields (compared as text); an action or
    value saying «ikke …» (e.g. «ikke utstedt») is the people not acting (as `manual`). Rows that
    cannot be read stop the import as a whole, naming row and column (nothing half-imported)."""
    from connectors.tables import InputFileError, read_rows

    input_id = definition.shadow.human_outcome
    if not input_id:
        raise ValueError(f"{definition.id}: definisjonen har ingen shadow.human_outcome (inndata med menneskenes utfall)")
    spec = definition.input(input_id)
    path = Path(path) if path else settings.paths.resolve(spec.path)
    value_fields = sorted(f for f in spec.columns if f.startswith("value"))
    outcomes, problems = [], []
    for row in read_rows(path, spec, spec.description):
        found: list[str] = []
        amount = row.as_number("amount", found) if row.get("amount") else None
        day = row.as_date("day", found, required=False)
        if not row.get("key"):
            found.append("key er tom")
        problems += [f"rad {row.number}: {p}" for p in found]
        value = (row.get(value_fields[0]) if len(value_fields) == 1 else
                 "; ".join(f"{f.removeprefix('value_')}={row.get(f)}" for f in value_fields))
        not_done = any((t or "").strip().lower().startswith("ikke ") for t in (row.get("action"), value))
        outcomes.append(Outcome(system=spec.system, action=MANUAL if not_done else row.get("action") or "done",
                                key=row.get("key"), category=row.get("category"),
                                amount=None if amount is None else round(amount, 2),
                                value="" if not_done else value, day=day.isoformat() if day else None))
    if problems:
        raise InputFileError(path, problems[:50])
    return path, outcomes
