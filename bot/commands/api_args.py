"""What ``send``, ``broadcast`` and ``subscribers`` check before their first request.

Not a subcommand: the three API commands share it. ``bot.api.client`` takes
its inputs as given; a server URL urllib cannot parse, a token that is not a
valid header value, or a CSV file that is not UTF-8 text made it raise
``ValueError`` (a traceback). Here each becomes a ``ClientError`` with
``code="usage"``: one line naming the setting or file, and exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

from bot.api.client import ApiClient, ClientError, client_from_args
from bot.api.csvnumbers import read_numbers_at
from bot.config import is_base_url

__all__ = ["checked_client", "located", "nonblank", "numbers_from_arguments", "numbers_from_csv"]

# The field the server names a refused entry of a request's list by.
_ENTRY = re.compile(r"numbers\[([0-9]{1,9})\]")

# The sender settings (bot.api.client.add_sender_arguments): the attribute,
# the flag, what it should be, and what leaving it out means. The client
# drops empty ones, so ``--from "$NUMBER"`` of an unset variable quietly sent
# from another number.
_SENDER = (
    ("flow", "--flow", "a flow's name", "for the flow answering --from"),
    ("sender", "--from", "a business number", "for the flow's own"),
    ("channel", "--channel", "a carrier's name", "for the only one"),
    ("region", "--region", "a country code like US", "when numbers start with +"),
)


def nonblank(value: str | None, flag: str, what: str, unset: str) -> None:
    """Refuse a given but blank ``value``: leaving the flag out means ``unset``, and blank is no choice of it."""
    if value is not None and not value.strip():
        raise ClientError(f"{flag} should be {what}, got '{value}'; leave it out {unset}", code="usage")


def checked_client(args: argparse.Namespace) -> ApiClient:
    """``client_from_args`` once ``--url``, the token and the sender settings are usable."""
    for name, flag, what, unset in _SENDER:
        nonblank(getattr(args, name, None), flag, what, unset)
    url = str(args.url).strip()
    base = is_base_url(url.rstrip("/"))
    why = _unsendable(url) if base or not url.isascii() else ""  # is_base_url takes ASCII only
    if not base or why:
        raise ClientError(f"--url (TEXTDESK_API_URL) should be the server's base URL like http://127.0.0.1:8080, "
                          f"got '{args.url}'" + (f": {why}" if why else ""), code="usage")
    # Tokens often come from files or .env lines that keep a newline or a CR.
    token = str(args.api_token).strip()
    # The server's rule for its tokens (bot.config): printable ASCII without spaces.
    if token and not all("!" <= ch <= "~" for ch in token):
        raise ClientError("TEXTDESK_API_TOKEN should be one of the server's API tokens, in printable ASCII "
                          "without spaces",
                          code="usage")
    return client_from_args(argparse.Namespace(**{**vars(args), "url": url, "api_token": token}))


def _unsendable(url: str) -> str:
    """Why urllib cannot send to a base URL that is well formed ("" when it can).

    A path outside ASCII and a host name IDNA refuses made urllib raise (a
    traceback); a ``user:password@`` is read by it as part of the host name.
    """
    parts = urlsplit(url)
    odd = next((ch for ch in parts.path if not ch.isascii()), "")
    if odd:
        return f"its path has '{odd}': write a character outside ASCII percent-encoded ({quote(odd)})"
    if "@" in parts.netloc:
        return "it holds a user name or password, which the commands never send (the token comes from " \
               "TEXTDESK_API_TOKEN)"
    try:
        (parts.hostname or "").encode("idna")
    except UnicodeError:
        return "its host is no valid host name (a part longer than 63 characters?)"
    return ""


def numbers_from_arguments(numbers: Sequence[str]) -> list[tuple[str, str]]:
    """Numbers typed as arguments, each with where it was given (for ``located``)."""
    return [(number, f"NUMBER {i} ('{number}' on the command line)") for i, number in enumerate(numbers, 1)]


def located(exc: ClientError, origins: Sequence[str], offset: int = 0) -> ClientError:
    """A refusal naming ``numbers[i]`` of a request, renamed by where that number came from.

    ``origins[offset + i]`` is the i-th number of the request: ``FILE:LINE`` for a CSV
    row, which an editor can jump to; the request's index means nothing in the file.
    """
    field = exc.extra.get("field")
    entry = _ENTRY.fullmatch(field) if isinstance(field, str) else None
    if entry is None or not 0 <= offset + int(entry[1]) < len(origins):
        return exc
    message = str(exc).replace(f"'{field}'", origins[offset + int(entry[1])], 1)
    return ClientError(message, exc.code, exc.status, exc.extra)


def numbers_from_csv(path: str) -> list[tuple[str, str]]:
    """The numbers of a CSV file, each with its ``FILE:LINE``; a file that is not a CSV of text refused by name."""
    try:
        return [(number, f"{path}:{line}") for number, line in read_numbers_at(path)]
    except FileNotFoundError as exc:
        raise ClientError(f"{path}: no such file", code="usage") from exc
    except IsADirectoryError as exc:
        raise ClientError(f"{path}: is a folder; give the CSV file", code="usage") from exc
    except UnicodeDecodeError as exc:
        raise ClientError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save it as 'CSV UTF-8'",
                          code="usage") from exc
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KiB: not a list of numbers
        raise ClientError(f"{Path(path)}: not a CSV file of phone numbers ({exc})", code="usage") from exc
