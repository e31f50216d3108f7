"""A small synchronous client of the API, for the ``send``, ``broadcast`` and
``subscribers`` commands (operators without HTTP tooling).

The commands talk to a running server over HTTP rather than writing to its
database: one code path validates numbers and decides consent, the server's
outbox paces every send, and the commands work against a remote server too.
The token is read from the environment only (``TEXTDESK_API_TOKEN``, else the
first of ``TEXTDESK_API_TOKENS``), never from a flag that ``ps`` would show.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = [
    "SUBSCRIBERS_PER_REQUEST",
    "ApiClient",
    "ClientError",
    "add_client_arguments",
    "add_sender_arguments",
    "client_from_args",
    "guarded",
    "parse_variables",
    "quote_number",
    "sender_fields",
]

# The most numbers one POST /api/audiences/{a}/subscribers takes (bot.api.subscribers);
# ``textdesk subscribers add`` sends a longer list in requests of this many.
SUBSCRIBERS_PER_REQUEST = 10_000


class ClientError(Exception):
    """The request failed: an API refusal (``code`` set) or no answer at all."""

    def __init__(self, message: str, code: str = "", status: int = 0, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = dict(extra or {})  # the error object's other fields (field, opted_out, retry_after...)


def add_client_arguments(parser: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
    parser.add_argument("--url", default=env.get("TEXTDESK_API_URL", "http://127.0.0.1:8080"),
                        help="the textdesk server [TEXTDESK_API_URL]")
    parser.set_defaults(api_token=env.get("TEXTDESK_API_TOKEN", "")
                        or env.get("TEXTDESK_API_TOKENS", "").split(",")[0].strip())


def client_from_args(args: argparse.Namespace) -> ApiClient:
    if not args.api_token:
        raise ClientError("set TEXTDESK_API_TOKEN (or TEXTDESK_API_TOKENS) to one of the server's API tokens",
                          code="usage")
    return ApiClient(str(args.url).rstrip("/"), str(args.api_token))


def quote_number(number: str) -> str:
    return quote(number, safe="")


@dataclass(frozen=True, slots=True)
class ApiClient:
    url: str
    token: str
    timeout: float = 30.0

    def call(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json", **(headers or {}),
            **({"Content-Type": "application/json"} if data is not None else {}),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"cannot reach the textdesk server at {self.url}: {reason}") from exc
        try:
            answer = json.loads(raw)
        except ValueError:  # not JSON (an HTML page), or not UTF-8
            answer = None
        if not isinstance(answer, dict):  # every answer of the API is a JSON object
            raise ClientError(f"{self.url} answered {status} with something other than the textdesk API's JSON; "
                              "is --url (TEXTDESK_API_URL) the textdesk server?", status=status)
        return answer

    def _refusal(self, exc: urllib.error.HTTPError) -> ClientError:
        """The API's ``{"error": {"code", "message"}}``, or what another server (a proxy) said."""
        try:
            error = json.loads(exc.read())["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError, OSError):
            code = message = None
        if not isinstance(code, str) or not isinstance(message, str):
            return ClientError(f"{self.url} answered {exc.code} {exc.reason}", status=exc.code)
        others = {key: value for key, value in error.items() if key not in ("code", "message")}
        return ClientError(f"{code}: {message}", code, exc.code, others)

    def post(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        return self.call("POST", path, body, headers)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)


def add_sender_arguments(parser: argparse.ArgumentParser, channel: bool = True) -> None:
    parser.add_argument("--flow", metavar="NAME", help="the flow (default: the one answering --from)")
    parser.add_argument("--from", dest="sender", metavar="NUMBER", help="business number (default: the flow's)")
    if channel:
        parser.add_argument("--channel", metavar="CARRIER", help="carrier to send with (default: the only one)")
    parser.add_argument("--region", metavar="CC", help="country of numbers written without +, e.g. US")


def sender_fields(args: argparse.Namespace) -> dict[str, str]:
    fields = {"flow": args.flow, "from": args.sender, "channel": getattr(args, "channel", None),
              "region": args.region}
    return {key: value for key, value in fields.items() if value}


def parse_variables(items: list[str] | None) -> dict[str, str]:
    """``["name=Ann", "order=42"]`` -> ``{"name": "Ann", "order": "42"}``."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ClientError(f"--var should be NAME=VALUE, got '{item}'", code="usage")
        out[name] = value
    return out


def guarded(command: str, run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; a refusal or an unreachable server ends as one line on stderr."""
    try:
        return run(args)
    except ClientError as exc:
        print(f"textdesk {command}: error: {exc}", file=sys.stderr)
        return 2 if exc.code == "usage" else 1
    except (KeyError, TypeError, IndexError) as exc:  # a 2xx JSON object without what the API answers
        print(f"textdesk {command}: error: {getattr(args, 'url', 'the server')} answered without the fields the "
              f"textdesk API gives ({type(exc).__name__}: {exc}); is --url (TEXTDESK_API_URL) the textdesk server?",
              file=sys.stderr)
        return 1
    except OSError as exc:  # a CSV file that cannot be read
        print(f"textdesk {command}: error: {exc}", file=sys.stderr)
        return 2
