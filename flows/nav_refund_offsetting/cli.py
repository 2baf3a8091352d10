"""`rpa run nav-refund-offsetting [--report FILE.csv ... --claims FILE.xlsx] [--out DIR] [--json] [--prefect]`."""

from flows.kit.declare import make_cli
from flows.nav_refund_offsetting.declaration import PROCESS

app = make_cli(PROCESS)
