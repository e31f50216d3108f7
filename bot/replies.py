"""Getting replies ready to send: smart encoding, splitting, MMS fallback.

Runs after the engine (and the compliance layer), before the carrier renders.
- Media that the conversation cannot receive as MMS (``mms`` False: the channel
  or the customer's country has no MMS) become links appended to the text.
- Smart encoding replaces look-alike characters only when that makes the whole
  message GSM-7 (bot.sms.smart), so a curly quote never triples the price: the
  whole text when it can, else each message of a split reply on its own.
- SMS text is split on paragraph, sentence or word boundaries into messages of
  at most ``max_segments`` segments each, in order; MMS text is kept whole up to
  the 1,600-character body limit, the media going with it, and any rest follows
  as SMS within ``max_segments``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from bot.flows.model import Settings
from bot.sms import encoded_twin, is_gsm7, smart_encode, split_reply, strip_clusters
from bot.types import Reply

__all__ = ["MAX_BODY", "media_file", "media_url", "prepare"]

MAX_BODY = 1600  # the longest body any carrier accepts in one message


def media_url(item: str, media_base: str) -> str:
    """An absolute URL for a media reference (a file in the media folder or a URL)."""
    if item.startswith(("https://", "http://")):
        return item
    return f"{media_base.rstrip('/')}/{quote(item)}"


def media_file(root: Path, name: str) -> Path | None:
    """The file ``name`` in the media folder ``root`` (resolved), or ``None``.

    ``None`` also for a path that leaves the folder (``..``, a symlink out) and
    for a name the file system refuses: a NUL byte or a name too long
    (``OSError``, ``ValueError``) or a symlink loop (``RuntimeError`` from
    ``resolve`` before Python 3.13). Whoever asked gets "no such media file".
    """
    try:
        target = (root / name).resolve()
        return target if target.is_relative_to(root) and target.is_file() else None
    except (OSError, RuntimeError, ValueError):
        return None


def prepare(replies: Sequence[Reply], settings: Settings, mms: bool, media_base: str) -> tuple[Reply, ...]:
    out: list[Reply] = []
    for reply in replies:
        out.extend(
            _prepare_one(reply.text, reply.media, settings.max_segments, settings.smart_encoding, mms, media_base)
        )
    return tuple(out)


# Flow replies repeat (the menu, the FAQ answers): preparing one costs more than
# the rest of a turn, so results are memoised. Pure function of its arguments.
@functools.lru_cache(maxsize=4096)
def _prepare_one(
    text: str, media: tuple[str, ...], max_segments: int, smart: bool, mms: bool, media_base: str
) -> tuple[Reply, ...]:
    links = [media_url(item, media_base) for item in media] if media and not mms else []
    # Links are addresses, not prose: a look-alike swapped inside one ("–" for "-") leads
    # elsewhere. A GSM-7 link has nothing the map replaces (no map key is GSM-7), so with
    # such links the text is encoded as a whole, else message by message (split_reply's
    # ``smart``). A link that is not GSM-7 is never touched: only the messages of prose
    # before it are encoded, each on its own.
    links_safe = all(is_gsm7(link) for link in links)
    if smart and links_safe:
        text = smart_encode(text)
    # Trimmed as split_reply trims (a space carrying a combining mark stays: the mark's base).
    prose = len(strip_clusters(text))  # the text's end in the stripped body; the links come after
    if links:
        text = "\n".join([text, *links] if text else links)
        media = ()
    if not media:
        parts = split_reply(text, max_segments, MAX_BODY, smart=smart and links_safe)
        if smart and not links_safe:
            parts = _encode_each(strip_clusters(text), parts, prose, max_segments)
        return tuple(Reply(part) for part in parts)
    # An MMS body is not cut into segments, so the message with the media takes up to the
    # body limit (MAX_BODY as the segment budget never binds first). What does not fit goes
    # on without media, that is as SMS, so it keeps to max_segments like any other SMS.
    body = strip_clusters(text)
    if len(body) <= MAX_BODY:
        return (Reply(body, media),)  # nearly every MMS: splitting would only hand ``body`` back
    first = (split_reply(body, MAX_BODY, MAX_BODY) or [""])[0]
    tail = strip_clusters(body[len(first) :])  # first is a prefix of body
    rest = split_reply(tail, max_segments, MAX_BODY, smart=smart)
    return (Reply(first, media), *(Reply(part) for part in rest))


def _encode_each(body: str, parts: list[str], prose: int, max_segments: int) -> list[str]:
    """Smart-encode each message of prose of a split reply on its own (a link is not GSM-7).

    Smart encoding applies when the whole *message* then fits GSM-7, and each part is a
    message of its own: an emoji in the last one must not keep a curly quote in every
    earlier one in UCS-2. ``parts`` are the stripped slices of ``body`` in order (what
    :func:`split_reply` returns); only those ending within ``body[:prose]`` are prose, a
    part holding (a piece of) a media link is left exactly as it is. A part is replaced only
    when its encoded twin is GSM-7, not blank and still within the budgets: the map can
    lengthen a text ("…" is "...").
    """
    out: list[str] = []
    cursor = 0
    for part in parts:
        start = body.index(part, cursor)
        cursor = start + len(part)
        if cursor <= prose:
            part = encoded_twin(part, max_segments, MAX_BODY) or part
        out.append(part)
    return out
