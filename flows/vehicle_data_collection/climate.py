"""Zero-emission shares for the climate report, per organisation unit and per light/heavy.

Counted: vehicles found in the register and in use (not deregistered, scrapped or exported); a
vehicle with an overdue EU control still counts (it is in the fleet). Zero-emission: elektrisk
or hydrogen. The previous figure is the latest completed run of an earlier tertial (its summary
in the store), so a re-run within the same tertial compares with the last tertial, not with itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.periods import Tertial
from connectors.vegvesen.codes import WeightClass
from connectors.vegvesen.parser import Vehicle
from workqueue.store import WorkQueueStore

WEIGHT_NAMES = {WeightClass.lett: "Lette kjøretøy (til og med 3 500 kg)",
                WeightClass.tung: "Tunge kjøretøy (over 3 500 kg)", None: "Ukjent vektklasse"}
WEIGHT_KEYS = {WeightClass.lett: "lett", WeightClass.tung: "tung", None: "ukjent"}
TOTAL = "Totalt"


@dataclass
class Share:
    name: str
    key: str
    vehicles: int = 0
    zero_emission: int = 0
    previous: float | None = None

    @property
    def share(self) -> float | None:
        return self.zero_emission / self.vehicles if self.vehicles else None

    @property
    def change_pp(self) -> float | None:
        if self.share is None or self.previous is None:
            return None
        return round((self.share - self.previous) * 100, 1)


@dataclass
class Climate:
    period: Tertial
    by_unit: list[Share] = field(default_factory=list)
    by_weight: list[Share] = field(default_factory=list)
    total: Share = field(default_factory=lambda: Share(TOTAL, "total"))
    previous_period: str | None = None
    previous_run_id: str | None = None

    def to_summary(self) -> dict[str, Any]:
        """What the next run reads back as 'the previous run's figures'."""
        def shares(items: list[Share]) -> dict[str, float | None]:
            return {s.key: None if s.share is None else round(s.share, 4) for s in items}

        return {"period": self.period.code, "period_label": self.period.label,
                "vehicles": self.total.vehicles, "zero_emission": self.total.zero_emission,
                "total": None if self.total.share is None else round(self.total.share, 4),
                "by_unit": shares(self.by_unit), "by_weight": shares(self.by_weight),
                "previous_period": self.previous_period, "previous_run_id": self.previous_run_id}


def previous_figures(store: WorkQueueStore, process_id: str, period: Tertial,
                     baseline: dict[str, Any] | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """(climate summary, run id) of the latest completed run of an earlier tertial; else the
    baseline (the last report made by hand) if it is for an earlier tertial; else (None, None)."""
    best: tuple[str, Any, dict[str, Any], str] | None = None
    for run in store.runs(process_id):
        climate = (run.summary or {}).get("climate") or {}
        code = climate.get("period")
        if run.status != "completed" or not code or code >= period.code:
            continue
        key = (code, run.started_at)
        if best is None or key > best[:2]:
            best = (code, run.started_at, climate, run.run_id)
    if best:
        return best[2], best[3]
    if baseline and str(baseline.get("period", "")) < period.code:
        return baseline, str(baseline.get("kilde") or "rapport før roboten")
    return None, None


def compute(vehicles: Iterable[tuple[str, Vehicle]], period: Tertial,
            previous: dict[str, Any] | None = None, previous_run_id: str | None = None) -> Climate:
    """`vehicles`: (org unit, vehicle) for every vehicle counted."""
    units: dict[str, Share] = {}
    weights: dict[WeightClass | None, Share] = {}
    total = Share(TOTAL, "total")
    for unit, v in vehicles:
        for share in (units.setdefault(unit, Share(unit, unit)),
                      weights.setdefault(v.weight_class, Share(WEIGHT_NAMES[v.weight_class], WEIGHT_KEYS[v.weight_class])),
                      total):
            share.vehicles += 1
            share.zero_emission += bool(v.zero_emission)
    order = [WeightClass.lett, WeightClass.tung, None]
    climate = Climate(period, sorted(units.values(), key=lambda s: s.name.lower()),
                      [weights[w] for w in order if w in weights], total)
    if previous:
        climate.previous_period = previous.get("period")
        climate.previous_run_id = previous_run_id
        for s in climate.by_unit:
            s.previous = (previous.get("by_unit") or {}).get(s.key)
        for s in climate.by_weight:
            s.previous = (previous.get("by_weight") or {}).get(s.key)
        total.previous = previous.get("total")
    return climate
