"""Webhook throughput and latency: textdesk vs a bare aiohttp app, one load generator.

Both servers get the same requests from the same generator in one run:

- (a) ``bench.bare_app``: parses the form, answers 200 with a TwiML reply;
- (b) textdesk: ``python run.py`` on the bundled example flow with signature
  checks on (``TWILIO_AUTH_TOKEN`` and ``--public-url`` set) and its SQLite
  store in a file on disk, exactly as an operator starts it (INFO logging).

Each server is its own process pinned to one core (``taskset -c 0``); ``wrk``
runs on the other core (``taskset -c 1``, one thread). Requests: N distinct
MessageSids from many customers, with realistic texts (menu numbers,
keywords, FAQ questions with typos and shorthand, order numbers, small talk),
signed with the official Twilio SDK beforehand and written as raw HTTP
requests that ``bench/wrk_requests.lua`` cycles through; runs against
textdesk never repeat a MessageSid (each starts where the last stopped).

Runs (each ``--duration`` seconds; both servers stay up on the same core and
only one is loaded at a time, so noise from other work falls on both alike):
1. full speed (closed loop, ``--connections``), alternating bare / textdesk
   for ``--rounds`` rounds: requests/s and p50/p99 latency; the medians and
   the median of the per-round ratios textdesk / bare;
2. fixed rate (a ``delay()`` schedule in the Lua script, wrk2 not being
   available): both servers at half the bare app's maximum, and both at half
   textdesk's. A server that cannot keep up shows a lower achieved rate than
   asked, and its latency is then queueing.

``--server floor`` runs ``bench.floor_app`` in textdesk's place (same
requests, same checks): the least any server on this stack must do per
webhook, to tell the stack's cost from textdesk's.

Run: ``python3 -m bench.webhook [--duration 10] [--json PATH] [--profile]``
(needs ``wrk``: ``apt-get install wrk``; ``--profile`` needs ``py-spy``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from bench.corpus import retail_faqs, roughen
from bench.report import table

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk_requests.lua"
TOKEN = "bench-auth-token-0123456789"
BUSINESS = "+15555550100"
PATH = "/webhooks/twilio"


QUESTION = "\0faq:"  # a pool entry standing for "a roughened phrasing of FAQ n"


def texts(rng: random.Random) -> list[str]:
    """A pool of customer texts, repeated in proportion to how often they are sent."""
    faqs = retail_faqs()
    pool: list[str] = []
    pool += [str(n) for n in range(1, 6)] * 40  # menu numbers
    pool += ["MENU", "menu", "Agent", "HOURS", "order", "demo", "2", "3"] * 12  # keywords
    # Questions are placeholders, roughened afresh for every request: texts that
    # repeat exactly would flatter textdesk's FAQ memo (real customers do repeat
    # "hours" and "1", which the menu numbers and keywords above stand for).
    pool += [QUESTION + str(i) for i, f in enumerate(faqs) for _ in range(12)]  # questions, typos
    pool += [f"AC-{rng.randrange(10**6):06d}" for _ in range(20)] + [f"my order is ac {rng.randrange(10**6):06d}"] * 5
    pool += ["hi", "hello", "hey there", "thanks!", "ok", "lol", "who is this", "HELP"] * 5  # small talk
    return pool


def build_requests(count: int, customers: int, port: int, seed: int) -> tuple[list[bytes], Counter[str]]:
    """``count`` raw signed HTTP requests for a textdesk at ``port``; and what they say, by kind."""
    rng = random.Random(seed)
    pool = texts(rng)
    faqs = retail_faqs()
    validator = RequestValidator(TOKEN)
    url = f"http://127.0.0.1:{port}{PATH}"
    out: list[bytes] = []
    kinds: Counter[str] = Counter()
    for n in range(count):
        text = rng.choice(pool)
        if text.startswith(QUESTION):
            text = roughen(rng.choice(faqs[int(text[len(QUESTION):])].phrasings), rng)
        kinds["menu number" if text.isdigit() else "keyword" if text.isupper() or text in ("menu", "order", "demo")
              else "order number" if "ac" in text.lower().replace("acme", "") and any(c.isdigit() for c in text)
              else "question or chat"] += 1
        params = {
            "MessageSid": f"SM{seed:04x}{n:028x}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"+1555{rng.randrange(customers):07d}",
            "To": BUSINESS,
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        body = urlencode(params).encode()
        signature = validator.compute_signature(url, params)
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out, kinds


class Server:
    """A server process pinned to a core, stopped with SIGINT (a clean aiohttp shutdown)."""

    def __init__(self, name: str, command: list[str], port: int, core: int, log: Path, env: dict[str, str]) -> None:
        self.name, self.port, self.log = name, port, log
        self.output = log.open("wb")
        self.process = subprocess.Popen(["taskset", "-c", str(core), *command], cwd=ROOT, env=env,
                                        stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not start; see {log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()


def wrk(port: int, data: Path, offset: int, rate: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """One wrk run; its done() numbers plus requests/s."""
    report = work / f"wrk-{port}-{offset}-{rate}.json"
    script = work / f"wrk-{port}-{offset}-{rate}.lua"
    script.write_text(
        LUA.read_text()
        .replace("@DATA@", str(data)).replace("@OFFSET@", str(offset))
        .replace("@RATE@", str(rate)).replace("@REPORT@", str(report))
    )
    command = ["taskset", "-c", str(args.client_core), "wrk", "-t1", f"-c{args.connections}",
               f"-d{args.duration}s", "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}{PATH}"]
    subprocess.run(command, check=True, capture_output=True)
    result: dict[str, Any] = json.loads(report.read_text())
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6))
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return result


def check_textdesk(port: int) -> None:
    """A signed request is answered with TwiML; a wrongly signed one is refused (checks are on)."""
    url = f"http://127.0.0.1:{port}{PATH}"
    params = {"MessageSid": "SM" + "f" * 32, "From": "+15550009999", "To": BUSINESS, "Body": "wat r ur hrs?",
              "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    for sig, expected in ((signature, 200), ("bad" + signature, 403)):
        request = urllib.request.Request(url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": sig})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read().decode()
        if status != expected or (expected == 200 and "<Response>" not in body):
            raise RuntimeError(f"textdesk answered {status} (wanted {expected}): {body[:200]}")


def profile(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["py-spy", "record", "-p", str(pid), "-d", str(seconds), "-r", "250", "-f", "raw",
                             "-o", str(out), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_profile(raw: Path, top: int = 25) -> list[tuple[str, float, float]]:
    """(function, inclusive %, self %) from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/")[-1] + ")"
                  for f in stack.split(";") if f]
        for frame in set(frames):
            inclusive[frame] += samples
        if frames:
            own[frames[-1]] += samples
    return [(f, 100 * n / total, 100 * own[f] / total) for f, n in inclusive.most_common(top)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating full-speed rounds per server")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--requests", type=int, default=200_000,
                        help="distinct signed requests to prepare (a run that needs more is reported invalid)")
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--textdesk-args", default="", help="extra flags for run.py, e.g. '--log-level WARNING'")
    parser.add_argument("--server", choices=("textdesk", "floor"), default="textdesk",
                        help="floor: bench.floor_app (the stack's least work per webhook) in textdesk's place")
    parser.add_argument("--profile", action="store_true", help="one more full-speed textdesk run under py-spy")
    parser.add_argument("--keep", type=Path, help="keep the work files (requests, database, logs) here")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="textdesk-webhook-"))
    work.mkdir(parents=True, exist_ok=True)
    bare_port, textdesk_port = 18081, 18082
    started = time.perf_counter()
    requests, kinds = build_requests(args.requests, args.customers, textdesk_port, args.seed)
    data = work / "requests.bin"
    data.write_bytes(b"\0".join(requests) + b"\0")
    print(f"{len(requests)} signed requests in {time.perf_counter() - started:.1f}s: {dict(kinds)}", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    runs: list[dict[str, Any]] = []

    def record(server: str, mode: str, result: dict[str, Any], asked: int = 0) -> dict[str, Any]:
        row = {"server": server, "mode": mode, "asked_rps": asked or "", **result,
               "p50_ms": result["p50_us"] / 1e3, "p99_ms": result["p99_us"] / 1e3}
        runs.append(row)
        print(f"{server:9} {mode:22} {row['rps']:7} req/s  p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms"
              f"  non-2xx {row['status_errors']}  errors {row['errors']}", flush=True)
        return row

    db = work / "textdesk.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    server = ["-m", "bench.floor_app"] if args.server == "floor" else ["run.py"]
    command = [sys.executable, *server, "--port", str(textdesk_port), "--db", str(db),
               "--public-url", f"http://127.0.0.1:{textdesk_port}", *args.textdesk_args.split()]
    # Both servers stay up, pinned to the same core; only one is loaded at a
    # time, alternating, so that noise from other work on the machine falls
    # on both alike.
    bare = Server("bare", [sys.executable, "-m", "bench.bare_app", "--port", str(bare_port)], bare_port,
                  args.server_core, work / "bare.log", env)
    textdesk = None
    offset = 0
    try:
        textdesk = Server("textdesk", command, textdesk_port, args.server_core, work / "textdesk.log",
                          {**env, "TWILIO_AUTH_TOKEN": TOKEN})
        check_textdesk(textdesk_port)

        def run_textdesk(mode: str, rate: int) -> dict[str, Any]:
            nonlocal offset
            result = wrk(textdesk_port, data, offset, rate, args, work)
            offset += result["requests"] + args.connections  # the last ones in flight count too
            return record("textdesk", mode, result, rate)

        bare_max: list[dict[str, Any]] = []
        textdesk_max: list[dict[str, Any]] = []
        bare_half: list[dict[str, Any]] = []
        textdesk_half: list[dict[str, Any]] = []
        for round_ in range(1, args.rounds + 1):
            bare_max.append(record("bare", f"max, round {round_}", wrk(bare_port, data, 0, 0, args, work)))
            textdesk_max.append(run_textdesk(f"max, round {round_}", 0))
        half_bare = int(median(r["rps"] for r in bare_max)) // 2
        half_textdesk = int(median(r["rps"] for r in textdesk_max)) // 2
        record("bare", "fixed: half bare max", wrk(bare_port, data, 0, half_bare, args, work), half_bare)
        run_textdesk("fixed: half bare max", half_bare)
        # p99 is what noise moves most: alternate these rounds too, compare per round.
        for round_ in range(1, args.rounds + 1):
            mode = f"fixed: half textdesk max, round {round_}"
            bare_half.append(record("bare", mode, wrk(bare_port, data, 0, half_textdesk, args, work), half_textdesk))
            textdesk_half.append(run_textdesk(mode, half_textdesk))
        if args.profile:
            spy = profile(textdesk.process.pid, args.duration, work / "textdesk.pyspy.txt")
            run_textdesk("max, under py-spy", 0)
            spy.wait(timeout=60)
    finally:
        bare.stop()
        if textdesk is not None:
            textdesk.stop()
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM inbound").fetchone()[0]
    wrapped = offset > len(requests)

    print()
    print(table(runs, [("server", "server"), ("mode", "run"), ("asked_rps", "asked req/s"), ("rps", "req/s"),
                       ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("status_errors", "non-2xx"),
                       ("errors", "socket errors")]))
    ratios = [t["rps"] / b["rps"] for b, t in zip(bare_max, textdesk_max, strict=True)]
    p99_ratios = [t["p99_ms"] / b["p99_ms"] for b, t in zip(bare_half, textdesk_half, strict=True)]
    summary = {
        "bare_max_rps": median(r["rps"] for r in bare_max),
        "textdesk_max_rps": median(r["rps"] for r in textdesk_max),
        "ratio_rps": round(median(ratios), 4),
        "ratio_rps_rounds": [round(r, 4) for r in ratios],
        "bare_max_p50_ms": median(r["p50_ms"] for r in bare_max),
        "bare_max_p99_ms": median(r["p99_ms"] for r in bare_max),
        "textdesk_max_p50_ms": median(r["p50_ms"] for r in textdesk_max),
        "textdesk_max_p99_ms": median(r["p99_ms"] for r in textdesk_max),
        "half_textdesk_rps": half_textdesk,
        "bare_half_p99_ms": median(r["p99_ms"] for r in bare_half),
        "textdesk_half_p99_ms": median(r["p99_ms"] for r in textdesk_half),
        "ratio_p99_half": round(median(p99_ratios), 2),
        "ratio_p99_half_rounds": [round(r, 2) for r in p99_ratios],
    }
    print(f"\nmedians of {args.rounds} alternating rounds at full speed ({args.connections} connections):")
    print(f"  bare     {summary['bare_max_rps']:8.0f} req/s  p50 {summary['bare_max_p50_ms']:.2f} ms"
          f"  p99 {summary['bare_max_p99_ms']:.2f} ms")
    print(f"  textdesk {summary['textdesk_max_rps']:8.0f} req/s  p50 {summary['textdesk_max_p50_ms']:.2f} ms"
          f"  p99 {summary['textdesk_max_p99_ms']:.2f} ms")
    print(f"  textdesk / bare: {summary['ratio_rps']:.3f} (rounds: {summary['ratio_rps_rounds']})")
    print(f"at half textdesk's maximum ({half_textdesk} req/s), medians of {args.rounds} alternating rounds:")
    print(f"  p99 bare {summary['bare_half_p99_ms']:.2f} ms, textdesk {summary['textdesk_half_p99_ms']:.2f} ms;"
          f" textdesk / bare: {summary['ratio_p99_half']:.1f}x (rounds: {summary['ratio_p99_half_rounds']})")
    print(f"turns stored by textdesk: {stored} (distinct MessageSids sent: {min(offset, len(requests))}"
          f"{', WRAPPED: some were repeats' if wrapped else ''})")
    if wrapped:
        # Repeated MessageSids are carrier retries: textdesk answers them from
        # the stored turn without running the flow, which flatters it.
        print(f"INVALID: textdesk was sent {offset} requests but only {len(requests)} were prepared, so some "
              f"were repeats; run again with --requests {2 * offset}")
    top = []
    if args.profile:
        top = summarize_profile(work / "textdesk.pyspy.txt")
        print("\ntextdesk under py-spy (share of samples; inclusive, self):")
        for name, inclusive, own in top:
            print(f"  {inclusive:5.1f}% {own:5.1f}%  {name}")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "webhook", **summary, "runs": runs,
                                         "stored_turns": stored, "texts": dict(kinds), "profile": top,
                                         "valid": not wrapped,
                                         "work": str(work)}, indent=2))
    return 1 if wrapped else 0


if __name__ == "__main__":
    raise SystemExit(main())
