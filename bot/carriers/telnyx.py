"""Telnyx Messaging v2: Ed25519-signed JSON events in, REST sends out.

Telnyx field names (``data.payload.from.phone_number``, ``media_urls``, ...)
stop here. Wire format, signature scheme and limits: shared/reference/carriers.md §5.

Telnyx never takes a reply in the webhook response, so ``render`` only
acknowledges (Telnyx wants a 2xx within 2 s, §5.3) and replies go out through
``outbound_request``. ``POST /v2/messages`` declares no ``Idempotency-Key``
support (Telnyx honours that header only on endpoints whose reference declares
it, and neither §5.4 nor the generated SDK's ``messages.send`` lists it), so
no key is sent: a send retried after a timeout may reach the customer twice.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.carriers.base import (
    DeliveryReceipt,
    HttpRequest,
    SendResult,
    WebhookError,
    WebhookReply,
    WebhookRequest,
)
from bot.carriers.fields import bounded, env_url, receipt_number
from bot.carriers.fields import error_code as receipt_error
from bot.carriers.fields import header as _header
from bot.carriers.fields import json_body as _json_body
from bot.carriers.fields import json_list as _list
from bot.carriers.fields import json_object as _object
from bot.carriers.fields import matching as _matching
from bot.carriers.fields import string as _string
from bot.carriers.sending import retryable_status
from bot.replies import media_url
from bot.types import InboundMedia, InboundMessage, Reply

if TYPE_CHECKING:
    from bot.carriers.base import Carrier

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "TIMESTAMP_TOLERANCE", "TelnyxCarrier", "load_public_key"]

CHANNEL = "telnyx"
DEFAULT_API_BASE_URL = "https://api.telnyx.com"
TIMESTAMP_TOLERANCE = 300  # seconds either side of our clock, as the current Telnyx SDK (§5.2)
_SIGNATURE_HEADER = "telnyx-signature-ed25519"
_TIMESTAMP_HEADER = "telnyx-timestamp"
_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ADDRESS = re.compile(r"\+?[A-Za-z0-9]{1,32}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_STATUS_WORD = re.compile(r"[a-z_]{1,40}")
# Telnyx's per-recipient statuses (§5.1) in the carrier-neutral (Twilio-like) vocabulary.
# "delivery_unconfirmed" means the carrier took it but never reported back: the last
# thing we know for sure is that it was sent.
_STATUSES = {
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "sending_failed": "failed",
    "delivery_failed": "undelivered",
    "delivery_unconfirmed": "sent",
}
_RECEIPT_EVENTS = frozenset({"message.sent", "message.finalized"})
# "Blocked due to STOP message": the recipient texted STOP and Telnyx's block rule holds. Not in
# carriers.md; Telnyx's messaging error-code table. It comes both as a send error and in receipts.
_OPTED_OUT = "40300"


def load_public_key(value: str) -> Ed25519PublicKey:
    """The Ed25519 key from its Base64 form as the Telnyx portal shows it (32 raw bytes)."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("TELNYX_PUBLIC_KEY should be the Base64 public key from the Telnyx portal") from exc
    if len(raw) != 32:
        raise ValueError(f"TELNYX_PUBLIC_KEY decodes to {len(raw)} bytes; an Ed25519 public key has 32")
    return Ed25519PublicKey.from_public_bytes(raw)


class TelnyxCarrier:
    """The Telnyx adapter: verify, parse, acknowledge and build sends."""

    name: str = CHANNEL
    sync_replies: bool = False
    receipts_at_inbound: bool = True  # parse() and parse_receipts() each skip the other kind
    carries_media = True

    def __init__(self, public_key: Ed25519PublicKey, api_key: str, api_base_url: str = DEFAULT_API_BASE_URL) -> None:
        self._public_key = public_key
        self._api_key = api_key
        self._api_base_url = api_base_url.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelnyxCarrier | None:
        """The adapter configured from the environment, or None when Telnyx is not set up.

        Telnyx is "set up" when ``TELNYX_PUBLIC_KEY`` is present; a half
        configuration (no ``TELNYX_API_KEY``, a malformed key) is an operator
        mistake and raises ``ValueError`` at startup rather than failing every send.
        """
        key = env.get("TELNYX_PUBLIC_KEY", "").strip()
        if not key:
            return None
        api_key = env.get("TELNYX_API_KEY", "").strip()
        if not api_key:
            raise ValueError("TELNYX_PUBLIC_KEY is set but TELNYX_API_KEY is not: replies could not be sent")
        base = env_url(env, "TELNYX_API_BASE_URL", DEFAULT_API_BASE_URL)
        return cls(load_public_key(key), api_key, base)

    def verify(self, request: WebhookRequest) -> None:
        """Raise 403 unless the Ed25519 signature over ``"{timestamp}|{raw body}"`` verifies and is fresh."""
        signature = _header(request.headers, _SIGNATURE_HEADER)
        timestamp = _header(request.headers, _TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise WebhookError(403, "missing_signature", "telnyx-signature-ed25519 and telnyx-timestamp are required")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise WebhookError(403, "bad_timestamp", "telnyx-timestamp should be whole Unix seconds")
        # The window before the signature: a replay of a once-genuine request must fail, and this check is cheap.
        if abs(request.now - int(timestamp)) > TIMESTAMP_TOLERANCE:
            raise WebhookError(
                403, "stale_timestamp", f"telnyx-timestamp is more than {TIMESTAMP_TOLERANCE} s from our clock"
            )
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 64:
            raise WebhookError(403, "bad_signature", "telnyx-signature-ed25519 is not a Base64 Ed25519 signature")
        # The raw body bytes, never re-serialised JSON: Telnyx signed what it sent.
        try:
            self._public_key.verify(raw, timestamp.encode("ascii") + b"|" + request.body)
        except InvalidSignature:
            raise WebhookError(403, "bad_signature", "telnyx-signature-ed25519 does not match this request") from None

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        """The customer's message in a ``message.received`` event; other events carry none."""
        data = _event(request)
        if _string(data.get("event_type"), "data.event_type") != "message.received":
            return ()
        # data.id is the event id, stable across Telnyx's retries of this delivery (§12).
        event_id = _matching(data.get("id"), "data.id", _EVENT_ID, "an event id")
        payload = _object(data.get("payload"), "data.payload")
        sender = _object(payload.get("from"), "data.payload.from")
        to = _list(payload.get("to"), "data.payload.to")
        if not to:
            raise WebhookError(400, "missing_field", "data.payload.to should list at least one recipient")
        # Our number is the first recipient; group MMS lists the other members after it or in cc[].
        business = _object(to[0], "data.payload.to[0]").get("phone_number")
        media = _media(payload.get("media"))
        text = bounded(_string(payload.get("text"), "data.payload.text", optional=True), len(media))
        return (
            InboundMessage(
                channel=CHANNEL,
                provider_id=event_id,
                customer=_matching(sender.get("phone_number"), "data.payload.from.phone_number", _ADDRESS, "a number"),
                business=_matching(business, "data.payload.to[0].phone_number", _ADDRESS, "a number"),
                text=text,
                media=media,
            ),
        )

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        """One receipt per recipient of a ``message.sent`` / ``message.finalized`` event."""
        data = _event(request)
        if _string(data.get("event_type"), "data.event_type") not in _RECEIPT_EVENTS:
            return ()
        payload = _object(data.get("payload"), "data.payload")
        message_id = _matching(payload.get("id"), "data.payload.id", _EVENT_ID, "a message id")
        sender = payload.get("from")
        number = _object(sender, "data.payload.from").get("phone_number") if sender is not None else None
        business = receipt_number(number)
        errors = _list(payload.get("errors", []), "data.payload.errors")
        error_code = ""
        if errors:
            error_code = receipt_error(_object(errors[0], "data.payload.errors[0]").get("code"))
        receipts = []
        for index, item in enumerate(_list(payload.get("to"), "data.payload.to")):
            where = f"data.payload.to[{index}]"
            recipient = _object(item, where)
            raw = _matching(recipient.get("status"), f"{where}.status", _STATUS_WORD, "a Telnyx status word")
            status = _STATUSES.get(raw, raw)
            receipts.append(
                DeliveryReceipt(
                    channel=CHANNEL,
                    provider_id=message_id,
                    status=status,
                    error_code=error_code if status in ("failed", "undelivered") else "",
                    opted_out=error_code == _OPTED_OUT and status in ("failed", "undelivered"),
                    customer=receipt_number(recipient.get("phone_number")),
                    business=business,
                )
            )
        return tuple(receipts)

    def render(
        self, replies: Sequence[Reply], media_base: str, *, customer: str = "", business: str = ""
    ) -> WebhookReply:
        """A bare 200: replies to Telnyx always go out through the REST API."""
        return WebhookReply(status=200, content_type="text/plain", body="")

    def outbound_request(
        self, to: str, sender: str, reply: Reply, media_base: str, idempotency_key: str
    ) -> HttpRequest:
        """``POST /v2/messages``; ``idempotency_key`` is unused (see the module docstring)."""
        body: dict[str, object] = {"from": sender, "to": to}
        # Telnyx wants a non-empty text for SMS and accepts media alone for MMS.
        if reply.text or not reply.media:
            body["text"] = reply.text
        if reply.media:
            body["media_urls"] = [media_url(item, media_base) for item in reply.media]
        return HttpRequest(
            method="POST",
            url=f"{self._api_base_url}/v2/messages",
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        )

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        """Accepted answers carry ``data.id``; errors carry ``errors[{code, title, detail}]``."""
        try:
            answer = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            answer = None
        if 200 <= status < 300:
            data = answer.get("data") if isinstance(answer, dict) else None
            message_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(message_id, str) and message_id:
                return SendResult(ok=True, provider_id=message_id, status=status)
            # Telnyx took the message; resending to learn its id would text the customer twice.
            return SendResult(ok=True, status=status, error="Telnyx accepted the message but returned no data.id")
        listed = answer.get("errors") if isinstance(answer, dict) else None
        errors: list[dict[str, object]] = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
        first = errors[0] if errors else {}
        detail = " ".join(str(first[k]) for k in ("code", "title", "detail") if first.get(k))
        return SendResult(
            ok=False,
            status=status,
            error=f"Telnyx answered HTTP {status}" + (f": {detail[:300]}" if detail else ""),
            retry=retryable_status(status),
            opted_out=any(str(item.get("code")) == _OPTED_OUT for item in errors),
        )


def _event(request: WebhookRequest) -> dict[str, object]:
    envelope = _json_body(request)  # decoded once for parse() and parse_receipts() both
    return _object(_object(envelope, "the body").get("data"), "data")


def _media(value: object) -> tuple[InboundMedia, ...]:
    items: list[InboundMedia] = []
    for index, item in enumerate(_list(value if value is not None else [], "data.payload.media")):
        entry = _object(item, f"data.payload.media[{index}]")
        url = _string(entry.get("url"), f"data.payload.media[{index}].url")
        if not url.startswith(("https://", "http://")) or len(url) > 4096 or any(c.isspace() for c in url):
            raise WebhookError(400, "invalid_field", f"data.payload.media[{index}].url should be an http(s) URL")
        content_type = _string(entry.get("content_type"), f"data.payload.media[{index}].content_type", optional=True)
        items.append(InboundMedia(url, content_type))
    return tuple(items)


if TYPE_CHECKING:

    def _satisfies_protocol(carrier: TelnyxCarrier) -> Carrier:
        return carrier
