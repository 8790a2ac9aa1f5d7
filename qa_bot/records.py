"""The store's record layout: what is written for each passage, and the passage read back from it.

Every passage is one record in the collection (see `index`), whose metadata carries the whole
`Chunk` (its translation too). Its vector is the mean of the sentences' vectors, joined with the
translation's when it has one (`vectors.passage_vector`); the sentences' vectors are kept beside
the lexical index, not in the store. The lexical index (`lexical`) keeps passages in the same form.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from .types import Chunk, Sentence

__all__ = ["chunk_from", "passage_metadata", "records"]


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
