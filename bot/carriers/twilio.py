"""Twilio Programmable Messaging: inbound form → ``InboundMessage``; replies → TwiML.

Twilio field names (``MessageSid``, ``From``, ``NumMedia``, ...) stop here.
Wire format and limits: shared/reference/carriers.md §1.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from bot.carriers.base import (
    DeliveryReceipt,
    FormError,
    HttpRequest,
    SendResult,
    WebhookError,
    WebhookReply,
    WebhookRequest,
    decode_form,
)
from bot.carriers.fields import env_url, has_surrogate, xml_text
from bot.carriers.sending import retryable_status
from bot.carriers.twilio_signature import verify_signature
from bot.replies import media_url
from bot.types import InboundMedia, InboundMessage, Reply

__all__ = [
    "CHANNEL",
    "MAX_BODY",
    "MAX_MEDIA",
    "TwilioCarrier",
    "parse_form",
    "parse_inbound",
    "render_twiml",
    "verify",
]

CHANNEL = "twilio"
MAX_BODY = 1600  # Twilio's own limit for Body (§1.1)
MAX_MEDIA = 10  # Twilio's limit of media per message (§1.6)
_SID = re.compile(r"^[A-Za-z]{2}[0-9A-Za-z]{10,62}$")
_ADDRESS = re.compile(r"^[A-Za-z:+0-9.@_-]{1,64}$")


MAX_FIELDS = 200  # bounds the work an attacker can make us do per request
STATUS_MAX, ERROR_MAX = 32, 16  # a receipt's status word and error code, as the other adapters keep them


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    """Decode an ``application/x-www-form-urlencoded`` body into ordered pairs.

    Exactly ``parse_qsl(text, keep_blank_values=True, max_num_fields=200,
    errors="strict")`` (a property test holds them equal), refused with Twilio's
    400s. A webhook's own body is read through ``WebhookRequest.form`` instead,
    which parses it once for ``verify`` and ``parse``.
    """
    try:
        return list(decode_form(raw, MAX_FIELDS))
    except FormError as exc:
        raise _refusal(exc) from exc


def _refusal(exc: FormError, where: str = "the form body") -> WebhookError:
    """Twilio's 400 for a form that is not one; ``where`` is "the query string" for a GET's."""
    if exc.undecodable_at is not None:
        return WebhookError(400, "invalid_encoding", f"{where} is not valid UTF-8 (byte {exc.undecodable_at})")
    return WebhookError(400, "invalid_form", f"{where} could not be parsed: {exc}")


def verify(auth_token: str, url: str, pairs: Sequence[tuple[str, str]], signature: str) -> None:
    """Raise 403 unless ``X-Twilio-Signature`` matches (constant-time, all port variants)."""
    if not signature:
        raise WebhookError(403, "missing_signature", "X-Twilio-Signature header is missing")
    if not verify_signature(auth_token, url, pairs, signature):
        raise WebhookError(403, "bad_signature", "X-Twilio-Signature does not match this request")


def parse_inbound(pairs: Sequence[tuple[str, str]]) -> InboundMessage:
    """Validate Twilio's inbound parameters into a carrier-neutral message."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields and fields[name] != value:
            raise WebhookError(400, "duplicate_field", f"parameter {name} is given twice with different values")
        fields[name] = value
    for name in ("MessageSid", "From", "To"):
        if not fields.get(name):
            raise WebhookError(400, "missing_field", f"required parameter {name} is missing or empty")
    sid = fields["MessageSid"]
    if not _SID.match(sid):
        raise WebhookError(400, "invalid_field", "MessageSid should look like SM followed by 32 letters/digits")
    for name in ("From", "To"):
        if not _ADDRESS.match(fields[name]):
            hint = " (a '+' must be sent as %2B in a form body)" if fields[name].startswith(" ") else ""
            raise WebhookError(400, "invalid_field", f"{name} should be a phone number like +15555550100{hint}")
    body = fields.get("Body", "")
    if len(body) > MAX_BODY:
        raise WebhookError(400, "body_too_long", f"Body has {len(body)} characters; Twilio sends at most {MAX_BODY}")
    if "\x00" in body:
        raise WebhookError(400, "invalid_field", "Body contains a NUL character")
    media = _media(fields)
    # The webhook's own readers refuse undecodable bytes before this; parsing
    # holds to it whatever handed it the pairs: a lone surrogate cannot be stored.
    if has_surrogate(body) or any(has_surrogate(m.url + m.content_type) for m in media):
        raise WebhookError(400, "invalid_encoding", "Body or a media field is not valid UTF-8")
    opt_out = fields.get("OptOutType", "").strip().upper()
    if opt_out not in ("", "STOP", "START", "HELP"):
        raise WebhookError(400, "invalid_field", "OptOutType should be STOP, START or HELP")
    return InboundMessage(
        channel=CHANNEL,
        provider_id=sid,
        customer=fields["From"],
        business=fields["To"],
        text=body,
        media=media,
        carrier_opt_out=opt_out,
    )


def _media(fields: dict[str, str]) -> tuple[InboundMedia, ...]:
    raw = fields.get("NumMedia", "0").strip() or "0"
    # ASCII digits only: str.isdigit() also accepts "²" and other scripts' digits,
    # which int() then rejects or misreads.
    if not re.fullmatch(r"[0-9]{1,2}", raw) or int(raw) > MAX_MEDIA:
        raise WebhookError(400, "invalid_field", f"NumMedia should be a whole number from 0 to {MAX_MEDIA}")
    items: list[InboundMedia] = []
    for index in range(int(raw)):
        url = fields.get(f"MediaUrl{index}", "")
        if not url.startswith(("https://", "http://")):
            raise WebhookError(400, "invalid_field", f"MediaUrl{index} should be an http(s) URL")
        items.append(InboundMedia(url, fields.get(f"MediaContentType{index}", "")))
    return tuple(items)



def render_twiml(replies: Sequence[Reply], media_base: str) -> str:
    """TwiML with one ``<Message>`` per reply; no replies is ``<Response/>``.

    ``media_base`` is the public URL of the media folder (``.../media``):
    local media names become absolute URLs, since Twilio fetches them itself.
    """
    parts = ['<?xml version="1.0" encoding="UTF-8"?>']
    if not replies:
        parts.append("<Response/>")
        return "".join(parts)
    parts.append("<Response>")
    for reply in replies:
        parts.append("<Message>")
        if reply.text:
            parts.append(f"<Body>{xml_text(reply.text)}</Body>")
        for item in reply.media:
            parts.append(f"<Media>{escape(media_url(item, media_base))}</Media>")
        parts.append("</Message>")
    parts.append("</Response>")
    return "".join(parts)


# -- the Carrier seam ------------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
DEFAULT_API = "https://api.twilio.com"
# Twilio REST error meaning "the recipient has opted out (STOP)" (§11.2).
OPTED_OUT_ERRORS = frozenset({"21610"})


class TwilioCarrier:
    """Twilio on the carrier seam: TwiML replies by default, REST when ``sync_replies`` is off."""

    name = CHANNEL
    # Twilio reports a send only to its StatusCallback (§1.5); an inbound form
    # that lacks SmsStatus is still a message, never a malformed receipt.
    receipts_at_inbound = False
    carries_media = True

    def __init__(
        self,
        auth_token: str,
        account_sid: str = "",
        api_base: str = DEFAULT_API,
        sync_replies: bool = True,
        status_url: str = "",
    ) -> None:
        self.auth_token = auth_token
        # Twilio reports a REST send's progress only to a per-message
        # StatusCallback (or a Messaging Service's URL): without it, no receipts.
        self.status_url = status_url
        self.account_sid = account_sid
        self.api_base = api_base.rstrip("/")
        self.sync_replies = sync_replies

    @classmethod
    def from_env(cls, env: Mapping[str, str], insecure_dev: bool = False) -> TwilioCarrier | None:
        token = env.get("TWILIO_AUTH_TOKEN", "").strip()
        if not token and not insecure_dev:
            return None
        # Checked like Plivo's settings: a typo must not quietly pick a reply path.
        mode = env.get("TEXTDESK_TWILIO_REPLIES", "").strip().lower() or "twiml"
        if mode not in ("twiml", "rest"):
            raise ValueError(f"TEXTDESK_TWILIO_REPLIES should be twiml or rest, got '{mode}'")
        account_sid = env.get("TWILIO_ACCOUNT_SID", "").strip()
        if mode == "rest" and not account_sid:
            raise ValueError("TEXTDESK_TWILIO_REPLIES=rest sends through Twilio's REST API: set TWILIO_ACCOUNT_SID too")
        base = env_url(env, "TWILIO_API_BASE_URL", DEFAULT_API)
        status_url = env_url(env, "TWILIO_STATUS_URL")
        return cls(token, account_sid, base, sync_replies=mode == "twiml", status_url=status_url)

    def _pairs(self, request: WebhookRequest) -> Sequence[tuple[str, str]]:
        if request.method == "GET":
            # A GET webhook's form is its URL query (parsed once per request, as a
            # POST's body is); a GET has no body, so the refusal names the query.
            try:
                pairs = request.query_form(MAX_FIELDS)
            except FormError as exc:
                raise _refusal(exc, "the query string") from exc
            except ValueError as exc:  # a URL urlsplit refuses
                raise WebhookError(400, "invalid_form", f"the query string could not be parsed: {exc}") from exc
            # Raw bytes in a URL that are not UTF-8 reach us as lone surrogates
            # (a POST body is decoded strictly instead): neither signable nor storable.
            if any(has_surrogate(name + value) for name, value in pairs):
                raise WebhookError(400, "invalid_encoding", "the query string is not valid UTF-8")
            return pairs
        if request.content_type != FORM:
            got = request.content_type
            raise WebhookError(415, "unsupported_media_type", f"expected Content-Type {FORM}, got '{got}'")
        try:
            return request.form(MAX_FIELDS)  # parsed once for verify() and parse() both
        except FormError as exc:
            raise _refusal(exc) from exc

    def verify(self, request: WebhookRequest) -> None:
        if not self.auth_token:
            return  # only reachable in --insecure-dev, which warns on every start
        # For GET the parameters are already in the signed URL: nothing is appended.
        pairs = [] if request.method == "GET" else self._pairs(request)
        verify(self.auth_token, request.url, pairs, request.headers.get("X-Twilio-Signature", ""))

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        return [parse_inbound(self._pairs(request))]

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        fields = dict(self._pairs(request))
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
        if not _SID.match(sid) or not status:
            raise WebhookError(400, "missing_field", "a status callback needs MessageSid and MessageStatus")
        if status in ("received", "receiving"):
            return []  # an inbound message's own status, not a report on one of our sends
        error = fields.get("ErrorCode", "").strip()
        # Stored as given, so bounded as every adapter bounds them: Twilio's words
        # and codes are short (§1.5), a form field may be 64 KiB.
        customer, business = (fields.get(name, "") for name in ("To", "From"))
        return [
            DeliveryReceipt(CHANNEL, sid, status[:STATUS_MAX], error[:ERROR_MAX], error in OPTED_OUT_ERRORS,
                            customer if _ADDRESS.match(customer) else "", business if _ADDRESS.match(business) else "")
        ]

    def render(
        self, replies: Sequence[Reply], media_base: str, *, customer: str = "", business: str = ""
    ) -> WebhookReply:
        shown = replies if self.sync_replies else ()
        return WebhookReply(200, "text/xml", render_twiml(shown, media_base))

    def outbound_request(
        self, to: str, sender: str, reply: Reply, media_base: str, idempotency_key: str
    ) -> HttpRequest:
        fields: list[tuple[str, str]] = [("To", to), ("From", sender), ("Body", reply.text)]
        fields += [("MediaUrl", media_url(item, media_base)) for item in reply.media]
        if self.status_url:
            fields.append(("StatusCallback", self.status_url))
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode("ascii")
        return HttpRequest(
            "POST",
            f"{self.api_base}/2010-04-01/Accounts/{quote(self.account_sid)}/Messages.json",
            {
                "Authorization": f"Basic {credentials}",
                "Content-Type": FORM,
                # Twilio documents no idempotency key for Messages; sent for tracing.
                "I-Twilio-Idempotency-Token": idempotency_key,
            },
            urlencode(fields).encode("utf-8"),
        )

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        try:
            data = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        if 200 <= status < 300:
            # Accepted even without a readable sid: marking it failed would be
            # false, and retrying a 2xx would send the text twice.
            sid = data.get("sid")
            return SendResult(True, sid if isinstance(sid, str) else "", status)
        code = str(data.get("code", ""))
        message = str(data.get("message", "")) or f"HTTP {status}"
        retry = retryable_status(status)  # the one rule every carrier follows (408 included)
        return SendResult(False, "", status, f"{code} {message}".strip(), retry, code in OPTED_OUT_ERRORS)

