"""The LangChain tutorial pipeline, as the baseline: split → embed → Chroma → top-4 similarity search.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200) over the same texts qa-bot
indexes (the article file and its English sidecar, and each distractor record's text, as loaders
over the same files give them), dense-only `langchain_chroma.Chroma`
(embedded, temporary folder, cosine) with the same embeddings object, `similarity_search(q, k=4)`.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from qa_bot.text import normalise

from .common import latency_ms, log

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
K = 4
_ADD_BATCH = 256
_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    """qa_bot.text.normalise, plus runs of white space as one space (raw chunks keep line breaks)."""
    return _SPACE.sub(" ", normalise(text)).strip()


@dataclass
class TutorialPipeline:
    """An incrementally grown tutorial index in a temporary folder."""

    embeddings: Embeddings
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-tutorial-")))
    chunks: int = 0
    _store: Any = None

    def __post_init__(self) -> None:
        import chromadb
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        client = chromadb.PersistentClient(
            path=str(self.folder), settings=chromadb.config.Settings(anonymized_telemetry=False)
        )
        self._store = Chroma(
            client=client,
            collection_name="tutorial",
            embedding_function=self.embeddings,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def add(self, documents: Sequence[Document]) -> dict[str, Any]:
        """Split and add `documents`; return chunk count and seconds (split + embed + store)."""
        began = time.perf_counter()
        chunks = self.splitter.split_documents(list(documents))
        for i in range(0, len(chunks), _ADD_BATCH):
            batch = chunks[i : i + _ADD_BATCH]
            self._store.add_documents(batch, ids=[f"c{self.chunks + i + j}" for j in range(len(batch))])
            if i and i % (_ADD_BATCH * 8) == 0:
                rate = (i + len(batch)) / (time.perf_counter() - began)
                log(f"tutorial: {i + len(batch):,}/{len(chunks):,} chunks embedded ({rate:.0f}/s)")
        seconds = time.perf_counter() - began
        self.chunks += len(chunks)
        return {
            "chunks_added": len(chunks),
            "seconds": round(seconds, 2),
            "chunks_total": self.chunks,
            "embedded_chars": sum(len(c.page_content) for c in chunks),
        }

    def search(self, question: str) -> list[Document]:
        return list(self._store.similarity_search(question, k=K))

    def latency(self, questions: Sequence[str], repeats: int) -> dict[str, Any]:
        """Warm retrieval latency (query embedding + top-4 search), after one warm-up."""
        self.search(questions[0])
        times: list[float] = []
        for _ in range(repeats):
            for q in questions:
                began = time.perf_counter()
                self.search(q)
                times.append(time.perf_counter() - began)
        return latency_ms(times)

    def quality(self, items: Iterable[dict[str, Any]], aligned: dict[str, list[str]]) -> dict[str, Any]:
        """Top-1 and any-of-top-4 gold hits per language over answerable items.

        Strict (the headline, as qa-bot's eval counts it): a normalised gold substring (Arabic) in the
        chunk. Lenient (`*_aligned`): also when the chunk holds the whole English sidecar line aligned
        to the Arabic sentence that contains the gold, since a tutorial index of the same folder can
        only return the English text to an English question.
        """
        tallies: dict[str, dict[str, int]] = {}
        details = []
        for item in items:
            lang = str(item.get("lang", "en"))
            docs = self.search(str(item["q"]))
            golds = [norm(g) for g in item.get("gold", [])]
            english = [norm(line) for g in item.get("gold", []) for line in aligned.get(g, [])]
            texts = [norm(d.page_content) for d in docs]
            strict = [any(g in t for g in golds) for t in texts]
            lenient = [s or any(e in t for e in english) for s, t in zip(strict, texts, strict=True)]
            row = {
                "top_hit": bool(strict[:1] and strict[0]),
                "any_hit": any(strict),
                "top_hit_aligned": bool(lenient[:1] and lenient[0]),
                "any_hit_aligned": any(lenient),
            }
            details.append({"id": item.get("id"), "lang": lang, **row})
            for key in (lang, "all"):
                t = tallies.setdefault(key, {"n": 0} | dict.fromkeys(row, 0))
                t["n"] += 1
                for name, value in row.items():
                    t[name] += int(value)
        figures = {
            lang: {"answerable": t["n"], **{k: round(v / t["n"], 3) for k, v in t.items() if k != "n"}}
            for lang, t in sorted(tallies.items())
        }
        return {"figures": figures, "details": details}

    def close(self) -> None:
        import shutil

        self._store = None
        try:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
        except Exception:  # noqa: BLE001 - best effort
            pass
        shutil.rmtree(self.folder, ignore_errors=True)
