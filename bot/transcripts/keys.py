"""Unknown keys in a transcript, and the key the editor most likely meant.

Spelling alone (``did_you_mean``) misleads on the words people reach for from
other test tools: ``text_contains`` read as ``not_contains`` (the opposite
check), ``expect`` as ``text`` (an expectation turned into a text sent),
``delay`` as ``reply``. Those words are looked up here first; spelling decides
only for the rest. A key missing because it is misspelt is reported once, as
the typo, never again as missing (``misspelt``).
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from bot.flows.errors import closest
from bot.flows.yamlnodes import Reader

__all__ = ["SYNONYMS", "entries", "meant", "misspelt"]

# What editors write -> the key they mean, per level (a word can mean
# different keys at different levels: 'name' in 'start' is its 'state').
SYNONYMS: dict[str, dict[str, str]] = {
    "step": {
        **dict.fromkeys(("say", "says", "expect", "expected", "response", "answer", "replies", "bot"), "reply"),
        **dict.fromkeys(("include", "includes", "has", "text_contains", "reply_contains", "contain"), "contains"),
        **dict.fromkeys(("exclude", "excludes", "without", "not_contain", "reply_not_contains"), "not_contains"),
        **dict.fromkeys(("input", "message", "msg", "send", "sends", "user", "customer"), "text"),
        **dict.fromkeys(("sleep", "delay", "after", "pause", "advance"), "wait"),
        **dict.fromkeys(("attachment", "attachments", "photo", "image", "images", "mms"), "media"),
        **dict.fromkeys(("match", "matches", "pattern", "regexp"), "regex"),
        **dict.fromkeys(("go", "goto", "next", "in_state"), "state"),
        **dict.fromkeys(("variables", "variable", "var"), "vars"),
        **dict.fromkeys(("silent", "no_answer", "no_response"), "no_reply"),
        **dict.fromkeys(("segments", "max_segments"), "segments_at_most"),
        **dict.fromkeys(("faq_id", "answered_by"), "faq"),
    },
    "test": {
        **dict.fromkeys(("title", "description", "desc", "test", "label"), "name"),
        **dict.fromkeys(("begin", "from_state", "initial"), "start"),
        **dict.fromkeys(("conversation", "messages", "turns", "step"), "steps"),
    },
    "start": {
        **dict.fromkeys(("name", "at", "in", "go"), "state"),
        **dict.fromkeys(("variables", "variable", "var"), "vars"),
    },
    "file": {
        **dict.fromkeys(("number", "phone", "customer", "customer_number", "sender"), "from"),
        **dict.fromkeys(("cases", "conversations", "scenarios", "test"), "tests"),
        **dict.fromkeys(("flow_name", "name"), "flow"),
    },
}


def meant(key: str, allowed: tuple[str, ...], level: str) -> str | None:
    """The allowed key an unknown ``key`` most likely stands for, if any."""
    folded = key.strip().casefold().replace("-", "_").replace(" ", "_")
    if folded in allowed:  # 'Text:', 'no-reply:'
        return folded
    synonym = SYNONYMS.get(level, {}).get(folded)
    if synonym in allowed:
        return synonym
    return closest(key, allowed)


def entries(
    r: Reader, node: Node, what: str, allowed: tuple[str, ...], level: str
) -> dict[str, tuple[ScalarNode, Node]] | None:
    """``r.mapping(node, what, allowed)``, its "did you mean" by ``meant``."""
    out = r.mapping(node, what)
    if out is None:
        return None
    for key in [key for key in out if key not in allowed]:
        key_node, _ = out.pop(key)
        guess = meant(key, allowed, level)
        hint = f" (did you mean '{guess}'?)" if guess is not None else ""
        # '- hi: Hi! Reply 1': the text sent and the reply expected, as one pair.
        howto = ""
        if guess is None and level == "step" and isinstance(node, MappingNode) and len(node.value) == 1:
            howto = f" (to send '{key}' and check the reply, write 'text: {key}' and, under it, 'contains: ...')"
        r.error(key_node, f"unknown key '{key}' in {what}{hint}; expected one of: {', '.join(allowed)}{howto}")
    return out


def misspelt(node: Node, allowed: tuple[str, ...], level: str) -> set[str]:
    """Keys of mapping ``node`` missing only because they are written otherwise: reported once, as the typo."""
    if not isinstance(node, MappingNode):
        return set()
    keys = [key.value for key, _ in node.value if isinstance(key, ScalarNode) and key.value not in allowed]
    return {guess for key in keys if (guess := meant(key, allowed, level)) is not None}
