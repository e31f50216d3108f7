"""Main-thread CPU per inbound Twilio webhook, measured in-process.

``bench.webhook`` measures throughput with wrk against pinned server processes;
this one answers a narrower question cheaply and without disturbing other
runs: how much CPU does the server's main thread (the event loop) spend per
webhook request? It builds the app exactly as ``textdesk serve`` does (the
bundled flows, signature checks on with ``--public-url``, a SQLite file, INFO
logging through a StreamHandler into a file, aiohttp's access log on), serves
it on loopback with ``web.AppRunner`` like ``web.run_app``, and sends the same
pre-signed requests as ``bench.webhook`` (``build_requests``: menu numbers,
keywords, typo'd FAQ questions, order numbers, small talk, HELP) from raw
keep-alive sockets in the same event loop.

The number reported is ``time.thread_time()`` of the main thread over the
measured requests, divided by their count. It includes the tiny raw-socket
client (a few microseconds a request: ``--bare`` measures the same client
against ``bench.bare_app``'s handler for reference) but not aiosqlite's worker
thread. It also reports ``time.process_time()`` per request: every thread of
the process (SQLite's too), user and system time, which is what throughput
pays when the server has one core. Every repetition starts from an empty
database with the same requests, so repetitions and code versions see the same
work.

Run: ``python3 -m bench.hotpath [--reps 5] [--requests 3000] [--profile N]``;
``--dump FILE`` writes every response body and log line (minus timings) for
comparing two code versions (use ``--connections 1`` for a deterministic order).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.webhook import TOKEN, build_requests

ROOT = Path(__file__).resolve().parent.parent
SIGNED_PORT = 18082  # the port the requests were signed for: --public-url says it, whatever we listen on


def configure_logging(path: Path, log_format: str) -> logging.StreamHandler[Any]:
    """What ``textdesk serve`` sets up, with the stream going to a file (as under a supervisor)."""
    from bot.commands import serve
    from bot.config import Config

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    stream = path.open("a", encoding="utf-8")
    if hasattr(serve, "configure_logging"):
        serve.configure_logging(Config(log_format=log_format), stream)
    else:  # an older tree: serve configured logging inline, like this
        from bot.logjson import JsonFormatter

        handler: logging.StreamHandler[Any] = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter() if log_format == "json" else
                             logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.INFO, handlers=[handler])
        logging.getLogger("transitions").setLevel(logging.WARNING)
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    return handler


def memory_store(path: Path) -> Any:
    """A SQLiteStore whose per-turn calls are dicts in memory: the CPU of everything but the store.

    Only what a Twilio webhook turn uses is replaced (load_turn, commit_turn,
    subscribe); it keeps the same semantics (one claim per message id,
    sessions, consent) so conversations move on as with the real store.
    """
    from bot.store import SQLiteStore
    from bot.store.base import ProcessedTurn, TurnState

    class MemoryStore(SQLiteStore):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            self.claims: dict[tuple[str, str], ProcessedTurn] = {}
            self.sessions: dict[tuple[str, str, str], Any] = {}
            self.opted_out: dict[tuple[str, str], bool] = {}

        async def load_turn(self, message: Any) -> TurnState:
            key = (message.channel, message.customer, message.business)
            return TurnState(self.claims.get((message.channel, message.provider_id)),
                             self.opted_out.get((message.customer, message.business), False),
                             self.sessions.get(key))

        async def commit_turn(self, message: Any, session: Any, replies: Any, decision: str, now: float, *,
                              kind: str = "flow", consent: Any = None, forget_session: bool = False,
                              queue: bool = False) -> bool:
            claim = (message.channel, message.provider_id)
            if claim in self.claims:
                return False
            self.claims[claim] = ProcessedTurn(replies, kind)
            key = (message.channel, message.customer, message.business)
            if forget_session:
                self.sessions.pop(key, None)
            elif session is not None:
                self.sessions[key] = session
            if consent is not None:
                self.opted_out[(message.customer, message.business)] = consent.event == "opt_out"
            return True

        async def subscribe(self, *args: Any, **kwargs: Any) -> str:
            return "subscribed"

    return MemoryStore(path)


def build_app(work: Path, bare: bool, store_kind: str = "sqlite") -> tuple[web.Application, dict[str, Any]]:
    if bare:
        from bench.bare_app import twilio

        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/webhooks/twilio", twilio)
        return app, {"access_log": None}
    from bot.carriers.twilio import TwilioCarrier
    from bot.config import Config
    from bot.flows import load_flows
    from bot.store import SQLiteStore
    from bot.web.app import create_app

    config = Config(
        flows_dir=ROOT / "flows",
        db_path=work / "textdesk.db",
        public_url=f"http://127.0.0.1:{SIGNED_PORT}",
        twilio_auth_token=TOKEN,
        reload_interval=0,  # no file polling during the measurement
    )
    flows = load_flows(config.flows_dir)
    store = memory_store(config.db_path) if store_kind == "memory" else SQLiteStore(config.db_path)
    app = create_app(config, flows, store, carriers={"twilio": TwilioCarrier(TOKEN)})
    # Whatever serve gives web.run_app for the access log (older trees: aiohttp's default, on).
    from bot.commands import serve

    if hasattr(serve, "access_log"):
        return app, {"access_log": serve.access_log(config)}
    return app, {}


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


async def client(port: int, requests: list[bytes], connections: int, bodies: list[bytes] | None) -> list[int]:
    """Send every request over ``connections`` keep-alive sockets; return the status codes."""
    statuses = [0] * len(requests)
    next_index = iter(range(len(requests)))

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for index in next_index:
                writer.write(requests[index])
                head = await reader.readuntil(b"\r\n\r\n")
                match = _CONTENT_LENGTH.search(head)
                body = await reader.readexactly(int(match.group(1)) if match else 0)
                statuses[index] = int(head[9:12])
                if bodies is not None:
                    bodies[index] = body
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return statuses


async def one_run(args: argparse.Namespace, requests: list[bytes], warmup: list[bytes],
                  profiler: cProfile.Profile | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="textdesk-hotpath-") as tmp:
        work = Path(tmp)
        log_path = work / "textdesk.log"
        handler = configure_logging(log_path, args.log_format)
        app, runner_kwargs = build_app(work, args.bare, args.store)
        runner = web.AppRunner(app, **runner_kwargs)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            await client(port, warmup, args.connections, None)
            bodies: list[bytes] | None = [b""] * len(requests) if args.dump else None
            if profiler is not None:
                profiler.enable()
            cpu, process, wall = time.thread_time(), time.process_time(), time.perf_counter()
            times = os.times()
            statuses = await client(port, requests, args.connections, bodies)
            cpu, process, wall = (time.thread_time() - cpu, time.process_time() - process,
                                  time.perf_counter() - wall)
            system = os.times().system - times.system
            if profiler is not None:
                profiler.disable()
        finally:
            await runner.cleanup()
            handler.flush()
        bad = [s for s in statuses if s != 200]
        if bad:
            raise SystemExit(f"{len(bad)} requests were not answered 200: {sorted(set(bad))}")
        if args.dump:
            assert bodies is not None
            write_dump(args.dump, bodies, log_path)
    return {"cpu_us": cpu / len(requests) * 1e6, "process_us": process / len(requests) * 1e6,
            "system_us": system / len(requests) * 1e6,
            "wall_s": wall, "requests": len(requests)}


def write_dump(path: Path, bodies: list[bytes], log_path: Path) -> None:
    """Responses and log lines without the parts that change from run to run (time, latency)."""
    lines = [b.decode() for b in bodies]
    for line in log_path.read_text().splitlines():
        if "aiohttp.access" in line or "textdesk.conversation" in line or '"logger"' in line:
            line = re.sub(r'"latency_ms": [0-9.e-]+', '"latency_ms": _', line)
            line = re.sub(r'"time": "[^"]+"', '"time": _', line)
            line = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ", "", line)
            line = re.sub(r"\[\d\d/\w+/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]", "[_]", line)
            line = re.sub(r" \d+\.\d+ \"-\"", ' _ "-"', line)  # access log request time %Tf
            lines.append(line)
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per repetition")
    parser.add_argument("--warmup", type=int, default=300, help="requests before each measurement")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite",
                        help="memory: replace the per-turn store calls by dicts, to see everything else")
    parser.add_argument("--bare", action="store_true", help="measure bench.bare_app's handler instead")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the top N functions (tottime)")
    parser.add_argument("--dump", type=Path, help="write responses and log lines here (last repetition)")
    parser.add_argument("--json", action="store_true", help="one JSON line of results")
    args = parser.parse_args(argv)
    everything, _ = build_requests(args.warmup + args.requests, args.customers, SIGNED_PORT, args.seed)
    # The warm-up uses other customers' numbers' requests too; both come from one seeded list.
    warmup, requests = everything[: args.warmup], everything[args.warmup:]
    profiler = cProfile.Profile() if args.profile else None
    runs = [asyncio.run(one_run(args, requests, warmup, profiler)) for _ in range(args.reps)]
    cpu = [r["cpu_us"] for r in runs]
    process = [r["process_us"] for r in runs]
    system = [r["system_us"] for r in runs]
    summary = {"median_cpu_us": statistics.median(cpu), "cpu_us": [round(c, 1) for c in cpu],
               "median_process_us": statistics.median(process), "process_us": [round(c, 1) for c in process],
               "median_system_us": statistics.median(system), "system_us": [round(c, 1) for c in system],
               "wall_s": [round(r["wall_s"], 2) for r in runs], "bare": args.bare,
               "store": args.store, "log_format": args.log_format}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"main-thread CPU per request: median {summary['median_cpu_us']:.1f} us over {args.reps} reps "
              f"of {args.requests}: {summary['cpu_us']} (wall {summary['wall_s']} s)")
        print(f"whole-process CPU per request (all threads, user + system): median "
              f"{summary['median_process_us']:.1f} us: {summary['process_us']}; of it in the kernel "
              f"(system time): median {summary['median_system_us']:.1f} us: {summary['system_us']}")
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(args.profile)
        if os.environ.get("HOTPATH_CALLERS"):
            stats.print_callers(os.environ["HOTPATH_CALLERS"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
