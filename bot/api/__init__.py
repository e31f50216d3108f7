"""The authenticated HTTP API for business-initiated messages (issue 6).

Mounted at ``/api`` only when ``TEXTDESK_API_TOKENS`` is set: conversations
started by the business, broadcasts to opted-in numbers or audiences, audience
management and verification codes. See ``bot.api.openapi`` for the contract.
"""

from bot.api.app import mount_api

__all__ = ["mount_api"]
