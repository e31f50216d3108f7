"""Checks that need the whole loaded flow: compliance words, segment costs, MMS limits.

They run after the structural load (bot.flows.loader), on the typed objects, so
each finding points at the state, route, FAQ or setting it is about.

Costs are computed the way replies are sent (bot.replies): templates filled
with each variable's longest value, smart encoding applied when the flow has it
on, then split into messages of at most ``max_segments`` segments. A reply whose
parts add up to more than ``segment_budget`` segments is an error.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.compliance.texts import keywords_for, texts_for
from bot.engine.templates import PLACEHOLDER
from bot.flows.context import SOUND, Flaws
from bot.flows.errors import Finding, Pos
from bot.flows.model import Flow
from bot.sms import SegmentInfo, analyze, smart_encode, split_reply

__all__ = ["ACCEPTED_TYPES", "MEDIA_TYPES", "ReplyCost", "check_flow", "media_type", "reply_costs", "variable_lengths"]

MAX_MEDIA = 10  # per message (Twilio; the strictest carrier)
MAX_TOTAL_BYTES = 5 * 1024 * 1024
MAX_NON_IMAGE_BYTES = 600 * 1024  # a conservative budget for carriers that do not transcode
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
# The media types carriers accept, by file extension. Fixed here, not read from
# the machine's /etc/mime.types, which differs between systems (Python alone maps
# .3gp to audio/3gpp and .amr to audio/AMR, and knows .m4a and .ogg only when that
# file exists). Registered with ``mimetypes`` too, so /media serves a file with
# the Content-Type lint checked (aiohttp's FileResponse asks mimetypes).
MEDIA_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".bmp": "image/bmp",
    ".mp4": "video/mp4", ".3gp": "video/3gpp", ".mov": "video/quicktime", ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4", ".amr": "audio/amr", ".ogg": "audio/ogg", ".vcf": "text/vcard", ".pdf": "application/pdf",
}
for _extension, _type in MEDIA_TYPES.items():
    mimetypes.add_type(_type, _extension)
ACCEPTED_TYPES = frozenset(MEDIA_TYPES.values()) | {"text/x-vcard"}


def media_type(name: str) -> str | None:
    """The Content-Type a media file or URL goes out with, by its extension; ``None``: not one carriers take."""
    return MEDIA_TYPES.get(PurePosixPath(name.split("?")[0].split("#")[0]).suffix.lower())
UNBOUNDED_VARIABLE = 40  # assumed length of a variable whose longest value cannot be derived


@dataclass(frozen=True, slots=True)
class ReplyCost:
    pos: Pos
    label: str
    parts: int
    segments: int
    info: SegmentInfo


def _replies(flow: Flow) -> Iterator[tuple[Pos, str, str, tuple[str, ...]]]:
    """Every reply text of a flow with its position, a label and its media."""
    texts = texts_for(flow)
    settings = flow.settings
    for key in ("welcome_back", "fallback"):
        yield settings.positions.get(key, flow.pos), f"setting '{key}'", getattr(settings, key), ()
    yield settings.positions.get("help", flow.pos), "setting 'help'", texts.help, ()
    yield settings.positions.get("opt_out_reply", flow.pos), "setting 'opt_out_reply'", texts.opt_out_reply, ()
    yield settings.positions.get("opt_in_reply", flow.pos), "setting 'opt_in_reply'", texts.opt_in_reply, ()
    for state in flow.states.values():
        if state.say or state.media:
            yield state.pos, f"state '{state.name}'", state.say, state.media
        for route in (*state.choices, *([state.otherwise] if state.otherwise else [])):
            if route.say or route.media:
                yield route.pos, f"route {route.route_id}", route.say, route.media
    for route in flow.global_routes:
        if route.say or route.media:
            yield route.pos, f"route {route.route_id}", route.say, route.media
    for faq in flow.faqs:
        yield faq.pos, f"FAQ '{faq.faq_id}'", faq.answer, faq.media


def variable_lengths(flow: Flow) -> dict[str, int]:
    """The longest value each template variable can take, for costing replies."""
    lengths: dict[str, int] = {}
    routes = [*flow.global_routes]
    for state in flow.states.values():
        routes.extend(state.choices)
    for route in routes:
        if route.pattern is None:
            continue
        for name in route.pattern.groupindex:
            lengths[name] = max(lengths.get(name, 0), _group_width(route.pattern.pattern, name))
    lengths.update(flow.variable_lengths)
    return lengths


def _group_width(source: str, name: str) -> int:
    """Longest match of one named group, from the regex parser; a guess if unbounded."""
    try:
        from re import _parser  # type: ignore[attr-defined]  # stdlib since 3.11

        parsed = _parser.parse(source, re.IGNORECASE)
        group = parsed.state.groupdict[name]
        for op, value in _walk(parsed):
            if op is _parser.SUBPATTERN and value[0] == group:
                width = int(getattr(value[-1], "getwidth")()[1])  # noqa: B009
                return width if width < 1600 else UNBOUNDED_VARIABLE
    except Exception:  # a private API: any surprise means "unknown", never a crash
        pass
    return UNBOUNDED_VARIABLE


def _walk(parsed: object) -> Iterator[tuple[object, tuple[object, ...]]]:
    for op, value in getattr(parsed, "data", []):
        yield op, value if isinstance(value, tuple) else (value,)
        for item in value if isinstance(value, (tuple, list)) else ():
            if hasattr(item, "data"):
                yield from _walk(item)
            elif isinstance(item, list):
                for sub in item:
                    yield from _walk(sub)


def _filled(text: str, lengths: dict[str, int]) -> str:
    return PLACEHOLDER.sub(lambda m: "W" * lengths.get(m.group(1), UNBOUNDED_VARIABLE), text)


def reply_costs(flow: Flow, unknown: frozenset[str] = frozenset()) -> list[ReplyCost]:
    """Encoding and segments of every reply, as it would be sent (longest variables).

    ``unknown``: variables whose longest value the file does not say yet (a
    pattern naming them does not compile); costed at what is known, else one
    character, so a reply is over budget only when it is for certain.
    """
    settings = flow.settings
    lengths = variable_lengths(flow)
    for name in unknown - flow.variable_lengths.keys():
        lengths[name] = lengths.get(name, 1)
    costs: list[ReplyCost] = []
    for pos, label, text, _media in _replies(flow):
        if not text:
            continue
        body = _filled(text, lengths)
        if settings.smart_encoding:
            body = smart_encode(body)
        # As bot.replies sends it: each message smart-encoded on its own when the
        # whole cannot be GSM-7 (one emoji keeps only its own message in UCS-2).
        parts = split_reply(body, settings.max_segments, smart=settings.smart_encoding) or [body]
        segments = sum(analyze(part).segments for part in parts)
        costs.append(ReplyCost(pos, label, len(parts), segments, analyze(body)))
    return costs


def check_flow(flow: Flow, flaws: Flaws = SOUND) -> list[Finding]:
    """Findings about compliance words, help texts, segment budgets and media limits.

    ``flaws``: the parts of the file that had errors. Segments are not counted
    when a setting they depend on did not read (the budget meant may be higher).
    """
    findings: list[Finding] = []
    findings += _reserved_keywords(flow)
    findings += _compliance_texts(flow)
    budget = flow.settings.segment_budget
    costed = not any(flaws.setting(k) for k in ("max_segments", "segment_budget", "smart_encoding"))
    for cost in reply_costs(flow, flaws.unknown_lengths) if costed and "variables.*" not in flaws.sections else ():
        if cost.segments > budget:
            reason: str = cost.info.encoding
            if cost.info.ucs2_chars:
                shown = ", ".join(repr(c) for c in cost.info.ucs2_chars[:8])
                reason += f" because of {shown}"
            findings.append(
                Finding(
                    cost.pos,
                    "error",
                    f"{cost.label} costs {cost.segments} segments ({reason}), over the flow's segment_budget "
                    f"of {budget}; shorten it or raise 'segment_budget'",
                )
            )
    for pos, label, _text, media in _replies(flow):
        findings += _media_limits(flow, pos, label, media)
    return findings


def _reserved_keywords(flow: Flow) -> list[Finding]:
    keywords = keywords_for(flow)
    findings = []
    routes = [*flow.global_routes]
    for state in flow.states.values():
        routes.extend(state.choices)
    for route in routes:
        for word in route.keywords:
            if keywords.is_reserved(word):
                findings.append(
                    Finding(
                        route.pos,
                        "error",
                        f"keyword '{word}' is reserved for opt-out, opt-in and HELP handling, which runs before "
                        "any flow and can never be removed; choose another word",
                    )
                )
    return findings


def _compliance_texts(flow: Flow) -> list[Finding]:
    texts = texts_for(flow)
    positions = flow.settings.positions
    findings = []
    if "STOP" not in texts.help.upper():
        findings.append(
            Finding(positions.get("help", flow.pos), "error", "the 'help' text must say how to opt out, "
                    "e.g. 'Reply STOP to opt out'")
        )
    if "START" not in texts.opt_out_reply.upper() and "UNSTOP" not in texts.opt_out_reply.upper():
        findings.append(
            Finding(positions.get("opt_out_reply", flow.pos), "error", "the 'opt_out_reply' must say how to "
                    "resubscribe, e.g. 'Reply START to resubscribe'")
        )
    return findings


def _media_limits(flow: Flow, pos: Pos, label: str, media: tuple[str, ...]) -> list[Finding]:
    findings: list[Finding] = []
    if len(media) > MAX_MEDIA:
        findings.append(Finding(pos, "error", f"{label} has {len(media)} media; at most {MAX_MEDIA} per message"))
    total = 0
    for item in media:
        content_type = media_type(item)
        if content_type is None:
            shown = mimetypes.guess_type(item.split("?")[0])[0] or "unknown"
            accepted = ", ".join(MEDIA_TYPES)
            findings.append(
                Finding(pos, "error", f"{label}: media '{item}' has content type {shown}, which carriers do not "
                        f"accept; use a file ending in one of {accepted}")
            )
            continue
        if item.startswith("https://"):
            continue  # size unknown without fetching; the carrier checks it
        size = (Path(flow.media_dir) / item).stat().st_size
        total += size
        if content_type not in IMAGE_TYPES and size > MAX_NON_IMAGE_BYTES:
            findings.append(
                Finding(pos, "error", f"{label}: media '{item}' is {size // 1024} KB; non-image media must be at "
                        f"most {MAX_NON_IMAGE_BYTES // 1024} KB (carriers do not resize them)")
            )
    if total > MAX_TOTAL_BYTES:
        findings.append(
            Finding(pos, "error", f"{label}: media add up to {total // 1024} KB; at most "
                    f"{MAX_TOTAL_BYTES // 1024} KB per message")
        )
    return findings
