"""textdesk package."""
