"""What API handlers need from the main application (the API is a sub-app)."""

from __future__ import annotations

from aiohttp import web

from bot.carriers.registry import Carriers
from bot.config import Config
from bot.service import ConversationService
from bot.store.api_store import ApiStoreMixin
from bot.store.api_store import api_store as as_api_store
from bot.web.keys import CARRIERS, CONFIG, SERVICE

__all__ = ["api_store", "carriers", "client_ip", "config", "media_base", "service"]


def service(request: web.Request) -> ConversationService:
    return request.config_dict[SERVICE]


def api_store(request: web.Request) -> ApiStoreMixin:
    """The store, with the API's operations the ``Store`` interface does not declare."""
    return as_api_store(service(request).store)


def carriers(request: web.Request) -> Carriers:
    return request.config_dict[CARRIERS]


def config(request: web.Request) -> Config:
    return request.config_dict[CONFIG]


def media_base(request: web.Request) -> str:
    """The public URL of the media folder, stored with queued messages (sent away from any request)."""
    base = config(request).public_url
    if not base:
        port = request.url.port
        shown = f":{port}" if port and not request.url.is_default_port() else ""
        base = f"{request.url.scheme}://{request.url.raw_host}{shown}"
    return base + "/media"


def client_ip(request: web.Request) -> str:
    """The peer's address. Behind a proxy every client shares the proxy's address,
    so per-IP limits then apply to all clients together (fail safe, never open)."""
    return request.remote or "unknown"
