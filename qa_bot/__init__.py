"""qa-bot."""
