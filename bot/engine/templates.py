"""Filling ``{name}`` placeholders in replies from conversation variables.

Deliberately not ``str.format``: format strings can reach attributes and items
(``{x.__class__}``), and a flow file must never be able to run or inspect code.
Only ``{identifier}`` is recognised; anything else is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["PLACEHOLDER", "fill", "placeholders"]

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, variables: Mapping[str, str]) -> str:
    """Replace each ``{name}`` with its variable; unknown names become empty."""
    return PLACEHOLDER.sub(lambda m: variables.get(m.group(1), ""), template)


def placeholders(template: str) -> set[str]:
    """The variable names a template uses."""
    return set(PLACEHOLDER.findall(template))
