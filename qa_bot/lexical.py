"""The lexical index: BM25 over passages and translations, and every sentence's search terms.

Built by the writer from the passages it has just stored and saved beside the store, one folder
per store generation (`<lexical dir>/<generation>/`), so a reader can never pair the vectors of one
refresh with the words of another: it loads the folder of the generation the store reports, in
milliseconds (the BM25 matrices and the term arrays are memory-mapped), and rebuilds from the
store only when that folder is missing or unreadable (and then saves it for the next start).

Per-sentence data is compact: the terms of every sentence, in order, as one int32 array of term
ids with offsets (written text, then -1, then its translation), not a Python set per sentence. The
sets a question needs — the terms of a candidate's sentences, their word pairs, a passage's terms —
are decoded from it on demand.

The folder also holds the sentence vectors of the same passages (`vectors`): the store keeps one
vector per passage, and the rows a question's candidates need are read from here.

Layout of a folder: `lexical.json` (layout, generation, model, the terms, BM25 row ids, passage
ids), `chunks.jsonl` (each passage as the store keeps it: text and metadata) with the
per-passage arrays that let a reader decode a passage only when it is asked for (`passage-*.npy`)
and the articles' ids and titles (`article-*`, see `passages.py`), `offsets.npy`, `tokens.npy`,
`df.npy`, one bm25s index per side (`bm25-original/`, `bm25-translated/`: written by bm25s, read by
`SavedBM25` without it; `term-columns.npy` beside it gives its vocabulary over the snapshot's term
ids, so a reader holds each term's string once), and `vectors.npy` with `vector-offsets.npy`. No
pickle anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from .facts import word_shapes
from .passages import LINES, Passages, Titles, read_lines
from .text import tokens
from .types import Chunk
from .vectors import Lookup, RowFile, Rows, SentenceVectors, assemble, snapshot_lookup

log = logging.getLogger(__name__)

LAYOUT = 5  # bump when the folder's contents change: an old folder is then rebuilt, never misread
# the layouts this version reads (2: float16 sentence rows, without scales; 3: each BM25 side's
# passage ids listed in full; 4: the articles in the description, each side's own vocabulary only)
READS = (2, 3, 4, 5)
META = "lexical.json"
COLUMNS = "term-columns.npy"  # in a BM25 side's folder: its column for each of the snapshot's term ids
_SIDES = {True: "bm25-original", False: "bm25-translated"}
# What a side's rows are, when they are what `build` makes them: every passage in order, or every
# passage with a translation in order. Written instead of the ids themselves (at 200,000 passages
# 231,000 ids: 8 MB of the description to decode at every start, and a string object each).
_DERIVED = {True: "every passage", False: "every translated passage"}
_KEEP = 2  # generations kept: a replica still on the previous one can load it while it catches up
_GAP = -1  # in a sentence row: between the written tokens and the translation's
_ASKED = 16  # questions whose weighted terms are kept: those of the answers in flight
# Articles whose terms and name shapes are kept: an answer asks for those of its candidates' articles
# (a few dozen); kept for all, a server over a large archive would hold every article's words in the end.
_ARTICLES = 512
T = TypeVar("T")


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG on import; keep its chatter out of our output.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class SavedBM25:
    """A BM25 index that bm25s saved, read without bm25s: its vocabulary, and the score each term
    gives each passage (a sparse column per term), memory-mapped. A reader needs nothing else, and
    so does not import bm25s and scipy (a fifth of a second and 26 MB at every start).

    `get_scores` gives what `bm25s.BM25.get_scores` gives for the methods whose scores are all in
    those columns (lucene, robertson, atire: qa-bot builds with lucene); `load` refuses the others.
    """

    _METHODS = ("lucene", "robertson", "atire")

    def __init__(self, vocab_dict: Mapping[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                 num_docs: int, dtype: str) -> None:  # fmt: skip
        self.vocab_dict = vocab_dict
        self._data, self._indices, self._indptr = data, indices, indptr
        self._num_docs = num_docs
        self._dtype = np.dtype(dtype)

    @classmethod
    def load(cls, folder: Path, term_ids: Mapping[str, int] | None = None) -> SavedBM25:
        """The index saved in `folder` (ValueError for a method this reader cannot score). Given the
        snapshot's term ids, its vocabulary is read as a column per term id (`COLUMNS`), sharing the
        snapshot's term strings instead of holding its own."""
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in cls._METHODS or (folder / "nonoccurrence_array.index.npy").exists():
            raise ValueError(f"BM25 method {params.get('method')!r} is not one this reader scores")

        def array(name: str) -> np.ndarray:  # a plain array over the mapped file
            return np.asarray(np.load(folder / name, mmap_mode="r"))

        indptr = array("indptr.csc.index.npy")
        columns = len(indptr) - 1
        vocab: Mapping[str, int]
        if term_ids is not None and (folder / COLUMNS).exists():
            vocab = Columns(term_ids, np.load(folder / COLUMNS))
            if len(vocab.columns) != len(term_ids):
                raise ValueError(f"the BM25 index in {folder} has columns for another vocabulary")
        else:
            words = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
            vocab = {t: i for t, i in words.items() if t or i < columns}  # bm25s adds "" without a column
            if term_ids is not None and all(t in term_ids for t in vocab if t):
                vocab = Columns.of(vocab, term_ids)
        top = int(vocab.columns.max(initial=-1)) if isinstance(vocab, Columns) else max(vocab.values(), default=-1)
        if top >= columns:
            raise ValueError(f"the BM25 index in {folder} has {columns} terms, fewer than its vocabulary")
        data, indices = array("data.csc.index.npy"), array("indices.csc.index.npy")
        return cls(vocab, data, indices, indptr, int(params["num_docs"]), params["dtype"])

    @property
    def num_docs(self) -> int:
        return self._num_docs

    def get_scores(self, query_tokens: list[str]) -> np.ndarray:
        """Every passage's score for `query_tokens` (a term given twice counts twice; unknown terms none)."""
        scores = np.zeros(self._num_docs, dtype=self._dtype)
        for term in query_tokens:
            i = self.vocab_dict.get(term)
            if i is not None:
                a, b = int(self._indptr[i]), int(self._indptr[i + 1])
                scores[self._indices[a:b]] += self._data[a:b]  # a term's passages are distinct
        return scores


class Columns(Mapping[str, int]):
    """A BM25 side's vocabulary over the snapshot's term ids: term -> its column, from one int32 per
    term id (-1: not on this side). At 200,000 passages a vocabulary of its own is a dict and a
    string per term, twice."""

    def __init__(self, term_ids: Mapping[str, int], columns: np.ndarray) -> None:
        self.term_ids, self.columns = term_ids, np.asarray(columns, dtype=np.int32)

    @classmethod
    def of(cls, vocab: Mapping[str, int], term_ids: Mapping[str, int]) -> Columns:
        """`vocab` (term -> column) over `term_ids`, which must hold every one of its terms but ""
        (bm25s's, never a search term)."""
        columns = np.full(len(term_ids), -1, dtype=np.int32)
        for term, column in vocab.items():
            if term:
                columns[term_ids[term]] = column
        return cls(term_ids, columns)

    def __getitem__(self, term: str) -> int:
        column = int(self.columns[self.term_ids[term]])
        if column < 0:
            raise KeyError(term)
        return column

    def get(self, term: str, default: Any = None) -> Any:
        i = self.term_ids.get(term)
        column = -1 if i is None else int(self.columns[i])
        return default if column < 0 else column

    def __contains__(self, term: object) -> bool:
        i = self.term_ids.get(term) if isinstance(term, str) else None
        return i is not None and self.columns[i] >= 0

    def __iter__(self) -> Iterator[str]:
        return (t for t, i in self.term_ids.items() if self.columns[i] >= 0)

    def __len__(self) -> int:
        return int(np.count_nonzero(self.columns >= 0))


@dataclass
class LexicalIndex:
    """Everything the retriever matches words against, for one generation of the store."""

    chunks: Passages = field(default_factory=lambda: Passages.from_chunks([]))  # id -> passage, in article order
    bm25: dict[bool, tuple[Any, list[str]]] = field(default_factory=dict)  # original? -> (index, chunk ids)
    terms: list[str] = field(default_factory=list)  # term id -> term
    term_ids: dict[str, int] = field(default_factory=dict)
    doc_freq: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # passages per term id
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))  # sentence row bounds
    tokens: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # rows of term ids
    generation: str | None = None
    records: int = 0  # vectors in the store when the snapshot was taken
    vectors: SentenceVectors | None = None  # every sentence's rows, in sentence order
    _article_terms: dict[str, frozenset[str]] = field(default_factory=dict)  # filled on use, bounded
    _article_shapes: dict[str, frozenset[str]] = field(default_factory=dict)  # filled on use, bounded
    # the terms of recently read passages and sentences: each answer reads them several times
    _passage_terms: dict[str, frozenset[str]] = field(default_factory=dict)
    _sentence_terms: dict[tuple[str, int], frozenset[str]] = field(default_factory=dict)
    _sentence_pairs: dict[tuple[str, int], frozenset[tuple[str, str]]] = field(default_factory=dict)
    _asked: dict[str, Any] = field(default_factory=dict)  # the last questions' weighted terms
    _token_file: RowFile | None = None  # `tokens` saved: read with pread

    # -- build ---------------------------------------------------------------------------------
    @classmethod
    def build(cls, chunks: Iterable[Chunk], generation: str | None = None) -> LexicalIndex:
        """Tokenise every sentence and translation once; index both sides with BM25."""
        chunks = sorted(chunks, key=lambda c: (c.source, c.position))
        lex = cls(generation=generation)
        ids: dict[str, int] = {}
        rows: list[int] = []
        offsets = [0]
        df: list[int] = []
        docs: dict[bool, list[list[str]]] = {True: [], False: []}

        def intern(words: list[str]) -> list[int]:
            return [ids.setdefault(w, len(ids)) for w in words]

        for c in chunks:
            passage: list[str] = []
            translation: list[str] = []
            seen: set[int] = set()
            for s in c.sentences:
                written, translated = tokens(s.text), tokens(s.translation or "")
                passage += written
                translation += translated
                row = [*intern(written), _GAP, *intern(translated)]
                rows += row
                offsets.append(len(rows))
                seen.update(row)
            # A passage's tokens are its sentences' tokens (tokens never span a sentence end); a
            # translation given for the passage as a whole is tokenised on its own, and its words are
            # the passage's words too (`chunk_terms`): the archive knows them, and counts them.
            free = tokens(c.translation) if c.translation and not _by_sentence(c) else None
            if free is not None:
                seen.update(intern(free))
            seen.discard(_GAP)
            df.extend([0] * (len(ids) - len(df)))
            for t in seen:
                df[t] += 1
            docs[True].append(passage)
            if c.translation:
                docs[False].append(translation if free is None else free)
        lex.terms = list(ids)
        lex.term_ids = ids
        lex.doc_freq = np.asarray(df, dtype=np.int32)
        lex.offsets = np.asarray(offsets, dtype=np.int64)
        lex.tokens = np.asarray(rows, dtype=np.int32)
        lex.chunks = Passages.from_chunks(chunks)
        bm25s = _bm25s()
        for original in (True, False):
            if any(docs[original]):  # (bm25s cannot index a side without a single token)
                bm25 = bm25s.BM25()
                bm25.index(docs[original], show_progress=False)
                lex.bm25[original] = (bm25, _side_rows(_DERIVED[original], lex.chunks))
        return lex

    @property
    def titles(self) -> Titles:
        """Article id -> title."""
        return self.chunks.titles

    # -- read ----------------------------------------------------------------------------------
    def df(self, term: str) -> int:
        """How many passages use `term`."""
        i = self.term_ids.get(term)
        return 0 if i is None else int(self.doc_freq[i])

    def __contains__(self, term: object) -> bool:
        return term in self.term_ids

    def _row(self, chunk_id: str, idx: int) -> np.ndarray | None:
        first = self.chunks.first_row(chunk_id)
        if first is None or not 0 <= idx < self.chunks.sentence_count(chunk_id):
            return None
        row = first + idx
        return self.token_span(int(self.offsets[row]), int(self.offsets[row + 1]))

    def token_span(self, a: int, b: int) -> np.ndarray:
        """`tokens[a:b]`; from a saved snapshot read with pread, not through its map: a page fault
        there would make the pages around a few rows resident too (see `vectors.py`)."""
        if self._token_file is None or b <= a:
            return self.tokens[a:b]
        return np.frombuffer(self._token_file.read(a * 4, (b - a) * 4), dtype=np.int32)

    def asked(self, question: str, weigh: Callable[[str], T]) -> T:
        """`weigh(question)`, kept for the last few questions: one answer reads a question's
        weighted terms three times (the search, the sentences' scores, the selector), and they
        hold for this snapshot only, which is where they are kept."""
        found = self._asked.get(question)
        return cast(T, found) if found is not None else _remember(self._asked, question, weigh(question), _ASKED)

    def sentence_terms(self, chunk_id: str, idx: int) -> frozenset[str]:
        """The search terms of one sentence and its translation."""
        found = self._sentence_terms.get((chunk_id, idx))
        if found is None:
            row = self._row(chunk_id, idx)
            terms = self.terms
            found = frozenset() if row is None else frozenset(terms[t] for t in row.tolist() if t != _GAP)
            _remember(self._sentence_terms, (chunk_id, idx), found)
        return found

    def sentence_pairs(self, chunk_id: str, idx: int) -> frozenset[tuple[str, str]]:
        """Adjacent search terms of one sentence, and of its translation (never across the two)."""
        found = self._sentence_pairs.get((chunk_id, idx))
        if found is None:
            row = self._row(chunk_id, idx)
            terms = self.terms
            pairs = () if row is None else pairwise(row.tolist())
            found = frozenset((terms[a], terms[b]) for a, b in pairs if a != _GAP and b != _GAP)
            _remember(self._sentence_pairs, (chunk_id, idx), found)
        return found

    def chunk_terms(self, chunk_id: str) -> frozenset[str]:
        """The search terms of every sentence of a passage (and of a translation of it as a whole)."""
        found = self._passage_terms.get(chunk_id)
        if found is None:
            first = self.chunks.first_row(chunk_id)
            if first is None:
                return frozenset()
            end = first + self.chunks.sentence_count(chunk_id)
            start = int(self.offsets[first])
            span = self.token_span(start, int(self.offsets[end]))
            ids = set(span.tolist())
            ids.discard(_GAP)
            terms = self.terms
            found = frozenset(terms[t] for t in ids)
            # A translation of the whole passage: its words too. A row that does not end at the gap
            # holds its sentence's own translation, and then the passage's words are all in its rows
            # (no need to read the passage).
            ends = self.offsets[first + 1 : end + 1] - 1 - start
            if self.chunks.has_translation(chunk_id) and bool(np.all(span[ends] == _GAP)):
                c = self.chunks[chunk_id]
                if c.translation and not _by_sentence(c):
                    found |= frozenset(tokens(c.translation))
            _remember(self._passage_terms, chunk_id, found)
        return found

    def nearby_terms(self, chunk_id: str) -> frozenset[str]:
        """A passage's terms with those of the passage before it in the same section."""
        before = self.chunks.before(chunk_id)
        here = self.chunk_terms(chunk_id)
        return here | self.chunk_terms(before) if before else here

    def article_terms(self, article_id: str) -> frozenset[str]:
        """Every search term an article uses (empty for an unknown id); built on first use."""
        terms = self._article_terms.get(article_id)
        if terms is None:
            terms = frozenset().union(*(self.chunk_terms(c) for c in self.chunks.of_article(article_id)))
            _remember(self._article_terms, article_id, terms, _ARTICLES)
        return terms

    def article_shapes(self, article_id: str) -> frozenset[str]:
        """The consonant skeletons of every word of an article (names across scripts); built on first use."""
        shapes = self._article_shapes.get(article_id)
        if shapes is None:
            shapes = frozenset().union(*(word_shapes(self.chunks[c].text) for c in self.chunks.of_article(article_id)))
            _remember(self._article_shapes, article_id, shapes, _ARTICLES)
        return shapes

    def best_sentences(self, chunk_ids: list[str], query: np.ndarray) -> dict[str, np.ndarray]:
        """`sentence_similarities` of several passages at once (one product over all their rows)."""
        return dict(zip(chunk_ids, self.passage_sentences(chunk_ids, query)[0], strict=True))

    def passage_sentences(self, chunk_ids: Sequence[str], query: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """For each of `chunk_ids`: its sentences' similarities (`sentence_similarities`), and the
        best of them (-1 for a passage without sentence rows or an unknown id) — found with array
        lookups rather than one per passage: a search reads a hundred passages or more."""
        n = len(chunk_ids)
        if self.vectors is None or not n:
            return [np.zeros(0, dtype=np.float32)] * n, np.full(n, -1.0)
        passages = self.chunks
        get = passages.position.get
        at = np.fromiter((get(c, -1) for c in chunk_ids), dtype=np.int64, count=n)
        known = at >= 0
        counts = np.zeros(n, dtype=np.int64)  # an unknown id: no sentences (so where they start is moot)
        counts[known] = passages.sentences[at[known]]
        return self.vectors.best_runs(passages.first[np.maximum(at, 0)], counts, query)

    def sentence_similarities(self, chunk_id: str, query: np.ndarray) -> np.ndarray:
        """Each sentence of a passage: its best similarity to `query` (as written or translated)."""
        first = self.chunks.first_row(chunk_id)
        if first is None or self.vectors is None:
            return np.zeros(0, dtype=np.float32)
        return self.vectors.best(first, self.chunks.sentence_count(chunk_id), query)

    def passage_rows(self, chunk_id: str) -> np.ndarray:
        """A passage's sentence rows (what its vectors in the store are made from)."""
        first = self.chunks.first_row(chunk_id)
        if first is None or self.vectors is None:
            return np.zeros((0, 0), dtype=np.float32)
        return self.vectors.rows(first, self.chunks.sentence_count(chunk_id))

    def attach_vectors(self, known: Sequence[Lookup], embed: Rows | None) -> None:
        """Sentence vectors held in memory (for a snapshot that cannot be saved)."""
        self.vectors = assemble(list(self.chunks.values()), known, embed)

    # -- persist -------------------------------------------------------------------------------
    def save(self, folder: Path, known: Sequence[Lookup] = (), embed: Rows | None = None, model: str = "") -> Path:
        """Write this generation's folder under `folder` (atomically: a reader sees all or nothing);
        older generations beyond the last few are removed. Returns the generation's folder.

        The sentence vectors are taken from the first of `known` that has a passage's rows, or made
        with `embed`; `model` names the embedding model they come from.
        """
        if not self.generation:
            raise ValueError("only a lexical index of a known store generation can be saved")
        target = folder / self.generation
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.generation}.", dir=folder))
        try:
            sides = {}
            for original, (bm25, row_ids) in self.bm25.items():
                bm25.save(str(tmp / _SIDES[original]), show_progress=False)
                np.save(tmp / _SIDES[original] / COLUMNS, Columns.of(bm25.vocab_dict, self.term_ids).columns)
                derived = row_ids == _side_rows(_DERIVED[original], self.chunks)
                sides[_SIDES[original]] = _DERIVED[original] if derived else row_ids
            vectors = assemble(list(self.chunks.values()), known, embed, tmp)
            np.save(tmp / "offsets.npy", self.offsets)
            np.save(tmp / "tokens.npy", self.tokens)
            np.save(tmp / "df.npy", self.doc_freq)
            listed = self.chunks.save(tmp)
            meta = {"layout": LAYOUT, "generation": self.generation, "model": model, "passages": len(self.chunks),
                    "terms": self.terms, "sides": sides, "written_at": time.time(), **listed}  # fmt: skip
            (tmp / META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            try:
                os.rename(tmp, target)
            except OSError:  # another process saved the same generation first: theirs is as good
                if not (target / META).exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.vectors = vectors  # (mapped before the rename: the same file)
        _prune(folder, keep=target)
        return target

    @classmethod
    def load(cls, folder: Path, generation: str) -> LexicalIndex | None:
        """The saved index of `generation`, or None when it is missing, of another layout or unreadable."""
        path = folder / generation
        try:
            meta = _description(path)
            if meta.get("layout") not in READS or meta.get("generation") != generation:
                return None
            lex = cls(generation=generation)
            lex.chunks = Passages.open(path, meta)
            lex.terms = [str(t) for t in meta["terms"]]
            lex.term_ids = {t: i for i, t in enumerate(lex.terms)}
            # plain arrays over the mapped files (slicing a np.memmap makes a Python object each time)
            lex.offsets = np.asarray(np.load(path / "offsets.npy", mmap_mode="r"))
            mapped = np.load(path / "tokens.npy", mmap_mode="r")
            lex.tokens = np.asarray(mapped)
            if lex.tokens.dtype != np.int32 or lex.tokens.ndim != 1:
                raise ValueError("tokens.npy is not a row of int32 term ids")
            lex._token_file = RowFile.open(path / "tokens.npy", int(mapped.offset))
            lex.doc_freq = np.asarray(np.load(path / "df.npy", mmap_mode="r"))
            for original, side in _SIDES.items():
                if side in meta["sides"]:
                    bm25 = SavedBM25.load(path / side, lex.term_ids)
                    rows_of = _side_rows(meta["sides"][side], lex.chunks)
                    if len(rows_of) != bm25.num_docs:
                        raise ValueError(
                            f"{side} scores {bm25.num_docs} passages, its description names {len(rows_of)}"
                        )
                    lex.bm25[original] = (bm25, rows_of)
            rows = int(lex.chunks.first[-1])
            lex.vectors = SentenceVectors.load(path, rows)
            if (
                len(lex.chunks) != meta["passages"]
                or len(lex.offsets) != rows + 1
                or len(lex.doc_freq) != len(lex.terms)
                or lex.vectors is None
            ):
                log.warning("The lexical index in %s does not match its own description; rebuilding it.", path)
                return None
            return lex
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("The lexical index in %s is unreadable (%s); rebuilding it from the store.", path, exc)
            return None


def _by_sentence(c: Chunk) -> bool:
    """A passage whose translation is its sentences' own (all of them, or those an alignment paired):
    its words are in the sentence rows already."""
    return any(s.translation for s in c.sentences)


def _description(path: Path) -> dict[str, Any]:
    """A snapshot folder's `lexical.json` (ValueError when it is not a JSON object)."""
    meta = json.loads((path / META).read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError(f"{META} is not a JSON object")
    return meta


def _side_rows(saved: Any, passages: Passages) -> list[str]:
    """The passage id of each row of a BM25 side, from what the folder's description says of it: the
    ids themselves, or which passages (`_DERIVED`)."""
    if saved == _DERIVED[True]:
        return passages.ids  # (the passages' own list, read only: 200,000 ids need no second one)
    if saved == _DERIVED[False]:
        return [passages.ids[i] for i in np.flatnonzero(passages.translated).tolist()]
    if isinstance(saved, list):
        rows = [str(i) for i in saved]
        if not all(r in passages for r in rows):
            raise ValueError("a BM25 side lists passages the snapshot does not have")
        return rows
    raise ValueError(f"a BM25 side described as {saved!r}")


def newest(folder: Path) -> LexicalIndex | None:
    """The most recently saved generation in `folder` that loads (for a start while the store,
    which names the current generation, cannot be reached)."""
    try:
        saved = sorted(
            ((p.stat().st_mtime, p.name) for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
            reverse=True,
        )
    except OSError:
        return None
    for _, generation in saved:
        lexical = LexicalIndex.load(folder, generation)
        if lexical is not None:
            return lexical
    return None


def saved_lookups(folder: Path, model: str) -> list[Lookup]:
    """Sentence rows by passage from the generations saved in `folder` with `model`, newest first
    (what a new snapshot reuses instead of embedding again)."""
    found = []
    try:
        saved = sorted(
            ((p.stat().st_mtime, p) for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
            reverse=True,
        )
    except OSError:
        return []
    for _, path in saved:
        try:
            meta = _description(path)
            if meta.get("layout") not in READS or meta.get("model") != model:
                continue
            chunks = list(read_lines(path / LINES))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        vectors = SentenceVectors.load(path, sum(len(c.sentences) for c in chunks))
        if vectors is not None:
            found.append(snapshot_lookup(chunks, vectors))
    return found


def _prune(folder: Path, keep: Path) -> None:
    """Remove all but the newest `_KEEP` generations (a reader that has mapped a removed one keeps
    its files open: removal never pulls data from under an answer)."""
    saved = []
    for p in folder.iterdir():
        if p.is_dir() and not p.name.startswith(".") and p != keep:
            try:
                saved.append((p.stat().st_mtime, p))
            except OSError:
                continue
    for _, p in sorted(saved, reverse=True)[_KEEP - 1 :]:
        shutil.rmtree(p, ignore_errors=True)


_REMEMBERED = 4096


def _remember(cache: dict[Any, T], key: Any, value: T, limit: int = _REMEMBERED) -> T:
    """Keep `value` in a bounded cache (emptied when full: answers after that fill it again)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value
