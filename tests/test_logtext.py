"""The text log formatter: the same lines as logging.Formatter, with the date worked out once a second."""

from __future__ import annotations

import logging
import time

import pytest

from bot.logtext import TEXT_FORMAT, TextFormatter


def record(created: float, message: str = "hello %s", args: tuple[object, ...] = ("world",)) -> logging.LogRecord:
    rec = logging.LogRecord("textdesk.conversation", logging.INFO, __file__, 1, message, args, None)
    rec.created = created
    rec.msecs = (created - int(created)) * 1000
    return rec


# Times around second, minute, day and year boundaries, out of order and repeated,
# so a stale cached date would show in one of them.
TIMES = [
    1_796_000_000.0, 1_796_000_000.999, 1_796_000_001.0, 1_796_000_000.5, 1_796_000_059.999,
    1_796_000_060.001, 1_798_761_599.999, 1_798_761_600.0, 1_798_761_599.5, 0.25, 86_399.999,
    86_400.0, 1_796_000_001.0,
]


@pytest.mark.parametrize("created", [-0.5, -1.0, -1.5, 0.0])
def test_the_first_line_is_formatted_whatever_its_second(created: float) -> None:
    """Seconds around the epoch, each as a fresh formatter's first record (the cache starts empty)."""
    assert TextFormatter().format(record(created)) == logging.Formatter(TEXT_FORMAT).format(record(created))


def test_lines_equal_logging_formatters() -> None:
    ours, reference = TextFormatter(), logging.Formatter(TEXT_FORMAT)
    for created in TIMES:
        assert ours.format(record(created)) == reference.format(record(created))


@pytest.mark.parametrize("zone", ["UTC0", "EST5EDT,M3.2.0,M11.1.0", "NZST-12NZDT,M9.5.0,M4.1.0/3"])
def test_local_time_changes_are_kept(zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Across a daylight-saving change the date jumps by an hour at a whole second, as logging's does."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        ours, reference = TextFormatter(), logging.Formatter(TEXT_FORMAT)
        # 2026-03-08 07:00 UTC is 02:00 EST -> 03:00 EDT; 2026-04-04 14:00 UTC is NZDT -> NZST.
        for start in (1_772_953_200.0, 1_775_311_200.0):
            for offset in (-1.001, -0.5, -0.001, 0.0, 0.001, 0.999, 1.0, -1.0):
                created = start + offset
                assert ours.format(record(created)) == reference.format(record(created)), (zone, created)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_an_explicit_date_format_is_honoured() -> None:
    ours = TextFormatter("%(asctime)s %(message)s")
    ours.datefmt = "%H:%M"
    assert ours.format(record(1_796_000_000.0, "x", ())) == logging.Formatter(
        "%(asctime)s %(message)s", "%H:%M").format(record(1_796_000_000.0, "x", ()))
