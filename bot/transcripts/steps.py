"""One step of a test: what the customer sends, how long time passes, what must hold afterwards.

A step is either a bare text (``- hi``) or a mapping of what is sent
(``text``, ``media``, ``wait``) and what is checked (``reply``, ``state``,
``faq`` and the rest). A step with any error is left out whole, so one
mistake is not reported again as a step that sends nothing.
"""

from __future__ import annotations

import mimetypes
import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.flows import Pos
from bot.flows.regexes import NESTED_REPEAT, compile_regex
from bot.flows.yamlnodes import Reader
from bot.transcripts.keys import entries as keyed
from bot.transcripts.model import Step
from bot.types import InboundMedia

__all__ = ["CHECK_KEYS", "INBOUND_MEDIA_BASE", "SEND_KEYS", "STEP_KEYS", "read_step", "read_variables"]

SEND_KEYS = ("text", "media", "wait")
_ZERO_WAIT = re.compile(r"0+(\.0*)?[smhd]")
CHECK_KEYS = (
    "reply",
    "contains",
    "not_contains",
    "regex",
    "segments_at_most",
    "no_reply",
    "state",
    "vars",
    "faq",
)
STEP_KEYS = SEND_KEYS + CHECK_KEYS
# Checks on the reply itself; ``no_reply: true`` contradicts each of them.
REPLY_CHECKS = ("reply", "contains", "regex", "segments_at_most")

_CONTENT_TYPE = re.compile(r"^(?:image|video|audio|application|text)/[\w.+-]+$", re.IGNORECASE)
# Words an editor may write instead of a content type.
_MEDIA_WORDS = {"photo": "image/jpeg", "image": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg"}
_EXTENSIONS = {"image/jpeg": ".jpg", "video/mp4": ".mp4", "audio/mpeg": ".mp3"}
# NESTED_REPEAT speaks of a server's conversations; a test's regex runs on replies.
_HANGS = (
    "can take exponential time on some replies, and the test run would hang: a repeated group holds a repeat "
    "of its own ('+', '*' or '{m,n}' inside '(...)+'); write it with one repeat, or make the inner one atomic: "
    "(?>...) or a possessive '++'"
)
# What an empty list (or mapping) would have meant: written so, it checks or
# sends nothing, and a check that cannot fail reads as covered.
_EMPTY = {
    "contains": "is an empty list, so it checks nothing; write the texts the reply must contain",
    "not_contains": "is an empty list, so it checks nothing; write the texts the reply must not contain",
    "regex": "is an empty list, so it checks nothing; write the regular expressions the reply must match",
    "vars": "is empty, so it checks nothing; write the variables to check, like {order_number: \"123456\"}",
    "media": "is an empty list, so the customer sends no attachment; write what they send "
    "(photo, video, audio, ...), true/false to check the reply",
}
_MATCHES_EMPTY = (
    "matches an empty text, so it passes whatever is sent, even no reply; write a pattern that needs at least "
    "one character (to check a text is absent, use 'not_contains')"
)
# Where the customer's attachments pretend to live; never fetched.
INBOUND_MEDIA_BASE = "https://customer-media.invalid/"


def read_step(r: Reader, node: Node) -> Step | None:
    if isinstance(node, ScalarNode):  # ``- hi``: just send the text
        bare = r.text(node, "a step")
        return None if bare is None else Step(r.pos(node), text=bare)
    before = len(r.findings)  # a misspelt key must not also read as "a step needs 'text'"
    entries = keyed(r, node, "a step", STEP_KEYS, "step")
    if entries is None:
        return None
    for key, (_, value) in entries.items():
        if key in _EMPTY and isinstance(value, SequenceNode | MappingNode) and not value.value:
            r.error(value, f"'{key}' {_EMPTY[key]}, or leave '{key}' out")
    values: dict[str, object] = {}
    checks = {key: r.pos(value) for key, (_, value) in entries.items() if key in CHECK_KEYS}
    text: str | None = None
    if "text" in entries:
        text = r.text(entries["text"][1], "'text'", allow_empty=True)
    if "media" in entries:
        _media(r, entries["media"][1], values, checks)
    wait = 0.0
    wait_written = ""
    if "wait" in entries:
        wait_written = str(getattr(entries["wait"][1], "value", "")).strip()
        # A zero wait says "right away" (flows' durations must be positive: a zero
        # idle_timeout would end every conversation at once; here it is no time passing).
        if not _ZERO_WAIT.fullmatch(wait_written.lower()):
            wait = r.duration(entries["wait"][1], "'wait'") or 0.0
        elif "text" not in entries and "media" not in entries:
            r.error(entries["wait"][1], f"'wait: {wait_written}' with no 'text' lets no time pass, so the step "
                    "does nothing; wait longer than 0, or send a 'text'")
    for key, (_, value) in entries.items():
        if key in ("reply", "state", "faq"):
            parsed = r.text(value, f"'{key}'")
            if parsed is not None:
                values[key] = parsed.strip() if key != "reply" else parsed
        elif key in ("contains", "not_contains"):
            values[key] = tuple(t for t, _ in r.texts(value, f"'{key}'") or [])
        elif key == "regex":
            values[key] = _regexes(r, value)
        elif key == "segments_at_most":
            values[key] = r.integer(value, "'segments_at_most'", 1, 10)
        elif key == "no_reply":
            values[key] = r.boolean(value, "'no_reply'")
        elif key == "vars":
            values["variables"] = read_variables(r, value)
    if len(r.findings) > before:
        return None
    pos = r.pos(node)
    if text is None and values.get("media"):
        text = ""  # a photo without words
    if text is None and not wait:
        r.error(node, "a step needs 'text' (what the customer sends) or 'wait' (time passing)")
        return None
    if text is None and checks:
        first = min(checks, key=lambda k: checks[k])
        r.error(entries[first][0], f"'{first}' needs a 'text' in the same step: only a text gets a reply")
        return None
    if text is not None and not text.strip() and not values.get("media"):
        r.error(entries["text"][1], "'text' is empty and no 'media' is sent: the customer sends nothing")
        return None
    if values.get("no_reply") is True:
        clash = [k for k in REPLY_CHECKS if k in entries] + (["media"] if values.get("has_media") else [])
        if clash:
            r.error(entries[clash[0]][0], f"'{clash[0]}' checks a reply, but this step says 'no_reply: true'")
            return None
    return Step(pos=pos, text=text, wait=wait, wait_written=wait_written, checks=checks, **values)  # type: ignore[arg-type]


def read_variables(r: Reader, node: Node) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name, (_, value) in (r.mapping(node, "'vars'") or {}).items():
        if isinstance(value, ScalarNode) and value.tag == "tag:yaml.org,2002:null" and value.style is None:
            out[name] = None  # ``order_number: ~``: must not be set
            continue
        text = r.text(value, f"variable '{name}'", allow_empty=True)
        if text is not None:
            out[name] = text
    return out


def _media(r: Reader, node: Node, values: dict[str, object], checks: dict[str, Pos]) -> None:
    """``media: true|false`` checks the reply; a list (or one item) is what the customer sends."""
    if isinstance(node, ScalarNode) and node.value.strip().lower() in ("true", "false"):
        values["has_media"] = node.value.strip().lower() == "true"
        checks["media"] = r.pos(node)
        return
    items: list[InboundMedia] = []
    for index, (value, item) in enumerate(r.texts(node, "'media'") or [], start=1):
        media = _inbound(value.strip(), index)
        if media is None:
            r.error(
                item,
                f"cannot tell what kind of attachment '{value}' is; write photo, video, audio, "
                "a content type like image/jpeg, or a file name like damage.jpg "
                "(or true/false to check whether the reply has media)",
            )
        else:
            items.append(media)
    values["media"] = tuple(items)


def _regexes(r: Reader, node: Node) -> tuple[re.Pattern[str], ...]:
    out: list[re.Pattern[str]] = []
    for source, item in r.texts(node, "'regex'") or []:
        # Case-insensitive, as patterns in flows are; compiled by the flows'
        # own rules, so no pattern raises out of the reader or hangs a run.
        compiled = compile_regex(source, re.IGNORECASE)
        if compiled == NESTED_REPEAT:
            r.error(item, f"'regex' {_HANGS}")
        elif isinstance(compiled, str):
            r.error(item, f"'regex' {compiled}")
        elif compiled.search("") is not None:
            # 'sorry|' (a stray bar), 'x*': they match at the start of any text.
            r.error(item, f"'regex' {_MATCHES_EMPTY}")
        else:
            out.append(compiled)
    return tuple(out)


def _inbound(value: str, index: int) -> InboundMedia | None:
    """One attachment the customer sends: a word, a content type, a URL or a file name."""
    lowered = value.lower()
    if lowered in _MEDIA_WORDS:
        content_type = _MEDIA_WORDS[lowered]
        return InboundMedia(f"{INBOUND_MEDIA_BASE}{index}{_EXTENSIONS[content_type]}", content_type)
    if _CONTENT_TYPE.match(value):
        extension = mimetypes.guess_extension(lowered) or ""
        return InboundMedia(f"{INBOUND_MEDIA_BASE}{index}{extension}", lowered)
    guessed, _ = mimetypes.guess_type(value, strict=False)
    if guessed is None:
        return None
    url = value if "://" in value else INBOUND_MEDIA_BASE + value
    return InboundMedia(url, guessed)
