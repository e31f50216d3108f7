"""JSON-lines logs (``--log-format json``): one object per line for log shippers.

Fields: time, level, logger, message, plus everything a caller put in
``extra={"event": {...}}`` (the per-message line carries the conversation id,
states before and after, FAQ and score, reply segments and latency). Phone
numbers are masked by the callers, and whatever number is left in the line
(a request path, a carrier's error message) is masked here (``bot.logmask``).
JSON escapes line breaks and C0 controls itself; what it leaves raw but
``str.splitlines()`` and terminals still act on (NEL and the other C1
controls, DEL, the line and paragraph separators, bidirectional overrides) is
written as a ``\\uXXXX`` escape here, the characters ``bot.logtext`` escapes,
so no field can forge a line or repaint the operator's terminal.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.logmask import mask_numbers

__all__ = ["JsonFormatter"]

# bot.logtext's unsafe characters that json.dumps leaves as they are (it
# escapes those below U+0020), each as a JSON escape.
_UNSAFE = [*range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {c: f"\\u{c:04x}" for c in _UNSAFE}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event = getattr(record, "event", None)
        if isinstance(event, dict):
            data.update(event)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        line = json.dumps(data, ensure_ascii=False, default=str)
        if not line.isprintable():  # one C pass, true for almost every line
            line = line.translate(_ESCAPES)
        return mask_numbers(line)
