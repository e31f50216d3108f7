"""Writing what commands print, whatever the terminal's encoding.

A Windows console, or a redirect in a locale that is not UTF-8, cannot encode
an emoji: ``print`` then raised UnicodeEncodeError, a traceback for a flow
that is fine. Messages fall back to escapes (``\\U0001f6b2``); files a command
writes to stdout (a diagram, a CSV) are UTF-8 whatever the terminal, since
that is how Graphviz, Mermaid and spreadsheets read them.
"""

from __future__ import annotations

import codecs
import io
import sys

__all__ = ["tolerate_encodings", "write_utf8"]


def tolerate_encodings() -> None:
    """Characters stdout or stderr cannot encode are written as escapes instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def write_utf8(text: str) -> None:
    """``text`` on stdout as UTF-8: a document (diagram, CSV) read by programs, not a message."""
    stream = sys.stdout
    if stream is None:  # stdout closed (``>&-``): nowhere to write, as print() does
        return
    buffer = getattr(stream, "buffer", None)
    if buffer is None or _is_utf8(stream.encoding):
        stream.write(text)
        return
    stream.flush()  # whatever was printed before comes first
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _is_utf8(encoding: str | None) -> bool:
    try:
        return codecs.lookup(encoding or "ascii").name == "utf-8"
    except LookupError:
        return False
