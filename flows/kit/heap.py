"""A threaded loop that must keep an even pace (requests paced to a registry's per-second limit)
runs with the heap it started with frozen out of the garbage collector's reach."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["frozen_heap"]


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive now (Prefect, SQLAlchemy, pydantic: hundreds of thousands of objects) is
    long-lived: freeze it out of the collector's reach for the loop. A full collection over it
    holds the GIL for 60-180 ms, which stalls every worker thread at once and sends the next
    requests bunched together: a per-second limit then sees a burst."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
