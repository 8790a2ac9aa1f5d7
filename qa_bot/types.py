"""Small typed records shared by every stage: Sentence, Chunk, Citation, Answer, Message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import InputError

Language = Literal["ar", "en"]
Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Sentence:
    """One sentence of a passage; offsets are absolute character offsets in the source file."""

    start: int
    end: int
    text: str
    translation: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: the unit that is indexed and cited (at most one paragraph)."""

    id: str
    article_id: str
    title: str
    source: str
    start: int
    end: int
    text: str
    translation: str | None
    section: str | None
    position: int
    sentences: tuple[Sentence, ...] = ()
    date: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Citation:
    """A passage supporting an answer; `source[start:end]` is the passage text."""

    n: int
    passage: str
    translation: str | None
    source: str
    start: int
    end: int
    score: float
    section: str | None = None
    article_id: str = ""
    highlights: tuple[tuple[int, int], ...] = ()
    title: str = ""
    date: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, chunk: Chunk, n: int, score: float, highlights: tuple[tuple[int, int], ...] = ()) -> Citation:
        """Citation `[n]` of a passage, naming its article."""
        return cls(
            n=n,
            passage=chunk.text,
            translation=chunk.translation,
            source=chunk.source,
            start=chunk.start,
            end=chunk.end,
            score=score,
            section=chunk.section,
            article_id=chunk.article_id,
            highlights=highlights,
            title=chunk.title,
            date=chunk.date,
            url=chunk.url,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "passage": self.passage,
            "translation": self.translation,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            "section": self.section,
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "url": self.url,
            "highlights": [list(h) for h in self.highlights],
        }


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer, the sources it cites, whether they support it and, when
    they do not, why (`reason`: "date 'June' not in source [1]", "no citation", ...)."""

    text: str
    citations: tuple[int, ...]
    supported: bool
    support: float = 0.0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": list(self.citations),
            "supported": self.supported,
            "support": round(self.support, 3),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Answer:
    """What the bot replies: text with `[n]` markers and the citations they point to.

    Generated (LLM) answers also carry their verified `claims` (the text holds only the supported
    ones), the `backend` that wrote them, and citations the model made up (`invalid_citations`).
    An answer that fell back to quoting says why in `fallback_reason`, and `fallback` says which
    kind: "extractive" (the model failed or answered in the wrong language) or "unsupported"
    (none of the model's claims was supported by its sources). `degraded` says what the answer was
    formed without, when a part of the system was away (the vector store: lexical search only).
    """

    text: str
    language: Language
    abstained: bool
    citations: tuple[Citation, ...] = ()
    query: str | None = None
    claims: tuple[Claim, ...] = ()
    backend: str | None = None
    invalid_citations: tuple[int, ...] = ()
    fallback_reason: str | None = None
    fallback: Literal["extractive", "unsupported"] = "extractive"
    degraded: str | None = None  # why the answer was formed without part of the system ("vector store unreachable")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "language": self.language,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "query": self.query,
        }
        if self.backend is not None:  # the extractive default keeps its original shape
            data["backend"] = self.backend
            data["claims"] = [c.to_dict() for c in self.claims]
            data["invalid_citations"] = list(self.invalid_citations)
        if self.fallback_reason is not None:
            data["fallback"] = self.fallback
            data["fallback_reason"] = self.fallback_reason
        if self.degraded is not None:
            data["degraded"] = self.degraded
        return data


@dataclass(frozen=True)
class Message:
    """One turn of the conversation history."""

    role: Role
    content: str = field(default="")

    @classmethod
    def coerce(cls, value: Message | Mapping[str, Any]) -> Message:
        """Accept a Message or a `{"role", "content"}` mapping; raise InputError otherwise."""
        if isinstance(value, Message):
            return value
        if not isinstance(value, Mapping):
            raise InputError('each history item must be an object {"role": ..., "content": ...}')
        role, content = value.get("role"), value.get("content")
        if role not in ("user", "assistant"):
            raise InputError(f'history role must be "user" or "assistant", got {role!r}')
        if not isinstance(content, str):
            raise InputError("history content must be a string")
        ensure_text(content, "history content")
        return cls(role=role, content=content)


def coerce_history(history: Iterable[Message | Mapping[str, Any]] | None) -> list[Message]:
    """Validate a history given as Messages or dicts."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise InputError('history must be a list of {"role": ..., "content": ...} messages')
    return [Message.coerce(item) for item in history]


def ensure_text(value: str, what: str) -> None:
    """InputError for strings that are not valid Unicode text (lone surrogates from bad JSON)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} contains invalid characters (unpaired UTF-16 surrogates)") from None
