"""Vehicle data collection posts nothing: its cases take only the kit's actions (retry, with its
precondition that the case has a work item; handled_manually; dismiss)."""

from __future__ import annotations

from workqueue.actions import ActionSpec

ACTIONS: dict[str, ActionSpec] = {}
