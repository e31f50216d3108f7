"""Typed application state of the API (set on the main app, read via ``config_dict``)."""

from __future__ import annotations

from aiohttp import web

from bot.api.feeder import BroadcastFeeder
from bot.api.verify import Verifier

__all__ = ["FEEDER", "VERIFIER"]

FEEDER = web.AppKey("broadcast_feeder", BroadcastFeeder)
VERIFIER = web.AppKey("verifier", Verifier)
