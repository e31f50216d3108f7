"""Text log lines (the default ``--log-format text``): ``time level logger: message``.

Every handled message logs a line, so the formatter is on the hot path, and
``logging.Formatter`` turns the record's time into a date with ``localtime``
and ``strftime`` for every line: about a fifth of the line's cost. Lines
within one second share that date, so it is worked out once per second; the
result is exactly ``logging.Formatter``'s (``tests/test_logtext.py``
compares them) for every message of printable characters.

A line is one record: a message with a line break, a carriage return or a
terminal escape in it (a request path, a carrier's field) would otherwise
write a line of the attacker's choosing or repaint the operator's terminal,
so those characters are written escaped (``\\n``, ``\\x1b``). Phone numbers
left in the line are masked (``bot.logmask``).
"""

from __future__ import annotations

import logging
import time

from bot.logmask import mask_numbers

__all__ = ["TEXT_FORMAT", "TextFormatter"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# C0 and C1 controls, DEL, the Unicode line and paragraph separators (line
# breaks to many viewers) and the bidirectional overrides (they reorder what a
# terminal shows), each as its Python escape.
_UNSAFE = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {c: ascii(chr(c))[1:-1] for c in _UNSAFE}


class TextFormatter(logging.Formatter):
    """``logging.Formatter(TEXT_FORMAT)`` with the date formatted once per second."""

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)
        self._plain = fmt == TEXT_FORMAT  # the format ``format`` writes directly
        # (whole second, its formatted date): one tuple, so a formatter shared
        # by two handlers (each emits under its own lock) never pairs a second
        # with another second's date; None before the first record, which no
        # real second equals.
        self._cached: tuple[int | None, str] = (None, "")

    def formatMessage(self, record: logging.LogRecord) -> str:
        # isprintable() is one C pass and true for almost every line; the
        # record's own message is set again by each handler's format().
        if not record.message.isprintable():
            record.message = record.message.translate(_ESCAPES)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        if not self._plain or record.exc_info or record.exc_text or record.stack_info:
            return mask_numbers(super().format(record))
        # The per-message line: ``logging.Formatter.format`` and the methods
        # it calls (usesTime, formatMessage, the style's format against the
        # record's whole __dict__) in one step, the same line, the same
        # attributes left on the record. With serve's handler: about 14k of
        # the line's 95k instructions (callgrind, bench/README.md sixth pass).
        message = record.getMessage()
        if not message.isprintable():
            message = message.translate(_ESCAPES)
        record.message = message
        record.asctime = asctime = self.formatTime(record)
        return mask_numbers(f"{asctime} {record.levelname} {record.name}: {message}")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        # Local time changes (DST, a new day) only on a whole second, so one
        # second's records share the date; msecs is per record, as logging has it.
        second = int(record.created // 1)
        cached_second, date = self._cached
        if second != cached_second:
            date = time.strftime(self.default_time_format, self.converter(record.created))
            self._cached = (second, date)
        msec_format = self.default_msec_format
        return msec_format % (date, record.msecs) if msec_format else date
