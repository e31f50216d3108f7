"""The aiohttp application: routes, limits, and the store's lifetime.

``create_app`` takes its collaborators (flows, store, clock) as arguments so
tests can run the real app on loopback with a real SQLite file and a virtual
clock; ``bot.cli`` builds the production ones.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.flows import FlowSet
from bot.service import ConversationService
from bot.store import Store, StoreError
from bot.web.errors import error_middleware, json_error
from bot.web.keys import CONFIG, SERVICE
from bot.web.twilio import twilio_webhook

__all__ = ["create_app"]

log = logging.getLogger("textdesk.web")


def create_app(config: Config, flows: FlowSet, store: Store, clock: Clock | None = None) -> web.Application:
    # client_max_size: a body over the limit is refused with 413 before it is
    # read whole; real carrier webhooks are a few kilobytes.
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[error_middleware])
    app[CONFIG] = config
    app[SERVICE] = ConversationService(flows, store, clock or SystemClock())

    async def store_lifetime(app: web.Application) -> AsyncIterator[None]:
        await store.open()
        yield
        await store.close()

    app.cleanup_ctx.append(store_lifetime)
    app.router.add_post("/webhooks/twilio", twilio_webhook)
    app.router.add_get("/healthz", healthz)
    if config.media_dir.is_dir():
        # add_static refuses paths outside the folder (no "..", no symlinks out).
        app.router.add_static("/media", config.media_dir, show_index=False, follow_symlinks=False)
    return app


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    try:
        await service.store.ping()
    except StoreError as exc:
        return json_error(503, "storage_unavailable", f"database not reachable: {exc}")
    flows = sorted(flow.name for flow in service.flows)
    return web.json_response({"status": "ok", "flows": flows, "database": "ok"})
