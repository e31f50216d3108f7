"""Vonage Messages API (v1): signed JSON webhooks in, ``POST /v1/messages`` out.

Wire format, signing and limits: shared/reference/carriers.md §2. Vonage field
names (``message_uuid``, ``from``, ``image.url``, ...) stop here.

Authenticity (§2.2): every webhook carries ``Authorization: Bearer <JWT>``, an
HS256 token signed with the account's signature secret whose ``payload_hash``
claim is the SHA-256 hex of the raw body, so one check covers the whole request.
The JWT is verified here by hand (it is one HMAC) rather than with PyJWT: that
keeps the clock the request's ``now`` instead of the process clock, keeps every
failure a ``WebhookError``, and lets the tests sign with PyJWT as an
independent implementation.

Time policy, since Vonage documents only ``iat``: a token may be issued up to
``LEEWAY`` seconds in our future (clock skew), ``exp``/``nbf`` are honoured when
present with the same leeway, and a token older than ``MAX_TOKEN_AGE`` is
refused. That age matches the 24 h idempotency window of §12, so a replayed
webhook is either deduplicated by ``message_uuid`` or refused, never handled twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.carriers.base import DeliveryReceipt, HttpRequest, SendResult, WebhookError, WebhookReply, WebhookRequest
from bot.replies import media_url
from bot.types import InboundMedia, InboundMessage, Reply

if TYPE_CHECKING:
    from bot.carriers.base import Carrier

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "LEEWAY", "MAX_TOKEN_AGE", "VonageCarrier", "decode_jwt"]

CHANNEL = "vonage"
DEFAULT_API_BASE_URL = "https://api.nexmo.com"
LEEWAY = 300.0  # seconds of clock skew tolerated on iat, exp and nbf
MAX_TOKEN_AGE = 24 * 3600.0  # the idempotency window (§12): older tokens are replays
MAX_TEXT = 10_000  # far above any real SMS/MMS text; bounds what the engine is fed
MAX_MEDIA = 10
CLIENT_REF_MAX = 40  # the Java SDK documents 40 characters; the Python SDK allows 100

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_SURROGATE = re.compile("[\ud800-\udfff]")
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


def _forbidden(code: str, message: str) -> WebhookError:
    return WebhookError(403, code, message)


def _segment(text: str, what: str) -> bytes:
    # fullmatch, not match: "$" would let a trailing newline through.
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise _forbidden("bad_token", f"the JWT {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _forbidden("bad_token", f"the JWT {what} is not base64url") from exc


def _json_object_of(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _forbidden("bad_token", f"the JWT {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise _forbidden("bad_token", f"the JWT {what} is not a JSON object")
    return value


def decode_jwt(token: str, secret: str) -> dict[str, Any]:
    """The claims of an HS256 JWT signed with ``secret``; raises 403 otherwise.

    Only the signature is checked here; claims (times, ``payload_hash``) are the
    caller's business. The algorithm is pinned to HS256 whatever the header says
    it may be, so ``alg: none`` or an RSA/HMAC confusion cannot get through.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise _forbidden("bad_token", "the bearer token is not a JWT (expected header.payload.signature)")
    header = _json_object_of(_segment(parts[0], "header"), "header")
    if header.get("alg") != "HS256":
        raise _forbidden("bad_token", f"the JWT must be signed with HS256, not {str(header.get('alg'))[:20]!r}")
    if "crit" in header:  # RFC 7515 §4.1.11: extensions we do not understand must be refused
        raise _forbidden("bad_token", "the JWT has critical header extensions this verifier does not support")
    payload, signature = _segment(parts[1], "payload"), _segment(parts[2], "signature")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")  # ASCII: both passed the base64url check
    expected = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise _forbidden("bad_signature", "the JWT signature does not match VONAGE_SIGNATURE_SECRET")
    return _json_object_of(payload, "payload")  # parsed only once authentic


def _timestamp(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int subclass; NaN and infinities fail the range test, and the
    # range keeps a 400-digit integer from overflowing float arithmetic below.
    if isinstance(value, bool) or not isinstance(value, int | float) or not -1e13 < value < 1e13:
        raise _forbidden("bad_token", f"the JWT {name} claim is not a time in seconds")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    iat, exp, nbf = (_timestamp(claims, name) for name in ("iat", "exp", "nbf"))
    if iat is None:
        raise _forbidden("bad_token", "the JWT has no iat (issued-at) claim")
    if iat > now + LEEWAY:
        raise _forbidden("bad_token", f"the JWT was issued {iat - now:.0f} s in the future; check the server clock")
    if now - iat > MAX_TOKEN_AGE:
        raise _forbidden("stale_token", f"the JWT was issued {now - iat:.0f} s ago (limit {MAX_TOKEN_AGE:.0f} s)")
    if exp is not None and now > exp + LEEWAY:
        raise _forbidden("stale_token", "the JWT has expired (exp)")
    if nbf is not None and now + LEEWAY < nbf:
        raise _forbidden("bad_token", "the JWT is not valid yet (nbf)")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict is case-sensitive; HTTP header names are not
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), "")
    return value


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
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
    if "\x00" in value or _SURROGATE.search(value):
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
        base = env.get("VONAGE_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
        if not base.startswith(("https://", "http://")):
            raise ValueError(f"VONAGE_API_BASE_URL should be an http(s) URL, got '{base}'")
        return cls(secret, key, api_secret, base)

    def verify(self, request: WebhookRequest) -> None:
        authorization = _header(request.headers, "Authorization").strip()
        if not authorization:
            # §2.2: on an internal error Vonage may send a webhook unsigned, and
            # retries it (signed, this time) only when the answer is a 5xx.
            raise WebhookError(503, "unsigned_webhook", "no Authorization header; Vonage retries unsigned webhooks")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _forbidden("bad_authorization", "the Authorization header should be 'Bearer <JWT>'")
        claims = decode_jwt(token.strip(), self.signature_secret)
        _check_times(claims, request.now)
        presented = claims.get("payload_hash")
        if not isinstance(presented, str) or not _HEX64.fullmatch(presented):
            raise _forbidden("bad_token", "the JWT has no payload_hash claim (SHA-256 hex of the body)")
        actual = hashlib.sha256(request.body).hexdigest().encode("ascii")
        if not hmac.compare_digest(actual, presented.lower().encode("ascii")):
            raise _forbidden("body_mismatch", "the body does not match the JWT payload_hash; it was altered")

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        data = _json_object(request.body)
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
        data = _json_object(request.body)
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

    def outbound_request(self, to: str, sender: str, reply: Reply, media_base: str,
                         idempotency_key: str) -> HttpRequest:  # fmt: skip
        """A text as channel ``sms``; with media, channel ``mms`` with the text as the caption.

        One attachment is sent as its own message type (``image``, ``video``, ...);
        several as ``message_type: content``. ``client_ref`` carries the idempotency
        key into status webhooks; Vonage does not deduplicate on it.
        """
        body: dict[str, Any] = {"to": _wire(to), "from": _wire(sender), "client_ref": _client_ref(idempotency_key)}
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
        return SendResult(ok=False, status=status, error=error[:500], retry=status in (408, 429) or status >= 500)


if TYPE_CHECKING:

    def _satisfies_protocol(carrier: VonageCarrier) -> Carrier:
        return carrier
