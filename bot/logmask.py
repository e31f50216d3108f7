"""Phone numbers never reach the logs in full.

Operators still need to tell conversations apart, so a masked number keeps its
country-code start and last two digits: ``+15555550123`` -> ``+15******23``.
"""

from __future__ import annotations

__all__ = ["mask"]


def mask(number: str) -> str:
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]
