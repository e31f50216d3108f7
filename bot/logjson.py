"""JSON-lines logs (``--log-format json``): one object per line for log shippers.

Fields: time, level, logger, message, plus everything a caller put in
``extra={"event": {...}}`` (the per-message line carries the conversation id,
states before and after, FAQ and score, reply segments and latency). Phone
numbers are masked by the callers, and whatever number is left in the line
(a request path, a carrier's error message) is masked here (``bot.logmask``).
JSON escapes line breaks and control characters itself, so no field can
forge a line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.logmask import mask_numbers

__all__ = ["JsonFormatter"]


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
        return mask_numbers(json.dumps(data, ensure_ascii=False, default=str))
