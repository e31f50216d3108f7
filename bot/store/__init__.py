"""Conversation storage behind one interface."""

from bot.store.base import (
    ConsentChange,
    ConsentEvent,
    LoggedMessage,
    OutboxItem,
    ProcessedTurn,
    ReceiptOutcome,
    Store,
    StoreError,
)
from bot.store.sqlite import SQLiteStore

__all__ = [
    "ConsentChange",
    "ConsentEvent",
    "LoggedMessage",
    "OutboxItem",
    "ProcessedTurn",
    "ReceiptOutcome",
    "SQLiteStore",
    "Store",
    "StoreError",
]
