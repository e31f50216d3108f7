"""Audiences: ``/api/audiences/{audience}/subscribers`` (list, add, remove).

Customers join an audience by texting a flow keyword (a route with
``subscribe: <audience>``); the API adds numbers whose consent the business
collected elsewhere, and must say where in ``source`` (a web form, a paper
sign-up), because that is the proof of consent the ledger keeps. Every change
is a consent-ledger event with its time and source. An opted-out number is
never added: only the customer can opt back in, by texting START.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web

from bot.api import context
from bot.api.client import SUBSCRIBERS_PER_REQUEST
from bot.api.errors import ApiError
from bot.api.inputs import check_name, read_body, read_query
from bot.api.senders import resolve_sender
from bot.store.api_base import OPTED_OUT, REMOVED

__all__ = ["add_subscribers", "audience_of", "iso", "list_subscribers", "remove_subscriber"]

_LIMIT = re.compile(r"[0-9]{1,4}")
_STATUS = {"subscribed": "subscribed", "already": "already_subscribed", "opted_out": "opted_out"}


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def audience_of(request: web.Request) -> str:
    audience = request.match_info["audience"]
    check_name(audience, "audience")
    return audience


async def list_subscribers(request: web.Request) -> web.Response:
    audience = audience_of(request)
    query = read_query(request, ("from", "flow", "region", "limit", "after"))
    raw_limit = query.data.pop("limit", "100")
    after = query.data.pop("after", "")
    if after:  # a number (the 'next' of the page before): anything else would restart at page one
        after = query.parse_number(after, "after")
    sender = resolve_sender(query, context.service(request).flows, context.carriers(request), sends=False)
    query.done()
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses, and int() of
    # thousands of digits raises rather than comparing.
    if not _LIMIT.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= 1000:
        raise ApiError("invalid_field", "'limit' should be a whole number from 1 to 1000", field="limit")
    limit = int(raw_limit)
    found = await context.service(request).store.subscribers(audience, sender.business, limit + 1, after)
    page = found[:limit]
    return web.json_response({
        "audience": audience,
        "from": sender.business,
        "subscribers": [{"number": s.customer, "subscribed_at": iso(s.subscribed_at), "source": s.source}
                        for s in page],
        "next": page[-1].customer if len(found) > limit else None,
    })


async def add_subscribers(request: web.Request) -> web.Response:
    audience = audience_of(request)
    read_query(request).done()
    body = await read_body(request)
    numbers = await body.numbers("numbers", most=SUBSCRIBERS_PER_REQUEST)
    source = body.text("source", max_length=200).strip()
    if not source:  # what the ledger keeps as proof of consent: blank says nothing
        raise ApiError("missing_field", "'source' should say where these customers consented (e.g. 'web form "
                       "/deals'), not be blank", field="source")
    service = context.service(request)
    sender = resolve_sender(body, service.flows, context.carriers(request), sends=False)
    body.done()
    # Written a chunk of numbers per transaction (bot.store.audiences), each with its ledger event.
    outcomes = await context.service(request).store.subscribe_many(audience, numbers, sender.business,
                                                               f"api: {source}", service.clock.now())
    results = [{"number": number, "status": _STATUS[outcome]} for number, outcome in zip(numbers, outcomes,
                                                                                          strict=True)]
    counts = {status: sum(1 for r in results if r["status"] == status) for status in _STATUS.values()}
    return web.json_response({"audience": audience, "from": sender.business, "results": results, **counts})


async def remove_subscriber(request: web.Request) -> web.Response:
    audience = audience_of(request)
    query = read_query(request, ("from", "flow", "region"))
    number = query.parse_number(request.match_info["number"], "number")
    service = context.service(request)
    sender = resolve_sender(query, service.flows, context.carriers(request), sends=False)
    query.done()
    # A subscriber is a subscription newer than the number's last STOP (what GET lists and
    # broadcasts reach). A STOP leaves the old row in place but ends it: removing that
    # answered "removed" for someone who was no longer a subscriber.
    outcome = await service.store.unsubscribe(audience, number, sender.business, "api", service.clock.now())
    missing = f"{number} is not subscribed to '{audience}' on {sender.business}"
    if outcome == OPTED_OUT:
        raise ApiError("not_found", f"{missing}: it opted out (texted STOP), which ended its subscriptions; "
                       "nothing was removed", opted_out=True)
    if outcome != REMOVED:
        raise ApiError("not_found", missing)
    return web.json_response({"audience": audience, "from": sender.business, "number": number, "removed": True})
