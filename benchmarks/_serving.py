"""Shared by benchmarks that run a stand-in in its own process."""

from __future__ import annotations

import subprocess
import time

import requests


def wait_for_health(url: str, proc: subprocess.Popen, name: str, timeout: float = 60) -> None:
    """Return once `url`/healthz answers; RuntimeError if the process died or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=1).raise_for_status()
            return
        except requests.RequestException:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start") from None
            time.sleep(0.1)
