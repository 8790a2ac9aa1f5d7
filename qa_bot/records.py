"""The store's record layout: what is written for each passage, and the passage read back from it.

Every passage is one record in the collection (see `index`), whose metadata carries the whole
`Chunk`: its text (under `TEXT`) and its translation too. Its vector is the mean of the sentences'
vectors, joined with the translation's when it has one (`vectors.passage_vector`); the sentences'
vectors are kept beside the lexical index, not in the store. The lexical index (`lexical`) keeps
passages in the same form.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from .types import Chunk, Sentence

__all__ = ["TEXT", "chunk_from", "passage_metadata", "read_record", "record_metadata", "records"]

# The passage's text, in its record's metadata. Not as Chroma's document: Chroma indexes every
# document's words for its own full-text search, which qa-bot does not use (its lexical index is its
# own), and that made about a quarter of each write's time (20k records: 24 s with documents, 19 s
# with the text in the metadata). Stores written before keep the text as the document; both are read.
TEXT = "text"


def passage_metadata(c: Chunk) -> dict[str, Any]:
    """Everything needed to rebuild the Chunk, stored on its passage record."""
    sentences = [[s.start, s.end, s.translation or ""] for s in c.sentences]
    return {
        "chunk_id": c.id,
        "article_id": c.article_id,
        "kind": "passage",
        "original": True,
        "title": c.title,
        "source": c.source,
        "start": c.start,
        "end": c.end,
        "section": c.section or "",
        "position": c.position,
        "translation": c.translation or "",
        "sentences": json.dumps(sentences, ensure_ascii=False),
        "date": c.date or "",
        "url": c.url or "",
    }


def records(chunks: Sequence[Chunk]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(text, metadata, id) of every record stored for `chunks`: one per passage."""
    for c in chunks:
        yield c.text, passage_metadata(c), c.id


def record_metadata(text: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The metadata a passage's record is written with: `meta` and the passage's text."""
    return {**meta, TEXT: text}


def read_record(document: str | None, meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A record as read back (its document, its metadata): the passage's text and its metadata,
    as `records` gives them. Raises ValueError when the record holds no text."""
    meta = dict(meta)
    text = meta.pop(TEXT, None)
    text = document if text is None else text
    if not isinstance(text, str):
        raise ValueError("a passage record without its text")
    return text, meta


def chunk_from(text: str, meta: dict[str, Any]) -> Chunk:
    start = int(meta["start"])
    sentences = tuple(
        Sentence(s, e, text[s - start : e - start], tr or None) for s, e, tr in json.loads(meta["sentences"])
    )
    return Chunk(
        id=str(meta["chunk_id"]),
        article_id=str(meta["article_id"]),
        title=str(meta["title"]),
        source=str(meta["source"]),
        start=start,
        end=int(meta["end"]),
        text=text,
        translation=str(meta["translation"]) or None,
        section=str(meta["section"]) or None,
        position=int(meta["position"]),
        sentences=sentences,
        date=str(meta.get("date") or "") or None,
        url=str(meta.get("url") or "") or None,
    )
