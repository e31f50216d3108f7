"""``/webhooks/<carrier>`` and ``/webhooks/<carrier>/status``, for every carrier.

The request is captured whole (raw bytes, headers, the public URL) before any
parsing, because signatures cover exactly what was sent. Then: verify (403 and
nothing recorded on failure), parse (400 with a clear reason), handle each
message, and answer — with the replies for carriers that take them in the
response (TwiML, Plivo XML), or with a quick acknowledgement while the replies
wait in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.carriers.base import Carrier, DeliveryReceipt, WebhookError, WebhookReply, WebhookRequest
from bot.carriers.registry import Carriers
from bot.store import ConsentChange
from bot.types import Reply
from bot.web.hosts import valid_host
from bot.web.keys import CARRIERS, CONFIG, SERVICE

__all__ = ["capture", "inbound_webhook", "public_base", "status_webhook"]


def public_base(request: web.Request) -> str:
    """The base URL the carrier used: configured, or else what the request says."""
    config = request.app[CONFIG]
    if config.public_url:
        return config.public_url
    if not valid_host(request.host):
        raise WebhookError(400, "bad_host", "the Host header is not a valid host[:port]")
    try:
        url = request.url
        shown = f":{url.port}" if url.port and not url.is_default_port() else ""
        # host_subcomponent keeps an IPv6 literal's brackets (raw_host drops them).
        return f"{url.scheme}://{url.host_subcomponent}{shown}"
    except ValueError as exc:  # yarl refuses what the pattern lets by, as "h:99999" or "[1:2]"
        raise WebhookError(400, "bad_host", "the Host header is not a valid host[:port]") from exc


async def capture(request: web.Request) -> WebhookRequest:
    try:
        body = await request.read()
    except web.RequestPayloadError as exc:
        # aiohttp inflates a gzip or deflate body as it reads: one that does not
        # inflate (or a broken chunked encoding) is the client's error, not ours.
        raise WebhookError(400, "unreadable_body", "the body could not be read as its Content-Encoding says") from exc
    except ConnectionResetError as exc:
        # The client hung up mid-body: nobody reads this answer, but the log line
        # says what happened instead of a traceback for an "unexpected error".
        raise WebhookError(400, "client_gone", "the connection closed before the whole body arrived") from exc
    return WebhookRequest(
        method=request.method,
        url=public_base(request) + request.raw_path,
        headers=request.headers,
        body=body,
        content_type=request.content_type,
        now=request.app[SERVICE].clock.now(),
    )


def _carrier(request: web.Request) -> Carrier:
    name = request.match_info["carrier"]
    mounted: Carriers = request.app[CARRIERS]
    carrier = mounted.get(name)
    if carrier is None:
        known = ", ".join(sorted(mounted.keys())) or "none"
        raise WebhookError(404, "unknown_carrier", f"no carrier '{name}' is configured here (configured: {known})")
    return carrier


def _response(reply: WebhookReply) -> web.Response:
    return web.Response(status=reply.status, text=reply.body, content_type=reply.content_type, charset="utf-8")


async def inbound_webhook(request: web.Request) -> web.Response:
    carrier = _carrier(request)
    captured = await capture(request)
    carrier.verify(captured)
    messages = carrier.parse(captured)
    # Telnyx, Bandwidth and Sinch post inbound messages and delivery events to
    # the same URL by default (Bandwidth in one batch): the receipts are read
    # before any message is handled, so a malformed event refuses the request
    # whole instead of answering 400 for messages already taken.
    receipts = carrier.parse_receipts(captured) if carrier.receipts_at_inbound else ()
    media_base = public_base(request) + "/media"
    service = request.app[SERVICE]
    replies: list[Reply] = []
    for message in messages:
        handled = await service.handle(message, media_base, queue=not carrier.sync_replies)
        replies.extend(handled.replies)
    await _record_receipts(request, receipts, captured)
    numbers = {"customer": messages[-1].customer, "business": messages[-1].business} if messages else {}
    return _response(carrier.render(replies, media_base, **numbers))


async def status_webhook(request: web.Request) -> web.Response:
    carrier = _carrier(request)
    captured = await capture(request)
    carrier.verify(captured)
    await _record_receipts(request, carrier.parse_receipts(captured), captured)
    return _response(carrier.render((), public_base(request) + "/media"))


async def _record_receipts(request: web.Request, receipts: Sequence[DeliveryReceipt], captured: WebhookRequest) -> None:
    store = request.app[SERVICE].store
    for receipt in receipts:
        outcome = await store.record_receipt(
            receipt.channel, receipt.provider_id, receipt.status, receipt.error_code, captured.now
        )
        if receipt.opted_out:
            # The carrier says the recipient opted out (e.g. Twilio 21610):
            # honour it at once, for every path that could send.
            customer = outcome.customer if outcome else receipt.customer
            business = outcome.business if outcome else receipt.business
            if customer and business:
                change = ConsentChange("opt_out", f"carrier receipt error {receipt.error_code}")
                await store.record_consent(customer, business, change, captured.now)
