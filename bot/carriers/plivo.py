"""Plivo messaging: signed form webhooks in, Plivo XML replies, REST sends for the outbox.

Wire format, signing and limits: shared/reference/carriers.md §4. Plivo field
names (``MessageUUID``, ``Media0``, ``X-Plivo-Signature-V3``, ...) stop here.
Authenticity (§4.2: the V3, V2 and legacy V1 signatures, and what each covers)
is bot/carriers/plivo_signature.py.

Replies (§4.4): the ``<Message>`` element must name ``src`` and ``dst`` and
its ``type`` allows only ``sms`` (docs.plivo.com/docs/messaging/xml/message),
so a synchronous reply cannot carry MMS media: media become links in the text.
Media go as real MMS only through ``outbound_request`` (REST ``type: mms``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from bot.carriers.base import (
    DeliveryReceipt,
    HttpRequest,
    SendResult,
    WebhookError,
    WebhookReply,
    WebhookRequest,
)
from bot.carriers.fields import MAX_INBOUND_MEDIA, MAX_INBOUND_TEXT, e164, env_url, form_fields, required, xml_text
from bot.carriers.plivo_signature import signature_v1, signature_v2, signature_v3, verify_signatures
from bot.carriers.sending import retryable_status
from bot.replies import media_url
from bot.types import InboundMedia, InboundMessage, Reply

if TYPE_CHECKING:
    from bot.carriers.base import Carrier

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "PlivoCarrier", "signature_v1", "signature_v2", "signature_v3"]

CHANNEL = "plivo"
DEFAULT_API_BASE_URL = "https://api.plivo.com"
MAX_TEXT = MAX_INBOUND_TEXT  # Plivo joins long SMS before forwarding (§4.1); the bound every carrier has
MAX_MEDIA = MAX_INBOUND_MEDIA  # §4.6: at most 10 attachments per MMS
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 100  # bounds the work a request can make us do
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

_UUID = re.compile(r"[A-Za-z0-9-]{1,64}")
_ADDRESS = re.compile(r"\+?[A-Za-z0-9._-]{1,32}")
_WIRE = re.compile(r"[A-Za-z0-9]{1,32}")
# §4.1: the docs number media from 1, a support article from 0; take any index, in order.
_MEDIA_KEY = re.compile(r"Media([0-9]{1,3})")
_INTENTS = {"optout": "STOP", "optin": "START", "help": "HELP"}  # MessageIntent → carrier_opt_out
_STATUSES = {"queued": "queued", "sent": "sent", "delivered": "delivered", "undelivered": "undelivered",
             "failed": "failed", "rejected": "failed", "read": "read"}  # fmt: skip
_CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
                  "mp3": "audio/mpeg", "mp4": "video/mp4", "vcf": "text/vcard", "pdf": "application/pdf"}  # fmt: skip


def _pairs(request: WebhookRequest) -> Sequence[tuple[str, str]]:
    """Plivo's parameters: the query of a GET or the form body of a POST (``message_method``)."""
    method, content_type = request.method.upper(), request.content_type.split(";")[0].strip().lower()
    if method not in ("GET", "POST"):
        raise WebhookError(405, "method_not_allowed", f"expected GET or POST, got {method[:10]}")
    if method == "POST" and content_type != FORM:
        raise WebhookError(415, "unsupported_media_type", f"expected Content-Type {FORM}, got '{content_type[:60]}'")
    try:
        if method == "GET":
            return request.query_form(MAX_FIELDS)
        return request.form(MAX_FIELDS)  # parsed once for verify() and parse() both
    except ValueError as exc:  # FormError, or a URL urlsplit refuses
        raise WebhookError(400, "invalid_form", f"the parameters could not be read: {exc}"[:200]) from exc


def _media(fields: Mapping[str, str]) -> tuple[InboundMedia, ...]:
    found = sorted((int(m.group(1)), value) for key, value in fields.items() if (m := _MEDIA_KEY.fullmatch(key)))
    count = fields.get("MediaCount", "").strip()
    if len(found) > MAX_MEDIA or (count and count != str(len(found))):
        raise WebhookError(400, "invalid_field", f"MediaCount {count[:4]!r} should match the {len(found)} "
                           f"Media<n> fields, at most {MAX_MEDIA}")  # fmt: skip
    items: list[InboundMedia] = []
    for index, url in found:
        if not url.startswith(("https://", "http://")):
            raise WebhookError(400, "invalid_field", f"Media{index} should be an http(s) URL")
        # Plivo sends no content type for MMS media; a known extension gives one, else "".
        extension = url.split("?")[0].rpartition("/")[2].rpartition(".")[2].lower()
        items.append(InboundMedia(url, _CONTENT_TYPES.get(extension, "")))
    return tuple(items)


def _wire(number: str) -> str:
    wire = number.removeprefix("+")  # Plivo writes numbers without "+" (§4.1, §4.4)
    if not _WIRE.fullmatch(wire):  # "<" would even turn dst into a bulk list
        raise ValueError(f"not a phone number or sender id: {number!r}")
    return wire


class PlivoCarrier:
    """The ``Carrier`` for Plivo SMS/MMS: replies in Plivo XML, or over REST.

    ``sync_replies`` (``TEXTDESK_PLIVO_REPLIES=xml``, the default, or ``rest``)
    chooses between answering in the webhook and sending through the outbox, as
    ``TEXTDESK_TWILIO_REPLIES`` does for Twilio. ``status_url`` (``PLIVO_STATUS_URL``,
    optional) is where Plivo posts delivery reports for what we send; without it
    Plivo sends none.
    """

    name = CHANNEL
    receipts_at_inbound = True  # parse() leaves a status callback at the message URL to parse_receipts

    def __init__(self, auth_id: str, auth_token: str, api_base_url: str = DEFAULT_API_BASE_URL,
                 status_url: str = "", sync_replies: bool = True) -> None:  # fmt: skip
        self.auth_id = auth_id
        self.auth_token = auth_token
        self.api_base_url = api_base_url.rstrip("/")
        self.status_url = status_url
        self.sync_replies = sync_replies

    @property
    def carries_media(self) -> bool:
        # Plivo XML cannot attach media (links in the text); its REST API sends MMS.
        return not self.sync_replies

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PlivoCarrier | None:
        """None without ``PLIVO_AUTH_TOKEN``; ``ValueError`` if it is set but ``PLIVO_AUTH_ID`` is not."""
        token = env.get("PLIVO_AUTH_TOKEN", "").strip()
        if not token:
            return None
        auth_id = env.get("PLIVO_AUTH_ID", "").strip()
        if not re.fullmatch(r"[A-Za-z0-9]{1,64}", auth_id):
            raise ValueError("PLIVO_AUTH_TOKEN is set, so PLIVO_AUTH_ID (letters and digits, e.g. MA...) is needed")
        base = env_url(env, "PLIVO_API_BASE_URL", DEFAULT_API_BASE_URL)
        status_url = env_url(env, "PLIVO_STATUS_URL")
        mode = env.get("TEXTDESK_PLIVO_REPLIES", "").strip().lower() or "xml"
        if mode not in ("xml", "rest"):
            raise ValueError(f"TEXTDESK_PLIVO_REPLIES should be xml or rest, got '{mode}'")
        return cls(auth_id, token, base, status_url, sync_replies=mode == "xml")

    def verify(self, request: WebhookRequest) -> None:
        verify_signatures(request, _pairs(request), self.auth_token)

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        fields = form_fields(_pairs(request))
        if fields.get("Status"):
            return []  # a status callback sent to the message URL: see parse_receipts
        uuid = required(fields, "MessageUUID", _UUID)
        customer, business = required(fields, "From", _ADDRESS), required(fields, "To", _ADDRESS)
        kind = fields.get("Type", "sms").strip().lower()
        if kind not in ("sms", "mms"):
            raise WebhookError(400, "unsupported_type", f"Type should be sms or mms, got {kind[:20]!r}")
        # SMS text arrives as Text, MMS text as Body (§4.1); take whichever the type names first.
        first, second = ("Text", "Body") if kind == "sms" else ("Body", "Text")
        text = fields.get(first) or fields.get(second, "")
        if len(text) > MAX_TEXT:
            raise WebhookError(400, "too_long", f"the text has {len(text)} characters; at most {MAX_TEXT} are accepted")
        intent = _INTENTS.get(fields.get("MessageIntent", "").strip().lower(), "")
        return [InboundMessage(CHANNEL, uuid, e164(customer), e164(business), text, _media(fields), intent)]

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        fields = form_fields(_pairs(request))
        if not fields.get("Status"):
            return []  # an inbound message sent to the status URL: see parse
        uuid = required(fields, "MessageUUID", _UUID)
        status = fields["Status"].strip().lower()
        error = fields.get("ErrorCode", "").strip()
        customer, business = (e164(fields.get(name, "")[:32]) for name in ("To", "From"))
        return [DeliveryReceipt(CHANNEL, uuid, _STATUSES.get(status, status[:32]),
                                "" if error.strip("0") == "" else error[:16], False, customer, business)]  # fmt: skip

    def render(self, replies: Sequence[Reply], media_base: str, *, customer: str = "",
               business: str = "") -> WebhookReply:  # fmt: skip
        """Plivo XML with one ``<Message>`` per reply; media become links (see the module doc).

        Plivo XML must name both numbers, which ``Carrier.render`` does not pass:
        callers give ``customer`` and ``business`` of the inbound message, and a
        ``ValueError`` says so when replies come without them.
        """
        parts = [XML_DECLARATION, "<Response>"]
        for reply in replies if self.sync_replies else ():  # rest mode: only acknowledge
            lines = [reply.text] if reply.text else []
            text = xml_text("\n".join(lines + [media_url(m, media_base) for m in reply.media]))
            if not text:
                continue
            if not customer or not business:
                raise ValueError("Plivo XML needs src and dst: call render(..., customer=..., business=...)")
            attributes = f"src={quoteattr(_wire(business))} dst={quoteattr(_wire(customer))} type=\"sms\""
            if self.status_url:
                attributes += f" callbackUrl={quoteattr(self.status_url)} callbackMethod=\"POST\""
            parts.append(f"<Message {attributes}>{text}</Message>")
        body = "".join(parts) + "</Response>" if len(parts) > 2 else XML_DECLARATION + "<Response/>"
        return WebhookReply(200, "application/xml", body)

    def outbound_request(self, to: str, sender: str, reply: Reply, media_base: str,
                         idempotency_key: str) -> HttpRequest:  # fmt: skip
        """``POST /v1/Account/{auth_id}/Message/`` as JSON, with HTTP basic auth.

        The Message API has no idempotency field (§4.4), so ``idempotency_key``
        is not sent: the outbox must not resend a message Plivo accepted.
        """
        body: dict[str, Any] = {"src": _wire(sender), "dst": _wire(to), "text": reply.text, "type": "sms"}
        if reply.media:
            body.update(type="mms", media_urls=[media_url(item, media_base) for item in reply.media])
        if self.status_url:
            body.update(url=self.status_url, method="POST")
        token = base64.b64encode(f"{self.auth_id}:{self.auth_token}".encode()).decode("ascii")
        headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"}
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return HttpRequest("POST", f"{self.api_base_url}/v1/Account/{self.auth_id}/Message/", headers, payload)

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        try:
            data = json.loads(body) if body else {}
        except (ValueError, RecursionError):
            data = {}
        data = data if isinstance(data, dict) else {}
        if 200 <= status < 300:
            # Accepted even without a readable id: retrying a 2xx would send the text twice.
            uuids = data.get("message_uuid")
            first = uuids[0] if isinstance(uuids, list) and uuids else uuids
            return SendResult(ok=True, provider_id=first if isinstance(first, str) else "", status=status)
        error = data.get("error") or data.get("message") or f"HTTP {status}"
        text = error if isinstance(error, str) else json.dumps(error)
        return SendResult(ok=False, status=status, error=text[:500], retry=retryable_status(status))


if TYPE_CHECKING:

    def _satisfies_protocol(carrier: PlivoCarrier) -> Carrier:
        return carrier
