"""Typed application state (``web.AppKey``): no string keys, no warnings."""

from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.service import ConversationService

__all__ = ["CONFIG", "SERVICE"]

CONFIG = web.AppKey("config", Config)
SERVICE = web.AppKey("service", ConversationService)
