"""Vehicle data collection's outcomes for shadow mode (docs/shadow.md): per vehicle, the record
the run would hand the climate report (kjoretoy.xlsx: energy class and weight class of every
vehicle it counts), and the vehicles it would leave to the fleet office (a case, with its
category). The people's outcome is the fleet register the fleet office keeps (input
`fleet-register`), compared by the vehicle as the fleet list names it (plate or VIN, without
spaces and in capitals), with the same value text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from connectors.vegvesen.plates import compact
from flows.kit.shadow import MANUAL, Outcome
from flows.vehicle_data_collection import outcomes as oc
from flows.vehicle_data_collection.lookup import DEREGISTERED_STATUSES
from flows.vehicle_data_collection.report import ReportRow

FLEET = "fleet"  # the compared system: the fleet register


def record_value(energy_class: str, weight_class: str) -> str:
    """The compared value, as read_human_outcome joins the register's `value_…` columns."""
    return f"energiklasse={energy_class}; vektklasse={weight_class}"


def report_outcomes(rows: Iterable[ReportRow]) -> Iterator[Outcome]:
    """One outcome per vehicle row of the report: `register` for a vehicle the climate report
    counts, `manual` (with the category) for one the run leaves to the fleet office."""
    for row in rows:
        v = row.vehicle
        key = compact(row.raw) or f"rad {row.row}"  # as the fleet list names it (a plate, or a VIN)
        counted = v is not None and v.registration_status not in DEREGISTERED_STATUSES
        if counted and row.category in (None, oc.EU_CONTROL_OVERDUE):
            yield Outcome(system=FLEET, action="register", key=key, category=row.category or "",
                          value=record_value(str(v.energy_class), str(v.weight_class or "")),
                          details={"row": row.row, "org_unit": row.org_unit})
        elif row.category:
            yield Outcome(system=FLEET, action=MANUAL, key=key, category=row.category,
                          details={"row": row.row, "org_unit": row.org_unit})
