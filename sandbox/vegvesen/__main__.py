"""Run the Statens vegvesen stand-in alone in the foreground (benchmarks start it in its own process):

    .venv/bin/python -m sandbox.vegvesen --data-dir DIR [--port 8702] [--seed] [--scale 1.0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from config.settings import FaultSettings, get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.vegvesen", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="Data folder (default: settings.paths.data_dir).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="Default: settings.sandbox.vegvesen_port.")
    parser.add_argument("--seed", action="store_true", help="Seed the register and fleet list first.")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    settings = get_settings()
    data_dir = args.data_dir or settings.paths.data_dir
    if args.seed:
        from sandbox.vegvesen.seed import seed

        seed(data_dir, settings.sandbox.seed, args.scale)
    from sandbox.vegvesen.app import create_app

    faults: FaultSettings = settings.sandbox.vegvesen_faults
    uvicorn.run(create_app(data_dir, faults), host=args.host, port=args.port or settings.sandbox.vegvesen_port,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
