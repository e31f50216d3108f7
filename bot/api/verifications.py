"""``POST /api/verifications`` (text a code) and ``POST /api/verifications/check``.

See bot.api.verify for the rules (hashing, attempts, limits). Outcomes of a
check: 200 ``approved``; 422 ``wrong_code`` with ``attempts_left``; 429
``too_many_attempts`` once they are used up; 410 ``verification_expired``;
404 ``verification_not_found`` when no code is open (never sent, already
approved, or replaced by a newer one).
"""

from __future__ import annotations

import math
import re
import secrets

from aiohttp import web

from bot.api import context
from bot.api.errors import ApiError
from bot.api.inputs import read_body, read_query
from bot.api.keys import VERIFIER
from bot.api.ratelimit import WindowLimit
from bot.api.senders import resolve_sender
from bot.api.subscribers import iso
from bot.api.verify import HOUR, code_message
from bot.store.api_store import Verification
from bot.types import Reply

__all__ = ["check_verification", "post_verification"]

_CODE = re.compile(r"[0-9]{4,10}")


def _limit(limit: WindowLimit, request: web.Request, now: float) -> None:
    wait = limit.check(context.client_ip(request), now)
    if wait:
        _refuse(wait, "too many verification requests from this client")


def _check_unexpired(record: Verification, now: float) -> None:
    if now >= record.expires_at:
        raise ApiError("verification_expired", f"the code expired at {iso(record.expires_at)}; request a new one")


def _refuse(wait: float, message: str) -> None:
    seconds = max(1, math.ceil(wait))
    raise ApiError("rate_limited", f"{message}; retry in {seconds} s", headers={"Retry-After": str(seconds)},
                   retry_after=seconds)


async def post_verification(request: web.Request) -> web.Response:
    verifier = request.config_dict[VERIFIER]
    service = context.service(request)
    _limit(verifier.per_ip, request, service.clock.now())
    read_query(request).done()
    body = await read_body(request)
    customer = body.number("to")
    sender = resolve_sender(body, service.flows, context.carriers(request))
    length = body.integer("length", 4, 10, 6)
    expires_in = body.integer("expires_in", 60, 3600, 600)
    body.done()
    now = service.clock.now()
    store = service.store
    if await store.verifications_since(customer, sender.business, now - HOUR) >= verifier.per_number:
        _refuse(HOUR, f"{verifier.per_number} codes were sent to {customer} within the hour")
    latest = await store.latest_verification(customer, sender.business)
    if latest is not None and now - latest.created_at < verifier.cooldown:
        _refuse(latest.created_at + verifier.cooldown - now, f"a code was sent to {customer} moments ago")
    code = verifier.new_code(length)
    salt = secrets.token_bytes(16)
    record = Verification(
        id=f"vf_{secrets.token_hex(8)}",
        channel=sender.channel,
        customer=customer,
        business=sender.business,
        code_hash=await verifier.digest(code, salt),
        salt=salt,
        created_at=now,
        expires_at=now + expires_in,
        max_attempts=verifier.max_attempts,
    )
    text = code_message(sender.flow.settings.brand or sender.flow.name, code, expires_in)
    if await store.create_verification(record, Reply(text), now) == "opted_out":
        raise ApiError("opted_out", f"{customer} has opted out of messages from {sender.business}", field="to")
    return web.json_response(
        {"id": record.id, "status": "pending", "to": customer, "from": sender.business, "channel": sender.channel,
         "length": length, "expires_at": iso(record.expires_at), "max_attempts": record.max_attempts},
        status=201,
    )


async def check_verification(request: web.Request) -> web.Response:
    verifier = request.config_dict[VERIFIER]
    service = context.service(request)
    _limit(verifier.checks_per_ip, request, service.clock.now())
    read_query(request).done()
    body = await read_body(request)
    customer = body.number("to")
    code = body.text("code", max_length=20).strip()
    sender = resolve_sender(body, service.flows, context.carriers(request), sends=False)
    body.done()
    if not _CODE.fullmatch(code):
        raise ApiError("invalid_field", "'code' should be the 4 to 10 digits that were texted", field="code")
    record = await service.store.latest_verification(customer, sender.business)
    if record is None or record.status in ("approved", "canceled"):
        raise ApiError("verification_not_found", f"no open verification for {customer}; request a code first")
    if record.status == "failed":
        raise ApiError("too_many_attempts", "this code was tried too often; request a new one", attempts_left=0)
    _check_unexpired(record, service.clock.now())  # no hash spent on an expired code
    right = await verifier.matches(code, record.salt, record.code_hash)
    # The hash takes tens of milliseconds (more on a busy machine): the code is
    # judged at the clock's time once it is known to be right, not before.
    _check_unexpired(record, service.clock.now())
    if not await service.store.record_attempt(record.id, right, service.clock.now):
        # It expired while the write waited for the lock, or another check of
        # the same code finished first (or used the last attempt).
        _check_unexpired(record, service.clock.now())
        raise ApiError("too_many_attempts", "this code is no longer open; request a new one", attempts_left=0)
    if right:
        return web.json_response({"id": record.id, "status": "approved", "to": customer, "from": sender.business})
    left = record.max_attempts - record.attempts - 1
    if left <= 0:
        raise ApiError("too_many_attempts", "wrong code, and no attempts are left; request a new one",
                       attempts_left=0)
    raise ApiError("wrong_code", f"wrong code; {left} attempt{'s' if left != 1 else ''} left", attempts_left=left)
