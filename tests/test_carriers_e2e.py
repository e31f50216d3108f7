"""Every carrier end to end through the real app on loopback (issue #5).

For each carrier (Twilio in REST and TwiML mode, Vonage Messages, Vonage SMS,
Plivo in XML and REST mode, Telnyx, Bandwidth, Sinch) a signed webhook in a
captured shape (carriers.md, the adapters' unit tests) goes to the running app
with a real SQLite file and a virtual clock, and the tests check what an
operator would: the rows in the database file, the HTTP answers, and what the
carrier's REST API received (tests/fake_apis.py, a real server on loopback).

Each carrier is one small *driver*: how that carrier signs a request, the
payloads it sends (inbound SMS, MMS, delivery receipts), the adapter built
against the fake API, and what a correct send request looks like. Signatures
are made here from each carrier's published scheme (PyJWT, ``cryptography``,
Twilio's SDK, ``hmac``), never with the adapters' own code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from twilio.request_validator import RequestValidator

from bot.carriers.bandwidth import BandwidthCarrier
from bot.carriers.base import Carrier
from bot.carriers.plivo import PlivoCarrier
from bot.carriers.sinch import SinchCarrier
from bot.carriers.telnyx import TelnyxCarrier
from bot.carriers.twilio import TwilioCarrier
from bot.carriers.vonage import VonageCarrier
from bot.carriers.vonage_sms import VonageSmsCarrier
from bot.clock import VirtualClock
from bot.outbox import Outbox
from bot.web.keys import OUTBOX
from tests.conftest import PUBLIC, AppFactory, db_rows
from tests.fake_apis import FakeCarrierApis, Received

CUSTOMER = "+15550006001"  # a US number, so the MMS policy lets replies carry media
BUSINESS = "+15555550100"  # the retail flow's number
HOURS = "Our stores are open Mon-Sat 9am-8pm"  # retail.yaml's answer to "1"
PHOTO = "Got your photo, thanks!"  # retail.yaml's answer to a photo in the "agent" state
FORM = "application/x-www-form-urlencoded"
Payload = Any  # a dict of form fields or a JSON value, as the carrier sends it


def wire(number: str) -> str:
    """A number as Vonage, Plivo and Sinch write it: E.164 without the "+"."""
    return number.removeprefix("+")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@dataclass(frozen=True)
class Http:
    """A webhook request as it goes over the wire."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def form_request(path: str, fields: dict[str, str], headers: dict[str, str]) -> Http:
    return Http("POST", path, {"Content-Type": FORM, **headers}, urlencode(fields).encode())


def json_request(path: str, body: bytes, headers: dict[str, str]) -> Http:
    return Http("POST", path, {"Content-Type": "application/json; charset=utf-8", **headers}, body)


# -- drivers ---------------------------------------------------------------------------------------


class Driver:
    """One carrier as the tests drive it; subclasses fill in the carrier's wire format."""

    id: str  # the pytest id
    channel: str  # the adapter's name: /webhooks/<channel>
    sync = False  # replies in the webhook answer (TwiML, Plivo XML) instead of the outbox
    ack = 200  # the status of an accepted webhook
    mms = True  # the carrier delivers MMS to textdesk
    shared_url = False  # delivery receipts may also come to the inbound URL
    media_url = ""  # the URL of the photo in the MMS payload
    media_type = "image/jpeg"  # the content type textdesk should record for it
    sent_status = "sent"  # how a "sent" receipt is recorded (carrier-neutral word)

    @property
    def inbound_path(self) -> str:
        return f"/webhooks/{self.channel}"

    @property
    def status_path(self) -> str:
        return f"/webhooks/{self.channel}/status"

    def carrier(self, api: str) -> Carrier:
        raise NotImplementedError

    def message_id(self, n: int) -> str:
        raise NotImplementedError

    def stored_id(self, message_id: str) -> str:
        """The inbound row's provider_id for a carrier message id."""
        return message_id

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        raise NotImplementedError

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        """A delivery receipt for our outbound message: "sent" (not final) or "delivered"."""
        raise NotImplementedError

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        """The request as the carrier sends it; ``forged`` signs with the wrong secret."""
        raise NotImplementedError

    def replies(self, body: str) -> list[str]:
        """The reply texts in a webhook answer (sync carriers); async carriers only acknowledge."""
        assert body.strip() == "", body
        return []

    def check_send(self, got: Received, text: str) -> None:
        """Assert the REST request is a correct send of ``text`` from BUSINESS to CUSTOMER."""
        raise NotImplementedError


def twiml_replies(body: str) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return [message.findtext("Body") or "" for message in root.findall("Message")]


class Twilio(Driver):
    channel = "twilio"
    token = "twilio-auth-token-0001"
    account = "AC" + "1" * 32
    media_url = "https://api.twilio.com/2010-04-01/Accounts/AC11/Messages/MM00/Media/ME0123456789abcdef0123456789abcdef"

    def __init__(self, sync: bool) -> None:
        self.sync = sync
        self.id = "twilio-twiml" if sync else "twilio-rest"

    def carrier(self, api: str) -> Carrier:
        return TwilioCarrier(self.token, self.account, api, sync_replies=self.sync)

    def message_id(self, n: int) -> str:
        return f"SM{n:032x}"

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        fields = {"ToCountry": "US", "SmsMessageSid": message_id, "NumMedia": "0", "SmsSid": message_id,
                  "SmsStatus": "received", "Body": text, "To": BUSINESS, "NumSegments": "1", "ReferralNumMedia": "0",
                  "MessageSid": message_id, "AccountSid": self.account, "From": CUSTOMER, "ApiVersion": "2010-04-01"}
        if photo:
            fields.update(NumMedia="1", MediaUrl0=self.media_url, MediaContentType0="image/jpeg")
        return fields

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        status = "delivered" if delivered else "sent"
        return {"SmsSid": provider_id, "SmsStatus": status, "MessageStatus": status, "To": CUSTOMER,
                "MessageSid": provider_id, "AccountSid": self.account, "From": BUSINESS, "ApiVersion": "2010-04-01"}

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        token = "not-" + self.token if forged else self.token
        signature = RequestValidator(token).compute_signature(PUBLIC + path, payload)
        return form_request(path, payload, {"X-Twilio-Signature": signature})

    def replies(self, body: str) -> list[str]:
        return twiml_replies(body)

    def check_send(self, got: Received, text: str) -> None:
        assert got.path == f"/2010-04-01/Accounts/{self.account}/Messages.json"
        assert got.headers["Authorization"] == basic(self.account, self.token)
        assert got.headers["Content-Type"] == FORM
        assert (got.form["To"], got.form["From"], got.form["Body"]) == (CUSTOMER, BUSINESS, text)


class Vonage(Driver):
    id = channel = "vonage"
    ack = 204
    secret, key, api_secret = "qwertyuiopasdfghjklzxcvbnm123456", "a1b2c3d", "vonage-api-secret"
    media_url = "https://api-us.nexmo.com/v3/media/0a1b2c3d-4e5f.jpg"

    def carrier(self, api: str) -> Carrier:
        return VonageCarrier(self.secret, self.key, self.api_secret, api)

    def message_id(self, n: int) -> str:
        return f"aaaaaaaa-bbbb-cccc-dddd-{n:012d}"

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        message: dict[str, Any] = {
            "message_uuid": message_id, "to": wire(BUSINESS), "from": wire(CUSTOMER),
            "timestamp": "2024-05-01T10:00:00Z", "channel": "sms", "message_type": "text", "text": text,
            "usage": {"currency": "EUR", "price": "0.0333"}, "sms": {"num_messages": "1", "keyword": text.upper()},
        }  # fmt: skip
        if photo:
            del message["text"], message["sms"]
            message.update(channel="mms", message_type="image", image={"url": self.media_url, "caption": text})
        return message

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        return {"message_uuid": provider_id, "to": wire(CUSTOMER), "from": wire(BUSINESS),
                "timestamp": "2024-05-01T10:00:05Z", "status": "delivered" if delivered else "submitted",
                "channel": "sms", "client_ref": "textdesk-1", "usage": {"currency": "EUR", "price": "0.0333"},
                "sms": {"count_total": "1"}}  # fmt: skip

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        body = json.dumps(payload).encode()
        claims = {"iat": int(now), "jti": str(uuid.uuid4()), "iss": "Vonage", "api_key": self.key,
                  "payload_hash": hashlib.sha256(body).hexdigest()}  # fmt: skip
        token = jwt.encode(claims, "x" * 32 if forged else self.secret, algorithm="HS256")
        return json_request(path, body, {"Authorization": f"Bearer {token}"})

    def check_send(self, got: Received, text: str) -> None:
        assert got.path == "/v1/messages"
        assert got.headers["Authorization"] == basic(self.key, self.api_secret)
        sent = got.json
        assert (sent["to"], sent["from"], sent["text"]) == (wire(CUSTOMER), wire(BUSINESS), text)
        assert (sent["channel"], sent["message_type"]) == ("sms", "text")


class VonageSms(Driver):
    id = channel = "vonage-sms"
    ack = 204
    mms = False  # the SMS API carries text only
    secret, key, api_secret = "my_secret_key_for_testing", "abcd1234", "vonage-api-secret"
    nonces = itertools.count(1)

    def carrier(self, api: str) -> Carrier:
        return VonageSmsCarrier(self.secret, "sha256", self.key, self.api_secret, api)

    def message_id(self, n: int) -> str:
        return f"0B{n:014X}"

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        return {"msisdn": wire(CUSTOMER), "to": wire(BUSINESS), "messageId": message_id, "text": text,
                "type": "text", "keyword": text.split(" ")[0].upper(), "api-key": self.key,
                "message-timestamp": "2024-06-06 07:52:37"}  # fmt: skip

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        return {"msisdn": wire(CUSTOMER), "to": wire(BUSINESS), "network-code": "310260", "messageId": provider_id,
                "price": "0.00570000", "status": "delivered" if delivered else "accepted", "scts": "2406060817",
                "err-code": "0", "api-key": self.key, "client-ref": "textdesk-1",
                "message-timestamp": "2024-06-06 08:17:00"}  # fmt: skip

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        # carriers.md §3.2: sorted "&name=value" (with & and = in values made "_"), HMAC-SHA256, hex.
        fields = {**payload, "timestamp": str(int(now)), "nonce": f"ec11dd3e-{next(self.nonces):04d}"}
        message = "".join(f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in sorted(fields.items()))
        secret = "wrong" + self.secret if forged else self.secret
        fields["sig"] = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        return form_request(path, fields, {})

    def check_send(self, got: Received, text: str) -> None:
        assert got.path == "/sms/json"
        assert "Authorization" not in got.headers  # the SMS API takes its credentials in the body
        sent = got.form
        assert (sent["api_key"], sent["api_secret"]) == (self.key, self.api_secret)
        assert (sent["to"], sent["from"], sent["text"]) == (wire(CUSTOMER), wire(BUSINESS), text)


class Plivo(Driver):
    channel = "plivo"
    auth_id, token = "MAXXXXXXXXXXXXXXXXXX", "plivo-auth-token-0001"
    media_url = "https://media.plivo.com/Account/MAXX/Message/5a7c2e10/Media/1.jpg"
    nonces = itertools.count(1)

    def __init__(self, sync: bool) -> None:
        self.sync = sync
        self.id = "plivo-xml" if sync else "plivo-rest"

    def carrier(self, api: str) -> Carrier:
        return PlivoCarrier(self.auth_id, self.token, api, PUBLIC + self.status_path, sync_replies=self.sync)

    def message_id(self, n: int) -> str:
        return f"3f6c1b04-8a2e-11ee-b9d1-{n:012d}"

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        fields = {"From": wire(CUSTOMER), "To": wire(BUSINESS), "Text": text, "Type": "sms",
                  "MessageUUID": message_id, "Units": "1", "TotalRate": "0.0055", "TotalAmount": "0.0055",
                  "MessageIntent": "", "PowerpackUUID": ""}  # fmt: skip
        if photo:
            del fields["Text"]
            fields.update(Type="mms", Body=text, MediaCount="1", Media0=self.media_url)
        return fields

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        return {"MessageUUID": provider_id, "To": wire(CUSTOMER), "From": wire(BUSINESS), "Type": "sms",
                "Status": "delivered" if delivered else "sent", "Units": "1", "MCC": "310", "MNC": "260",
                "ErrorCode": "", "Sequence": "2" if delivered else "1"}  # fmt: skip

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        # X-Plivo-Signature-V3 (carriers.md §4.2) for a POST without query: url?k1v1k2v2... + "." + nonce.
        nonce = f"{next(self.nonces):020d}"
        signed = PUBLIC + path + "?" + "".join(k + payload[k] for k in sorted(payload)) + "." + nonce
        token = "wrong" + self.token if forged else self.token
        signature = base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha256).digest()).decode()
        return form_request(path, payload, {"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": nonce})

    def replies(self, body: str) -> list[str]:
        root = ET.fromstring(body)
        assert root.tag == "Response"
        messages = root.findall("Message")
        for message in messages:
            assert (message.get("src"), message.get("dst"), message.get("type")) == (wire(BUSINESS), wire(CUSTOMER),
                                                                                     "sms")  # fmt: skip
            assert message.get("callbackUrl") == PUBLIC + self.status_path
        return [message.text or "" for message in messages]

    def check_send(self, got: Received, text: str) -> None:
        assert got.path == f"/v1/Account/{self.auth_id}/Message/"
        assert got.headers["Authorization"] == basic(self.auth_id, self.token)
        sent = got.json
        assert (sent["dst"], sent["src"], sent["text"], sent["type"]) == (wire(CUSTOMER), wire(BUSINESS), text, "sms")
        assert sent["url"] == PUBLIC + self.status_path


class Telnyx(Driver):
    id = channel = "telnyx"
    shared_url = True
    api_key = "KEY0123456789ABCDEF"
    key = Ed25519PrivateKey.generate()
    other_key = Ed25519PrivateKey.generate()
    media_url = "https://media.telnyx.com/1/ab12/photo.jpg"
    events = itertools.count(1)

    def carrier(self, api: str) -> Carrier:
        return TelnyxCarrier(self.key.public_key(), self.api_key, api)

    def message_id(self, n: int) -> str:
        return f"b301ed3f-1490-491f-995f-{n:012d}"  # data.id, the event id (stable across retries)

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        media = [{"url": self.media_url, "content_type": "image/jpeg", "size": 104211, "hash_sha256": "9b74c989"}]
        payload = {
            "cc": [], "direction": "inbound", "encoding": "GSM-7", "errors": [],
            "from": {"carrier": "T-MOBILE USA, INC.", "line_type": "Wireless", "phone_number": CUSTOMER},
            "id": f"7ee4241c-f127-47e5-9c34-{message_id[-12:]}", "media": media if photo else [],
            "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d", "parts": 1,
            "received_at": "2024-01-15T20:16:07.503+00:00", "record_type": "message", "subject": "", "tags": [],
            "text": text, "to": [{"carrier": "Telnyx", "line_type": "Wireless", "phone_number": BUSINESS,
                                  "status": "webhook_delivered"}],
            "type": "MMS" if photo else "SMS", "webhook_url": PUBLIC + self.inbound_path,
        }  # fmt: skip
        return {"data": {"event_type": "message.received", "id": message_id,
                         "occurred_at": "2024-01-15T20:16:07.588+00:00", "payload": payload, "record_type": "event"},
                "meta": {"attempt": 1, "delivered_to": PUBLIC + self.inbound_path}}  # fmt: skip

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        payload = {"direction": "outbound", "errors": [], "id": provider_id, "record_type": "message",
                   "from": {"carrier": "Telnyx", "line_type": "Wireless", "phone_number": BUSINESS},
                   "to": [{"carrier": "T-MOBILE USA, INC.", "phone_number": CUSTOMER,
                           "status": "delivered" if delivered else "sent"}],
                   "text": HOURS, "type": "SMS"}  # fmt: skip
        event = "message.finalized" if delivered else "message.sent"
        return {"data": {"event_type": event, "id": str(uuid.uuid4()), "occurred_at": "2024-01-15T20:16:09.000+00:00",
                         "payload": payload, "record_type": "event"}, "meta": {"attempt": 1}}  # fmt: skip

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        body, timestamp = json.dumps(payload).encode(), str(int(now))
        key = self.other_key if forged else self.key
        signature = base64.b64encode(key.sign(timestamp.encode() + b"|" + body)).decode()
        return json_request(path, body, {"telnyx-signature-ed25519": signature, "telnyx-timestamp": timestamp})

    def check_send(self, got: Received, text: str) -> None:
        assert got.path == "/v2/messages"
        assert got.headers["Authorization"] == f"Bearer {self.api_key}"
        sent = got.json
        assert (sent["to"], sent["from"], sent["text"]) == (CUSTOMER, BUSINESS, text)


class Bandwidth(Driver):
    id = channel = "bandwidth"
    shared_url = True
    user, password = "textdesk", "s3cret:with-colon"
    account, application = "9900000", "93de2206-9669-4e07-948d-329f4b722ee2"
    api_user, api_password = "api-user", "api-pass"
    media_url = "https://messaging.bandwidth.com/api/v2/users/9900000/media/16372830274kz6m3hufm3jrtbe5/0/IMG_0001.jpg"
    sent_status = "sending"  # Bandwidth's only non-final outbound event is message-sending

    def carrier(self, api: str) -> Carrier:
        return BandwidthCarrier(self.user, self.password, self.account, self.application, self.api_user,
                                self.api_password, api)  # fmt: skip

    def message_id(self, n: int) -> str:
        return f"14762070468292kw2f{n:011d}"

    def stored_id(self, message_id: str) -> str:
        return f"{message_id}:message-received"  # the adapter keys inbound events by id and type

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        message = {"id": message_id, "time": "2016-09-14T18:20:16Z", "to": [BUSINESS], "from": CUSTOMER,
                   "text": text, "applicationId": self.application, "media": [self.media_url] if photo else [],
                   "owner": BUSINESS, "direction": "in", "segmentCount": 1}  # fmt: skip
        return [{"type": "message-received", "time": "2016-09-14T18:20:16Z",
                 "description": "Incoming message received", "to": BUSINESS, "message": message}]  # fmt: skip

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        message = {"id": provider_id, "time": "2016-09-14T18:20:16Z", "to": [CUSTOMER], "from": BUSINESS,
                   "text": "", "applicationId": self.application, "owner": BUSINESS, "direction": "out",
                   "segmentCount": 1, "tag": "textdesk-1"}  # fmt: skip
        kind = "message-delivered" if delivered else "message-sending"
        return [{"type": kind, "time": "2016-09-14T18:20:17Z", "description": "ok", "to": CUSTOMER,
                 "message": message}]  # fmt: skip

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        password = "wrong" + self.password if forged else self.password
        return json_request(path, json.dumps(payload).encode(), {"Authorization": basic(self.user, password)})

    def check_send(self, got: Received, text: str) -> None:
        assert got.path == f"/api/v2/users/{self.account}/messages"
        assert got.headers["Authorization"] == basic(self.api_user, self.api_password)
        sent = got.json
        assert (sent["to"], sent["from"], sent["text"]) == ([CUSTOMER], BUSINESS, text)
        assert sent["applicationId"] == self.application


class Sinch(Driver):
    id = channel = "sinch"
    shared_url = True
    secret, plan, api_token = "sms-callback-secret", "a1b2c3d4e5f6", "api-token-0123456789"
    media_url = "https://mms.sinch.com/media/01W4FF/part.jpg"
    nonces = itertools.count(1)

    def carrier(self, api: str) -> Carrier:
        return SinchCarrier(self.secret, self.plan, self.api_token, api)

    def message_id(self, n: int) -> str:
        return f"01W4FFL35P4NC4K35S{n:08d}"

    def inbound(self, message_id: str, text: str, photo: bool = False) -> Payload:
        event: dict[str, Any] = {"id": message_id, "from": wire(CUSTOMER), "to": wire(BUSINESS), "body": text,
                                 "type": "mo_text", "operator_id": "311071",
                                 "received_at": "2024-06-06T07:52:37.386Z"}  # fmt: skip
        if photo:
            media = [{"url": self.media_url, "content_type": "image/jpeg", "status": "Uploaded", "code": 0}]
            event.update(type="mo_media", body={"subject": "Photo", "message": text, "media": media})
            del event["operator_id"]
        return event

    def receipt(self, provider_id: str, delivered: bool) -> Payload:
        return {"at": "2024-06-06T08:17:19.210Z", "batch_id": provider_id, "client_reference": "textdesk-1",
                "code": 0, "operator_status_at": "2024-06-06T08:17:00Z", "recipient": wire(CUSTOMER),
                "status": "Delivered" if delivered else "Dispatched",
                "type": "recipient_delivery_report_sms"}  # fmt: skip

    def sign(self, path: str, payload: Payload, now: float, forged: bool = False) -> Http:
        body, nonce, timestamp = json.dumps(payload).encode(), f"01HZX5T6K9Q2R{next(self.nonces):04d}", str(int(now))
        secret = "wrong" + self.secret if forged else self.secret
        mac = hmac.new(secret.encode(), body + f".{nonce}.{timestamp}".encode(), hashlib.sha256).digest()
        headers = {"x-sinch-webhook-signature": base64.b64encode(mac).decode(),
                   "x-sinch-webhook-signature-nonce": nonce, "x-sinch-webhook-signature-timestamp": timestamp}
        return json_request(path, body, headers)

    def check_send(self, got: Received, text: str) -> None:
        assert got.path == f"/xms/v1/{self.plan}/batches"
        assert got.headers["Authorization"] == f"Bearer {self.api_token}"
        sent = got.json
        assert (sent["to"], sent["from"], sent["body"]) == ([CUSTOMER], BUSINESS, text)
        assert sent["delivery_report"] == "per_recipient"


DRIVERS: list[Driver] = [Twilio(sync=False), Twilio(sync=True), Vonage(), VonageSms(), Plivo(sync=True),
                         Plivo(sync=False), Telnyx(), Bandwidth(), Sinch()]  # fmt: skip
ASYNC = [d for d in DRIVERS if not d.sync]  # replies go through the outbox and a REST API
MMS = [d for d in DRIVERS if d.mms]
SHARED = [d for d in DRIVERS if d.shared_url]


def cases(drivers: list[Driver], xfail: dict[str, str] | None = None) -> list[Any]:
    """pytest params with the driver's id; ``xfail`` maps a driver id to a known bug."""
    marks = xfail or {}
    return [
        pytest.param(d, id=d.id, marks=[pytest.mark.xfail(strict=True, reason=marks[d.id])] if d.id in marks else [])
        for d in drivers
    ]


# -- the running app -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: str


@dataclass
class Desk:
    """The real app for one carrier, its database file and the fake carrier API."""

    driver: Driver
    client: TestClient[Any, Any]
    apis: FakeCarrierApis
    clock: VirtualClock
    db_path: Path

    @property
    def outbox(self) -> Outbox:
        return self.client.server.app[OUTBOX]

    def sign(self, payload: Payload, path: str | None = None, forged: bool = False) -> Http:
        return self.driver.sign(path or self.driver.inbound_path, payload, self.clock.now(), forged)

    async def post(self, http: Http) -> Answer:
        response = await self.client.request(http.method, http.path, data=http.body, headers=http.headers)
        return Answer(response.status, await response.text())

    async def deliver(self, payload: Payload, path: str | None = None, forged: bool = False) -> Answer:
        return await self.post(self.sign(payload, path, forged))

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return db_rows(self.db_path, sql, *params)

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT COUNT(*) FROM {table}")[0][0])

    def sent(self) -> list[Received]:
        return self.apis.of(self.driver.channel)


@pytest.fixture
async def apis_url(aiohttp_server: Any) -> tuple[FakeCarrierApis, str]:
    apis = FakeCarrierApis()
    server = await aiohttp_server(apis.app())
    return apis, str(server.make_url("/")).rstrip("/")


@pytest.fixture
def open_desk(
    make_client: AppFactory, apis_url: tuple[FakeCarrierApis, str], clock: VirtualClock, db_path: Path
) -> Any:
    async def start(driver: Driver) -> Desk:
        apis, url = apis_url
        carrier = driver.carrier(url)
        client = await make_client(carriers={carrier.name: carrier}, outbox_worker=False, send_rates={"*": 100.0})
        return Desk(driver, client, apis, clock, db_path)

    return start


async def sent_reply(desk: Desk, answer: Answer) -> list[str]:
    """The reply texts to the last message: in the answer (sync) or queued in the outbox (async)."""
    in_answer = desk.driver.replies(answer.body)
    if desk.driver.sync:
        return in_answer
    assert in_answer == []
    return [body for (body,) in desk.rows("SELECT body FROM outbound WHERE status = 'queued' ORDER BY id")]


# -- inbound ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", cases(DRIVERS))
async def test_inbound_text_advances_the_conversation(open_desk: Any, driver: Driver) -> None:
    desk: Desk = await open_desk(driver)
    message_id = driver.message_id(1)
    answer = await desk.deliver(driver.inbound(message_id, "1"))
    assert answer.status == driver.ack, answer.body
    replies = await sent_reply(desk, answer)
    assert len(replies) == 1 and replies[0].startswith(HOURS)
    assert desk.rows("SELECT channel, provider_id, customer, business, body, kind FROM inbound") == [
        (driver.channel, driver.stored_id(message_id), CUSTOMER, BUSINESS, "1", "flow")
    ]
    assert desk.rows("SELECT channel, customer, business, flow, state FROM conversations") == [
        (driver.channel, CUSTOMER, BUSINESS, "retail", "hours")
    ]
    assert desk.rows("SELECT in_reply_to, customer, business, status FROM outbound") == [
        (driver.stored_id(message_id), CUSTOMER, BUSINESS, "replied" if driver.sync else "queued")
    ]


BANDWIDTH_MEDIA_TYPE = (
    "bandwidth.py records inbound media with no content type (Bandwidth's payload has none), so "
    "media_types is [''] and the flow's `sent: photo` route never matches; derive it from the URL's "
    "extension as plivo.py does (_CONTENT_TYPES)"
)


@pytest.mark.parametrize("driver", cases(MMS))
async def test_inbound_mms_records_media_and_routes_the_photo(open_desk: Any, driver: Driver) -> None:
    desk: Desk = await open_desk(driver)
    assert (await desk.deliver(driver.inbound(driver.message_id(1), "AGENT"))).status == driver.ack
    await desk.outbox.run_once()  # the agent text leaves the outbox, so only the next reply is queued
    photo_id = driver.message_id(2)
    answer = await desk.deliver(driver.inbound(photo_id, "here is the tear", photo=True))
    assert answer.status == driver.ack, answer.body
    rows = desk.rows("SELECT body, media, media_types FROM inbound WHERE provider_id = ?", driver.stored_id(photo_id))
    assert [(body, json.loads(media)) for body, media, _ in rows] == [("here is the tear", [driver.media_url])]
    assert json.loads(rows[0][2]) == [driver.media_type]
    (reply,) = await sent_reply(desk, answer)
    assert reply.startswith(PHOTO)  # the flow's `sent: photo` route saw an image
    assert desk.rows("SELECT body FROM outbound WHERE in_reply_to = ?", driver.stored_id(photo_id)) == [(reply,)]


@pytest.mark.parametrize("driver", cases(DRIVERS))
async def test_forged_request_is_refused_and_nothing_recorded(open_desk: Any, driver: Driver) -> None:
    desk: Desk = await open_desk(driver)
    answer = await desk.deliver(driver.inbound(driver.message_id(1), "1"), forged=True)
    assert answer.status == 403, answer.body
    for table in ("inbound", "outbound", "conversations", "concat_parts", "consent_events"):
        assert desk.count(table) == 0, table
    assert await desk.outbox.run_once() == 0
    assert desk.sent() == []


@pytest.mark.parametrize("driver", cases(DRIVERS))
async def test_replayed_request_is_answered_once(open_desk: Any, driver: Driver) -> None:
    desk: Desk = await open_desk(driver)
    http = desk.sign(driver.inbound(driver.message_id(1), "1"))
    first, again = await desk.post(http), await desk.post(http)
    assert (first.status, again.status) == (driver.ack, driver.ack)
    assert again.body == first.body  # sync carriers: the same reply document, rendered again
    assert len(driver.replies(first.body)) == (1 if driver.sync else 0)
    assert desk.count("inbound") == 1
    assert desk.count("outbound") == 1
    await desk.outbox.run_once()
    desk.clock.advance(30)
    # The carrier's own retry, later: signed afresh (new timestamp, nonce or token), same message id.
    retry = await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert (retry.status, retry.body) == (driver.ack, first.body)
    desk.clock.advance(60)
    await desk.outbox.run_once()
    assert desk.count("outbound") == 1
    assert len(desk.sent()) == (0 if driver.sync else 1)


# -- replies through the carrier's REST API ---------------------------------------------------------


@pytest.mark.parametrize("driver", cases(ASYNC))
async def test_reply_goes_out_through_the_carrier_api(open_desk: Any, driver: Driver) -> None:
    desk: Desk = await open_desk(driver)
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    ((reply,),) = desk.rows("SELECT body FROM outbound")
    assert reply.startswith(HOURS)
    assert await desk.outbox.run_once() == 1
    (got,) = desk.sent()
    driver.check_send(got, reply)
    assert desk.rows("SELECT status, provider_id, attempts, last_error FROM outbound") == [
        ("sent", desk.apis.issued[driver.channel][0], 1, "")
    ]
    assert await desk.outbox.run_once() == 0
    assert len(desk.sent()) == 1


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("driver", cases(ASYNC))
async def test_send_is_retried_after_a_throttle_or_server_error(open_desk: Any, driver: Driver, status: int) -> None:
    desk: Desk = await open_desk(driver)
    desk.apis.script[driver.channel] = [status]
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    ((state, attempts, error),) = desk.rows("SELECT status, attempts, last_error FROM outbound")
    assert (state, attempts) == ("queued", 1) and error, error
    assert await desk.outbox.run_once() == 0  # backing off
    desk.clock.advance(10)
    assert await desk.outbox.run_once() == 1
    first, second = desk.sent()
    assert first.body == second.body  # the same message, not a new one
    assert desk.rows("SELECT status, provider_id, attempts FROM outbound") == [
        ("sent", desk.apis.issued[driver.channel][0], 2)
    ]


TWILIO_STATUS_CALLBACK = (
    "twilio.py's outbound_request sends no StatusCallback, and Twilio posts status callbacks only to a "
    "per-message StatusCallback (or a Messaging Service's URL; textdesk sends From=<number>), so in REST "
    "mode /webhooks/twilio/status never hears about our sends; add a status URL (e.g. TWILIO_STATUS_URL, "
    "as PLIVO_STATUS_URL) and send it as StatusCallback, as plivo.py sends `url`"
)


async def test_twilio_rest_sends_ask_for_status_callbacks(
    make_client: AppFactory, apis_url: tuple[FakeCarrierApis, str], clock: VirtualClock
) -> None:
    apis, url = apis_url
    driver = Twilio(sync=False)
    status_url = PUBLIC + driver.status_path
    env = {"TWILIO_AUTH_TOKEN": driver.token, "TWILIO_ACCOUNT_SID": driver.account, "TWILIO_API_BASE_URL": url,
           "TEXTDESK_TWILIO_REPLIES": "rest", "TWILIO_STATUS_URL": status_url}  # fmt: skip
    carrier = TwilioCarrier.from_env(env)
    assert carrier is not None
    client = await make_client(carriers={"twilio": carrier}, outbox_worker=False, send_rates={"*": 100.0})
    http = driver.sign(driver.inbound_path, driver.inbound(driver.message_id(1), "1"), clock.now())
    assert (await client.post(http.path, data=http.body, headers=http.headers)).status == 200
    await client.server.app[OUTBOX].run_once()
    (got,) = apis.of("twilio")
    assert got.form.get("StatusCallback") == status_url


# -- delivery receipts -----------------------------------------------------------------------------


RECEIPT_CASES = [pytest.param(d, "status", id=f"{d.id}-status") for d in ASYNC] + [
    pytest.param(d, "inbound", id=f"{d.id}-inbound-url") for d in SHARED
]


@pytest.mark.parametrize(("driver", "url"), RECEIPT_CASES)
async def test_delivery_receipts_update_the_row_and_never_move_back(
    open_desk: Any, driver: Driver, url: str
) -> None:
    desk: Desk = await open_desk(driver)
    path = driver.status_path if url == "status" else driver.inbound_path
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.outbox.run_once()
    ((provider_id,),) = desk.rows("SELECT provider_id FROM outbound WHERE status = 'sent'")

    def delivery() -> list[tuple[Any, ...]]:
        return desk.rows("SELECT delivery_status, delivery_error FROM outbound")

    answer = await desk.deliver(driver.receipt(provider_id, delivered=False), path)
    assert answer.status == driver.ack, answer.body
    assert delivery() == [(driver.sent_status, "")]
    desk.clock.advance(5)
    assert (await desk.deliver(driver.receipt(provider_id, delivered=True), path)).status == driver.ack
    assert delivery() == [("delivered", "")]
    desk.clock.advance(5)
    assert (await desk.deliver(driver.receipt(provider_id, delivered=False), path)).status == driver.ack  # late
    assert delivery() == [("delivered", "")]
    forged = await desk.deliver(driver.receipt(provider_id, delivered=False), path, forged=True)
    assert forged.status == 403
    assert delivery() == [("delivered", "")]
    assert desk.count("inbound") == 1  # a receipt is never taken for a customer's message


# -- concatenated SMS (Vonage SMS API delivers the parts one by one) -------------------------------------


async def test_vonage_sms_joins_concatenated_parts_before_the_flow(open_desk: Any) -> None:
    driver = VonageSms()
    desk: Desk = await open_desk(driver)

    def part(number: int, text: str) -> Payload:
        concat = {"concat": "true", "concat-ref": "A1F3", "concat-total": "2", "concat-part": str(number)}
        return driver.inbound(driver.message_id(number), text) | concat

    second = desk.sign(part(2, "HOURS"))
    assert (await desk.post(second)).status == driver.ack  # the second part arrives first
    assert (desk.count("inbound"), desk.count("outbound")) == (0, 0)
    assert (await desk.deliver(part(1, "STORE "))).status == driver.ack
    assert desk.rows("SELECT customer, body FROM inbound") == [(CUSTOMER, "STORE HOURS")]  # exactly one turn
    ((reply,),) = desk.rows("SELECT body FROM outbound")
    assert reply.startswith(HOURS)
    assert (await desk.post(second)).status == driver.ack  # a part retried after the join
    assert (desk.count("inbound"), desk.count("outbound")) == (1, 1)
    await desk.outbox.run_once()
    (got,) = desk.sent()
    driver.check_send(got, reply)


CONCAT_ID_COLLIDES = (
    "service._join_parts names every joined message `concat:{concat-ref}`, and inbound's key is (channel, "
    "provider_id): refs are a per-phone 8-bit counter, so another customer's long SMS with the same ref is "
    "taken for a duplicate (not recorded, never answered); name it after the parts' own ids (e.g. "
    "`concat:<part 1 messageId>`) or at least scope it by customer"
)
CONCAT_REF_REUSED = (
    "concat_parts rows are never deleted after a join, so when a phone reuses a concat-ref (after 256 long "
    "messages) the new parts hit ON CONFLICT DO NOTHING, the old text is joined again under the old id and "
    "the new message is dropped as a duplicate; delete the parts once the joined turn is committed (and key "
    "the joined id by the parts' messageIds)"
)


async def long_sms(desk: Desk, ids: Any, texts: list[str], customer: str = CUSTOMER, ref: str = "2C") -> None:
    """A concatenated SMS as the Vonage SMS API delivers it: one signed webhook per part."""
    for number, text in enumerate(texts, 1):
        concat = {"concat": "true", "concat-ref": ref, "concat-total": str(len(texts)), "concat-part": str(number),
                  "msisdn": wire(customer)}  # fmt: skip
        payload = desk.driver.inbound(desk.driver.message_id(next(ids)), text) | concat
        assert (await desk.deliver(payload)).status == desk.driver.ack


async def test_vonage_sms_concat_refs_of_two_customers_do_not_collide(open_desk: Any) -> None:
    desk: Desk = await open_desk(VonageSms())
    ids = itertools.count(1)
    await long_sms(desk, ids, ["STORE ", "HOURS"])
    await long_sms(desk, ids, ["RETU", "RNS"], customer="+15550006002")  # its phone's counter is at 0x2C too
    assert desk.rows("SELECT customer, body FROM inbound ORDER BY received_at, customer") == [
        (CUSTOMER, "STORE HOURS"), ("+15550006002", "RETURNS")
    ]
    assert [c for (c,) in desk.rows("SELECT customer FROM outbound ORDER BY id")] == [CUSTOMER, "+15550006002"]


async def test_vonage_sms_concat_ref_reused_later_is_a_new_message(open_desk: Any) -> None:
    desk: Desk = await open_desk(VonageSms())
    ids = itertools.count(1)
    await long_sms(desk, ids, ["STORE ", "HOURS"])
    desk.clock.advance(86_400)  # a day and 256 long messages later, the phone's counter is back at 0x2C
    await long_sms(desk, ids, ["RETU", "RNS"])
    assert [body for (body,) in desk.rows("SELECT body FROM inbound ORDER BY received_at")] == [
        "STORE HOURS", "RETURNS"
    ]
    assert desk.count("outbound") == 2


async def test_vonage_sms_inbound_by_get(open_desk: Any) -> None:
    """Vonage SMS may deliver by GET (§3.1): the signed parameters are then the query string."""
    driver = VonageSms()
    desk: Desk = await open_desk(driver)
    signed = desk.sign(driver.inbound(driver.message_id(1), "1"))
    answer = await desk.post(Http("GET", f"{signed.path}?{signed.body.decode()}", {}, b""))
    assert answer.status == driver.ack, answer.body
    ((reply,),) = desk.rows("SELECT body FROM outbound")
    assert reply.startswith(HOURS)


async def test_bandwidth_batch_of_receipt_and_message(open_desk: Any) -> None:
    """Bandwidth batches events (§6.1): a receipt and a new message in one callback are both taken."""
    driver = Bandwidth()
    desk: Desk = await open_desk(driver)
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.outbox.run_once()
    ((provider_id,),) = desk.rows("SELECT provider_id FROM outbound")
    batch = driver.receipt(provider_id, delivered=True) + driver.inbound(driver.message_id(2), "2")
    assert (await desk.deliver(batch)).status == driver.ack
    assert desk.rows("SELECT delivery_status, status FROM outbound ORDER BY id") == [
        ("delivered", "sent"), ("", "queued")
    ]
    assert desk.count("inbound") == 2


EARLY_RECEIPT_LOST = (
    "a receipt that arrives before the outbox has written the carrier's id (Telnyx's message.sent and quick "
    "failures come within milliseconds of the send's answer) matches no row: store.record_receipt returns "
    "None, the webhook answers 2xx and the status is lost for good; keep unmatched receipts (a small "
    "table keyed by channel and provider_id) and apply them in mark_sent"
)


async def test_receipt_arriving_before_the_send_is_recorded_is_kept(open_desk: Any) -> None:
    driver = Telnyx()
    desk: Desk = await open_desk(driver)
    early: list[int] = []

    async def carrier_reports_at_once(carrier: str, provider_id: str) -> None:
        early.append((await desk.deliver(driver.receipt(provider_id, delivered=False))).status)

    desk.apis.on_accept = carrier_reports_at_once
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    assert early == [driver.ack]
    assert desk.rows("SELECT status, delivery_status FROM outbound") == [("sent", "sent")]
