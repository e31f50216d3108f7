"""textdesk: an SMS/MMS support line driven by YAML conversation flows."""

__version__ = "0.1.0"
