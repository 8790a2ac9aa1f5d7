"""Sentence vectors: each sentence embedded once, kept beside the lexical index; passages in the store
are the mean of their sentences; nothing embedded twice across refreshes or after a failed run."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, make_project, mapped_kb
from qa_bot.config import Settings
from qa_bot.index import Index
from qa_bot.lexical import LexicalIndex
from qa_bot.models import UseM3Embeddings
from qa_bot.text import clauses
from qa_bot.vectors import SentenceVectors, sentence_texts, texts

EMBEDDINGS = UseM3Embeddings(threads=1)


class Counting(UseM3Embeddings):
    """The real model, counting the texts it is asked to embed; fails on call `fail_at` when set."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(threads=1)
        self.texts: list[str] = []
        self.calls = 0
        self.fail_at = fail_at

    def _count(self, texts: list[str]) -> None:
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise RuntimeError("the indexer died here")
        self.texts += texts

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self._count(texts)
        return super().embed_documents(texts)

    def embed_with_clauses(self, texts: list[str], split) -> list[np.ndarray] | None:  # type: ignore[no-untyped-def]
        self._count(texts)
        return super().embed_with_clauses(texts, split)


def _close_to_fresh(c, rows: np.ndarray) -> None:
    """A passage's rows against each text embedded on its own: sentences the same vector (up to
    float16), clauses close to it (taken from the sentence's tokens, see qa_bot.spans)."""
    fresh = np.asarray(EMBEDDINGS.embed_documents(texts(c)), dtype=np.float32)
    assert rows.shape == fresh.shape
    cosines = np.einsum("ij,ij->i", rows, fresh)
    at = 0
    for s in c.sentences:
        for text in (s.text, s.translation):
            if text:
                assert cosines[at] > 0.999  # the sentence itself
                parts = clauses(text)
                assert all(cos > 0.8 for cos in cosines[at + 1 : at + 1 + len(parts)])
                at += 1 + len(parts)
    assert at == len(rows) and cosines.mean() > 0.97


def _snapshot(settings: Settings, index: Index) -> LexicalIndex:
    generation = index.generation()
    assert generation
    lex = LexicalIndex.load(settings.lexical_path, generation)
    assert lex is not None and lex.vectors is not None
    return lex


def _project(tmp_path: Path, paragraphs: int = 0) -> Settings:
    root = make_project(tmp_path)
    if paragraphs:  # an article of many short paragraphs: more than one indexing group of passages
        lines = [f"Paragraph {i} says that the harbour of town {i} handled {i * 7} ships in {1900 + i}." for i in
                 range(paragraphs)]  # fmt: skip
        (root / "seeds" / "harbours.txt").write_text("Harbours\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    return Settings(root=root, prompts_dir=REPO / "prompts")


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v / np.linalg.norm(v), dtype=np.float32)


def test_rows_are_each_sentences_own_vector_and_passages_their_mean(tmp_path: Path) -> None:
    settings = _project(tmp_path)
    index = Index(settings, EMBEDDINGS)
    index.ensure()
    lex = _snapshot(settings, index)
    stored = index.store.get(include=["embeddings"])
    vectors = dict(zip(stored["ids"], np.asarray(stored["embeddings"], dtype=np.float32), strict=True))
    question = np.asarray(EMBEDDINGS.embed_query("Where did Kerry meet Putin?"), dtype=np.float32)
    assert sorted(vectors) == sorted(c.id for c in lex.chunks.values())  # one record per passage
    translated_passages = 0
    for c in lex.chunks.values():
        rows = lex.passage_rows(c.id).astype(np.float32)
        _close_to_fresh(c, rows)
        first = np.cumsum([0, *(len(sentence_texts(s)) for s in c.sentences)])[:-1]
        expected = _unit(rows[first].mean(axis=0))
        if c.translation:  # the seed's translation is aligned sentence by sentence: joined with the passage's
            translated_passages += 1
            own = expected
            expected = _unit(own + _unit(rows[first + [1 + len(clauses(s.text)) for s in c.sentences]].mean(axis=0)))
            assert not np.allclose(expected, own, atol=1e-2)  # (the join is not the passage's vector alone)
        assert np.allclose(vectors[c.id], expected, atol=1e-3)  # from the float16 rows
        sims = lex.sentence_similarities(c.id, question)
        for i, s in enumerate(c.sentences):  # the best of the sentence's rows: itself, its clauses, its translation
            size = len(sentence_texts(s))
            assert sims[i] == pytest.approx(float((rows[first[i] : first[i] + size] @ question).max()), abs=1e-5)
    assert translated_passages  # the case above was met


def test_each_text_is_embedded_once_and_a_refresh_only_the_new_sentences(tmp_path: Path) -> None:
    settings = _project(tmp_path)
    counting = Counting()
    index = Index(settings, counting)
    index.ensure()
    chunks = index.chunks()
    # each sentence and each translation once; clauses come from their sentence's tokens
    assert sorted(counting.texts) == sorted(
        {t for c in chunks for s in c.sentences for t in (s.text, s.translation) if t}
    )
    assert index.count() == len(chunks)  # one vector per passage, translated or not

    counting.texts.clear()
    (settings.root / "seeds" / "extra.txt").write_text(
        "The new harbour bridge in Tunis opened on Monday. The bridge is 1.2 kilometres long.\n", encoding="utf-8"
    )
    index.ensure()
    assert sorted(counting.texts) == [
        "The bridge is 1.2 kilometres long.",
        "The new harbour bridge in Tunis opened on Monday.",
    ]
    lex = _snapshot(settings, index)
    assert len(lex.chunks) == len(chunks) + 1


def test_a_run_that_dies_half_way_loses_no_embedding_work(tmp_path: Path) -> None:
    settings = _project(tmp_path, paragraphs=100)
    dying = Counting(fail_at=2)  # the first group of passages is embedded (its rows saved), then the run dies
    with pytest.raises(RuntimeError):
        Index(settings, dying).ensure()
    done = set(dying.texts)
    assert done and list((settings.index_path / "pending").glob("*.npy"))

    counting = Counting()
    index = Index(settings, counting)
    assert index.stale_reason() == "the last indexing run did not finish"
    index.ensure()
    every = {t for c in index.chunks() for s in c.sentences for t in (s.text, s.translation) if t}
    assert set(counting.texts) == every - done  # the rows of the first group were taken from pending/
    assert not (settings.index_path / "pending").exists()  # published: nothing left pending
    lex = _snapshot(settings, index)
    for c in lex.chunks.values():
        _close_to_fresh(c, lex.passage_rows(c.id).astype(np.float32))


def _random_rows(seed: int, sentences: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sentence-vector matrix of 1–3 rows per sentence, its offsets, and a query."""
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(1, 4, size=sentences))])
    matrix = rng.standard_normal((int(offsets[-1]), 8)).astype(np.float16)
    return matrix, offsets, rng.standard_normal(8).astype(np.float32)


def _each_sentences_best(matrix: np.ndarray, offsets: np.ndarray, query: np.ndarray, first: int, count: int) -> list:
    return [
        float((matrix[offsets[s] : offsets[s + 1]].astype(np.float32) @ query).max())
        for s in range(first, first + count)
    ]


def test_best_many_gives_each_run_its_sentences_best_rows_in_the_order_asked() -> None:
    matrix, offsets, query = _random_rows(0, 30)
    spans = [(12, 3), (0, 1), (25, 5), (5, 2), (12, 1)]
    got = SentenceVectors(matrix, offsets).best_many(spans, query)
    assert len(got) == len(spans)
    for (first, count), best in zip(spans, got, strict=True):
        assert np.allclose(best, _each_sentences_best(matrix, offsets, query, first, count))


def test_best_many_reads_a_pool_larger_than_one_block_of_rows() -> None:
    matrix, offsets, query = _random_rows(1, 400)  # ~800 rows: several blocks of 256
    spans = [(300, 90), (0, 150), (151, 100), (399, 1)]
    assert int(offsets[400] - offsets[0]) > 3 * 256
    got = SentenceVectors(matrix, offsets).best_many(spans, query)
    for (first, count), best in zip(spans, got, strict=True):
        assert np.allclose(best, _each_sentences_best(matrix, offsets, query, first, count), rtol=0, atol=1e-5)


def test_best_runs_gives_empty_runs_nothing_and_each_run_its_best() -> None:
    matrix, offsets, query = _random_rows(2, 20)
    vectors = SentenceVectors(matrix, offsets)
    firsts, counts = np.array([4, 0, 10, 7]), np.array([3, 0, 2, 0])  # two passages without sentence rows
    runs, tops = vectors.best_runs(firsts, counts, query)
    assert [len(r) for r in runs] == [3, 0, 2, 0]
    assert np.allclose(runs[0], _each_sentences_best(matrix, offsets, query, 4, 3))
    assert np.allclose(runs[2], _each_sentences_best(matrix, offsets, query, 10, 2))
    assert tops.tolist() == [float(runs[0].max()), -1.0, float(runs[2].max()), -1.0]
    nothing, none = vectors.best_runs(np.array([3, 9]), np.array([0, 0]), query)
    assert [len(r) for r in nothing] == [0, 0] and none.tolist() == [-1.0, -1.0]


def test_rows_kept_as_bytes_give_back_their_vectors() -> None:
    from qa_bot.vectors import quantize

    rng = np.random.default_rng(1)
    rows = rng.standard_normal((50, 512)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    rows[7] = 0.0  # an empty row stays empty
    stored, scales = quantize(rows)
    assert stored.dtype == np.int8 and scales.shape == (50,)
    back = stored.astype(np.float32) * scales[:, None]
    assert np.all(np.abs(back - rows) <= scales[:, None] / 2 + 1e-7)  # within half a step
    assert not back[7].any()
    query = rows[3]
    assert np.allclose(back @ query, rows @ query, atol=2e-3)
    assert int(np.argmax(back @ query)) == 3


def test_saved_rows_are_read_without_mapping_the_file_into_memory(tmp_path: Path) -> None:
    """A server reads a few rows of a hundred passages per question: through the memory map, each
    read would make the 15 pages around it resident too, and the file would fill the process."""
    from qa_bot.vectors import MATRIX, OFFSETS, SCALES, quantize

    rng = np.random.default_rng(3)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(1, 5, size=2000))])
    stored, scales = quantize(rng.standard_normal((int(offsets[-1]), 512)).astype(np.float32))
    np.save(tmp_path / MATRIX, stored)
    np.save(tmp_path / SCALES, scales)
    np.save(tmp_path / OFFSETS, offsets)
    saved = SentenceVectors.load(tmp_path, 2000)
    assert saved is not None and saved.file is not None
    in_memory = SentenceVectors(stored, offsets, scales)
    firsts = rng.choice(1990, size=300, replace=False)
    counts = rng.integers(0, 6, size=300)
    query = rng.standard_normal(512).astype(np.float32)
    (runs, tops), (want_runs, want_tops) = (
        saved.best_runs(firsts, counts, query),
        in_memory.best_runs(firsts, counts, query),
    )
    assert np.array_equal(tops, want_tops) and all(np.array_equal(a, b) for a, b in zip(runs, want_runs, strict=True))
    assert mapped_kb(tmp_path / MATRIX) == 0  # every row read, none of the file resident
    assert mapped_kb(tmp_path / SCALES) == 0  # nor of their scales
    assert saved.scale_file is not None
    fds = [saved.file.fd, saved.scale_file.fd]
    del saved
    gc.collect()
    for fd in fds:
        with pytest.raises(OSError):  # the descriptors are closed with the snapshot's vectors
            os.fstat(fd)
