"""Bandwidth Messaging v2: Basic-auth JSON event batches in, REST sends out.

Bandwidth field names (``message-received``, ``owner``, ``applicationId``, ...)
stop here. Wire format and limits: shared/reference/carriers.md §6.

Bandwidth signs nothing: the only proof a callback is genuine is the HTTP Basic
credentials configured on the messaging application (§6.2). Every callback
body is a JSON array that may batch several events, inbound messages and
delivery reports alike, and Bandwidth delivers at least once (§6.3), so an
inbound message's idempotency key is its ``message.id`` plus the event ``type``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import mimetypes
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

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

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "BandwidthCarrier"]

CHANNEL = "bandwidth"
DEFAULT_API_BASE_URL = "https://messaging.bandwidth.com"
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ADDRESS = re.compile(r"\+?[A-Za-z0-9]{1,32}")
# Outbound callbacks (§6.4) in the carrier-neutral (Twilio-like) status vocabulary.
# "message-sending" only comes for MMS, when MMS delivery receipts are enabled.
_RECEIPT_STATUSES = {
    "message-sending": "sending",
    "message-delivered": "delivered",
    "message-failed": "failed",
}
# "destination-rejected-due-to-user-opt-out" (Bandwidth/api-docs errors.mdx, a §6 source).
_OPTED_OUT = "4775"
_ENV = (
    "BANDWIDTH_ACCOUNT_ID",
    "BANDWIDTH_APPLICATION_ID",
    "BANDWIDTH_API_USERNAME",
    "BANDWIDTH_API_PASSWORD",
)


class BandwidthCarrier:
    """The Bandwidth adapter: check Basic auth, split event batches, build sends."""

    name: str = CHANNEL
    sync_replies: bool = False
    receipts_at_inbound: bool = True  # parse() and parse_receipts() each skip the other kind
    carries_media = True

    def __init__(
        self,
        webhook_username: str,
        webhook_password: str,
        account_id: str,
        application_id: str,
        api_username: str,
        api_password: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
    ) -> None:
        # Digests, not the secrets: compare_digest then always compares equal lengths.
        self._user_digest = hashlib.sha256(webhook_username.encode("utf-8")).digest()
        self._password_digest = hashlib.sha256(webhook_password.encode("utf-8")).digest()
        self._account_id = account_id
        self._application_id = application_id
        self._api_auth = "Basic " + base64.b64encode(f"{api_username}:{api_password}".encode()).decode("ascii")
        self._api_base_url = api_base_url.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BandwidthCarrier | None:
        """The adapter configured from the environment, or None when Bandwidth is not set up.

        Bandwidth is "set up" when the webhook credentials are; anything missing
        beside them is an operator mistake and raises ``ValueError`` at startup.
        """
        user = env.get("BANDWIDTH_WEBHOOK_USERNAME", "")
        password = env.get("BANDWIDTH_WEBHOOK_PASSWORD", "")
        if not user and not password:
            return None
        if not user or not password:
            raise ValueError("set both BANDWIDTH_WEBHOOK_USERNAME and BANDWIDTH_WEBHOOK_PASSWORD, or neither")
        missing = [name for name in _ENV if not env.get(name, "").strip()]
        if missing:
            raise ValueError(f"Bandwidth webhooks are configured but not {', '.join(missing)}: replies cannot be sent")
        base = env_url(env, "BANDWIDTH_API_BASE_URL", DEFAULT_API_BASE_URL)
        return cls(
            user,
            password,
            env["BANDWIDTH_ACCOUNT_ID"].strip(),
            env["BANDWIDTH_APPLICATION_ID"].strip(),
            env["BANDWIDTH_API_USERNAME"].strip(),
            env["BANDWIDTH_API_PASSWORD"],
            base,
        )

    def verify(self, request: WebhookRequest) -> None:
        """Raise 403 unless ``Authorization: Basic`` carries the configured user and password."""
        header = _header(request.headers, "authorization")
        if not header:
            raise WebhookError(403, "missing_credentials", "Authorization (HTTP Basic) header is missing")
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if scheme.lower() != "basic" or b":" not in decoded:
            raise WebhookError(403, "bad_credentials", "Authorization should be HTTP Basic with user:password")
        user, _, password = decoded.partition(b":")
        # Both halves are always compared (no short circuit), so timing says nothing about which one was wrong.
        user_ok = hmac.compare_digest(hashlib.sha256(user).digest(), self._user_digest)
        password_ok = hmac.compare_digest(hashlib.sha256(password).digest(), self._password_digest)
        if not (user_ok & password_ok):
            raise WebhookError(403, "bad_credentials", "the Basic auth user or password is wrong")

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        """One message per ``message-received`` event of the batch, in order."""
        messages = []
        for index, event, kind in _events(request):
            if kind != "message-received":
                continue
            where = f"[{index}].message"
            message = _object(event.get("message"), where)
            # Docs warn that replying to our own outbound callbacks loops (§6.4).
            if message.get("direction") == "out":
                continue
            message_id = _matching(message.get("id"), f"{where}.id", _MESSAGE_ID, "a message id")
            # In a group message each of our numbers gets its own event; owner says which one this is.
            owner = message.get("owner") or event.get("to")
            if owner is None:
                recipients = _list(message.get("to"), f"{where}.to")
                owner = recipients[0] if recipients else None
            media = _media(message.get("media"), f"{where}.media")
            text = bounded(_string(message.get("text"), f"{where}.text", optional=True), len(media), where)
            messages.append(
                InboundMessage(
                    channel=CHANNEL,
                    provider_id=f"{message_id}:{kind}",
                    customer=_matching(message.get("from"), f"{where}.from", _ADDRESS, "a number"),
                    business=_matching(owner, f"{where}.owner (or the event's to)", _ADDRESS, "a number"),
                    text=text,
                    media=media,
                )
            )
        return tuple(messages)

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        """One receipt per ``message-sending`` / ``-delivered`` / ``-failed`` event of the batch."""
        receipts = []
        for index, event, kind in _events(request):
            status = _RECEIPT_STATUSES.get(kind)
            if status is None:
                continue
            message = _object(event.get("message"), f"[{index}].message")
            recipient = event.get("to")
            if recipient is None:
                recipients = _list(message.get("to"), f"[{index}].message.to")
                recipient = recipients[0] if recipients else None
            error_code = receipt_error(event.get("errorCode"))
            receipts.append(
                DeliveryReceipt(
                    channel=CHANNEL,
                    provider_id=_matching(message.get("id"), f"[{index}].message.id", _MESSAGE_ID, "a message id"),
                    status=status,
                    error_code=error_code if status == "failed" else "",
                    opted_out=status == "failed" and error_code == _OPTED_OUT,
                    customer=receipt_number(recipient),
                    business=receipt_number(message.get("from")),
                )
            )
        return tuple(receipts)

    def render(
        self, replies: Sequence[Reply], media_base: str, *, customer: str = "", business: str = ""
    ) -> WebhookReply:
        """A bare 200 (Bandwidth retries anything else for 24 h); replies go out through REST."""
        return WebhookReply(status=200, content_type="text/plain", body="")

    def outbound_request(
        self, to: str, sender: str, reply: Reply, media_base: str, idempotency_key: str
    ) -> HttpRequest:
        """``POST /api/v2/users/{account}/messages``.

        ``tag`` carries the idempotency key so callbacks can be traced to the
        outbox row; Bandwidth echoes it but does not deduplicate on it (§6.4).
        """
        body: dict[str, object] = {
            "applicationId": self._application_id,
            "to": [to],
            "from": sender,
        }
        # Bandwidth needs text or media; an MMS may carry media alone.
        if reply.text or not reply.media:
            body["text"] = reply.text
        if idempotency_key:
            body["tag"] = idempotency_key
        if reply.media:
            body["media"] = [media_url(item, media_base) for item in reply.media]
        return HttpRequest(
            method="POST",
            url=f"{self._api_base_url}/api/v2/users/{quote(self._account_id, safe='')}/messages",
            headers={"Authorization": self._api_auth, "Content-Type": "application/json", "Accept": "application/json"},
            body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        )

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        """202 carries the message ``id``; errors carry ``type``, ``description`` and ``fieldErrors``."""
        try:
            answer = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            answer = None
        fields = answer if isinstance(answer, dict) else {}
        if 200 <= status < 300:
            message_id = fields.get("id")
            if isinstance(message_id, str) and message_id:
                return SendResult(ok=True, provider_id=message_id, status=status)
            # Bandwidth took the message; resending to learn its id would text the customer twice.
            return SendResult(ok=True, status=status, error="Bandwidth accepted the message but returned no id")
        parts = [str(fields[k]) for k in ("type", "description") if isinstance(fields.get(k), str) and fields[k]]
        field_errors = fields.get("fieldErrors")
        if isinstance(field_errors, list):
            for item in field_errors[:3]:
                if isinstance(item, dict):
                    parts.append(f"{item.get('fieldName', '?')}: {item.get('description', '')}")
        detail = "; ".join(parts)[:300]
        return SendResult(
            ok=False,
            status=status,
            error=f"Bandwidth answered HTTP {status}" + (f": {detail}" if detail else ""),
            retry=retryable_status(status),
        )


def _events(request: WebhookRequest) -> list[tuple[int, dict[str, object], str]]:
    """(index, event, type) for every event of the batch; unknown types are kept for the caller to skip."""
    batch = _json_body(request)  # decoded once for parse() and parse_receipts() both
    if not isinstance(batch, list):
        raise WebhookError(400, "invalid_json", "the body should be a JSON array of Bandwidth events")
    events = []
    for index, item in enumerate(batch):
        event = _object(item, f"[{index}]")
        events.append((index, event, _string(event.get("type"), f"[{index}].type")))
    return events


def _media(value: object, where: str) -> tuple[InboundMedia, ...]:
    # Bandwidth lists bare URLs (which need our API credentials to fetch) and no content types.
    items: list[InboundMedia] = []
    for index, item in enumerate(_list(value if value is not None else [], where)):
        url = _string(item, f"{where}[{index}]")
        if not url.startswith(("https://", "http://")) or len(url) > 4096 or any(c.isspace() for c in url):
            raise WebhookError(400, "invalid_field", f"{where}[{index}] should be an http(s) URL")
        try:
            path = urlsplit(url).path  # refuses e.g. an unclosed IPv6 bracket ("https://[x")
        except ValueError as exc:
            raise WebhookError(400, "invalid_field", f"{where}[{index}] should be an http(s) URL: {exc}") from exc
        # Bandwidth's events give no content type; the file name usually does,
        # and "sent: photo" routes need one.
        guessed, _ = mimetypes.guess_type(path)
        items.append(InboundMedia(url, guessed or ""))
    return tuple(items)


if TYPE_CHECKING:

    def _satisfies_protocol(carrier: BandwidthCarrier) -> Carrier:
        return carrier
