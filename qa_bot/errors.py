"""Errors with messages that tell the user the fix; turned into exit codes / HTTP errors at the edges."""


class QaBotError(Exception):
    """Base class for every error qa-bot reports to a user."""


class ConfigError(QaBotError):
    """A setting is missing or invalid."""


class ModelError(QaBotError):
    """An embedding model could not be loaded."""


class IndexStoreError(QaBotError):
    """The index is missing, stale or unreadable."""


class CorpusError(QaBotError):
    """The articles in the seeds folder cannot be read."""


class InputError(QaBotError):
    """A question or history the bot cannot accept."""


__all__ = ["ConfigError", "CorpusError", "IndexStoreError", "InputError", "ModelError", "QaBotError"]
