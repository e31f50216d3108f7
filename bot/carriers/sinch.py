"""Sinch SMS REST API: HMAC-signed JSON callbacks in, batch sends out.

Sinch field names (``mo_text``, ``batch_id``, ``delivery_report``, ...) stop here.
Wire format and signature scheme: shared/reference/carriers.md §7.

Signed callbacks must be enabled by the Sinch account manager (§7.2); the
signature is Base64(HMAC-SHA256(secret, raw body + "." + nonce + "." + timestamp)).
Sinch numbers come without "+" (``12015555555``); we add it so a Sinch customer
is the same E.164 string everywhere else in textdesk. Outbound MMS through the
SMS REST API is US/CA/AU/PR only and being deprecated (§7.4), so media go as
links appended to the text, which every Sinch route delivers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.carriers.base import (
    DeliveryReceipt,
    HttpRequest,
    SendResult,
    WebhookError,
    WebhookReply,
    WebhookRequest,
)
from bot.carriers.fields import bounded, env_url
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

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "TIMESTAMP_TOLERANCE", "SinchCarrier", "sign"]

CHANNEL = "sinch"
DEFAULT_API_BASE_URL = "https://us.sms.api.sinch.com"
# Sinch publishes no window; we use the same 5 minutes as Telnyx.
TIMESTAMP_TOLERANCE = 300
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ADDRESS = re.compile(r"\+?[A-Za-z0-9]{1,32}")
_NONCE = re.compile(r"[A-Za-z0-9._~+/=-]{1,256}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_STATUS_WORD = re.compile(r"[A-Za-z_]{1,40}")
_MSISDN = re.compile(r"[0-9]{7,15}")  # longer than a short code: a phone number missing its "+"
# Sinch delivery statuses (§7.4) in the carrier-neutral (Twilio-like) vocabulary: "failed"
# when the message never left Sinch, "undelivered" when the network could not deliver it.
_STATUSES = {
    "queued": "queued",
    "dispatched": "sent",
    "delivered": "delivered",
    "aborted": "failed",
    "rejected": "failed",
    "cancelled": "failed",
    "deleted": "failed",
    "failed": "undelivered",
    "expired": "undelivered",
    "unknown": "unknown",
}
_RECIPIENT_REPORTS = frozenset({"recipient_delivery_report_sms", "recipient_delivery_report_mms"})
_BATCH_REPORTS = frozenset({"delivery_report_sms", "delivery_report_mms"})


def sign(secret: str, body: bytes, nonce: str, timestamp: str) -> str:
    """The ``x-sinch-webhook-signature`` value Sinch sends for this body, nonce and timestamp."""
    return base64.b64encode(_mac(secret, body, nonce, timestamp)).decode("ascii")


def _mac(secret: str, body: bytes, nonce: str, timestamp: str) -> bytes:
    # The raw body bytes, never re-serialised JSON: Sinch signed what it sent.
    message = body + b"." + nonce.encode("utf-8") + b"." + timestamp.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


class SinchCarrier:
    """The Sinch SMS adapter: verify, parse MO messages and delivery reports, build batch sends."""

    name: str = CHANNEL
    sync_replies: bool = False
    receipts_at_inbound: bool = True  # parse() and parse_receipts() each skip the other kind
    carries_media = False  # the SMS batches API: media go as links in the text

    def __init__(
        self, webhook_secret: str, service_plan_id: str, api_token: str, api_base_url: str = DEFAULT_API_BASE_URL
    ) -> None:
        self._secret = webhook_secret
        self._service_plan_id = service_plan_id
        self._api_token = api_token
        self._api_base_url = api_base_url.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SinchCarrier | None:
        """The adapter configured from the environment, or None when Sinch is not set up.

        Sinch is "set up" when ``SINCH_WEBHOOK_SECRET`` is present; a missing
        service plan or API token beside it raises ``ValueError`` at startup.
        """
        secret = env.get("SINCH_WEBHOOK_SECRET", "")
        if not secret:
            return None
        missing = [name for name in ("SINCH_SERVICE_PLAN_ID", "SINCH_API_TOKEN") if not env.get(name, "").strip()]
        if missing:
            raise ValueError(f"SINCH_WEBHOOK_SECRET is set but not {', '.join(missing)}: replies cannot be sent")
        base = env_url(env, "SINCH_API_BASE_URL", DEFAULT_API_BASE_URL)
        return cls(secret, env["SINCH_SERVICE_PLAN_ID"].strip(), env["SINCH_API_TOKEN"].strip(), base)

    def verify(self, request: WebhookRequest) -> None:
        """Raise 403 unless ``x-sinch-webhook-signature`` matches and its timestamp is fresh."""
        signature = _header(request.headers, "x-sinch-webhook-signature")
        nonce = _header(request.headers, "x-sinch-webhook-signature-nonce")
        timestamp = _header(request.headers, "x-sinch-webhook-signature-timestamp")
        if not (signature and nonce and timestamp):
            raise WebhookError(
                403, "missing_signature", "x-sinch-webhook-signature, -nonce and -timestamp headers are required"
            )
        # The reference names no algorithm header; the Conversation API sends "HmacSHA256".
        # Absent means HMAC-SHA256; anything else is a scheme we cannot check.
        algorithm = _header(request.headers, "x-sinch-webhook-signature-algorithm")
        if algorithm and algorithm.replace("-", "").lower() != "hmacsha256":
            raise WebhookError(403, "bad_signature", "x-sinch-webhook-signature-algorithm should be HmacSHA256")
        if not _NONCE.fullmatch(nonce):
            raise WebhookError(403, "bad_nonce", "x-sinch-webhook-signature-nonce should be a short token")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise WebhookError(403, "bad_timestamp", "x-sinch-webhook-signature-timestamp should be whole Unix seconds")
        if abs(request.now - int(timestamp)) > TIMESTAMP_TOLERANCE:
            raise WebhookError(
                403, "stale_timestamp", f"x-sinch-webhook-signature-timestamp is more than {TIMESTAMP_TOLERANCE} s off"
            )
        try:
            given = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(given, _mac(self._secret, request.body, nonce, timestamp)):
            raise WebhookError(403, "bad_signature", "x-sinch-webhook-signature does not match this request")

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        """The customer's message in an ``mo_text`` or ``mo_media`` callback; other types carry none."""
        event, kind = _event(request)
        media: tuple[InboundMedia, ...] = ()
        if kind == "mo_text":
            text = _string(event.get("body"), "body", optional=True)
        elif kind == "mo_media":
            text, media = _media_body(event.get("body"))
        else:
            # mo_binary (Base64 + UDH) is not text a support line can answer; reports are receipts.
            return ()
        return (
            InboundMessage(
                channel=CHANNEL,
                provider_id=_matching(event.get("id"), "id", _ID, "a message id"),
                customer=_number(event.get("from"), "from"),
                business=_number(event.get("to"), "to"),
                text=bounded(text, len(media)),
                media=media,
            ),
        )

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        """Receipts in a per-recipient report, or one per listed recipient of a batch report."""
        event, kind = _event(request)
        if kind not in _RECIPIENT_REPORTS and kind not in _BATCH_REPORTS:
            return ()
        batch_id = _matching(event.get("batch_id"), "batch_id", _ID, "a batch id")
        if kind in _RECIPIENT_REPORTS:
            return (_receipt(batch_id, event, _number(event.get("recipient"), "recipient"), ""),)
        receipts: list[DeliveryReceipt] = []
        for index, item in enumerate(_list(event.get("statuses"), "statuses")):
            where = f"statuses[{index}]"
            entry = _object(item, where)
            listed = _list(entry.get("recipients", []), f"{where}.recipients")
            numbers = [_number(number, f"{where}.recipients") for number in listed]
            # A "summary" report lists no recipients; it still says how the batch went.
            receipts.extend(_receipt(batch_id, entry, number, f"{where}.") for number in numbers or [""])
        return tuple(receipts)

    def render(
        self, replies: Sequence[Reply], media_base: str, *, customer: str = "", business: str = ""
    ) -> WebhookReply:
        """A bare 200 (Sinch retries 5xx and 429, §7.3); replies go out as batches."""
        return WebhookReply(status=200, content_type="text/plain", body="")

    def outbound_request(
        self, to: str, sender: str, reply: Reply, media_base: str, idempotency_key: str
    ) -> HttpRequest:
        """``POST /xms/v1/{service_plan_id}/batches`` as an ``mt_text`` batch to one recipient.

        Sinch has no idempotency key; ``client_reference`` carries ours so delivery
        reports can be traced to the outbox row. ``per_recipient`` asks for the
        recipient delivery reports ``parse_receipts`` reads (the default is none).
        """
        links = [media_url(item, media_base) for item in reply.media]
        text = "\n".join([reply.text, *links]) if reply.text else "\n".join(links)
        body: dict[str, object] = {"from": sender, "to": [to], "body": text, "delivery_report": "per_recipient"}
        if idempotency_key:
            body["client_reference"] = idempotency_key
        return HttpRequest(
            method="POST",
            url=f"{self._api_base_url}/xms/v1/{quote(self._service_plan_id, safe='')}/batches",
            headers={
                "Authorization": f"Bearer {self._api_token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        )

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        """201 carries the batch ``id``; errors carry ``code`` and ``text``."""
        try:
            answer = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            answer = None
        fields = answer if isinstance(answer, dict) else {}
        if 200 <= status < 300:
            batch_id = fields.get("id")
            if isinstance(batch_id, str) and batch_id:
                return SendResult(ok=True, provider_id=batch_id, status=status)
            # Sinch took the batch; resending to learn its id would text the customer twice.
            return SendResult(ok=True, status=status, error="Sinch accepted the batch but returned no id")
        detail = ": ".join(str(fields[k]) for k in ("code", "text") if isinstance(fields.get(k), str) and fields[k])
        return SendResult(
            ok=False,
            status=status,
            error=f"Sinch answered HTTP {status}" + (f": {detail[:300]}" if detail else ""),
            retry=retryable_status(status),
        )


def _event(request: WebhookRequest) -> tuple[dict[str, object], str]:
    event = _object(_json_body(request), "the body")  # decoded once for parse() and parse_receipts() both
    return event, _string(event.get("type"), "type")


def _media_body(value: object) -> tuple[str, tuple[InboundMedia, ...]]:
    body = _object(value, "body")
    text = _string(body.get("message"), "body.message", optional=True)
    text = text or _string(body.get("subject"), "body.subject", optional=True)
    items: list[InboundMedia] = []
    for index, item in enumerate(_list(body.get("media", []), "body.media")):
        entry = _object(item, f"body.media[{index}]")
        url = _string(entry.get("url"), f"body.media[{index}].url", optional=True)
        # An attachment Sinch failed to store has no URL; the rest of the message still counts.
        if not url or entry.get("status") == "Failed":
            continue
        if not url.startswith(("https://", "http://")) or len(url) > 4096 or any(c.isspace() for c in url):
            raise WebhookError(400, "invalid_field", f"body.media[{index}].url should be an http(s) URL")
        items.append(InboundMedia(url, _string(entry.get("content_type"), f"body.media[{index}].content_type", True)))
    return text, tuple(items)


def _receipt(batch_id: str, report: dict[str, object], customer: str, where: str) -> DeliveryReceipt:
    raw = _matching(report.get("status"), f"{where}status", _STATUS_WORD, "a Sinch status word")
    status = _STATUSES.get(raw.lower(), raw.lower())
    error_code = receipt_error(report.get("code"))
    return DeliveryReceipt(
        channel=CHANNEL,
        provider_id=batch_id,
        status=status,
        error_code=error_code if status in ("failed", "undelivered", "unknown") else "",
        customer=customer,
    )


def _number(value: object, where: str) -> str:
    number = _matching(value, where, _ADDRESS, "a phone number or short code")
    return f"+{number}" if _MSISDN.fullmatch(number) else number


if TYPE_CHECKING:

    def _satisfies_protocol(carrier: SinchCarrier) -> Carrier:
        return carrier
