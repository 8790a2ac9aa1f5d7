"""qa-bot: grounded, bilingual (Arabic/English) question answering over news articles, with citations.

Example:
    >>> from qa_bot import Bot, Settings
    >>> bot = Bot.from_settings(Settings.from_env())          # doctest: +SKIP
    >>> bot.ask("What did Kerry say about a new constitution?").to_dict()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Settings
from .errors import QaBotError
from .types import Answer, Chunk, Citation, Message

if TYPE_CHECKING:
    from .bot import Bot

__version__ = "0.1.0"
__all__ = ["Answer", "Bot", "Chunk", "Citation", "Message", "QaBotError", "Settings", "__version__"]


def __getattr__(name: str) -> Any:
    # Bot pulls in LangChain, Chroma and numpy: imported on first use so `import qa_bot` stays fast.
    if name == "Bot":
        from .bot import Bot

        return Bot
    raise AttributeError(f"module 'qa_bot' has no attribute {name!r}")
