"""The people's own outcome for the seeded fleet, for shadow mode (docs/shadow.md): the fleet
register the fleet office keeps by hand (plate, energy class, weight class of every vehicle the
municipality reports on), as it exports it, with a few human mistakes in it, listed in their
own ground truth.

    <data_dir>/input/vehicle-data-collection/flateregister.csv                 the export (';')
    <data_dir>/ground_truth/vehicle-data-collection-menneskelige-feil.csv     the mistakes (UTF-8, ',')

The correct register is the seed's ground truth: every fleet-list row the climate report counts
(outcome OK or EU_CONTROL_OVERDUE), once per plate. The mistakes are:

    feil_energiklasse     a chargeable hybrid (or another non-electric vehicle) registered as electric
    feil_vektklasse       a vehicle with the wrong weight class
    mangler               a vehicle the office never registered
    avregistrert_beholdt  a deregistered vehicle still in the register (when the seed has one)
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from connectors.vegvesen.plates import compact

PROCESS_ID = "vehicle-data-collection"
REGISTER = f"input/{PROCESS_ID}/flateregister.csv"
MISTAKES = f"ground_truth/{PROCESS_ID}-menneskelige-feil.csv"
COUNTED = ("OK", "EU_CONTROL_OVERDUE")


def write_fleet_register(data_dir: Path, ground_truth: Path, seed: int = 42) -> dict[str, Path]:
    data_dir = Path(data_dir)
    rng = random.Random(seed * 13 + 3)
    with ground_truth.open(encoding="utf-8", newline="") as f:
        truth = list(csv.DictReader(f))
    plates: dict[str, list[dict[str, str]]] = {}
    for row in truth:
        if row["kjennemerke"]:
            plates.setdefault(compact(row["kjennemerke"]), []).append(row)
    counted = {p: next(r for r in rows if r["utfall"] in COUNTED) for p, rows in plates.items()
               if any(r["utfall"] in COUNTED for r in rows)}
    register = {p: [r["energiklasse"], r["vektklasse"]] for p, r in sorted(counted.items())}
    hybrids = sorted(p for p, r in counted.items() if r["energiklasse"] == "ladbar hybrid")
    wrong_energy = rng.choice(hybrids or sorted(p for p, r in counted.items() if r["energiklasse"] != "elektrisk"))
    wrong_weight, missing = rng.sample(sorted(p for p, r in counted.items() if r["utfall"] == "OK"
                                             and p != wrong_energy and r["vektklasse"]), 2)
    deregistered = sorted(p for p, rows in plates.items() if len(rows) == 1 and rows[0]["utfall"] == "DEREGISTERED"
                          and rows[0]["energiklasse"])
    gone = rng.choice(deregistered) if deregistered else None  # a very small seed may have none

    flipped = {"lett": "tung", "tung": "lett"}[register[wrong_weight][1]]
    mistakes = [[wrong_energy, "feil_energiklasse", register[wrong_energy][0], "elektrisk"],
                [wrong_weight, "feil_vektklasse", register[wrong_weight][1], flipped],
                [missing, "mangler", register[missing][0], ""]]
    register[wrong_energy][0] = "elektrisk"
    register[wrong_weight][1] = flipped
    del register[missing]
    if gone:
        mistakes.append([gone, "avregistrert_beholdt", "", plates[gone][0]["energiklasse"]])
        register[gone] = [plates[gone][0]["energiklasse"], plates[gone][0]["vektklasse"]]

    path = data_dir / REGISTER
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows([["kjennemerke", "energiklasse", "vektklasse"],
                                                *([p, *register[p]] for p in sorted(register))])
    mistakes_path = data_dir / MISTAKES
    mistakes_path.parent.mkdir(parents=True, exist_ok=True)
    with mistakes_path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["kjennemerke", "feil", "riktig", "i_registeret"], *mistakes])
    return {"fleet_register": path, "human_mistakes": mistakes_path}
