"""What API handlers need from the main application (the API is a sub-app)."""

from __future__ import annotations

from aiohttp import web

from bot.api.errors import ApiError
from bot.carriers.registry import Carriers
from bot.config import Config
from bot.service import ConversationService
from bot.web.hosts import valid_host
from bot.web.keys import CARRIERS, CONFIG, SERVICE

__all__ = ["carriers", "client_ip", "config", "media_base", "service"]

def service(request: web.Request) -> ConversationService:
    return request.config_dict[SERVICE]


def carriers(request: web.Request) -> Carriers:
    return request.config_dict[CARRIERS]


def config(request: web.Request) -> Config:
    return request.config_dict[CONFIG]


def media_base(request: web.Request) -> str:
    """The public URL of the media folder, stored with queued messages (sent away from any request).

    Without ``--public-url`` it comes from the Host header, as the client wrote it.
    Read through ``request.url``, a port out of range raised (a 500), an IPv6 address
    lost its brackets and a '/' or '?' in the header made links that lead nowhere:
    the header must be a host name or address with an optional port, or it is refused.
    """
    base = config(request).public_url
    if base:
        return base + "/media"
    host = request.headers.get("Host", "")
    if not valid_host(host):
        shown = host if len(host) <= 100 else host[:100] + "..."
        raise ApiError("invalid_field", f"the Host header should be the server's name or address (and port) as "
                       f"clients reach it, like sms.example.com or 127.0.0.1:8080, got {shown!r}; media links are "
                       "built from it (or set --public-url)", field="Host")
    return f"{request.scheme}://{host.lower()}/media"


def client_ip(request: web.Request) -> str:
    """The peer's address. Behind a proxy every client shares the proxy's address,
    so per-IP limits then apply to all clients together (fail safe, never open)."""
    return request.remote or "unknown"
