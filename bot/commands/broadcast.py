"""``textdesk broadcast (FILE.csv | --audience NAME) (--text TEXT | --state STATE)``.

Creates a broadcast through the running server's API and follows it with a
progress bar until every recipient is decided (``--no-wait`` returns at once).
Only numbers with a recorded opt-in (subscribed to an audience) are texted;
the server paces the sends and resumes them after a restart, so stopping this
command stops nothing: run ``textdesk broadcast --status ID`` to look again. A broadcast the server
holds back (its flow state removed since) ends the command with why: it would never finish. Exit
codes: 0 done (or queued with ``--no-wait``), 1 refused, held back or server unreachable, 2 bad
arguments.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import quote

from bot.api.client import (
    ApiClient,
    ClientError,
    add_client_arguments,
    add_sender_arguments,
    guarded,
    parse_variables,
    sender_fields,
)
from bot.commands.api_args import checked_client, located, numbers_from_csv

__all__ = ["follow", "progress_line", "register", "run"]

_KEY = re.compile(r"[\x20-\x7e]{1,200}")


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "broadcast", help="text one message (or start a flow) for opted-in numbers, with progress",
        description="Broadcast to the numbers of a CSV file or to an audience. Numbers without a recorded "
        "opt-in (a subscription to one of the business number's audiences), and opted-out numbers, are "
        "skipped and counted.",
    )
    parser.add_argument("csv", nargs="?", metavar="FILE.csv", help="numbers, one per row (the column headed "
                        "number, phone, mobile..., else the one of phone numbers; ',' ';' or tab separated)")
    parser.add_argument("--audience", metavar="NAME", help="send to this audience's subscribers instead")
    parser.add_argument("--status", metavar="ID", help="follow an existing broadcast instead of creating one")
    parser.add_argument("--text", help="the message (Reply STOP to opt out. is added unless it says STOP)")
    parser.add_argument("--media", action="append", metavar="NAME|URL", help="a media file or https URL")
    parser.add_argument("--state", metavar="STATE", help="start the flow at this state instead of --text")
    parser.add_argument("--var", action="append", metavar="NAME=VALUE", help="a variable for --state")
    parser.add_argument("--key", metavar="KEY", help="idempotency key: re-running with it never sends twice")
    parser.add_argument("--no-wait", action="store_true", help="return once the broadcast is queued")
    parser.add_argument("--interval", type=_positive_seconds, default=2.0, help=argparse.SUPPRESS)  # poll seconds
    add_sender_arguments(parser)
    add_client_arguments(parser, env)
    parser.set_defaults(handler=lambda args: guarded("broadcast", run, args))


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:  # also NaN
        raise argparse.ArgumentTypeError(f"should be seconds from 0 to 3600, got '{value}'")
    return seconds


def run(args: argparse.Namespace) -> int:
    client = checked_client(args)
    for name in ("text", "state", "audience", "key", "status"):
        # An empty value would be dropped as not given: "--text ''" would send
        # nothing, "--key ''" would lose the protection against sending twice.
        value = getattr(args, name)
        if value is not None and not value.strip():
            raise ClientError(f"--{name} is empty; give a value or leave the option out", code="usage")
    if args.key is not None and not _KEY.fullmatch(args.key):
        # The server's rule for the Idempotency-Key header (bot.api.broadcasts); urllib
        # raised on a key that is no header value at all (a line break, a '€').
        raise ClientError(f"--key should be at most 200 visible ASCII characters (letters, digits, punctuation; "
                          f"a UUID, say), got {args.key!r}", code="usage")
    if args.status:
        if args.csv or args.audience or args.text or args.state:
            raise ClientError("--status follows an existing broadcast: give no FILE.csv, --audience, --text "
                              "or --state with it", code="usage")
        return follow(client, args.status, args.interval, sys.stderr)
    if bool(args.csv) == bool(args.audience):
        raise ClientError("give a CSV file of numbers or --audience NAME (one of them)", code="usage")
    body: dict[str, Any] = {**sender_fields(args)}
    rows: list[tuple[str, str]] = []
    if args.csv:
        rows = numbers_from_csv(args.csv)
        body["numbers"] = [number for number, _ in rows]
        if not body["numbers"]:
            raise ClientError(f"{args.csv}: no numbers found", code="usage")
    else:
        body["audience"] = args.audience
    for name in ("text", "state"):
        if getattr(args, name):
            body[name] = getattr(args, name)
    if args.media:
        body["media"] = args.media
    variables = parse_variables(args.var)
    if variables:
        body["variables"] = variables
    try:
        answer = client.post("/api/broadcasts", body, {"Idempotency-Key": args.key} if args.key else None)
    except ClientError as exc:
        raise located(exc, [origin for _, origin in rows]) from exc
    counts = answer["counts"]
    print(f"broadcast {answer['id']}: {counts['total']} recipients, from {answer['from']} via {answer['channel']}")
    if args.no_wait:
        print(f"follow it with: textdesk broadcast --status {answer['id']}")
        return 0
    return follow(client, answer["id"], args.interval, sys.stderr)


def follow(client: ApiClient, broadcast_id: str, interval: float, out: TextIO) -> int:
    """Poll until done, drawing the progress bar on ``out`` (redrawn in place on a terminal)."""
    try:
        return _follow(client, broadcast_id, interval, out)
    except KeyboardInterrupt:
        # Ctrl-C ends the watching only; "interrupted" alone read as if the sending stopped too.
        print(f"\ntextdesk broadcast: stopped following; broadcast {broadcast_id} goes on at the server (this "
              f"command never stops it); look again with: textdesk broadcast --status {broadcast_id}",
              file=sys.stderr)
        return 130
    except ClientError as exc:
        if exc.code or exc.status:  # an answer (a refusal), not a lost server
            raise
        # The server restarting under a long broadcast: the sending resumes with it.
        raise ClientError(f"{exc}; a broadcast it accepted goes on there (this command never stops it): look again "
                          f"with: textdesk broadcast --status {broadcast_id}") from exc


def _follow(client: ApiClient, broadcast_id: str, interval: float, out: TextIO) -> int:
    tty = out.isatty()
    last = ""
    while True:
        answer = client.get(f"/api/broadcasts/{quote(broadcast_id, safe='')}")  # --status is typed by hand
        line = progress_line(answer["counts"])
        if line != last:
            out.write(("\r" + line) if tty else (line + "\n"))
            out.flush()
            last = line
        if answer["status"] == "done":
            if tty:
                out.write("\n")
            c = answer["counts"]
            print(f"done: {c['sent'] + c['delivered']} sent ({c['delivered']} delivered), {c['failed']} failed, "
                  f"{c['skipped_opted_out']} opted out, {c['skipped_no_consent']} without opt-in")
            return 0
        if answer["status"] == "waiting":
            # Polling on would never end: nothing more is sent until someone mends the flow.
            if tty:
                out.write("\n")
            out.write(f"textdesk broadcast: error: broadcast {broadcast_id} is waiting: {answer['waiting']}; "
                      f"look again with: textdesk broadcast --status {broadcast_id}\n")
            out.flush()
            return 1
        time.sleep(interval)


def progress_line(counts: Mapping[str, int], width: int = 30) -> str:
    """``[#########.....]  45%  450/1000  sent 400  failed 2  skipped 48`` (decided recipients)."""
    total = counts["total"]
    decided = total - counts["pending"] - counts["queued"]
    filled = width * decided // total if total else width
    percent = 100 * decided // total if total else 100
    skipped = counts["skipped_opted_out"] + counts["skipped_no_consent"]
    return (f"[{'#' * filled}{'.' * (width - filled)}] {percent:3d}%  {decided}/{total}  "
            f"sent {counts['sent'] + counts['delivered']}  failed {counts['failed']}  skipped {skipped}")
