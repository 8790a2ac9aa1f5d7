"""A snapshot's passages: by id, in article order, read from disk only when a question needs one.

A reader of a large archive does not hold every passage in memory. What answering a question
asks of *every* passage — where its sentence rows start, how many it has, the passage before it in
the same section, its article, whether it has a translation — is kept in small arrays; the
passage itself (text, sentences, metadata) is decoded from `chunks.jsonl` when a candidate needs it,
read with `pread` (not through a memory map, whose faults would make the pages around each passage
resident too: see `vectors.py`) and kept in a bounded cache. At 200,000 passages this is the
difference between decoding every passage at start-up (seconds, and most of a gigabyte of Python
objects) and decoding the few dozen a question touches.

Files (beside `chunks.jsonl`, one JSON line per passage: text and metadata as the store keeps
them): `passage-starts.npy` (each line's byte offset, and the file's end), `passage-sentences.npy`,
`passage-previous.npy` (the position of the passage before in the same section, or -1),
`passage-article.npy` (an index into the articles) and `passage-translated.npy`. The articles'
ids are `article-ids.bin` (UTF-8, one after the other) with `article-ids.npy` (where each starts,
and the end), kept so (`Strings`); their titles likewise `article-titles.*`, read and decoded when
one is asked for: a newsroom's archive has an article for every few passages. The chat's article
picker searches `article-keys.bin` (each article's title and id as `title_key` reads them; where each
starts in `article-keys.npy`) and lists by `article-order.npy` (the articles by title, then id).
A folder written before these files existed is read whole, as before; one with the articles in its
description reads them from there, and one without the keys makes them on the first search.
"""

from __future__ import annotations

import json
import os
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, cast, overload

import numpy as np

from .records import chunk_from, passage_metadata
from .text import TITLE_KEY_VERSION, title_key
from .types import Chunk
from .vectors import RowFile

LINES = "chunks.jsonl"
_ARRAYS = ("starts", "sentences", "previous", "article", "translated")
TITLES, ARTICLE_IDS = "article-titles", "article-ids"
KEYS, ORDER = "article-keys", "article-order.npy"
_BLOCK = 1 << 20  # bytes of saved keys a search reads at a time
_FIELD, _RECORD = b"\x1f", b"\x1e"  # in the keys: between an article's title and id, after its id
CACHED = 4096  # decoded passages kept: a question touches a few dozen


class Strings(Sequence[str]):
    """Strings kept as one UTF-8 buffer and where each starts, not as an object each, and found
    through their sorted hashes (this process's `hash`): an archive's 150,000 article ids take 4 MB
    instead of 18."""

    def __init__(self, data: bytes, starts: np.ndarray) -> None:
        if not len(starts) or int(starts[0]) != 0 or int(starts[-1]) != len(data):
            raise ValueError("the strings' offsets do not match their data")
        self._data, self._starts = data, np.asarray(starts, dtype=np.int64)
        hashes = np.fromiter((hash(s) for s in self), dtype=np.int64, count=len(self))
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]

    @classmethod
    def of(cls, strings: Iterable[str]) -> Strings:
        return cls(*_packed([s.encode("utf-8") for s in strings]))

    def save(self, folder: Path, name: str) -> None:
        (folder / f"{name}.bin").write_bytes(self._data)
        np.save(folder / f"{name}.npy", self._starts)

    @classmethod
    def open(cls, folder: Path, name: str) -> Strings:
        return cls((folder / f"{name}.bin").read_bytes(), np.load(folder / f"{name}.npy"))

    def find(self, s: object) -> int | None:
        """The position of `s` (None when it is not one of them)."""
        if not isinstance(s, str):
            return None
        h = hash(s)
        i = int(self._hashes.searchsorted(h))
        while i < len(self._hashes) and int(self._hashes[i]) == h:
            if self[int(self._order[i])] == s:
                return int(self._order[i])
            i += 1
        return None

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("string index out of range")
        return self._data[int(self._starts[i]) : int(self._starts[i + 1])].decode("utf-8")

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __iter__(self) -> Iterator[str]:
        starts = self._starts.tolist()
        data = self._data
        return (data[a:b].decode("utf-8") for a, b in pairwise(starts))

    def __contains__(self, s: object) -> bool:
        return self.find(s) is not None


class Titles(Mapping[str, str]):
    """Article id → title, in the articles' order; the titles are kept as UTF-8 bytes (in a file, or
    in memory) and decoded when one is asked for."""

    def __init__(
        self,
        ids: Strings,
        text: bytes | RowFile,
        starts: np.ndarray,
        keys: tuple[bytes | RowFile, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        size = len(text) if isinstance(text, bytes) else os.fstat(text.fd).st_size
        if len(starts) != len(ids) + 1 or (ids and int(starts[-1]) != size):
            raise ValueError("the article titles do not match the article ids")
        if keys is not None and (len(keys[1]) != len(ids) + 1 or len(keys[2]) != len(ids)):
            raise ValueError("the article search keys do not match the article ids")
        self.ids = ids
        self._text, self._starts = text, starts
        self._keys = keys  # (title and id keys, where each article's start, the articles by title)
        self._rank: np.ndarray | None = None
        self._making = threading.Lock()  # one thread makes the keys of titles read without them

    @classmethod
    def of(cls, articles: Sequence[tuple[str, str]]) -> Titles:
        """Titles held in memory."""
        return cls(Strings.of(a for a, _ in articles), *_packed([t.encode("utf-8") for _, t in articles]))

    def save(self, folder: Path) -> None:
        self.ids.save(folder, ARTICLE_IDS)
        text = self._text if isinstance(self._text, bytes) else self._text.path.read_bytes()
        (folder / f"{TITLES}.bin").write_bytes(text)
        np.save(folder / f"{TITLES}.npy", np.asarray(self._starts, dtype=np.int64))
        keys, starts, order = self._search_keys()
        (folder / f"{KEYS}.bin").write_bytes(keys if isinstance(keys, bytes) else keys.path.read_bytes())
        np.save(folder / f"{KEYS}.npy", np.asarray(starts, dtype=np.int64))
        np.save(folder / ORDER, np.asarray(order, dtype=np.int32))
        (folder / f"{KEYS}.json").write_text(json.dumps(_keys_made_by()), encoding="utf-8")

    @classmethod
    def open(cls, folder: Path) -> Titles:
        """The articles saved in `folder`, their titles read one by one when asked for (with pread, as
        passages are, not through a map that would make the pages around each resident)."""
        ids = Strings.open(folder, ARTICLE_IDS)
        starts = np.asarray(np.load(folder / f"{TITLES}.npy", mmap_mode="r"))
        keys = None
        try:  # keys made by another `title_key` (or Unicode version) would miss: made again on first use
            made_by = json.loads((folder / f"{KEYS}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            made_by = None
        if made_by == _keys_made_by():
            keys = (RowFile.open(folder / f"{KEYS}.bin", 0), np.asarray(np.load(folder / f"{KEYS}.npy", mmap_mode="r")),
                    np.asarray(np.load(folder / ORDER, mmap_mode="r")))  # fmt: skip
        return cls(ids, RowFile.open(folder / f"{TITLES}.bin", 0), starts, keys)

    def search(self, query: str, limit: int) -> list[str]:
        """The ids of at most `limit` articles whose title or id holds `query` (read as `title_key`
        reads both: Arabic letter forms, accents and case ignored), by title then id; the first
        `limit` by title for an empty query. One scan of the keys, whatever the archive's size (a
        picker's search over 150,000 titles, keyed one by one, took 1.6 s). A title's control
        characters U+001E and U+001F, which the keys use as separators, are read as spaces."""
        keys, starts, order = self._search_keys()
        try:
            wanted = title_key(query.strip()).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no title holds one
            return []
        if not wanted:
            return [self.ids[i] for i in order[:limit].tolist()]
        if _FIELD in wanted or _RECORD in wanted:
            return []
        found = _scan(keys, starts, wanted)
        if not found:
            return []
        if self._rank is None:
            rank = np.empty(len(order), dtype=np.int32)
            rank[order] = np.arange(len(order), dtype=np.int32)
            self._rank = rank
        hits = np.searchsorted(starts, found, side="right") - 1
        best = hits[np.argsort(self._rank[hits], kind="stable")][:limit]
        return [self.ids[i] for i in best.tolist()]

    def _search_keys(self) -> tuple[bytes | RowFile, np.ndarray, np.ndarray]:
        """The search index: every article's title key and id key, and the articles by title then id
        (made on first use, once, for titles not read from a folder that has it)."""
        with self._making:
            if self._keys is None:
                self._keys = self._make_keys()
            return self._keys

    def _make_keys(self) -> tuple[bytes, np.ndarray, np.ndarray]:
        clean = bytes.maketrans(_FIELD + _RECORD, b"  ")
        records = [
            title_key(self.title(i)).encode("utf-8").translate(clean) + _FIELD
            + title_key(a).encode("utf-8").translate(clean) + _RECORD
            for i, a in enumerate(self.ids)
        ]  # fmt: skip
        order = sorted(range(len(records)), key=lambda i: (records[i].split(_FIELD, 1)[0], self.ids[i]))
        return (*_packed(records), np.asarray(order, dtype=np.int32))

    def title(self, i: int) -> str:
        a, b = int(self._starts[i]), int(self._starts[i + 1])
        if isinstance(self._text, bytes):
            return self._text[a:b].decode("utf-8")
        return self._text.read(a, b - a).decode("utf-8")

    def position(self, article_id: str) -> int | None:
        """Where an article is in the archive's order (None for an unknown id)."""
        return self.ids.find(article_id)

    def __getitem__(self, article_id: str) -> str:
        i = self.ids.find(article_id)
        if i is None:
            raise KeyError(article_id)
        return self.title(i)

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, article_id: object) -> bool:
        return self.ids.find(article_id) is not None


def find_articles(articles: Mapping[str, str], query: str, limit: int) -> list[str]:
    """The ids of at most `limit` articles (id -> title) whose title or id holds `query`, by title
    (`Titles.search`); any other mapping is searched by keying each title, every time."""
    search = getattr(articles, "search", None)
    if search is not None:
        return cast(list[str], search(query, limit))
    wanted = title_key(query.strip())
    found = sorted(
        (title_key(title), article_id)
        for article_id, title in articles.items()
        if not wanted or wanted in title_key(title) or wanted in title_key(article_id)
    )
    return [article_id for _, article_id in found[:limit]]


def _packed(items: list[bytes]) -> tuple[bytes, np.ndarray]:
    """`items` one after the other, and where each starts (and the end)."""
    starts = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in items], out=starts[1:])
    return b"".join(items), starts


def _keys_made_by() -> dict[str, Any]:
    return {"title_key": TITLE_KEY_VERSION, "unicode": unicodedata.unidata_version}


def _scan(keys: bytes | RowFile, starts: np.ndarray, wanted: bytes) -> list[int]:
    """Where `wanted` first is in each article's keys that hold it. Saved keys are read a block of
    whole articles' keys at a time (pread: a map would keep the whole file resident after one search)."""
    found: list[int] = []
    n = len(starts) - 1
    i = 0
    while i < n:
        if isinstance(keys, bytes):
            j, block, base = n, keys, 0
        else:
            j = min(n, max(i + 1, int(np.searchsorted(starts, int(starts[i]) + _BLOCK, side="right")) - 1))
            base, end = int(starts[i]), int(starts[j])
            block = keys.read(base, end - base)
        at = block.find(wanted)
        while at >= 0:
            found.append(base + at)
            at = block.find(wanted, block.find(_RECORD, at) + 1)  # the next article's keys
        i = j
    return found


class Passages(Mapping[str, Chunk]):
    """Passage id → Chunk, in article order, with what the retriever asks of every passage."""

    def __init__(
        self,
        ids: list[str],
        sentences: np.ndarray,
        previous: np.ndarray,
        article: np.ndarray,
        translated: np.ndarray,
        articles: Titles,
        chunks: Sequence[Chunk] | None = None,
        lines: tuple[RowFile, np.ndarray] | None = None,
    ) -> None:
        self.ids = ids
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.sentences = sentences
        self.first = np.concatenate(([0], np.cumsum(sentences, dtype=np.int64)))  # first sentence row
        self.previous = previous
        self.article = article
        self.translated = translated
        self.titles = articles
        self.article_ids = articles.ids
        self._chunks = list(chunks) if chunks is not None else None
        self._lines = lines
        self._decode = lru_cache(maxsize=CACHED)(self._read)

    # -- build ---------------------------------------------------------------------------------
    @classmethod
    def from_chunks(cls, chunks: Sequence[Chunk]) -> Passages:
        """Passages held in memory (`chunks` in article order)."""
        ids = [c.id for c in chunks]
        article_index: dict[str, int] = {}
        titles: list[tuple[str, str]] = []
        previous = np.full(len(chunks), -1, dtype=np.int32)
        for i, c in enumerate(chunks):
            if c.article_id not in article_index:
                article_index[c.article_id] = len(titles)
                titles.append((c.article_id, c.title))
            before = chunks[i - 1] if i else None
            if before is not None and (before.source, before.section) == (c.source, c.section):
                previous[i] = i - 1
        return cls(
            ids,
            np.asarray([len(c.sentences) for c in chunks], dtype=np.int32),
            previous,
            np.asarray([article_index[c.article_id] for c in chunks], dtype=np.int32),
            np.asarray([bool(c.translation) for c in chunks], dtype=bool),
            Titles.of(titles),
            chunks=chunks,
        )

    def save(self, folder: Path) -> dict[str, Any]:
        """Write `chunks.jsonl` and the arrays into `folder`; returns what the folder's description
        must add (the passage ids)."""
        starts = [0]
        with (folder / LINES).open("wb") as out:
            for c in self.values():
                line = (json.dumps([c.text, passage_metadata(c)], ensure_ascii=False) + "\n").encode("utf-8")
                out.write(line)
                starts.append(starts[-1] + len(line))
        arrays = {"starts": np.asarray(starts, dtype=np.int64), "sentences": self.sentences,
                  "previous": self.previous, "article": self.article, "translated": self.translated}  # fmt: skip
        for name in _ARRAYS:
            np.save(folder / f"passage-{name}.npy", arrays[name])
        self.titles.save(folder)
        return {"passage_ids": self.ids}

    @classmethod
    def open(cls, folder: Path, meta: dict[str, Any]) -> Passages:
        """The passages saved in `folder` (described by `meta`), decoded on demand; a folder without
        the arrays is read whole."""
        if "passage_ids" not in meta or not all((folder / f"passage-{n}.npy").exists() for n in _ARRAYS):
            return cls.from_chunks(list(read_lines(folder / LINES)))
        arrays = {n: np.asarray(np.load(folder / f"passage-{n}.npy", mmap_mode="r")) for n in _ARRAYS}
        ids = [str(i) for i in meta["passage_ids"]]
        if any(len(arrays[n]) != len(ids) for n in _ARRAYS[1:]) or len(arrays["starts"]) != len(ids) + 1:
            raise ValueError("the passage arrays do not match the passage ids")
        lines = None
        if ids:
            file = RowFile.open(folder / LINES, 0)  # (the descriptor outlives a removal of the file)
            if os.fstat(file.fd).st_size != int(arrays["starts"][-1]):
                raise ValueError(f"{LINES} is not the size its offsets say")
            lines = (file, arrays["starts"])
        if (folder / f"{ARTICLE_IDS}.npy").exists():
            articles = Titles.open(folder)
        else:  # written before the articles had files of their own
            articles = Titles.of([(str(a), str(t)) for a, t in meta["articles"]])
        return cls(ids, arrays["sentences"], arrays["previous"], arrays["article"], arrays["translated"],
                   articles, lines=lines)  # fmt: skip

    # -- read ----------------------------------------------------------------------------------
    def _read(self, i: int) -> Chunk:
        if self._chunks is not None:
            return self._chunks[i]
        assert self._lines is not None
        file, starts = self._lines
        text, meta = json.loads(file.read(int(starts[i]), int(starts[i + 1] - starts[i])))
        return chunk_from(text, meta)

    def __getitem__(self, cid: str) -> Chunk:
        return self._decode(self.position[cid])

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, cid: object) -> bool:
        return cid in self.position

    def first_row(self, cid: str) -> int | None:
        """The row of a passage's first sentence (None for an unknown id)."""
        i = self.position.get(cid)
        return None if i is None else int(self.first[i])

    def sentence_count(self, cid: str) -> int:
        i = self.position.get(cid)
        return 0 if i is None else int(self.sentences[i])

    def before(self, cid: str) -> str | None:
        """The passage before `cid` in the same section, if any."""
        i = self.position.get(cid)
        j = -1 if i is None else int(self.previous[i])
        return self.ids[j] if j >= 0 else None

    def article_of(self, cid: str) -> str:
        return self.article_ids[int(self.article[self.position[cid]])]

    def has_translation(self, cid: str) -> bool:
        return bool(self.translated[self.position[cid]])

    def of_article(self, article_id: str) -> list[str]:
        """An article's passages, in order (empty for an unknown id)."""
        a = self.titles.position(article_id)
        if a is None:
            return []
        order, keys = self._by_article
        lo, hi = np.searchsorted(keys, [a, a + 1])
        return [self.ids[int(i)] for i in order[lo:hi]]

    @cached_property
    def _by_article(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.article, kind="stable").astype(np.int32)
        return order, self.article[order]

    def article_counts(self) -> Counter[str]:
        """Passages per article id."""
        counts = np.bincount(self.article, minlength=len(self.article_ids))
        return Counter({a: int(n) for a, n in zip(self.article_ids, counts.tolist(), strict=True)})


def read_lines(path: Path) -> Iterator[Chunk]:
    """Every passage of a `chunks.jsonl`, in order."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            text, meta = json.loads(line)
            yield chunk_from(text, meta)
