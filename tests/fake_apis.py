"""Fake REST APIs of every carrier, on one small real HTTP server on loopback.

One aiohttp app routes by path to each carrier's send endpoint (the same paths
the real APIs use), records every request it receives, and answers the way
that carrier does: a success body carrying an id in the field the adapter's
``parse_send_response`` reads, or an error body in the carrier's own shape.
Statuses can be scripted per carrier (``script["telnyx"] = [429, 500]``); an
empty script accepts. A request without credentials is refused as the real
APIs refuse it (401; the Vonage SMS API: status "2" in a 200). Tests point an
adapter's API base URL at the server; nothing of ours is mocked.

Endpoints, success status and the field carrying the id (carriers.md §1.4, §2.4,
§3.3, §4.4, §5.4, §6.4, §7.4, and the SDKs' models):

- twilio      POST /2010-04-01/Accounts/{sid}/Messages.json   201  ``sid``
- vonage      POST /v1/messages                               202  ``message_uuid``
- vonage-sms  POST /sms/json (form; credentials in the body)   200  ``messages[0].message-id``
- plivo       POST /v1/Account/{auth_id}/Message/             202  ``message_uuid[0]``
- telnyx      POST /v2/messages                               200  ``data.id``
- bandwidth   POST /api/v2/users/{account}/messages           202  ``id``
- sinch       POST /xms/v1/{plan}/batches                     201  ``id``
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

__all__ = ["FakeCarrierApis", "Received"]


@dataclass
class Received:
    """One request the fake API received, as it came over the wire."""

    carrier: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        """The form fields (the last value of a repeated name)."""
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


Handler = Callable[[web.Request, bytes], Awaitable[web.Response]]
Route = Callable[[web.Request], Awaitable[web.Response]]


@dataclass
class FakeCarrierApis:
    """Every carrier's send endpoint; ``received`` lists requests in arrival order."""

    script: dict[str, list[int]] = field(default_factory=dict)  # carrier -> statuses to answer next
    received: list[Received] = field(default_factory=list)
    issued: dict[str, list[str]] = field(default_factory=dict)  # carrier -> ids handed out, in order
    # Called with (carrier, id) after a send is accepted and before the answer leaves: a test can
    # deliver the carrier's early receipt for that message while the sender still waits.
    on_accept: Callable[[str, str], Awaitable[None]] | None = None
    _counter: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        routes: dict[str, tuple[str, Handler]] = {
            "twilio": ("/2010-04-01/Accounts/{sid}/Messages.json", self._twilio),
            "vonage": ("/v1/messages", self._vonage),
            "vonage-sms": ("/sms/json", self._vonage_sms),
            "plivo": ("/v1/Account/{auth_id}/Message/", self._plivo),
            "telnyx": ("/v2/messages", self._telnyx),
            "bandwidth": ("/api/v2/users/{account}/messages", self._bandwidth),
            "sinch": ("/xms/v1/{plan}/batches", self._sinch),
        }
        for carrier, (path, handler) in routes.items():
            app.router.add_post(path, self._recorded(carrier, handler))
        return app

    def of(self, carrier: str) -> list[Received]:
        return [r for r in self.received if r.carrier == carrier]

    # -- plumbing ----------------------------------------------------------------------------------

    def _recorded(self, carrier: str, handler: Handler) -> Route:
        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            self.received.append(Received(carrier, request.method, request.path, dict(request.headers), body))
            return await handler(request, body)

        return handle

    def _next_status(self, carrier: str, success: int) -> int:
        queue = self.script.get(carrier, [])
        return queue.pop(0) if queue else success

    async def _issue(self, carrier: str, template: str) -> str:
        new_id = template.format(n=next(self._counter))
        self.issued.setdefault(carrier, []).append(new_id)
        if self.on_accept is not None:
            await self.on_accept(carrier, new_id)
        return new_id

    @staticmethod
    def _authorized(request: web.Request, scheme: str) -> bool:
        return request.headers.get("Authorization", "").startswith(f"{scheme} ")

    @staticmethod
    def _json_body(body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    # -- carriers ----------------------------------------------------------------------------------

    async def _twilio(self, request: web.Request, body: bytes) -> web.Response:
        if not self._authorized(request, "Basic"):
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        status = self._next_status("twilio", 201)
        if status != 201:
            message = {429: "Too Many Requests"}.get(status, "Internal Server Error")
            return web.json_response({"code": 20000 + status, "message": message, "status": status}, status=status)
        form = dict(parse_qsl(body.decode()))
        sid = await self._issue("twilio", "SM{n:032x}")
        answer = {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                "body": form.get("Body"), "num_segments": "1", "api_version": "2010-04-01"}  # fmt: skip
        return web.json_response(answer, status=201)

    async def _vonage(self, request: web.Request, body: bytes) -> web.Response:
        if not self._authorized(request, "Basic"):
            return web.json_response({"type": "https://developer.vonage.com/api-errors#unauthorized",
                                      "title": "Unauthorized", "detail": "No credentials"}, status=401)  # fmt: skip
        status = self._next_status("vonage", 202)
        if status != 202:
            title = {429: "Rate Limit Hit"}.get(status, "Internal Error")
            problem = {"type": f"https://developer.vonage.com/api-errors#{status}", "title": title,
                       "detail": "Please wait, then retry your request", "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"}
            return web.json_response(problem, status=status, content_type="application/problem+json")
        uuid = await self._issue("vonage", "aaaaaaaa-bbbb-4ccc-8ddd-{n:012d}")
        return web.json_response({"message_uuid": uuid}, status=202)

    async def _vonage_sms(self, request: web.Request, body: bytes) -> web.Response:
        form = dict(parse_qsl(body.decode()))
        if not form.get("api_key") or not form.get("api_secret"):
            # The SMS API answers 200 with a per-message status, even for bad credentials.
            failed = {"status": "2", "error-text": "Missing api_key"}
            return web.json_response({"message-count": "1", "messages": [failed]})
        status = self._next_status("vonage-sms", 200)
        if status != 200:
            return web.Response(status=status, text="")
        message_id = await self._issue("vonage-sms", "0A{n:014X}")
        part = {"to": form.get("to"), "message-id": message_id, "status": "0", "remaining-balance": "3.1415",
                "message-price": "0.0333", "network": "12345", "client-ref": form.get("client-ref", "")}  # fmt: skip
        return web.json_response({"message-count": "1", "messages": [part]})

    async def _plivo(self, request: web.Request, body: bytes) -> web.Response:
        api_id = "97ceeb52-58b6-11e1-86da-77300b68f8bb"
        if not self._authorized(request, "Basic"):
            return web.json_response({"api_id": api_id, "error": "authentication failed"}, status=401)
        status = self._next_status("plivo", 202)
        if status != 202:
            error = {429: "too many requests"}.get(status, "internal server error")
            return web.json_response({"api_id": api_id, "error": error}, status=status)
        uuid = await self._issue("plivo", "db3ce55a-7f1d-11e1-8ea7-{n:012d}")
        return web.json_response({"api_id": api_id, "message": "message(s) queued", "message_uuid": [uuid]},
                                 status=202)

    async def _telnyx(self, request: web.Request, body: bytes) -> web.Response:
        if not self._authorized(request, "Bearer"):
            errors = [{"code": "10009", "title": "Authentication failed", "detail": "No API key"}]
            return web.json_response({"errors": errors}, status=401)
        status = self._next_status("telnyx", 200)
        if status != 200:
            title = {429: "Too many requests"}.get(status, "Unexpected error")
            return web.json_response({"errors": [{"code": str(10000 + status), "title": title}]}, status=status)
        sent = self._json_body(body)
        message_id = await self._issue("telnyx", "40385f64-5717-4562-b3fc-{n:012d}")
        data = {"record_type": "message", "direction": "outbound", "id": message_id, "type": "SMS",
                "from": {"phone_number": sent.get("from"), "carrier": "Telnyx", "line_type": "Wireless"},
                "to": [{"phone_number": sent.get("to"), "status": "queued", "carrier": "", "line_type": ""}],
                "text": sent.get("text", ""), "media": [], "parts": 1, "errors": []}  # fmt: skip
        return web.json_response({"data": data})

    async def _bandwidth(self, request: web.Request, body: bytes) -> web.Response:
        if not self._authorized(request, "Basic"):
            return web.json_response({"type": "unauthorized", "description": "Authentication failed"}, status=401)
        status = self._next_status("bandwidth", 202)
        if status != 202:
            kind = {429: "too-many-requests"}.get(status, "internal-server-error")
            return web.json_response({"type": kind, "description": "Please retry later"}, status=status)
        sent = self._json_body(body)
        message_id = await self._issue("bandwidth", "15892280746{n:05d}lm4k2je7j7jklbn2")
        answer = {"id": message_id, "owner": sent.get("from"), "applicationId": sent.get("applicationId"),
                "time": "2024-06-06T08:17:19.210Z", "segmentCount": 1, "direction": "out", "to": sent.get("to"),
                "from": sent.get("from"), "text": sent.get("text", ""), "tag": sent.get("tag", "")}  # fmt: skip
        return web.json_response(answer, status=202)

    async def _sinch(self, request: web.Request, body: bytes) -> web.Response:
        if not self._authorized(request, "Bearer"):
            return web.json_response({"code": "unauthorized", "text": "Unauthorized"}, status=401)
        status = self._next_status("sinch", 201)
        if status != 201:
            code = {429: "too_many_requests"}.get(status, "internal_error")
            return web.json_response({"code": code, "text": "Please retry later"}, status=status)
        sent = self._json_body(body)
        batch_id = await self._issue("sinch", "01FC66621XXXXX{n:012d}")
        answer = {"id": batch_id, "to": sent.get("to"), "from": sent.get("from"), "canceled": False,
                "body": sent.get("body", ""), "type": "mt_text", "created_at": "2024-06-06T08:17:19.210Z",
                "delivery_report": sent.get("delivery_report", "none"),
                "client_reference": sent.get("client_reference", "")}  # fmt: skip
        return web.json_response(answer, status=201)
