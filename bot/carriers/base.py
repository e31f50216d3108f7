"""What every carrier adapter shares: the error for a request we must refuse."""

from __future__ import annotations

__all__ = ["WebhookError"]


class WebhookError(Exception):
    """A webhook request we refuse, with the HTTP status and a clear reason.

    ``code`` is machine-readable (``missing_field``, ``bad_signature``, ...);
    ``message`` says what was wrong and what was expected.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
