"""`rpa sandbox up | seed`: the local stand-ins for NAV/Altinn, Statens vegvesen, the finance system
and Maskinporten (the tokens NAV's API demands); each found under sandbox/, none listed."""

from __future__ import annotations

import importlib
import signal
import threading
from pathlib import Path

import typer

from config.settings import FaultSettings, Settings, get_settings
from sandbox.server import RunningServer, start_in_thread


def discover_systems() -> tuple[str, ...]:
    """Every stand-in found under sandbox/: a package with an `app.py` (create_app) or a `seed.py`
    (seed). Adding a system or a process's demo data touches no shared list."""
    here = Path(__file__).resolve().parent
    return tuple(p.name for p in sorted(here.iterdir())
                 if p.is_dir() and (p / "__init__.py").exists() and ((p / "app.py").exists() or (p / "seed.py").exists()))


SYSTEMS = discover_systems()

app = typer.Typer(help="Local stand-ins for the external systems (127.0.0.1 only).", no_args_is_help=True)


def _port(settings: Settings, system: str, module=None) -> int:
    """The system's port: settings.sandbox.<system>_port, else the app module's DEFAULT_PORT."""
    port = getattr(settings.sandbox, f"{system}_port", None) or getattr(module, "DEFAULT_PORT", None)
    if port is None:
        raise ValueError(f"sandbox/{system}: no port (set sandbox.{system}_port or DEFAULT_PORT in its app.py)")
    return port


def _system_module(system: str, part: str):
    try:
        return importlib.import_module(f"sandbox.{system}.{part}")
    except ModuleNotFoundError as exc:
        if exc.name in (f"sandbox.{system}", f"sandbox.{system}.{part}"):
            return None
        raise


def start_sandbox(settings: Settings | None = None, systems: tuple[str, ...] = SYSTEMS) -> list[RunningServer]:
    """Start each system's app in a background thread on its configured port."""
    settings = settings or get_settings()
    servers = []
    try:
        for system in systems:
            module = _system_module(system, "app")
            if module is None:
                continue
            faults = getattr(settings.sandbox, f"{system}_faults", None) or FaultSettings()
            created = module.create_app(settings.paths.data_dir, faults)
            servers.append(start_in_thread(created, settings.sandbox.host, _port(settings, system, module),
                                           name=system))
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


def seed_all(settings: Settings | None = None, seed: int | None = None, scale: float | None = None,
             systems: tuple[str, ...] = SYSTEMS) -> dict[str, Path]:
    """Write every system's synthetic data set, the municipality's inputs and the ground truth."""
    settings = settings or get_settings()
    seed = settings.sandbox.seed if seed is None else seed
    scale = settings.sandbox.scale if scale is None else scale
    written: dict[str, Path] = {}
    for system in systems:
        module = _system_module(system, "seed")
        if module is None:
            continue
        for name, path in module.seed(settings.paths.data_dir, seed=seed, scale=scale).items():
            written[f"{system}.{name}"] = path
    return written


@app.command("seed")
def seed_command(
    seed: int = typer.Option(None, "--seed", help="Seed (default: settings.sandbox.seed)."),
    scale: float = typer.Option(None, "--scale", help="Size factor (default: settings.sandbox.scale)."),
) -> None:
    """Write the synthetic data sets and their ground truth under the data folder."""
    for name, path in seed_all(seed=seed, scale=scale).items():
        typer.echo(f"{name:32} {path}")


@app.command("up")
def up_command(
    seed_first: bool = typer.Option(False, "--seed", help="Seed the data sets before starting."),
) -> None:
    """Start all sandbox systems and print their URLs; Ctrl-C stops them."""
    settings = get_settings()
    if seed_first:
        seed_all(settings)
    servers = start_sandbox(settings)
    if not servers:
        typer.secho("no sandbox system is installed", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    for server in servers:
        typer.echo(f"{server.name:12} {server.url}")
    typer.echo(f"data: {settings.paths.data_dir.resolve()}  (Ctrl-C stops)")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.stop()
