"""Sentence vectors: one row per sentence and per sentence translation, saved with each snapshot.

The vector store keeps one vector per passage: the mean of its sentences' vectors (joined with
its translation's, `passage_vector`), so indexing embeds every sentence once and nothing twice.
The sentences' own vectors, which the answer selector compares with the question, live beside the lexical index
of the same store generation (`vectors.npy`, one signed byte per dimension with a scale per row in
`vector-scales.npy`; readers read the rows of a question's candidate passages from the file, see
`SentenceVectors`), not a query to the store. (Snapshots written before the byte rows,
float16 without scales, are still read.)

While indexing, the writer also saves each group's rows in `pending/` under the index folder
before it stores the group's passages, so a run that is killed half-way loses no embedding work:
the next run takes them from there (and unchanged passages from the previous snapshot).
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import shutil
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from .text import clauses
from .types import Chunk, Sentence

log = logging.getLogger(__name__)

DTYPE = np.int8  # a quarter of float32: a row is its largest value over 127 times bytes
MATRIX = "vectors.npy"
OFFSETS = "vector-offsets.npy"
SCALES = "vector-scales.npy"
_GROUP = 64  # passages embedded together when rows must be made afresh

Lookup = Callable[[Chunk], np.ndarray | None]  # a passage's rows, if known somewhere
Rows = Callable[[Sequence[Chunk]], np.ndarray]  # makes the rows of passages, in order


def sentence_texts(s: Sentence) -> list[str]:
    """What a sentence's rows stand for, in row order: the sentence and, when it is long, each of
    its clauses (one vector of a 60-word sentence blurs the clause a question is about); then the
    same for its translation."""
    return [t for text in (s.text, s.translation) if text for t in (text, *clauses(text))]


def texts(c: Chunk) -> list[str]:
    """The texts of a passage's rows, in row order."""
    return [t for s in c.sentences for t in sentence_texts(s)]


def row_counts(c: Chunk) -> list[int]:
    """How many rows each sentence of a passage has."""
    return [len(sentence_texts(s)) for s in c.sentences]


def row_maker(embeddings: Embeddings) -> Rows:
    """What makes the rows of passages with `embeddings`. With USE-m3 a sentence's clauses come from
    the sentence's own token features (`spans`), so every word is embedded once; with another model
    the clauses are embedded as texts of their own."""
    joint = getattr(embeddings, "embed_with_clauses", None)

    def make(chunks: Sequence[Chunk]) -> np.ndarray:
        units = [text for c in chunks for s in c.sentences for text in (s.text, s.translation) if text]
        if not units:
            return np.zeros((0, 0), dtype=np.float32)
        unique = list(dict.fromkeys(units))
        per = joint(unique, clauses) if callable(joint) else None
        if per is None:
            flat = [t for u in unique for t in (u, *clauses(u))]
            vectors = np.asarray(embeddings.embed_documents(flat), dtype=np.float32)
            bounds = np.cumsum([0, *(1 + len(clauses(u)) for u in unique)])
            per = [vectors[a:b] for a, b in itertools.pairwise(bounds)]
        made = dict(zip(unique, per, strict=True))
        for u in unique:  # one row for the text and one per clause, or every later row is misplaced
            if len(made[u]) != 1 + len(clauses(u)):
                raise ValueError(f"{len(made[u])} vectors for a sentence with {len(clauses(u))} clauses: {u[:60]!r}")
        return np.concatenate([np.asarray(made[u], dtype=np.float32) for u in units])

    return make


def aligned(c: Chunk) -> bool:
    """Every sentence of the passage has its own translation."""
    return bool(c.sentences) and all(s.translation for s in c.sentences)


def passage_vectors(c: Chunk, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The passage's vector (mean of its sentences, unit length) and its translation's, from its rows.

    The translation's is None when not every sentence has one (a free translation of the whole
    passage is embedded on its own).
    """
    counts = row_counts(c)
    starts = np.cumsum([0, *counts[:-1]])
    written = rows[starts].astype(np.float32)
    translated = None
    if aligned(c):  # the translation's row follows the sentence's own and its clauses'
        translated = rows[starts + [1 + len(clauses(s.text)) for s in c.sentences]].astype(np.float32)
    return _unit(written.mean(axis=0)), (_unit(translated.mean(axis=0)) if translated is not None else None)


def passage_vector(own: np.ndarray, translated: np.ndarray | None) -> np.ndarray:
    """The passage's one vector in the store: its own, or for a translated passage the unit mean of its
    own and its translation's (the two languages' vectors of one text are near each other, so one
    record finds the passage from a question in either; a record per language cost a second vector
    in the graph — 31,000 of them, ~70 MB of a server's memory, over 200,000 passages)."""
    return own if translated is None else _unit(own + _unit(translated))


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


# Rows read per product: 256 int8 rows widened to float32 are 512 KB, which stay in the cache for the
# product (the whole pool's rows at once, ~3 MB for 1,500, took twice as long).
_BLOCK = 256


@dataclass(frozen=True)
class RowFile:
    """A saved file (a matrix, its scales, a snapshot's passages, term rows, titles or title keys) open
    for `pread`: its descriptor, closed once nothing uses it."""

    path: Path
    fd: int
    header: int  # where the rows start

    @classmethod
    def open(cls, path: Path, header: int) -> RowFile:
        fd = os.open(path, os.O_RDONLY)
        file = cls(path, fd, header)
        weakref.finalize(file, os.close, fd)
        return file

    def read(self, offset: int, size: int) -> bytes:
        """`size` bytes from `offset` (past the header); OSError when the file is shorter."""
        data = os.pread(self.fd, size, self.header + offset)
        if len(data) != size:
            raise OSError(f"{self.path} is shorter than its offsets say")
        return data


@dataclass
class SentenceVectors:
    """The rows of every sentence of a snapshot, in the lexical index's sentence order.

    A saved snapshot's rows are read for a question with `pread`, not through the memory map: a
    page fault on a mapped file maps the 15 pages around it as well (the kernel's fault-around), so
    a server reading a few rows of each of a hundred passages per question soon had most of the file
    in its resident memory (at 200k passages the server's memory rose by 230 MB under load; see
    `tests/test_vectors.py`). Read, the rows pass through a buffer and the file stays in the page
    cache, which the kernel shares and reclaims."""

    matrix: np.ndarray  # (rows, dim): int8 (times `scales`), or float16 in older snapshots
    offsets: np.ndarray  # (sentences + 1,): sentence i's rows are offsets[i]:offsets[i + 1]
    scales: np.ndarray | None = None  # (rows,): what each int8 row is multiplied by
    file: RowFile | None = None  # the saved matrix, read with pread (None: `matrix` in memory)
    scale_file: RowFile | None = None  # the saved scales, likewise

    def gather(self, at: np.ndarray) -> np.ndarray:
        """The stored rows `at` (ascending runs of consecutive rows), as stored."""
        if self.file is None:
            return np.asarray(self.matrix[at])
        out = np.empty((len(at), self.matrix.shape[1]), dtype=self.matrix.dtype)
        _read_runs(self.file, at, out, "the sentence vectors")
        return out

    def gather_scales(self, at: np.ndarray) -> np.ndarray:
        """The scales of the rows `at` (read as the rows are, from a saved snapshot)."""
        assert self.scales is not None
        if self.scale_file is None:
            return np.asarray(self.scales[at])
        out = np.empty(len(at), dtype=self.scales.dtype)
        _read_runs(self.scale_file, at, out, "the sentence vectors' scales")
        return out

    def rows(self, first: int, count: int) -> np.ndarray:
        """The rows of sentences first … first + count - 1 (float32)."""
        a, b = int(self.offsets[first]), int(self.offsets[first + count])
        if self.scales is None:  # an older snapshot's float16 rows
            return self.matrix[a:b].astype(np.float32)
        return dequantize(self.matrix[a:b], self.scales[a:b])

    def best(self, first: int, count: int, query: np.ndarray) -> np.ndarray:
        """Each of those sentences' best similarity to `query` (the sentence, a clause, its translation)."""
        return self.best_many([(first, count)], query)[0]

    def best_many(self, spans: list[tuple[int, int]], query: np.ndarray) -> list[np.ndarray]:
        """`best` for several runs of sentences (first, count ≥ 1) at once: one product for all their rows."""
        if not spans:
            return []
        firsts, counts = np.asarray(spans, dtype=np.int64).reshape(-1, 2).T
        return self.best_runs(firsts, counts, query)[0]

    def best_runs(
        self, firsts: np.ndarray, counts: np.ndarray, query: np.ndarray
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """For runs of sentences (first, count ≥ 0): each run's sentences' best similarities to `query`,
        and each run's best of those (-1 for an empty run) — one product for all their rows."""
        sentences = _runs(firsts, counts)  # every sentence of the runs, in order
        ends = np.cumsum(counts)
        tops = np.full(len(counts), -1.0)
        if not len(sentences):
            empty = np.zeros(0, dtype=np.float32)
            return [empty] * len(counts), tops
        lo = self.offsets[sentences]
        sizes = self.offsets[sentences + 1] - lo  # each sentence's rows (≥ 1)
        at = _runs(lo, sizes)
        sims = np.empty(len(at), dtype=np.float32)
        stored = self.gather(at)
        for i in range(0, len(at), _BLOCK):  # rows widened to float32 a block at a time, while in cache
            sims[i : i + _BLOCK] = stored[i : i + _BLOCK].astype(np.float32) @ query
        if self.scales is not None:
            sims *= self.gather_scales(at)
        best = np.maximum.reduceat(sims, np.cumsum(sizes) - sizes)
        filled = counts > 0
        tops[filled] = np.maximum(np.maximum.reduceat(best, (ends - counts)[filled]), -1.0)
        bounds = ends.tolist()
        runs = [best[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]  # np.split, without its overhead
        return runs, tops

    @classmethod
    def load(cls, folder: Path, sentences: int) -> SentenceVectors | None:
        """The saved rows in `folder`, or None when missing or not for `sentences` sentences."""
        try:
            mapped = np.load(folder / MATRIX, mmap_mode="r")
            # plain arrays over the mapped files: slicing a np.memmap costs a Python object each time
            matrix = np.asarray(mapped)
            offsets = np.asarray(np.load(folder / OFFSETS, mmap_mode="r"))
            mapped_scales = np.load(folder / SCALES, mmap_mode="r") if matrix.dtype == DTYPE else None
            scales = None if mapped_scales is None else np.asarray(mapped_scales)
        except (OSError, ValueError):
            return None
        if len(offsets) != sentences + 1 or matrix.ndim != 2 or int(offsets[-1]) != len(matrix):
            return None
        if scales is not None and scales.shape != (len(matrix),):
            return None
        if not matrix.flags.c_contiguous:
            return None
        if not hasattr(os, "preadv"):  # (not on every system): read through the map
            return cls(matrix, offsets, scales)
        try:
            file = RowFile.open(folder / MATRIX, int(mapped.offset))
            scale_file = None if mapped_scales is None else RowFile.open(folder / SCALES, int(mapped_scales.offset))
        except OSError:
            return None
        return cls(matrix, offsets, scales, file, scale_file)


def _read_runs(file: RowFile, at: np.ndarray, out: np.ndarray, what: str) -> None:
    """Fill `out` with the rows `at` (ascending runs of consecutive rows) of a saved array: one
    `preadv` per run, each row `out.strides[0]` bytes."""
    if not len(at):
        return
    row = out.strides[0]
    view = out.data.cast("B")
    breaks = np.flatnonzero(np.diff(at) != 1) + 1
    starts, ends = np.r_[0, breaks], np.r_[breaks, len(at)]
    fd, header = file.fd, file.header
    for a, b, first in zip(starts.tolist(), ends.tolist(), at[starts].tolist(), strict=True):
        if os.preadv(fd, [view[a * row : b * row]], header + first * row) != (b - a) * row:
            raise OSError(f"{what} in {file.path} are shorter than their index says")


def assemble(
    chunks: Sequence[Chunk], known: Sequence[Lookup], embed: Rows | None, folder: Path | None = None
) -> SentenceVectors:
    """The rows of `chunks` (in this order): from the first of `known` that has a passage's rows,
    else embedded with `embed`. Written to `folder` (memory-mapped) when given, else kept in memory."""
    offsets = np.zeros(sum(len(c.sentences) for c in chunks) + 1, dtype=np.int64)
    np.cumsum([n for c in chunks for n in row_counts(c)], out=offsets[1:])
    missing: list[tuple[int, Chunk]] = []
    matrix: np.ndarray | None = None
    scales = np.zeros(int(offsets[-1]), dtype=np.float32)
    at = 0
    for c in chunks:
        found = next((rows for lookup in known if (rows := lookup(c)) is not None), None)
        if matrix is None:
            dim = _dimension(found, embed)
            shape = (int(offsets[-1]), dim)
            if folder is not None:
                matrix = np.lib.format.open_memmap(folder / MATRIX, mode="w+", dtype=DTYPE, shape=shape)
                _allocate(folder / MATRIX)
            else:
                matrix = np.empty(shape, dtype=DTYPE)
        size = sum(row_counts(c))
        if found is None:
            missing.append((at, c))
        else:
            matrix[at : at + size], scales[at : at + size] = quantize(found)
        at += size
    if matrix is None:
        matrix = np.zeros((0, 1), dtype=DTYPE)
    if missing:
        if embed is None:
            raise ValueError(f"no saved sentence vectors for {len(missing)} passages")
        log.info("embedding the sentences of %d passages (their vectors were not saved)", len(missing))
        for group in _groups(missing, _GROUP):
            made = embed([c for _, c in group])
            used = 0
            for start, c in group:
                size = sum(row_counts(c))
                matrix[start : start + size], scales[start : start + size] = quantize(made[used : used + size])
                used += size
    if folder is not None:
        if isinstance(matrix, np.memmap):
            matrix.flush()
        np.save(folder / SCALES, scales)
        np.save(folder / OFFSETS, offsets)
        loaded = SentenceVectors.load(folder, len(offsets) - 1)
        if loaded is None:
            raise OSError(f"the sentence vectors just written in {folder} cannot be read back")
        return loaded
    return SentenceVectors(matrix, offsets, scales)


def quantize(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows as signed bytes and a scale each (a row is `bytes * scale`): each value within half a
    step of its row's largest over 127; a similarity moves by about 0.0005."""
    rows = np.asarray(rows, dtype=np.float32)
    scales = np.abs(rows).max(axis=1, initial=0.0) / 127.0
    safe = np.where(scales > 0, scales, 1.0)
    return np.rint(rows / safe[:, None]).astype(DTYPE), scales.astype(np.float32)


def dequantize(stored: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Rows back from `quantize`'s bytes and scales (float32)."""
    rows = np.asarray(stored, dtype=np.float32)
    rows *= np.asarray(scales, dtype=np.float32)[:, None]
    return rows


def _allocate(path: Path) -> None:
    """Give a new (sparse) file its disk blocks now: a full disk is an OSError here, not a crash
    (SIGBUS) when a page of the mapped file is written later."""
    with path.open("r+b") as handle:
        os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)


def _dimension(found: np.ndarray | None, embed: Rows | None) -> int:
    if found is not None:
        return int(found.shape[1])
    if embed is None:
        raise ValueError("no sentence vectors and no model to make them")
    probe = Chunk("probe", "", "", "", 0, 9, "dimension", None, None, 0, (Sentence(0, 9, "dimension"),))
    return int(embed([probe]).shape[1])


def _groups(items: list[tuple[int, Chunk]], size: int) -> Iterator[list[tuple[int, Chunk]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def snapshot_lookup(chunks: Sequence[Chunk], vectors: SentenceVectors) -> Lookup:
    """Rows by passage from a loaded snapshot (its chunks, in its sentence order)."""
    first: dict[str, tuple[int, int]] = {}
    at = 0
    for c in chunks:
        first[c.id] = (at, len(c.sentences))
        at += len(c.sentences)

    def lookup(c: Chunk) -> np.ndarray | None:
        got = first.get(c.id)
        if got is None or got[1] != len(c.sentences):
            return None
        rows = vectors.rows(*got)
        return rows if len(rows) == sum(row_counts(c)) else None

    return lookup


class Pending:
    """Rows the writer has embedded but not yet published in a snapshot (`<index>/pending/`).

    Per group, the rows as the snapshot keeps them (`.q8.npy` bytes, `.scales.npy`) and a `.json`
    (passage ids and row counts, the model), written before the group's passages are stored:
    whatever the store holds, its rows are here or in a snapshot.
    """

    def __init__(self, folder: Path, model: str) -> None:
        self.folder = folder
        self.model = model

    def add(self, chunks: Sequence[Chunk], rows: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        stored, scales = quantize(rows)  # as the snapshot will hold them: the same bytes however they got there
        # named so that a version reading float rows from `<id>.npy` finds none and embeds again
        for path, array in ((self.folder / f"{name}.q8.npy", stored), (self.folder / f"{name}.scales.npy", scales)):
            buffer = io.BytesIO()
            np.save(buffer, array)
            path.write_bytes(buffer.getvalue())  # a short write is an OSError (errno)
        meta = {"model": self.model, "chunks": [[c.id, sum(row_counts(c))] for c in chunks]}
        tmp = self.folder / f".{name}.json"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        tmp.replace(self.folder / f"{name}.json")  # the .json names a complete .npy

    def lookup(self) -> Lookup:
        """Rows by passage from every complete group saved by this model."""
        where: dict[str, tuple[Path, int, int]] = {}
        try:
            metas = sorted(self.folder.glob("*.json"))
        except OSError:
            metas = []
        for path in metas:
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if meta.get("model") != self.model:
                continue
            at = 0
            for cid, size in meta["chunks"]:
                where[str(cid)] = (path.with_suffix(".q8.npy"), at, int(size))
                at += int(size)
        opened: dict[Path, tuple[np.ndarray, np.ndarray] | None] = {}

        def lookup(c: Chunk) -> np.ndarray | None:
            got = where.get(c.id)
            if got is None:
                return None
            path, at, size = got
            if path not in opened:
                try:
                    stored = np.load(path, mmap_mode="r")
                    scales = np.load(path.with_name(path.name.replace(".q8.npy", ".scales.npy")), mmap_mode="r")
                    opened[path] = (stored, scales) if scales.shape == (len(stored),) else None
                except (OSError, ValueError):
                    opened[path] = None
            group = opened[path]
            if group is None or size != sum(row_counts(c)) or at + size > len(group[0]):
                return None
            return dequantize(group[0][at : at + size], group[1][at : at + size])

        return lookup

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _runs(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """start, start + 1, … for each (start, size), concatenated: [3, 7], [2, 1] → [3, 4, 7]."""
    ends = np.cumsum(sizes)
    return np.repeat(starts - (ends - sizes), sizes) + np.arange(int(ends[-1]) if len(ends) else 0)
