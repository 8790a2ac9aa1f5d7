"""Index: passages and their sentences, in both languages, in a persistent Chroma collection.

One record per passage in the one collection (metadata `kind` "passage", `original` True); its
metadata carries the whole `Chunk`, its vector is the mean of its sentences' vectors, joined with
its translation's when it has one (`vectors.passage_vector`): every sentence (and sentence
translation) is embedded once, and its own vector is kept beside the lexical index (`vectors`),
where answers read the rows of their candidate passages.

A manifest (`manifest.json`) records the embedding model, the corpus hash and the ingest version;
when any differs, the index is stale and `ensure()` refreshes it. Refreshing upserts by
content-derived ids and deletes records whose passage is gone, so it never duplicates.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import Settings
from .errors import CorpusError, IndexStoreError
from .health import StoreHealth
from .ingest import INGEST_VERSION, corpus_files, load_corpus
from .models import embeddings_id
from .records import chunk_from, passage_metadata, read_record, record_metadata, records
from .types import Chunk
from .vectors import Lookup, Pending, Rows, aligned, passage_vector, passage_vectors, row_counts, row_maker

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
LOCK = ".writer.lock"
GENERATION = "qa_bot_generation"  # collection metadata: changes with every completed refresh
_GENERATION_EVERY = 5.0  # seconds between reads of it from a Chroma server
_CHROMA_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Records per store write. Each write saves the graph (below) and costs a round of Chroma's own
# work: writing 50k records 256 at a time took 64 s against 85 s 64 at a time (512 and 1024: the same
# as 256), a quarter of the write time of a large import.
_WRITE_BATCH = 256
_READ_PAGE = 8192  # records per read (see `Index._records`)
_TRANSLATION_ID = ":tr"  # the id suffix of a translation's own record, in stores of layouts before 4
_EMBED_GROUP = 64  # passages embedded together
# How the store is laid out (record kinds, HNSW settings): a different layout is rebuilt from seeds/.
# 4: one record per passage (3 had a second for its translation).
STORE_LAYOUT = "4"
# The search beam (Chroma's default) makes the search exact on collections of up to ~100 records.
# Two builds of the same records do not make the same graph (Chroma draws its levels at random, even
# with one thread), so two builds can differ in a few neighbours; one store answers alike in every
# process (below).
_HNSW_BEAM = 100
# Every write reaches the graph's files. With Chroma's default (1000), up to 999 of the last records
# stay in its write-ahead log and are inserted into the graph again at every open — a different graph
# in every process: on a 20k archive one question's 40 nearest records shared 7 from one start to the
# next, and answers changed with them (and each start paid for the inserts: a 200k store's cold start
# went 4.2 → 2.6 s). Persisting each write costs ~7% of the store's write time.
_HNSW_SYNC = 1
_HNSW_BUILD_BEAM = 100  # Chroma's default: a wider one made writes ~20% slower for no better neighbours here


@dataclass(frozen=True)
class RefreshReport:
    """What one indexing run did: articles added / updated / removed / skipped, and passages embedded."""

    added: int
    removed: int
    kept: int
    seconds: float
    rebuilt: bool
    updated: int = 0
    articles_added: int = 0
    articles_updated: int = 0
    articles_removed: int = 0
    articles_skipped: int = 0

    def __str__(self) -> str:
        how = "rebuilt" if self.rebuilt else "refreshed"
        rate = f", {self.added / self.seconds:.0f} passages/s" if self.added and self.seconds > 0 else ""
        return (
            f"index {how}: {self.articles_added} added, {self.articles_updated} updated, "
            f"{self.articles_removed} removed, {self.articles_skipped} skipped (articles); "
            f"{self.added} passages embedded, {self.removed} deleted, {self.updated} moved, "
            f"{self.kept} unchanged in {self.seconds:.1f}s{rate}"
        )


def corpus_stamp(settings: Settings) -> list[list[Any]]:
    """What the file system says about each article file (path, size, modification and change times,
    inode), without reading it: the same stamp as at the last refresh means the same files, as git
    tells an unchanged work tree. An edit changes the change time even when it keeps the size and
    puts the modification time back; a copied or restored project hashes its files again."""
    out = []
    for path in corpus_files(settings.seeds_path):
        st = path.stat()
        out.append(
            [path.relative_to(settings.seeds_path).as_posix(), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        )
    return out


CHANGED_WHILE_INDEXING = "changed while indexing"  # a manifest's corpus that matches no hash: index again
# A file modified this recently when its stamp is recorded could be modified again within the same
# tick of the file system's clock (2 s on FAT, coarser on some network mounts) and keep its stamp:
# git's "racily clean" entries. Such a stamp is not recorded; the next start hashes the files.
RACY_NS = 2_000_000_000


def corpus_hash(settings: Settings) -> str:
    digest = hashlib.sha256(INGEST_VERSION.encode())
    for path in corpus_files(settings.seeds_path):
        digest.update(path.relative_to(settings.seeds_path).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class Index:
    """The persisted vector store plus the chunk table it holds.

    Example:
        >>> index = Index(Settings(root=project), embeddings)   # doctest: +SKIP
        >>> index.ensure()                                      # builds or refreshes when stale
        >>> len(index.chunks())
    """

    def __init__(self, settings: Settings, embeddings: Embeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.path = settings.index_path
        self._store: Any = None
        self._opening = threading.Lock()
        self._generation: str | None = None
        self._generation_read = -_GENERATION_EVERY
        self.health = StoreHealth()  # whether the store answers, as answers see it

    @property
    def pending_path(self) -> Path:
        """Sentence vectors embedded by a run that has not yet published them (see `vectors.Pending`)."""
        return self.path / "pending"

    # -- the store ---------------------------------------------------------------------------
    @property
    def store(self) -> Any:
        """The LangChain `Chroma` vector store (opened on first use)."""
        if self._store is None:
            with self._opening:  # Chroma's client cache is not safe against concurrent first opens
                if self._store is None:
                    self._store = self._open()
        return self._store

    def _open(self) -> Any:
        import chromadb
        from chromadb.api.collection_configuration import CreateCollectionConfiguration
        from langchain_chroma import Chroma

        configuration: CreateCollectionConfiguration = {
            "hnsw": {
                "space": "cosine",
                "num_threads": 1,
                "ef_construction": _HNSW_BUILD_BEAM,
                "ef_search": _HNSW_BEAM,
                "sync_threshold": _HNSW_SYNC,
            }
        }

        _make_dir(self.path)  # the manifest lives here, also when the vectors live on a server
        no_telemetry = chromadb.config.Settings(anonymized_telemetry=False)
        try:
            if self.settings.chroma_url:
                url = urlsplit(self.settings.chroma_url)
                client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=no_telemetry,
                )
                _limit_wait(client, self.settings.store_timeout)
            else:
                client = chromadb.PersistentClient(path=str(self.path), settings=no_telemetry)
            return Chroma(
                client=client,
                collection_name=self.settings.collection,
                embedding_function=self.embeddings,
                collection_configuration=configuration,
            )
        except Exception as exc:  # noqa: BLE001 - any failure to open: one clear line
            where = (
                f"the Chroma server at {self.settings.chroma_url} (QA_BOT_CHROMA_URL)"
                if self.settings.chroma_url
                else self.path
            )
            raise IndexStoreError(f"Cannot open the index in {where}: {type(exc).__name__}") from None

    def _reset(self) -> None:
        """Delete the stored index entirely (model change or corruption)."""
        if self.settings.chroma_url:  # a server: drop the collection, never touch local files
            try:
                self.store.delete_collection()
            except Exception:
                log.debug("no collection to delete", exc_info=True)
            self._store = None
            (self.path / MANIFEST).unlink(missing_ok=True)
            shutil.rmtree(self.pending_path, ignore_errors=True)
            return
        self._store = None
        _clear_client_cache()  # Chroma caches one client per path; a deleted store must not be served from it
        if not self.path.is_dir():
            return
        # Only what Chroma and qa-bot write: the index folder may be shared with other files.
        for child in self.path.iterdir():
            if child.is_dir() and _CHROMA_SEGMENT.fullmatch(child.name):
                shutil.rmtree(child)
            elif child.is_file() and (child.name.startswith("chroma.sqlite3") or child.name.startswith(MANIFEST)):
                child.unlink()
        shutil.rmtree(self.pending_path, ignore_errors=True)

    def _persist_every_write(self) -> None:
        """A store made before `_HNSW_SYNC` is switched to it (the writer does this, once): its log's
        tail is written into the graph as it is opened again, and every write from then on."""
        collection = self.store._collection
        hnsw = (collection.configuration_json or {}).get("hnsw") or {}
        if hnsw.get("sync_threshold", _HNSW_SYNC) == _HNSW_SYNC:
            return
        try:
            collection.modify(configuration={"hnsw": {"sync_threshold": _HNSW_SYNC}})
        except Exception as exc:  # noqa: BLE001 - the index still works as it is: say so, never stop a refresh
            log.warning("could not switch the store to save its graph at every write (%s); answers may differ "
                        "slightly between starts until it is rebuilt", type(exc).__name__)  # fmt: skip
            return
        log.info("Index: the vector graph is saved at every write now (was every %s)", hnsw["sync_threshold"])
        self.reopen()
        self.store._collection.count()  # opening it saves the log's records into the graph: here, under the lock

    def search_exhaustively(self) -> None:
        """Widen the store's search beam to its size, so a dense search visits every record: exact,
        and so the same from one build of the store to the next (Chroma's graph is not). For the
        small throw-away archives `make train` asks its questions over, whose rows must not depend
        on the graph; a beam as wide as the store costs too much on a large one."""
        collection = self.store._collection
        collection.modify(configuration={"hnsw": {"ef_search": max(_HNSW_BEAM, collection.count())}})
        self.reopen()

    def heartbeat(self) -> None:
        """Ask the store whether it answers (raises when it does not)."""
        self.store._client.heartbeat()

    def reopen(self) -> None:
        """Forget the open store so the next use re-reads it (another process rewrote it)."""
        self._store = None
        if not self.settings.chroma_url:
            _clear_client_cache()

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the index's single-writer lock; a second writer waits (saying so), up to lock_timeout."""
        _make_dir(self.path)
        with open(self.path / LOCK, "a+", encoding="utf-8") as handle:
            deadline = time.monotonic() + self.settings.lock_timeout
            told = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not told:
                        handle.seek(0)
                        holder = handle.read().strip() or "unknown"
                        log.warning(
                            "another qa-bot is writing the index in %s (pid %s); waiting for it to finish…",
                            self.path,
                            holder,
                        )
                        told = True
                    if time.monotonic() >= deadline:
                        raise IndexStoreError(
                            f"another qa-bot is still writing the index in {self.path} after "
                            f"{self.settings.lock_timeout:.0f}s (QA_BOT_LOCK_TIMEOUT); try again when it has finished"
                        ) from None
                    time.sleep(0.2)
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- manifest ----------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def manifest_stamp(self) -> tuple[int, int] | str | None:
        """Changes whenever the index is rewritten (cheap enough to check on every question).

        Embedded store: the manifest file's timestamp. Chroma server: the generation the last
        refresh (from any machine) recorded on the collection, read at most every few seconds.
        """
        if self.settings.chroma_url:
            return self._server_generation()
        try:
            st = (self.path / MANIFEST).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino

    def generation(self) -> str | None:
        """The store's generation now (a new one with every completed refresh); None when unknown.

        It names the lexical index saved for exactly the passages the store holds.
        """
        if self.settings.chroma_url:
            try:
                metadata = self.store._client.get_collection(self.settings.collection).metadata or {}
            except Exception:
                log.debug("could not read the index generation", exc_info=True)
                return None
            value = metadata.get(GENERATION)
            return str(value) if value else None
        manifest = self.manifest() or {}
        if not manifest.get("complete"):
            return None
        if manifest.get("generation"):
            return str(manifest["generation"])
        # written before generations were recorded: the corpus and the time of the build name it
        return (
            f"{str(manifest.get('corpus', ''))[:16]}-{manifest.get('built_at', '')}" if manifest.get("corpus") else None
        )

    def _server_generation(self) -> str | None:
        now = time.monotonic()
        if now - self._generation_read < _GENERATION_EVERY:
            return self._generation
        self._generation_read = now
        try:
            metadata = self.store._client.get_collection(self.settings.collection).metadata or {}
            self._generation = metadata.get(GENERATION)
        except Exception:
            log.debug("could not read the index generation", exc_info=True)
        return self._generation

    def _write_manifest(self, **fields: Any) -> None:
        _make_dir(self.path)
        tmp = self.path / f"{MANIFEST}.tmp"
        tmp.write_text(json.dumps(fields, indent=2), encoding="utf-8")
        tmp.replace(self.path / MANIFEST)

    def stale_reason(self) -> str | None:
        """Why the index must be (re)built, or None when it is current."""
        manifest = self.manifest()
        if manifest is None:
            return "no index yet"
        if not manifest.get("complete"):
            return "the last indexing run did not finish"
        if manifest.get("layout") != STORE_LAYOUT:
            return "the index was written by another version of qa-bot"
        if manifest.get("embeddings") != embeddings_id(self.embeddings):
            return f"embedding model changed ({manifest.get('embeddings')} → {embeddings_id(self.embeddings)})"
        # the files as they were at the last refresh are not read again (a large archive's take a
        # third of a second to hash at 200,000 passages)
        unchanged = (
            manifest.get("ingest_version") == INGEST_VERSION  # the hash holds it; the stamp does not
            and manifest.get("files") is not None
            and manifest["files"] == corpus_stamp(self.settings)
        )
        if not unchanged and manifest.get("corpus") != corpus_hash(self.settings):
            return "the articles in seeds/ changed"
        # the store's record count (constant time) against the manifest's: a store that lost or
        # gained records behind the manifest's back is rebuilt
        expected, what = (
            (manifest["records"], "records") if "records" in manifest else (manifest.get("passages"), "passages")
        )
        try:
            stored = self.count() if what == "records" else len(self._passage_ids())
        except Exception as exc:  # noqa: BLE001 - any failure to read a local store means: rebuild
            self._unreachable(exc)
            return "the stored index is unreadable"
        if stored != expected:
            return f"the stored index holds {stored} {what}, its manifest {expected}"
        return None

    def _unreachable(self, exc: BaseException) -> None:
        """With a Chroma server, a failed read is the server's, not the index's: one clear line."""
        if not self.settings.chroma_url:
            return
        if isinstance(exc, IndexStoreError):
            raise exc
        raise IndexStoreError(
            f"Cannot read the index from the Chroma server at {self.settings.chroma_url} (QA_BOT_CHROMA_URL): "
            f"{type(exc).__name__}. Nothing was changed; check that the server is up (raise "
            "QA_BOT_STORE_TIMEOUT for a slow one) and try again"
        ) from None

    # -- build -------------------------------------------------------------------------------
    def ensure(self, progress: bool = False) -> RefreshReport | None:
        """Refresh when stale; return the report, or None when nothing had to be done.

        Staleness is checked again under the writer lock: another process may have refreshed the
        index while this one waited for it.
        """
        reason = self.stale_reason()
        if reason is None:
            return None
        log.info("Indexing: %s", reason)
        with self.writer():
            if self.stale_reason() is None:
                self.reopen()
                return None
            return self._refresh(progress)

    def refresh(self, progress: bool = False) -> RefreshReport:
        """Bring the store in line with seeds/: embed new passages, delete vanished ones, skip the rest."""
        with self.writer():
            return self._refresh(progress)

    def _refresh(self, progress: bool) -> RefreshReport:
        """`_update`, with a failed write (disk full, read-only, no permission) as one line naming the fix.

        Nothing is lost: seeds/ is only read, and the manifest still says the run did not finish, so
        the next run repairs the index (it deletes half-written records and embeds the rest).
        """
        try:
            return self._update(progress)
        except Exception as exc:
            reason = write_failure(exc)
            if reason is None:
                raise
            raise IndexStoreError(
                f"cannot write the index in {self.path}: {reason}. Free space there (or set QA_BOT_INDEX_DIR "
                "to a writable disk with room) and run `qa-bot index` again: it repairs the index and goes on "
                "where this run stopped; the articles in seeds/ were not changed"
            ) from None

    def _update(self, progress: bool) -> RefreshReport:
        began = time.perf_counter()
        # Before reading the files: an edit made during the run changes the stamp or the hash
        stamp, read = corpus_stamp(self.settings), corpus_hash(self.settings)
        chunks = load_corpus(self.settings.seeds_path, self.settings.root)
        if not chunks:
            raise CorpusError(
                f"No article text in {self.settings.seeds_path}: add UTF-8 .txt, .md or .jsonl articles "
                "(or set QA_BOT_SEEDS_DIR)."
            )
        manifest = self.manifest() or {}
        model = embeddings_id(self.embeddings)
        # A store from another model or another layout is rebuilt (a missing manifest is not a reason:
        # a new replica of a shared Chroma server has none yet).
        rebuilt = bool(manifest) and (manifest.get("embeddings") != model or manifest.get("layout") != STORE_LAYOUT)
        if rebuilt and self._upgraded_elsewhere(manifest, model):
            rebuilt = False
        interrupted = manifest.get("complete") is False
        if rebuilt:
            self._reset()
        try:
            stored = self._stored_passages()
            if not rebuilt and self.count() > len(stored):
                # records that are no passage's: translations' own, as layouts before 4 wrote (a store
                # of an earlier layout reached without its manifest, a new replica of a shared server)
                self._reset()
                stored, rebuilt = {}, True
        except Exception as exc:  # noqa: BLE001 - an unreadable local store: start over
            # A server that does not answer (down, timed out, 5xx) is not a damaged index: never drop
            # a collection every replica shares because one read failed.
            self._unreachable(exc)
            log.warning("The index in %s is unreadable; rebuilding it.", self.path)
            self._reset()
            stored, rebuilt = {}, True
        self._persist_every_write()
        existing = set(stored)
        # What the store holds decides what changed (not the local manifest: a replica sharing a
        # Chroma server may have indexed articles this machine's manifest never saw).
        before = _stored_article_hashes(stored.values())
        self._write_manifest(complete=False, embeddings=model, layout=STORE_LAYOUT)
        wanted = {c.id: c for c in chunks}
        new = [c for c in chunks if c.id not in existing]
        gone = sorted(existing - wanted.keys())
        for batch in _batches(gone, _WRITE_BATCH):
            self.store.delete(where={"chunk_id": {"$in": batch}})
        if interrupted and existing:  # a killed run may have left records of passages it never finished
            self._delete_orphans(set(wanted))
        updated = self._update_moved([c for c in chunks if c.id in existing], stored)
        self._embed(
            new,
            progress,
            lambda done: self._write_manifest(
                complete=False, embeddings=model, layout=STORE_LAYOUT, indexed=done, to_index=len(new)
            ),
        )
        after = article_hashes(chunks)
        corpus = corpus_hash(self.settings)  # reads every article file: once
        as_read = corpus == read and corpus_stamp(self.settings) == stamp  # else edited meanwhile: index again
        settled = time.time_ns() - RACY_NS
        racy = any(mtime >= settled for _, _, mtime, _, _ in stamp)
        generation = f"{corpus[:16]}-{time.time():.3f}"
        # The lexical index of exactly these passages, saved before the generation is published:
        # a reader that sees the new generation finds its folder.
        from .lexical import LexicalIndex, saved_lookups

        folder = self.settings.lexical_path
        pending = Pending(self.pending_path, model)
        LexicalIndex.build([chunk_from(c.text, passage_metadata(c)) for c in chunks], generation).save(
            folder, [pending.lookup(), *saved_lookups(folder, model)], row_maker(self.embeddings), model
        )
        self._write_manifest(
            generation=generation,
            complete=True,
            embeddings=model,
            layout=STORE_LAYOUT,
            corpus=corpus if as_read else CHANGED_WHILE_INDEXING,
            files=stamp if as_read and not racy else None,
            ingest_version=INGEST_VERSION,
            passages=len(chunks),
            records=len(chunks),
            articles=len(after),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        if self.settings.chroma_url:  # replicas elsewhere watch this to know the index changed
            try:
                self.store._collection.modify(metadata={GENERATION: generation})
            except Exception:
                log.debug("could not record the index generation on the server", exc_info=True)
        pending.clear()  # published: the snapshot holds every row now
        kept = len(chunks) - len(new) - updated
        return RefreshReport(
            added=len(new),
            removed=len(gone),
            kept=kept,
            seconds=time.perf_counter() - began,
            rebuilt=rebuilt,
            updated=updated,
            articles_added=len(after.keys() - before.keys()),
            articles_updated=sum(1 for a in after.keys() & before.keys() if after[a] != before[a]),
            articles_removed=len(before.keys() - after.keys()),
            articles_skipped=sum(1 for a in after.keys() & before.keys() if after[a] == before[a]),
        )

    def _embed(self, chunks: list[Chunk], progress: bool, done: Callable[[int], None]) -> None:
        """Embed `chunks`' sentences (each distinct text once) and store their passages, a group at a time.

        A passage's vector is the mean of its sentences' (its translation's, of theirs): nothing is
        embedded twice. The sentences' rows go to `pending/` before their passages' records are
        written (`_WRITE_BATCH` at a time), so whatever the store holds has its rows saved. `done(n)`
        is called after each write with the passages stored so far (the manifest records it, so
        anyone can see how far a run got).
        """
        from tqdm import tqdm

        bar = tqdm(
            total=len(chunks),
            unit="passage",
            desc="indexing",
            disable=not progress or not chunks,
            dynamic_ncols=True,
        )
        collection = self.store._collection
        pending = Pending(self.pending_path, embeddings_id(self.embeddings))
        make_rows = row_maker(self.embeddings)
        saved = pending.lookup()  # rows a killed run embedded and saved, but did not store yet
        stored = 0
        out: list[tuple[str, np.ndarray, dict[str, Any]]] = []  # records embedded, not yet written
        with bar:
            groups = list(_batches(chunks, _EMBED_GROUP))
            for at, group in enumerate(groups, start=1):
                rows = _group_rows(group, saved, make_rows, pending)
                out += self._passage_records(group, rows)
                bar.update(len(group))
                if len(out) >= _WRITE_BATCH or at == len(groups):
                    # A passage is "indexed" once its record exists: the next run after one killed
                    # before this write stores these passages again, from their rows in pending/.
                    collection.upsert(
                        ids=[r[0] for r in out],
                        embeddings=[np.asarray(r[1], dtype=np.float32) for r in out],
                        metadatas=[r[2] for r in out],
                    )
                    stored += len(out)
                    out = []
                    done(stored)

    def _passage_records(self, group: list[Chunk], rows: np.ndarray) -> list[tuple[str, np.ndarray, dict[str, Any]]]:
        """The store records of `group`, given its sentences' `rows`: id, vector, metadata (with the text)."""
        # a free translation of a whole passage (not made of its sentences') is embedded on its own
        free = list(dict.fromkeys(c.translation for c in group if c.translation and not aligned(c)))
        made = dict(zip(free, self.embeddings.embed_documents(free), strict=True)) if free else {}
        out = []
        at = 0
        for c in group:
            size = sum(row_counts(c))
            own, translated = passage_vectors(c, rows[at : at + size])
            at += size
            if c.translation and translated is None:
                translated = np.asarray(made[c.translation], dtype=np.float32)
            vector = passage_vector(own, translated)
            out += [(rid, vector, record_metadata(text, meta)) for text, meta, rid in records([c])]
        return out

    def _delete_orphans(self, wanted: set[str]) -> None:
        orphans = [rid for rid, _, meta in self._records(passages_only=False) if meta["chunk_id"] not in wanted]
        for batch in _batches(orphans, _WRITE_BATCH):
            self.store.delete(ids=batch)
        if orphans:
            log.info("removed %d records left by an interrupted run", len(orphans))

    def _update_moved(self, kept: list[Chunk], stored: dict[str, tuple[str, dict[str, Any]]]) -> int:
        """Unchanged text whose place changed (offsets, section, order): fix metadata, keep vectors."""
        moved = [c for c in kept if stored[c.id][1] != passage_metadata(c)]
        for batch in _batches(moved, _WRITE_BATCH):
            self.store._collection.update(
                ids=[c.id for c in batch], metadatas=[record_metadata(c.text, passage_metadata(c)) for c in batch]
            )
        return len(moved)

    def _stored_passages(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every stored passage record: id → (text, metadata)."""
        return {rid: (doc, meta) for rid, doc, meta in self._records()}

    def _records(self, passages_only: bool = True) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every record's (id, text, metadata), read `_READ_PAGE` at a time: Chroma fails one read of
        more than 32,766 records with their text or metadata ("too many SQL variables"), so a single
        read would fail every refresh of a large archive. `passages_only` leaves out the translations'
        records of a store of an earlier layout (a where clause would make each read ten times slower)."""
        offset = 0
        while True:
            got = self.store.get(include=["documents", "metadatas"], limit=_READ_PAGE, offset=offset)
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                if not passages_only or (meta.get("kind") == "passage" and meta.get("original") is True):
                    yield rid, *read_record(doc, meta)
            if len(got["ids"]) < _READ_PAGE:
                return
            offset += _READ_PAGE

    def _upgraded_elsewhere(self, manifest: dict[str, Any], model: str) -> bool:
        """A shared server's collection that another upgraded replica has rebuilt already: this
        replica's manifest says layout 3, which differs from 4 only by the translations' own records,
        and the server holds none. Dropping it again would make every replica re-embed the archive."""
        if not self.settings.chroma_url or manifest.get("layout") != "3" or manifest.get("embeddings") != model:
            return False
        try:
            return not self._translation_records()
        except Exception:  # noqa: BLE001 - the server does not answer: decide as before, by the manifest
            return False

    def _translation_records(self) -> bool:
        """The store holds a translation's own record, as layouts before 4 wrote beside each translated
        passage (its passage record's vector is then the passage's alone)."""
        return any(rid.endswith(_TRANSLATION_ID) for rid in self.store.get(include=[])["ids"])

    def _passage_ids(self) -> list[str]:
        return [rid for rid in self.store.get(include=[])["ids"] if not rid.endswith(_TRANSLATION_ID)]

    # -- read --------------------------------------------------------------------------------
    def chunks(self) -> list[Chunk]:
        """Every passage in the store, in article order."""
        chunks = [chunk_from(doc, meta) for _, doc, meta in self._records()]
        return sorted(chunks, key=lambda c: (c.source, c.position))

    def count(self) -> int:
        return int(self.store._collection.count())


def article_hashes(chunks: Sequence[Chunk]) -> dict[str, str]:
    """A digest per article of everything stored about its passages: equal digest = nothing to do."""
    return _digests((c.text, passage_metadata(c)) for c in chunks)


def _stored_article_hashes(stored: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """`article_hashes` of what the store holds (passages in article order)."""
    return _digests(sorted(stored, key=lambda r: (str(r[1]["source"]), int(r[1]["position"]))))


def _digests(passages: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    digests: dict[str, Any] = {}
    for text, meta in passages:
        digests.setdefault(str(meta["article_id"]), hashlib.sha256()).update(
            json.dumps(meta, sort_keys=True, ensure_ascii=False).encode() + text.encode()
        )
    return {article: d.hexdigest()[:16] for article, d in digests.items()}


def _clear_client_cache() -> None:
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # best effort: an older chromadb without the cache
        log.debug("could not clear Chroma's client cache", exc_info=True)


_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "a file grew past the size limit",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
_WRITE_MESSAGES = (  # how Chroma's engine (SQLite underneath) words the same failures
    ("disk is full", "no space left on the disk"),
    ("no space left", "no space left on the disk"),
    ("file too large", "a file grew past the size limit"),
    ("readonly database", "the index files are read-only"),
    ("read-only file system", "the file system is read-only"),
    ("permission denied", "permission denied"),
    ("disk i/o error", "a write to the disk failed (is it full?)"),  # SQLite, when a write is refused (EFBIG)
)


def write_failure(exc: BaseException) -> str | None:
    """What a failed write says about the disk, in words (None: not a failed write)."""
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRORS:
        return _WRITE_ERRORS[exc.errno]
    text = str(exc).lower()
    return next((reason for words, reason in _WRITE_MESSAGES if words in text), None)


def _limit_wait(client: Any, seconds: float) -> None:
    """Chroma's HTTP client waits forever for a server that accepted the connection and hangs;
    give up after `seconds` (QA_BOT_STORE_TIMEOUT), so a hung store degrades answers, not freezes them."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds)


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexStoreError(
            f"Cannot use {path} for the index ({exc.strerror}). Set QA_BOT_INDEX_DIR to a writable folder."
        ) from None


def _group_rows(group: list[Chunk], saved: Lookup, make_rows: Rows, pending: Pending) -> np.ndarray:
    """The rows of `group`'s passages, in order: those `saved` has, the others made and saved to
    `pending` (before any of their records is written)."""
    found = [saved(c) for c in group]
    fresh = [c for c, rows in zip(group, found, strict=True) if rows is None]
    made = make_rows(fresh) if fresh else np.zeros((0, 0), dtype=np.float32)
    if fresh:
        pending.add(fresh, made)
    if len(fresh) == len(group):
        return made
    parts, at = [], 0
    for c, rows in zip(group, found, strict=True):
        if rows is None:
            size = sum(row_counts(c))
            rows, at = made[at : at + size], at + size
        if len(rows):
            parts.append(np.asarray(rows, dtype=np.float32))
    return np.concatenate(parts) if parts else made


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
