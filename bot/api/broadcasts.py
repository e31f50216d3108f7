"""``POST /api/broadcasts`` and ``GET /api/broadcasts/{id}``.

A broadcast is one message (text and optional media) or one flow start, to a
list of numbers or to an audience's subscribers at the time of the request.
The request only records it (202 Accepted); the feeder (bot.api.feeder) and
the outbox send it, paced per sender number, and resume after a restart.

Consent: a list of numbers reaches only those with a recorded opt-in (a
subscription to any of the business number's audiences) and no opt-out since;
an audience broadcast only current subscribers. START after a STOP lifts the
block but is no opt-in (bot.store.api_base). Everyone else is counted as skipped, never texted.
Marketing texts must tell how to stop them, so a message broadcast without the
word STOP gets "Reply STOP to opt out." appended.

An ``Idempotency-Key`` header makes a retried request return the broadcast the
first one created instead of sending twice.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict

from aiohttp import web

from bot.api import context
from bot.api.errors import ApiError
from bot.api.feeder import waiting_reason
from bot.api.inputs import Body, read_body, read_query
from bot.api.outreach import check_variables
from bot.api.senders import resolve_sender
from bot.api.subscribers import iso
from bot.config import Config
from bot.replies import media_file
from bot.store.api_store import Broadcast, BroadcastProgress

__all__ = ["get_broadcast", "post_broadcast"]

OPT_OUT_FOOTER = "Reply STOP to opt out."
_MENTIONS_STOP = re.compile(r"\bSTOP\b", re.IGNORECASE)
_BROADCAST_ID = re.compile(r"bc_[0-9a-f]{16}")
# Other header bytes reach us as lone surrogates (aiohttp decodes them as UTF-8 with
# surrogateescape), which SQLite cannot store.
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{0,200}")


async def post_broadcast(request: web.Request) -> web.Response:
    read_query(request).done()
    body = await read_body(request)
    service = context.service(request)
    sender = resolve_sender(body, service.flows, context.carriers(request))
    numbers = await body.numbers("numbers", required=False)
    audience = body.name("audience", required=False)
    if bool(numbers) == bool(audience):
        code = "invalid_field" if numbers else "missing_field"
        raise ApiError(code, "give either 'numbers' (a list) or 'audience' (a name), not both", field="numbers")
    state = body.name("state", required=False)
    text = body.text("text", required=False)
    media = _media(body, context.config(request))
    variables = body.variables()
    key = request.headers.get("Idempotency-Key", "")
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError("invalid_field", "the Idempotency-Key header should be at most 200 visible ASCII "
                       "characters (a UUID, say)", field="Idempotency-Key")
    if state:
        if text or media:
            raise ApiError("invalid_field", "a broadcast sends 'text'/'media' or starts a flow at 'state', not both",
                           field="state")
        if state not in sender.flow.states:
            raise ApiError("unknown_state", f"flow '{sender.flow.name}' has no state '{state}'", field="state")
        check_variables(sender.flow, state, variables)
    elif not text.strip():
        # A blank text would go out as just the opt-out footer.
        raise ApiError("missing_field", "give 'text' (not blank, with optional 'media') or a flow 'state' to start",
                       field="text")
    elif variables:
        raise ApiError("invalid_field", "'variables' go with a flow 'state'", field="variables")
    body.done()
    if audience:
        numbers = await _audience_numbers(request, audience, sender.business)
    if text and not _MENTIONS_STOP.search(text):
        text = f"{text}\n{OPT_OUT_FOOTER}"
    spec = Broadcast(
        id=f"bc_{secrets.token_hex(8)}",
        channel=sender.channel,
        business=sender.business,
        flow=sender.flow.name,
        created_at=service.clock.now(),
        audience=audience,
        text=text,
        media=media,
        state=state,
        variables=variables,
        media_base=context.media_base(request),
        recipients="" if audience else Broadcast.digest(numbers),
    )
    created = await service.store.create_broadcast(spec, numbers, key)
    progress = await _check_retry(request, created, spec, len(numbers)) if created.id != spec.id else None
    payload = await _describe(request, created, progress)
    return web.json_response(payload, status=202 if created.id == spec.id else 200)


async def get_broadcast(request: web.Request) -> web.Response:
    broadcast_id = request.match_info["id"]
    read_query(request).done()
    store = context.service(request).store
    spec = await store.broadcast(broadcast_id) if _BROADCAST_ID.fullmatch(broadcast_id) else None
    if spec is None:
        raise ApiError("not_found", f"no broadcast '{broadcast_id}'")
    return web.json_response(await _describe(request, spec))


async def _describe(
    request: web.Request, spec: Broadcast, progress: BroadcastProgress | None = None
) -> dict[str, object]:
    if progress is None:
        progress = await context.service(request).store.broadcast_progress(spec.id)
    counts = asdict(progress)
    done = progress.pending == 0 and progress.queued == 0
    # Only recipients not yet decided wait; those queued already go out.
    waiting = waiting_reason(spec, context.service(request).flows) if spec.ready and progress.pending else None
    return {
        "id": spec.id,
        # "preparing": its recipients are still being written (or a crash cut that short:
        # retrying the request with its Idempotency-Key finishes it). "waiting": the
        # feeder holds it back, and "waiting" says why (it goes on once that is mended).
        "status": "preparing" if not spec.ready else "done" if done else "waiting" if waiting else "sending",
        "waiting": waiting,
        "created_at": iso(spec.created_at),
        "from": spec.business,
        "channel": spec.channel,
        "flow": spec.flow,
        "audience": spec.audience or None,
        "message": {"text": spec.text, "media": list(spec.media)} if not spec.state else None,
        "start": {"state": spec.state, "variables": spec.variables} if spec.state else None,
        "counts": counts,
    }


async def _check_retry(
    request: web.Request, first: Broadcast, spec: Broadcast, recipients: int
) -> BroadcastProgress | None:
    """A request reusing an Idempotency-Key must be a retry of the first one.

    Otherwise its client would take the first broadcast's 200 for its own message
    being sent. Numbers are compared as a set (a digest the store keeps); an
    audience's are read anew, so only its name is compared. Broadcasts stored
    before the digest was kept are compared by their number of recipients,
    read from their progress, which is returned for the answer.
    """
    differs = first.differences(spec)
    progress = None
    if not differs and not spec.audience and not first.recipients:
        progress = await context.service(request).store.broadcast_progress(first.id)
        if progress.total != recipients:
            differs.append("numbers")
    if differs:
        raise ApiError("idempotency_key_reused", f"the Idempotency-Key was used for broadcast {first.id}, whose "
                       f"'{differs[0]}' differs from this request's; a retry must repeat the request, a new "
                       "broadcast needs a new key", field=differs[0])
    return progress  # read once: the answer describes the broadcast with it


def _media(body: Body, config: Config) -> tuple[str, ...]:
    """Media references as flows take them: an https:// URL or a file in the media folder."""
    items = body.strings("media")
    root = config.media_dir.resolve()
    for item in items:
        if item.startswith("https://"):
            continue
        if media_file(root, item) is None:
            raise ApiError("invalid_field", f"media '{item}' is neither an https:// URL nor a file in the "
                           "media folder", field="media")
    return items


async def _audience_numbers(request: web.Request, audience: str, business: str) -> list[str]:
    """The audience's subscribers now; the feeder checks each again when it sends."""
    store = context.service(request).store
    numbers: list[str] = []
    while page := await store.subscribers(audience, business, 1000, numbers[-1] if numbers else ""):
        numbers.extend(s.customer for s in page)
    if not numbers:
        raise ApiError("empty_audience", f"audience '{audience}' has no subscribers on {business}",
                       field="audience")
    return numbers
