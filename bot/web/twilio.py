"""``POST /webhooks/twilio``: verify, parse, handle, answer with TwiML."""

from __future__ import annotations

from aiohttp import web

from bot.carriers import twilio
from bot.carriers.base import WebhookError
from bot.web.keys import CONFIG, SERVICE

__all__ = ["public_base", "twilio_webhook"]

FORM = "application/x-www-form-urlencoded"


def public_base(request: web.Request) -> str:
    """The base URL the carrier used: configured, or else what the request says."""
    config = request.app[CONFIG]
    if config.public_url:
        return config.public_url
    return f"{request.url.scheme}://{request.url.raw_host}" + (
        f":{request.url.port}" if request.url.port and not request.url.is_default_port() else ""
    )


async def twilio_webhook(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    if request.content_type != FORM:
        raise WebhookError(415, "unsupported_media_type", f"expected Content-Type {FORM}, got '{request.content_type}'")
    raw = await request.read()
    pairs = twilio.parse_form(raw)
    base = public_base(request)
    if config.twilio_auth_token:
        url = base + request.raw_path
        twilio.verify(config.twilio_auth_token, url, pairs, request.headers.get("X-Twilio-Signature", ""))
    message = twilio.parse_inbound(pairs)
    media_base = base + "/media"
    handled = await request.app[SERVICE].handle(message, media_base)
    body = twilio.render_twiml(handled.replies, media_base)
    return web.Response(text=body, content_type="text/xml", charset="utf-8")
