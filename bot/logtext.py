"""Text log lines (the default ``--log-format text``): ``time level logger: message``.

Every handled message logs a line, so the formatter is on the hot path, and
``logging.Formatter`` turns the record's time into a date with ``localtime``
and ``strftime`` for every line: about a fifth of the line's cost. Lines
within one second share that date, so it is worked out once per second; the
result is exactly ``logging.Formatter``'s (``tests/test_logtext.py``
compares them).
"""

from __future__ import annotations

import logging
import time

__all__ = ["TEXT_FORMAT", "TextFormatter"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    """``logging.Formatter(TEXT_FORMAT)`` with the date formatted once per second."""

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)
        # (whole second, its formatted date): one tuple, so a formatter shared
        # by two handlers (each emits under its own lock) never pairs a second
        # with another second's date; None before the first record, which no
        # real second equals.
        self._cached: tuple[int | None, str] = (None, "")

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
