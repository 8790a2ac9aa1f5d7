"""The store's record layout: what is written for each passage, and the passage read back from it.

Every passage is stored as several records in one collection (see `index`): the passage itself,
whose metadata carries the whole `Chunk`, its translation, and each sentence and long sentence's
clauses in both languages. The lexical index (`lexical`) keeps passages in the same form.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from .text import clauses
from .types import Chunk, Sentence

__all__ = ["chunk_from", "passage_metadata", "records", "sentence_record_ids"]


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


def sentence_record_ids(c: Chunk) -> list[tuple[str, int]]:
    """The ids of a passage's sentence and clause records, with the sentence each belongs to
    (the ids `records` writes; fetching by id is a key lookup, unlike a metadata filter)."""
    return [(rid, int(meta["idx"])) for _, meta, rid in records([c]) if meta["kind"] == "sentence"]


def records(chunks: Sequence[Chunk]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(text, metadata, id) of every vector stored for `chunks`: passages, sentences, clauses, translations."""
    for c in chunks:
        base = {"chunk_id": c.id, "article_id": c.article_id}
        yield c.text, passage_metadata(c), c.id
        if c.translation:
            yield c.translation, {**base, "kind": "passage", "original": False}, f"{c.id}:tr"
        for i, s in enumerate(c.sentences):
            for original, text in ((True, s.text), (False, s.translation)):
                if not text:
                    continue
                tag = "" if original else ":tr"
                meta = {**base, "kind": "sentence", "original": original, "idx": i}
                yield text, meta, f"{c.id}:s{i}{tag}"
                # Long sentences are also embedded clause by clause: one embedding of a 60-word
                # sentence blurs the clause a question is about.
                for j, part in enumerate(clauses(text)):
                    yield part, meta, f"{c.id}:s{i}:p{j}{tag}"


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
