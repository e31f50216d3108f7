"""Typed application state (``web.AppKey``): no string keys, no warnings."""

from __future__ import annotations

from aiohttp import web

from bot.carriers.registry import Carriers
from bot.config import Config
from bot.outbox import Outbox
from bot.reload import FlowReloader
from bot.service import ConversationService

__all__ = ["CARRIERS", "CONFIG", "OUTBOX", "RELOADER", "SERVICE"]

CONFIG = web.AppKey("config", Config)
SERVICE = web.AppKey("service", ConversationService)
CARRIERS = web.AppKey("carriers", Carriers)
OUTBOX = web.AppKey("outbox", Outbox)
RELOADER = web.AppKey("reloader", FlowReloader)
