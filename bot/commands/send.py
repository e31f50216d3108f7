"""``textdesk send NUMBER [--state STATE] [--var NAME=VALUE ...]``: start a flow for one customer.

Through the running server's API (``POST /api/conversations``): the
conversation is put at ``--state`` (default: the flow's start) with the
variables, and what that state says is texted through the outbox. An
opted-out number is refused. Exit codes: 0 queued, 1 refused or server
unreachable, 2 bad arguments or no API token.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from bot.api.client import (
    ClientError,
    add_client_arguments,
    add_sender_arguments,
    guarded,
    parse_variables,
    sender_fields,
)
from bot.commands.api_args import checked_client, nonblank

__all__ = ["register", "run"]


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "send", help="start a flow for one customer (its first reply is texted)",
        description="Start (or restart) a flow at a state for one number, through the server's API.",
    )
    parser.add_argument("number", metavar="NUMBER", help="the customer, e.g. +15555550123")
    parser.add_argument("--state", metavar="STATE", help="the state to start at (default: the flow's start)")
    parser.add_argument("--var", action="append", metavar="NAME=VALUE", help="a variable for the flow (repeatable)")
    add_sender_arguments(parser)
    add_client_arguments(parser, env)
    parser.set_defaults(handler=lambda args: guarded("send", run, args))


def run(args: argparse.Namespace) -> int:
    if not args.number.strip():
        raise ClientError(f"NUMBER should be the customer's phone number, like +15555550123, got '{args.number}'",
                          code="usage")
    # A blank --state was dropped: the customer got the start state instead.
    nonblank(args.state, "--state", "a state of the flow", "for the flow's start")
    client = checked_client(args)
    body: dict[str, object] = {"to": args.number, **sender_fields(args)}
    if args.state is not None:
        body["state"] = args.state
    variables = parse_variables(args.var)
    if variables:
        body["variables"] = variables
    answer = client.post("/api/conversations", body)
    conversation = answer["conversation"]
    print(f"{conversation['to']}: flow {conversation['flow']} at {conversation['state']}, "
          f"from {conversation['from']} via {conversation['channel']}")
    for message in answer["messages"]:
        media = f"  [+{len(message['media'])} media]" if message["media"] else ""
        print(f"  queued: {message['text']}{media}")
    if not answer["messages"]:
        print("  (the state says nothing; the conversation waits for the customer)")
    return 0
