"""`rpa sandbox seed` for the Maskinporten stand-in: its signing key, the demo client with its key
pair (private key 0600 at the runner's default RPA_MASKINPORTEN__KEY_FILE) and the municipality's
system user. Keys already there are kept, so a running sandbox stays valid; the seed and scale
do not apply (keys are random, not synthetic data)."""

from __future__ import annotations

from pathlib import Path

from sandbox.maskinporten import registry


def seed(data_dir: Path, seed: int = 42, scale: float = 1.0) -> dict[str, Path]:
    return registry.ensure(Path(data_dir))
