"""`rpa run tjenestebevis [--requests F.xlsx] [--employment F.xlsx] [--out DIR] [--json] [--prefect]`."""

from flows.kit.declare import make_cli
from flows.tjenestebevis.declaration import PROCESS

app = make_cli(PROCESS)
