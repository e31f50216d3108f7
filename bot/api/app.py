"""Mounting the API under ``/api`` (only when API tokens are configured).

The API is an aiohttp sub-application with its own middlewares (API errors,
then bearer authentication), so nothing about it touches the webhooks. Its
broadcast feeder starts after the outbox and stops before it (cleanup_ctx
order), like the outbox relative to the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from bot.api.auth import bearer_auth
from bot.api.broadcasts import get_broadcast, post_broadcast
from bot.api.conversations import post_conversation
from bot.api.errors import api_errors
from bot.api.feeder import BroadcastFeeder
from bot.api.keys import FEEDER, VERIFIER
from bot.api.openapi import OPENAPI
from bot.api.subscribers import add_subscribers, list_subscribers, remove_subscriber
from bot.api.verifications import check_verification, post_verification
from bot.api.verify import Verifier
from bot.web.keys import CONFIG, OUTBOX, SERVICE

__all__ = ["mount_api", "openapi"]


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def mount_api(app: web.Application, tokens: Sequence[str], verifier: Verifier | None = None) -> None:
    """Add ``/api`` to ``app``; call after the outbox's cleanup context is registered."""
    api = web.Application(middlewares=[api_errors, bearer_auth(tokens)])
    api.router.add_post("/conversations", post_conversation)
    api.router.add_post("/broadcasts", post_broadcast)
    api.router.add_get("/broadcasts/{id}", get_broadcast)
    api.router.add_get("/audiences/{audience}/subscribers", list_subscribers)
    api.router.add_post("/audiences/{audience}/subscribers", add_subscribers)
    api.router.add_delete("/audiences/{audience}/subscribers/{number}", remove_subscriber)
    api.router.add_post("/verifications", post_verification)
    api.router.add_post("/verifications/check", check_verification)
    api.router.add_get("/openapi.json", openapi)
    app.add_subapp("/api", api)
    app[VERIFIER] = verifier or Verifier()

    async def feeder_lifetime(app: web.Application) -> AsyncIterator[None]:
        app[FEEDER] = BroadcastFeeder(app[SERVICE], app[OUTBOX].limiter)
        stop = asyncio.Event()
        task = asyncio.create_task(app[FEEDER].run(stop)) if app[CONFIG].outbox_worker else None
        yield
        stop.set()
        if task is not None:
            await task

    app.cleanup_ctx.append(feeder_lifetime)
