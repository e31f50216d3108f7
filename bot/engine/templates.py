"""Filling ``{name}`` placeholders in replies from conversation variables, and one turn's replies as one.

Deliberately not ``str.format``: format strings can reach attributes and items
(``{x.__class__}``), and a flow file must never be able to run or inspect code.
Only ``{identifier}`` is recognised; anything else is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.types import Reply

__all__ = ["PLACEHOLDER", "fill", "merge", "placeholders"]

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, variables: Mapping[str, str]) -> str:
    """Replace each ``{name}`` with its variable; unknown names become empty."""
    return PLACEHOLDER.sub(lambda m: variables.get(m.group(1), ""), template)


def placeholders(template: str) -> set[str]:
    """The variable names a template uses."""
    return set(PLACEHOLDER.findall(template))


def merge(replies: list[Reply], variables: Mapping[str, str]) -> tuple[Reply, ...]:
    """One turn's texts, filled, go out as one message, so a carrier cannot reorder them."""
    texts = [fill(r.text, variables) for r in replies if r.text]
    media: list[str] = []
    for reply in replies:
        media.extend(reply.media)
    if not texts and not media:
        return ()
    return (Reply("\n\n".join(texts), tuple(media)),)
