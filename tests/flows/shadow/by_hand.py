"""The agreement figure counted by hand, for the shadow tests to hold the report against."""

from __future__ import annotations

from typing import Any


def by_hand(robot: dict[str, Any], human: dict[str, Any]) -> tuple[float, set[str]]:
    """(agreement, disagreeing keys): a key counts where either side acted; agree = the same value."""
    keys = set(robot) | set(human)
    agree = {k for k in keys if robot.get(k) == human.get(k)}
    return len(agree) / len(keys), keys - agree
