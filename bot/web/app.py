"""The aiohttp application: routes, limits, and the store's lifetime.

``create_app`` takes its collaborators (flows, store, clock) as arguments so
tests can run the real app on loopback with a real SQLite file and a virtual
clock; ``bot.cli`` builds the production ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import web

from bot.api import mount_api
from bot.carriers.base import Carrier
from bot.carriers.registry import Carriers, carriers_from_env
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.flood import FloodGate
from bot.flows import FlowSet
from bot.outbox import Outbox, RateLimiter
from bot.reload import FlowReloader
from bot.replies import media_file
from bot.service import ConversationService, carried_media, mms_by_prefix
from bot.store import Store, StoreError
from bot.web.errors import error_middleware, json_error
from bot.web.keys import CARRIERS, CONFIG, OUTBOX, RELOADER, SERVICE
from bot.web.webhooks import inbound_webhook, status_webhook

__all__ = [
    "DB_FILE", "configured_carriers", "create_app", "db_file", "expect_continue", "healthz", "media", "metrics",
    "readyz", "save_versions",
]

log = logging.getLogger("textdesk.web")

# (device, inode) of the database file the store opened; absent for a store
# with no file (":memory:", another backend).
DB_FILE = web.AppKey("db_file", tuple)


def configured_carriers(config: Config) -> Carriers:
    """The carriers the environment sets up, with the Twilio token as ``config`` read it.

    Raises ``ValueError`` for a carrier whose secret is set but whose other settings are wrong.
    """
    env = {**os.environ, "TWILIO_AUTH_TOKEN": config.twilio_auth_token}
    return carriers_from_env(env, config.insecure_dev)


def create_app(
    config: Config,
    flows: FlowSet,
    store: Store,
    clock: Clock | None = None,
    carriers: Mapping[str, Carrier] | None = None,
) -> web.Application:
    """The application; ``carriers`` defaults to those configured in the environment."""
    # client_max_size: a body over the limit is refused with 413 before it is
    # read whole; real carrier webhooks are a few kilobytes.
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[error_middleware])
    clock = clock or SystemClock()
    app[CONFIG] = config
    if carriers is None:
        carriers = configured_carriers(config)
    app[CARRIERS] = Carriers(carriers)
    app[SERVICE] = ConversationService(
        flows,
        store,
        clock,
        carried_media(mms_by_prefix(config.mms_prefixes), carriers),
        flood=FloodGate(config.flood_burst, config.flood_window),
    )

    async def store_lifetime(app: web.Application) -> AsyncIterator[None]:
        await store.open()
        if (opened := db_file(store)) is not None:
            app[DB_FILE] = opened
        await save_versions(store, flows, clock.now())
        yield
        await store.close()

    async def outbox_lifetime(app: web.Application) -> AsyncIterator[None]:
        # Started after the store (cleanup_ctx order) and stopped before it, so
        # the worker never writes to a closed database.
        async with aiohttp.ClientSession() as http:
            app[OUTBOX] = Outbox(
                store,
                carriers,
                clock,
                http,
                RateLimiter(config.send_rates),
                max_age=config.outbox_max_age,
                metrics=app[SERVICE].metrics,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(app[OUTBOX].run(stop)) if config.outbox_worker else None
            yield
            stop.set()
            if task is not None:
                await task

    async def reload_lifetime(app: web.Application) -> AsyncIterator[None]:
        app[RELOADER] = FlowReloader(app[SERVICE], config.flows_dir)
        stop = asyncio.Event()
        task = asyncio.create_task(app[RELOADER].run(stop, config.reload_interval)) if config.reload_interval else None
        yield
        stop.set()
        if task is not None:
            await task

    app.cleanup_ctx.append(store_lifetime)
    app.cleanup_ctx.append(outbox_lifetime)
    app.cleanup_ctx.append(reload_lifetime)
    if config.api_tokens:
        # The business-initiated API exists only when tokens are configured.
        mount_api(app, config.api_tokens)
    # Carriers call with POST, and Twilio, Plivo and the Vonage SMS API also
    # with GET: any other method (a signed PUT, a HEAD with a body) is a 405
    # from the router, never a message handled. No HEAD: it is not a webhook.
    # A trailing slash, as an operator may paste the URL into a carrier's
    # console, is the same webhook: a 404 there would lose every message. The
    # signature still covers the URL as called (bot.web.webhooks uses the raw path).
    # One resource per path with both methods, POST first and the webhook first:
    # a route per (method, path) made aiohttp try five resources for every
    # inbound POST (2% of a webhook's instructions, bench/README.md).
    for path, handler in (("/webhooks/{carrier}", inbound_webhook), ("/webhooks/{carrier}/status", status_webhook)):
        for slash in ("", "/"):
            resource = app.router.add_resource(path + slash)
            for method in ("POST", "GET"):
                resource.add_route(method, handler, expect_handler=expect_continue)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/media/{name:.+}", media)
    return app


async def expect_continue(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue`` answered before the body is sent (RFC 9110 §10.1.1).

    aiohttp's default says "100 Continue" to any size, and only refuses once the
    body over ``client_max_size`` has come in: a client that asked first would
    upload megabytes for a 413. A declared length over the limit is refused now;
    a body without one (chunked) is still bounded while it is read. Runs before
    the middlewares, so it answers in the same JSON as they do.
    """
    if request.version < (1, 1):
        return None  # Expect is HTTP/1.1's; an HTTP/1.0 client sends its body regardless
    if request.headers.get("Expect", "").lower() != "100-continue":
        return json_error(417, "expectation_failed", "the only expectation served is 100-continue")
    limit = request.app[CONFIG].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        answer = json_error(413, "body_too_large", f"the request body is larger than the limit of {limit} bytes")
        answer.force_close()  # the body may follow anyway; it is not read
        return answer
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # as aiohttp's own handler: the real answer starts now
    return None


async def save_versions(store: Store, flows: FlowSet, now: float) -> None:
    for flow in flows:
        await store.save_flow_version(flow.name, flow.version, flow.path, flow.source, now)


def db_file(store: Store) -> tuple[int, int] | None:
    """(device, inode) of the store's database file now; None when it has none or it is gone."""
    path = getattr(store, "path", None)  # SQLite's; another backend may have no file
    if not isinstance(path, str) or path == ":memory:":
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


async def media(request: web.Request) -> web.StreamResponse:
    """A file of the flows' media folder, for carriers fetching MMS media.

    The path is resolved and must stay inside the folder (no ``..``, no
    symlink out). FileResponse sets Content-Type from the extension (carriers
    reject a mismatch), Content-Length, ETag and Last-Modified and answers HEAD
    and ranges; media rarely change, so carriers and CDNs may cache for a day.
    """
    root = request.app[CONFIG].media_dir.resolve()
    name = request.match_info["name"]
    target = media_file(root, name)
    if target is None:
        return json_error(404, "not_found", f"no media file '{name}'")
    return _MediaResponse(target, headers={"Cache-Control": _CACHED})


_CACHED = "public, max-age=86400"


class _MediaResponse(web.FileResponse):
    """A media file whose refusals are not cached.

    FileResponse decides its status only once it prepares (416 for a range past
    the end, 412 for a failed precondition), keeping the headers it was given:
    the day of public caching would then let a CDN or a carrier's fetcher keep
    "no such range" for the file. Every status it sets passes through here.
    """

    def set_status(self, status: int, reason: str | None = None) -> None:
        super().set_status(status, reason)
        if status >= 400:
            self.headers["Cache-Control"] = "no-store"


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    try:
        await service.store.ping()
    except StoreError as exc:
        return json_error(503, "storage_unavailable", f"database not reachable: {exc}")
    flows = sorted(flow.name for flow in service.flows)
    return web.json_response({"status": "ok", "flows": flows, "database": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: flows loaded, database writable, outbox worker running."""
    service = request.app[SERVICE]
    problems: list[str] = []
    try:
        await service.store.ping_write()
    except StoreError as exc:
        problems.append(f"database not writable: {exc}")
    # SQLite keeps writing to the file it opened after that file is deleted or
    # replaced (a cleanup job, a restore, a volume mounted over it), and every
    # turn acknowledged from then on is gone at the next start.
    opened = request.app.get(DB_FILE)
    if opened is not None and db_file(service.store) != opened:
        path = getattr(service.store, "path", "")
        problems.append(f"database file {path} was removed or replaced since start; restart to open it again")
    outbox = request.app.get(OUTBOX)
    if request.app[CONFIG].outbox_worker and (outbox is None or not outbox.running):
        problems.append("outbox worker not running")
    if not list(service.flows):
        problems.append("no flows loaded")
    if problems:
        return json_error(503, "not_ready", "; ".join(problems))
    return web.json_response({"status": "ready", "flows": sorted(f.name for f in service.flows)})


async def metrics(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    # On a database fault the gauge keeps its last value; /readyz reports the fault.
    with contextlib.suppress(StoreError):
        service.metrics.outbox_depth.set(await service.store.outbox_depth())
    hops = getattr(service.store, "hops", None)  # SQLite's group commit; another backend may have none
    if hops is not None:
        service.metrics.store_batches.set(hops.batches)
        service.metrics.store_writes.set(hops.batched_writes)
    return web.Response(body=service.metrics.render(), content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})
