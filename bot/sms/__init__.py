"""SMS text arithmetic: encodings, segment counts, smart encoding and reply splitting.

Pure functions only (no I/O), so the flow linter, the engine and the carrier adapters can all
ask "what will this reply cost?" and get the same answer.
"""

from bot.sms.gsm7 import (
    GSM7_BASIC_CHARS,
    GSM7_BASIC_CODES,
    GSM7_EXTENSION_CHARS,
    GSM7_EXTENSION_CODES,
    is_gsm7,
    septet_cost,
)
from bot.sms.segments import Encoding, SegmentInfo, analyze, grapheme_clusters, split_segments
from bot.sms.smart import SMART_ENCODING_MAP, smart_encode
from bot.sms.split import encoded_twin, split_reply, strip_clusters

__all__ = [
    "GSM7_BASIC_CHARS",
    "GSM7_BASIC_CODES",
    "GSM7_EXTENSION_CHARS",
    "GSM7_EXTENSION_CODES",
    "SMART_ENCODING_MAP",
    "Encoding",
    "SegmentInfo",
    "analyze",
    "encoded_twin",
    "grapheme_clusters",
    "is_gsm7",
    "septet_cost",
    "smart_encode",
    "split_reply",
    "split_segments",
    "strip_clusters",
]
