"""HR's own list of the tjenestebevis they issued by hand for the period, for shadow mode
(docs/shadow.md): per request the day issued and the total service in months they wrote, or
«ikke utstedt». A few human mistakes are planted, listed in their own ground truth.

    <data_dir>/input/tjenestebevis/utstedt-av-hr.csv                      the list (';')
    <data_dir>/ground_truth/tjenestebevis-menneskelige-feil.csv          the mistakes (UTF-8, ',')

The correct list: a letter for every request the ground truth says ISSUED, with the service
counted as the law counts it (connectors.periods, as of ISSUED_ON); «ikke utstedt» for the rest.
The mistakes are:

    feil_lengde          a letter with the service wrong by a year (an overlap counted twice)
    mangler              a request HR never answered
    utstedt_to_ganger    a second letter for the same request repeated (the robot lets the first stand)
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from connectors.periods import total_months

PROCESS_ID = "tjenestebevis"
LIST = f"input/{PROCESS_ID}/utstedt-av-hr.csv"
MISTAKES = f"ground_truth/{PROCESS_ID}-menneskelige-feil.csv"
ISSUED_ON = date(2026, 11, 27)  # after the last request; a run compared with it uses this as_of
NOT_ISSUED = "ikke utstedt"


def write_hr_list(data_dir: Path, requests: list[list], truth: list[list], positions: list[list],
                  seed: int = 1) -> dict[str, Path]:
    """`requests` [id, fnr, ordered, purpose], `truth` [id, utfall], `positions` [fnr, …, start, end, …]."""
    rng = random.Random(seed * 13 + 5)
    fnr = {r[0]: str(r[1]).zfill(11) for r in requests}
    listed = {}
    for rid, outcome in truth:
        periods = [(p[4], p[5]) for p in positions if p[0] == fnr[rid]]
        listed[rid] = [ISSUED_ON.isoformat(), str(total_months(periods, ISSUED_ON))] if outcome == "ISSUED" else ["", NOT_ISSUED]
    issued = sorted(k for k, v in listed.items() if v[1] != NOT_ISSUED)
    wrong, missing = rng.sample(issued, 2)
    repeated = next(k for k, v in truth if v == "DUPLICATE_SAME")
    mistakes = [[wrong, "feil_lengde", listed[wrong][1], str(int(listed[wrong][1]) + 12)],
                [missing, "mangler", listed[missing][1], ""],
                [repeated, "utstedt_to_ganger", NOT_ISSUED, listed[fnr_first(fnr, repeated)][1]]]
    listed[wrong][1] = mistakes[0][3]
    listed[repeated] = [ISSUED_ON.isoformat(), mistakes[2][3]]
    del listed[missing]

    path = Path(data_dir) / LIST
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows([["bestilling_id", "utstedt_dato", "ansettelsestid_mnd"],
                                                *([k, *v] for k, v in sorted(listed.items()))])
    mistakes_path = Path(data_dir) / MISTAKES
    mistakes_path.parent.mkdir(parents=True, exist_ok=True)
    with mistakes_path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["bestilling_id", "feil", "riktig", "i_listen"], *mistakes])
    return {"issued_by_hand": path, "human_mistakes": mistakes_path}


def fnr_first(fnr: dict[str, str], rid: str) -> str:
    """The first request of the same person (whose letter stands)."""
    return next(k for k in sorted(fnr) if fnr[k] == fnr[rid])
