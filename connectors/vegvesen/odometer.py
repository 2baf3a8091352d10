"""Odometer histories from the page 'Sjekk kjøretøyopplysninger' (the bot), kept in the lookup
cache under `odometer`: read politely one plate after another, and stopped when the page fails
three times in a row (it is down or changed: the rest would only fail too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from config.settings import Settings
from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.parser import parse_date

__all__ = ["KIND", "cached_history", "read_histories"]

KIND = "odometer"
FAILURES_IN_A_ROW = 3
T = TypeVar("T")


def cached_history(cache: LookupCache, plate: str, max_age_seconds: float) -> list[tuple[date | None, int]] | None:
    """(reading date, km) as read from the page, None when not read within `max_age_seconds`."""
    readings = cache.get(KIND, plate, max_age_seconds)
    return None if readings is None else [(parse_date(day), km) for day, km in readings]


def read_histories(settings: Settings, todo: Iterable[tuple[T, str]], cache: LookupCache, *, evidence_dir: Path,
                   min_interval_seconds: float, on_error: Callable[[T, str, Any], None],
                   log: logging.Logger | logging.LoggerAdapter | None = None) -> int:
    """Read and cache the history of each (key, plate) in `todo`; a plate the page does not know
    has none. `on_error(key, plate, error)` for a page that failed (the error carries the bot's
    screenshot and trace). Returns how many were read."""
    from bots.vegvesen_web import VegvesenWeb, VegvesenWebError, WebVehicleNotFound

    log = log or logging.getLogger(__name__)
    read = in_a_row = 0
    with VegvesenWeb(settings, evidence_dir=evidence_dir, min_interval_seconds=min_interval_seconds) as web:
        for key, plate in todo:
            try:
                readings = web.odometer_history(plate)
            except WebVehicleNotFound:
                readings = []
            except VegvesenWebError as exc:
                in_a_row += 1
                log.warning("kilometerstand for %s: %s", plate, exc)
                on_error(key, plate, exc)
                if in_a_row >= FAILURES_IN_A_ROW:
                    log.error("nettsiden feilet tre ganger på rad; hopper over resten av kilometerstandene")
                    return read
                continue
            in_a_row = 0
            cache.put(KIND, plate, [[d.isoformat() if d else None, km] for d, km in readings])
            read += 1
    return read
