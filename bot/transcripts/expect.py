"""A step's expectations against what the service did: the replies, the session and the decision.

Every expectation of a step is checked, not only up to the first that fails,
so a report shows all of them at once. ``reply`` must equal the text sent but
for leading and trailing space; ``contains`` and ``not_contains`` ignore case
and runs of spaces; a failed ``reply`` of long or multi-line texts carries a
hint at the first difference.
"""

from __future__ import annotations

import json
import re

from bot.engine import Decision
from bot.flows import Pos
from bot.service import Handled
from bot.sms import analyze, smart_encode
from bot.sms.smart import SMART_ENCODING_MAP
from bot.transcripts.model import Step
from bot.transcripts.results import FAQ_KINDS, Mismatch
from bot.types import Reply, Session

__all__ = ["check_step"]


def check_step(step: Step, handled: Handled, session: Session | None, media_base: str = "") -> list[Mismatch]:
    """Every expectation of ``step`` that the reply, the session or the decision did not meet.

    ``media_base`` is where media links point when a customer gets no MMS.
    """
    out: list[Mismatch] = []
    at = step.checks
    replies = handled.replies
    text = "\n".join(r.text for r in replies)
    shown = text if replies else "(no reply)"
    sent = bool(replies)  # ``shown`` is then a text, quoted in reports; else a description
    if step.no_reply is True and replies:
        out.append(Mismatch("no_reply", at["no_reply"], "no reply", text, got_text=True))
    if step.no_reply is False and not replies:
        out.append(Mismatch("no_reply", at["no_reply"], "a reply", "(no reply)"))
    if step.reply is not None and step.reply.strip() != text.strip():
        hint = _reply_hint(step.reply, text)
        out.append(Mismatch("reply", at["reply"], step.reply.strip(), shown, True, sent, hint))
    for wanted in step.contains:
        if _loose(wanted) not in _loose(text):
            out.append(Mismatch("contains", at["contains"], f"a reply containing {_quote(wanted)}", shown,
                                got_text=sent))
    for unwanted in step.not_contains:
        if _loose(unwanted) in _loose(text):
            out.append(Mismatch("not_contains", at["not_contains"], f"a reply without {_quote(unwanted)}", shown,
                                got_text=sent))
    for pattern in step.regex:
        if pattern.search(text) is None:
            out.append(Mismatch("regex", at["regex"], f"a reply matching {_quote(pattern.pattern)}", shown,
                                got_text=sent))
    if step.has_media is not None:
        media = [item for reply in replies for item in reply.media]
        if bool(media) != step.has_media:
            got = ", ".join(media) if media else "no media"
            hint = ""
            if step.has_media and media_base and media_base in text:
                # Not a missing attachment: this customer's number gets links, as the server sends them.
                who = session.key.customer if session is not None else "this customer"
                hint = (f"the media went as links in the text: {who} gets no MMS, only +1 numbers do; "
                        "check a link with 'contains'")
            out.append(Mismatch("media", at["media"], "media" if step.has_media else "no media", got, hint=hint))
    if step.segments_at_most is not None:
        out.extend(_segments(step.segments_at_most, at["segments_at_most"], replies))
    if step.state is not None:
        got_state = session.state if session is not None else "(no conversation: it starts over)"
        if got_state != step.state:
            out.append(Mismatch("state", at["state"], step.state, got_state))
    for name, value in step.variables.items():
        have = session.variables.get(name) if session is not None else None
        if have != value:
            out.append(Mismatch(f"variable {name}", at["vars"], _var(value), _var(have)))
    if step.faq is not None:
        answered = _faq(handled.decision)
        if answered != step.faq:
            out.append(Mismatch("faq", at["faq"], step.faq, answered or _no_faq(handled)))
    return out


_SMART = str.maketrans(dict(SMART_ENCODING_MAP))


def _segments(limit: int, pos: Pos, replies: tuple[Reply, ...]) -> list[Mismatch]:
    out: list[Mismatch] = []
    for index, reply in enumerate(replies, start=1):
        if reply.media:
            continue  # an MMS body is not cut into segments
        info = analyze(reply.text)
        if info.segments > limit:
            got = f"message {index} is {info.segments} segments ({info.encoding}, {info.units} units)"
            hint = ""
            if info.ucs2_chars:
                hint = "these characters force UCS-2: " + " ".join(repr(c) for c in info.ucs2_chars)
            out.append(Mismatch("segments_at_most", pos, f"at most {limit} per message", got, hint=hint))
    return out


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _loose(text: str) -> str:
    """Case, runs of spaces or line breaks, and smart encoding do not matter to ``contains``.

    Replies are smart-encoded (’ to ', — to -, … to ...): an expectation copied
    from the flow file must find the text it was copied from, and one that must
    not appear must not pass just because the customer gets its plain twin.
    Both sides are folded, so a reply kept in UCS-2 (it has an emoji) matches too.
    """
    return " ".join(text.translate(_SMART).casefold().split())


def _var(value: str | None) -> str:
    return "(not set)" if value is None else _quote(value)


def _faq(decision: Decision | None) -> str:
    if decision is not None and decision.kind in FAQ_KINDS:
        return decision.faq_id
    return ""


def _no_faq(handled: Handled) -> str:
    decision = handled.decision
    if decision is None:
        return f"no FAQ (the {handled.kind} layer answered)"
    if decision.kind == "ambiguous":
        return f"no FAQ yet: 'Did you mean' between {decision.faq_id.replace(',', ' and ')}"
    what = f"{decision.kind} {decision.route_id}".strip()
    return f"no FAQ ({what})"


def _reply_hint(expected: str, got: str) -> str:
    """Point at the first difference of two long or multi-line texts."""
    want, have = expected.strip(), got.strip()
    if smart_encode(want) == have:  # first: curly and straight quotes look alike, however short
        return "replies are sent with smart encoding: curly quotes and dashes become plain ones"
    if "\n" not in want + have and max(len(want), len(have)) <= 60:
        return ""  # short texts: the difference is plain to see
    if re.sub(r"\s+", " ", want) == re.sub(r"\s+", " ", have):
        return "only spaces or line breaks differ"
    if want.casefold() == have.casefold():
        return "only capital letters differ"
    index = next((i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b), min(len(want), len(have)))
    before = want[:index]
    line = before.count("\n") + 1
    col = index - (before.rfind("\n") + 1) + 1
    return f"first difference at line {line}, column {col} of the text"
