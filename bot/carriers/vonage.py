"""Vonage Messages API (v1): signed JSON webhooks in, ``POST /v1/messages`` out.

Wire format, signing and limits: shared/reference/carriers.md §2. Vonage field
names (``message_uuid``, ``from``, ``image.url``, ...) stop here. Authenticity
(§2.2: a JWT over the body, and how its times are checked) is
bot/carriers/vonage_signature.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.carriers.base import (
    DeliveryReceipt,
    HttpRequest,
    JsonBodyError,
    SendResult,
    WebhookError,
    WebhookReply,
    WebhookRequest,
)
from bot.carriers.fields import MAX_INBOUND_MEDIA, MAX_INBOUND_TEXT, env_url, has_surrogate
from bot.carriers.sending import retryable_status
from bot.carriers.vonage_signature import LEEWAY, MAX_TOKEN_AGE, decode_jwt, verify_bearer
from bot.replies import media_url
from bot.sms import split_reply
from bot.types import InboundMedia, InboundMessage, Reply

if TYPE_CHECKING:
    from bot.carriers.base import Carrier

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "LEEWAY", "MAX_SMS_TEXT", "MAX_TOKEN_AGE", "VonageCarrier", "decode_jwt"]

CHANNEL = "vonage"
DEFAULT_API_BASE_URL = "https://api.nexmo.com"
MAX_TEXT = MAX_INBOUND_TEXT  # the same bounds for every carrier (bot.carriers.fields)
MAX_MEDIA = MAX_INBOUND_MEDIA
MAX_SMS_TEXT = 1000  # the API refuses longer SMS text (carriers.md §2.4)
MAX_CAPTION = 2000  # an MMS caption (§2.5)
CLIENT_REF_MAX = 40  # the Java SDK documents 40 characters; the Python SDK allows 100

_ADDRESS = re.compile(r"\+?[A-Za-z0-9._-]{1,32}")
_MEDIA_KINDS = ("image", "audio", "video", "file", "vcard")
# Vonage gives no content type for inbound media, only its kind; the extension
# refines it when it can, else the kind alone ("image/*") still routes photos.
_EXTENSIONS = {
    "jpg": ("image", "image/jpeg"), "jpeg": ("image", "image/jpeg"), "png": ("image", "image/png"),
    "gif": ("image", "image/gif"), "mp3": ("audio", "audio/mpeg"), "mp4": ("video", "video/mp4"),
    "vcf": ("vcard", "text/vcard"), "pdf": ("file", "application/pdf"),
}  # fmt: skip
_KIND_TYPES = {"image": "image/*", "audio": "audio/*", "video": "video/*", "vcard": "text/vcard"}
# Messages API status (vonage-java-sdk MessageStatus) → textdesk's receipt vocabulary.
_STATUSES = {"submitted": "sent", "delivered": "delivered", "rejected": "failed", "undeliverable": "undelivered",
             "read": "read"}  # fmt: skip


def _json_object(request: WebhookRequest) -> dict[str, Any]:
    try:
        # Decoded once for parse() and parse_receipts() both. detect_encoding: the
        # bytes go to json.loads as they always have here (see WebhookRequest.json_body).
        data = request.json_body(detect_encoding=True)
    except JsonBodyError as exc:
        raise WebhookError(400, "invalid_json", f"the body is not valid JSON: {exc}"[:200]) from exc
    if not isinstance(data, dict):
        raise WebhookError(400, "invalid_json", "the body should be a JSON object")
    return data


def _text(value: object, where: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise WebhookError(400, "missing_field", f"{where} should be a {'non-empty ' if required else ''}string")
    # JSON's "\ud800" escape decodes to a lone surrogate, which no database can store.
    if "\x00" in value or has_surrogate(value):
        raise WebhookError(400, "invalid_field", f"{where} contains a NUL or an unpaired surrogate")
    return value


def _string(data: Mapping[str, Any], name: str, required: bool = True) -> str:
    return _text(data.get(name), f"field {name}", required)


def _address(data: Mapping[str, Any], name: str, required: bool = True) -> str:
    """A number as textdesk keys it: Vonage omits the ``+`` of E.164 (§2.1), textdesk does not."""
    value = _string(data, name, required)
    if value and not _ADDRESS.fullmatch(value):
        raise WebhookError(400, "invalid_field", f"{name} should be a phone number like 447700900000")
    digits = value.removeprefix("+")
    return "+" + digits if digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15 else value


def _media_item(kind: str, item: object, where: str) -> tuple[InboundMedia, str]:
    """One attachment (``{url, caption?}``) and its caption."""
    if not isinstance(item, dict):
        raise WebhookError(400, "invalid_field", f"{where} should be an object with a url")
    url, caption = _text(item.get("url"), f"{where}.url"), _text(item.get("caption"), f"{where}.caption", False)
    if not url.startswith(("https://", "http://")):
        raise WebhookError(400, "invalid_field", f"{where}.url should be an http(s) URL")
    known = _EXTENSIONS.get(_extension(url))
    content_type = known[1] if known and (known[0] == kind or kind == "file") else _KIND_TYPES.get(kind, "")
    return InboundMedia(url, content_type or "application/octet-stream"), caption


def _content(data: Mapping[str, Any]) -> tuple[str, tuple[InboundMedia, ...]]:
    """Text and media of an inbound message, whatever its ``message_type`` (§2.1)."""
    message_type = data.get("message_type", "text")
    texts = [_string(data, "text", required=False)]
    media: list[InboundMedia] = []
    if message_type in _MEDIA_KINDS:
        item, caption = _media_item(message_type, data.get(message_type), message_type)
        media.append(item)
        texts.append(caption)
    elif message_type not in ("text", "content"):
        raise WebhookError(400, "unsupported_message_type", f"message_type {str(message_type)[:20]!r} is not SMS/MMS")
    extra = data.get("content", [])  # further attachments of a multi-part MMS
    if not isinstance(extra, list) or len(extra) > MAX_MEDIA:
        raise WebhookError(400, "invalid_field", f"content should be a list of at most {MAX_MEDIA} attachments")
    for index, entry in enumerate(extra):
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind not in _MEDIA_KINDS:
            raise WebhookError(400, "invalid_field", f"content[{index}].type should be one of {_MEDIA_KINDS}")
        item, caption = _media_item(str(kind), entry, f"content[{index}]")
        if item.url not in (m.url for m in media):
            media.append(item)
            texts.append(caption)
    text = "\n".join(t for t in texts if t)
    if len(text) > MAX_TEXT or len(media) > MAX_MEDIA:
        raise WebhookError(400, "too_long", f"at most {MAX_TEXT} characters and {MAX_MEDIA} attachments are accepted")
    return text, tuple(media)


def _error_code(error: object) -> str:
    """The code in a status webhook's RFC 7807 ``error``: ``title`` ("the error code", java SDK), else ``type#code``."""
    if not isinstance(error, dict):
        return ""
    title, kind = error.get("title"), error.get("type")
    if isinstance(title, str | int) and not isinstance(title, bool) and str(title):
        code = str(title)
    else:
        code = kind.rpartition("#")[2] if isinstance(kind, str) and "#" in kind else ""
    return code[:64].encode("utf-8", "replace").decode("utf-8")  # a lone surrogate becomes "?"


def _wire(number: str) -> str:
    return number.removeprefix("+")  # the API wants E.164 without the "+" (python SDK models)


def _client_ref(key: str) -> str:
    # A key too long for the field becomes its digest: truncating could make two keys collide.
    return key if len(key) <= CLIENT_REF_MAX else hashlib.sha256(key.encode()).hexdigest()[:CLIENT_REF_MAX]


def _extension(url: str) -> str:
    return url.split("?")[0].split("#")[0].rpartition("/")[2].rpartition(".")[2].lower()


def _kind_of(url: str) -> str:
    known = _EXTENSIONS.get(_extension(url))
    return known[0] if known else "file"  # "file" is the type that accepts anything


class VonageCarrier:
    """The ``Carrier`` for the Vonage Messages API (SMS and MMS channels).

    Replies are sent over REST with HTTP basic auth (API key and secret): the
    simplest of the API's two schemes, needing no application private key. The
    signature secret only verifies webhooks.
    """

    name = CHANNEL
    sync_replies = False
    receipts_at_inbound = True  # parse() and parse_receipts() each skip the other kind
    carries_media = True

    def __init__(self, signature_secret: str, api_key: str, api_secret: str,
                 api_base_url: str = DEFAULT_API_BASE_URL) -> None:  # fmt: skip
        self.signature_secret = signature_secret
        self.api_key = api_key
        self.api_secret = api_secret
        self.api_base_url = api_base_url.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VonageCarrier | None:
        """None without ``VONAGE_SIGNATURE_SECRET``; ``ValueError`` if it is set but the API key is not."""
        secret = env.get("VONAGE_SIGNATURE_SECRET", "").strip()
        if not secret:
            return None
        key, api_secret = env.get("VONAGE_API_KEY", "").strip(), env.get("VONAGE_API_SECRET", "").strip()
        if not key or not api_secret:
            raise ValueError("VONAGE_SIGNATURE_SECRET is set, so VONAGE_API_KEY and VONAGE_API_SECRET are needed too")
        base = env_url(env, "VONAGE_API_BASE_URL", DEFAULT_API_BASE_URL)
        return cls(secret, key, api_secret, base)

    def verify(self, request: WebhookRequest) -> None:
        verify_bearer(request, self.signature_secret)

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        data = _json_object(request)
        if "status" in data:
            return []  # a status webhook sent to the inbound URL: see parse_receipts
        channel = data.get("channel")
        if channel not in ("sms", "mms"):
            raise WebhookError(400, "unsupported_channel", f"channel should be sms or mms, got {str(channel)[:20]!r}")
        uuid = _string(data, "message_uuid")
        if len(uuid) > 64:
            raise WebhookError(400, "invalid_field", "message_uuid should be a UUID")
        text, media = _content(data)
        customer, business = _address(data, "from"), _address(data, "to")
        return [InboundMessage(CHANNEL, uuid, customer, business, text, media)]

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        data = _json_object(request)
        if "status" not in data:
            return []  # an inbound message sent to the status URL: see parse
        uuid, status = _string(data, "message_uuid")[:64], _string(data, "status").lower()
        customer, business = _address(data, "to", False), _address(data, "from", False)
        error = _error_code(data.get("error"))
        return [DeliveryReceipt(CHANNEL, uuid, _STATUSES.get(status, status[:32]), error, False, customer, business)]

    def render(
        self, replies: Sequence[Reply], media_base: str, *, customer: str = "", business: str = ""
    ) -> WebhookReply:
        """An empty 204: Vonage wants only an acknowledgement; replies go out via the outbox."""
        return WebhookReply(204, "text/plain", "")

    def chunks(self, reply: Reply) -> tuple[Reply, ...]:
        """An SMS text over ``MAX_SMS_TEXT`` as several messages, cut where bot.sms cuts replies.

        Paragraph, sentence or word boundaries, never inside a grapheme (a flag,
        an accented letter). A reply with media is one message: its text is the
        caption, which may be 2,000 characters (§2.5), more than any prepared
        MMS body (bot.replies.MAX_BODY).
        """
        if reply.media or len(reply.text) <= MAX_SMS_TEXT:
            return (reply,)
        # Only the length binds: the segment budget was kept when the reply was
        # prepared, and a segment holds at least one character.
        return tuple(Reply(part) for part in split_reply(reply.text, MAX_SMS_TEXT, MAX_SMS_TEXT))

    def outbound_request(self, to: str, sender: str, reply: Reply, media_base: str,
                         idempotency_key: str) -> HttpRequest:  # fmt: skip
        """A text as channel ``sms``; with media, channel ``mms`` with the text as the caption.

        One attachment is sent as its own message type (``image``, ``video``, ...);
        several as ``message_type: content``. ``client_ref`` carries the idempotency
        key into status webhooks; Vonage does not deduplicate on it.
        """
        body: dict[str, Any] = {"to": _wire(to), "from": _wire(sender), "client_ref": _client_ref(idempotency_key)}
        limit = MAX_CAPTION if reply.media else MAX_SMS_TEXT
        if len(reply.text) > limit:  # the API would refuse it whole; chunks() says how to send it
            raise ValueError(f"the text has {len(reply.text)} characters; the Messages API takes at most {limit}")
        if not reply.media:
            body.update(channel="sms", message_type="text", text=reply.text)
        else:
            urls = [media_url(item, media_base) for item in reply.media]
            items = [{"type": _kind_of(url), "url": url} for url in urls]
            if reply.text:
                items[0]["caption"] = reply.text
            body["channel"] = "mms"
            if len(items) == 1:
                kind = items[0].pop("type")
                body.update({"message_type": kind, kind: items[0]})
            else:
                body.update(message_type="content", content=items)
        token = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode("ascii")
        headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"}
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return HttpRequest("POST", f"{self.api_base_url}/v1/messages", headers, payload)

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        try:
            data = json.loads(body) if body else {}
        except (ValueError, RecursionError):
            data = {}
        data = data if isinstance(data, dict) else {}
        if 200 <= status < 300:
            # Accepted even without a readable id: retrying a 2xx would send the text twice.
            uuid = data.get("message_uuid")
            return SendResult(ok=True, provider_id=uuid if isinstance(uuid, str) else "", status=status)
        title, detail = data.get("title", ""), data.get("detail", "")  # RFC 7807 problem details
        error = ": ".join(str(p) for p in (title, detail) if p) or f"HTTP {status}"
        return SendResult(ok=False, status=status, error=error[:500], retry=retryable_status(status))


if TYPE_CHECKING:

    def _satisfies_protocol(carrier: VonageCarrier) -> Carrier:
        return carrier
