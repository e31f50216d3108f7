"""``textdesk subscribers list|add|remove AUDIENCE``: manage an audience through the API.

``add`` needs ``--source``: where the customers gave consent (a web form, a
sign-up sheet), which the consent ledger keeps as proof. Opted-out numbers are
reported and not added; only the customer can opt back in (START).
Exit codes: 0 done, 1 refused or server unreachable, 2 bad arguments.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from bot.api.client import (
    SUBSCRIBERS_PER_REQUEST,
    ApiClient,
    ClientError,
    add_client_arguments,
    add_sender_arguments,
    guarded,
    quote_number,
    sender_fields,
)
from bot.commands.api_args import checked_client, located, numbers_from_arguments, numbers_from_csv

__all__ = ["register"]


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "subscribers", help="list, add or remove an audience's subscribers",
        description="Manage an audience (customers also join by texting the flow's keyword, e.g. JOIN).",
    )
    actions = parser.add_subparsers(dest="subscribers_action", metavar="ACTION", required=True)
    lister = actions.add_parser("list", help="print the current subscribers")
    adder = actions.add_parser("add", help="subscribe numbers whose consent you collected")
    remover = actions.add_parser("remove", help="unsubscribe numbers")
    for sub in (lister, adder, remover):
        sub.add_argument("audience", metavar="AUDIENCE")
    adder.add_argument("numbers", nargs="*", metavar="NUMBER")
    adder.add_argument("--csv", metavar="FILE.csv", help="read the numbers from a CSV file")
    adder.add_argument("--source", required=True, help="where they consented, e.g. 'web form /deals'")
    remover.add_argument("numbers", nargs="+", metavar="NUMBER")
    for sub, run in ((lister, _list), (adder, _add), (remover, _remove)):
        add_sender_arguments(sub, channel=False)
        add_client_arguments(sub, env)
        sub.set_defaults(handler=lambda args, run=run: guarded("subscribers", _checked(run), args))


def _checked(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run`` once AUDIENCE and every NUMBER are given (not blank).

    A blank one (``"$LIST"`` of an unset variable) made a request to
    ``/api/audiences//subscribers`` or to the audience itself, answered as "no such path".
    """
    def checked(args: argparse.Namespace) -> int:
        if not args.audience.strip():
            raise ClientError(f"AUDIENCE should be an audience's name, like deals, got '{args.audience}'",
                              code="usage")
        for number in getattr(args, "numbers", []):
            if not number.strip():
                raise ClientError(f"NUMBER should be a phone number, like +15555550123, got '{number}'", code="usage")
        return run(args)

    return checked


def _path(args: argparse.Namespace) -> str:
    # Quoted: an audience name with a space, '/' or '?' is one path segment, not a broken URL.
    return f"/api/audiences/{quote(args.audience, safe='')}/subscribers"


def _list(args: argparse.Namespace) -> int:
    client: ApiClient = checked_client(args)
    after, count = "", 0
    while True:
        query = urlencode({**sender_fields(args), "limit": "1000", **({"after": after} if after else {})})
        page = client.get(f"{_path(args)}?{query}")
        for subscriber in page["subscribers"]:
            print(f"{subscriber['number']}\t{subscriber['subscribed_at']}\t{subscriber['source']}")
        count += len(page["subscribers"])
        if not page["next"]:
            break
        after = page["next"]
    print(f"{count} subscriber{'s' if count != 1 else ''} of {args.audience}")
    return 0


def _add(args: argparse.Namespace) -> int:
    given = numbers_from_arguments(args.numbers) + (numbers_from_csv(args.csv) if args.csv else [])
    numbers = [number for number, _ in given]
    if not numbers:
        raise ClientError("give numbers, or --csv FILE.csv", code="usage")
    client = checked_client(args)
    totals = {"subscribed": 0, "already_subscribed": 0, "opted_out": 0}
    # The server takes SUBSCRIBERS_PER_REQUEST numbers a request; a longer list (a big CSV)
    # goes in several. Each is safe to repeat: a number added before is 'already subscribed'.
    for start in range(0, len(numbers), SUBSCRIBERS_PER_REQUEST):
        batch = numbers[start:start + SUBSCRIBERS_PER_REQUEST]
        try:
            answer = client.post(_path(args), {"numbers": batch, "source": args.source, **sender_fields(args)})
        except ClientError as exc:
            raise located(exc, [origin for _, origin in given], start) from exc
        for result in answer["results"]:
            if result["status"] == "opted_out":
                print(f"{result['number']}: opted out (texted STOP); not added")
        for name in totals:
            totals[name] += answer[name]
    print(f"{totals['subscribed']} subscribed, {totals['already_subscribed']} already subscribed, "
          f"{totals['opted_out']} opted out, to {answer['audience']} on {answer['from']}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    client = checked_client(args)
    query = urlencode(sender_fields(args))
    missing = 0
    for number in args.numbers:
        try:
            answer = client.delete(f"{_path(args)}/{quote_number(number)}" + (f"?{query}" if query else ""))
            if answer["removed"] is not True:  # the API's answer says so (not some other server's 200)
                raise KeyError("removed")
            print(f"{number}: removed")
        except ClientError as exc:
            if exc.code != "not_found":
                raise
            missing += 1
            # Its STOP ended the subscription (the server removed nothing): say so, or the
            # operator would look for a typo in the number.
            print(f"{number}: was not subscribed" + (": it opted out (texted STOP)"
                                                      if exc.extra.get("opted_out") is True else ""))
    return 1 if missing == len(args.numbers) else 0
