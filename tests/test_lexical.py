"""The lexical index: built by the writer, saved per store generation, loaded by readers without a rebuild."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, make_project, mapped_kb
from qa_bot.bot import Bot
from qa_bot.config import Settings
from qa_bot.index import Index
from qa_bot.ingest import load_corpus
from qa_bot.lexical import _ARTICLES, COLUMNS, LAYOUT, META, Columns, LexicalIndex, SavedBM25, saved_lookups
from qa_bot.models import UseM3Embeddings
from qa_bot.passages import Strings
from qa_bot.text import tokens
from qa_bot.vectors import RowFile, row_maker

EMBEDDINGS = UseM3Embeddings(threads=1)


def save(lex: LexicalIndex, folder: Path) -> Path:
    return lex.save(folder, (), row_maker(EMBEDDINGS), "use-m3")


QUESTIONS = ["What did Kerry say about a new constitution?", "أين جرت المباحثات بين بوتين وكيري؟", "Minsk"]


@pytest.fixture(scope="module")
def chunks(tmp_path_factory: pytest.TempPathFactory) -> list:
    root = make_project(tmp_path_factory.mktemp("lexical"))
    return load_corpus(root / "seeds", root)


def _same(a: LexicalIndex, b: LexicalIndex) -> None:
    assert list(a.chunks) == list(b.chunks) and list(a.chunks.values()) == list(b.chunks.values())
    assert a.titles == b.titles and a.chunks.article_counts() == b.chunks.article_counts()
    for c in a.chunks.values():
        assert a.chunks.before(c.id) == b.chunks.before(c.id)
        assert a.chunks.has_translation(c.id) == b.chunks.has_translation(c.id) == bool(c.translation)
        assert a.chunks.article_of(c.id) == b.chunks.article_of(c.id) == c.article_id
    for article in a.titles:
        assert a.chunks.of_article(article) == b.chunks.of_article(article)
    assert a.terms == b.terms and [a.df(t) for t in a.terms] == [b.df(t) for t in b.terms]
    for c in a.chunks.values():
        assert a.chunk_terms(c.id) == b.chunk_terms(c.id) and a.nearby_terms(c.id) == b.nearby_terms(c.id)
        for i in range(len(c.sentences)):
            assert a.sentence_terms(c.id, i) == b.sentence_terms(c.id, i)
            assert a.sentence_pairs(c.id, i) == b.sentence_pairs(c.id, i)
    if a.vectors is not None and b.vectors is not None:
        for c in a.chunks.values():
            assert np.array_equal(a.passage_rows(c.id), b.passage_rows(c.id))
    assert a.bm25.keys() == b.bm25.keys()
    for side, (bm25, rows) in a.bm25.items():
        other, other_rows = b.bm25[side]
        assert rows == other_rows
        for q in QUESTIONS:
            known = [t for t in tokens(q) if t in bm25.vocab_dict]
            if known:
                assert np.allclose(bm25.get_scores(known), other.get_scores(known))


def test_every_sentence_keeps_its_own_terms_and_pairs(chunks) -> None:
    lex = LexicalIndex.build(chunks)
    for c in chunks:
        passage: set[str] = set()
        for i, s in enumerate(c.sentences):
            written, translated = tokens(s.text), tokens(s.translation or "")
            assert lex.sentence_terms(c.id, i) == set(written) | set(translated)
            assert lex.sentence_pairs(c.id, i) == set(pairwise(written)) | set(pairwise(translated))
            passage |= set(written) | set(translated)
        assert lex.chunk_terms(c.id) == passage
    some = next(iter(lex.terms))
    assert lex.df(some) == sum(1 for c in chunks if some in lex.chunk_terms(c.id)) > 0
    assert lex.df("no-such-term") == 0 and "no-such-term" not in lex
    assert lex.sentence_terms(chunks[0].id, len(chunks[0].sentences)) == frozenset()  # past the last sentence


def test_what_is_kept_of_each_article_stays_bounded_in_a_large_archive(chunks) -> None:
    """A server over a large archive asks for the words of many articles over its life: it keeps only
    the last few hundred, and an article asked for again after that is read again, the same."""

    def own(k: int) -> str:  # a word of article k's own: "dfbh" for 1203, consonants (names are matched by them)
        return "".join("bdfhlmnprt"[int(d)] for d in f"{k:04d}")

    base = chunks[0]
    first = base.sentences[0]
    many = [
        replace(base, id=f"{base.id}-{k}", article_id=f"a{k}", source=f"s{k}.txt", text=f"{base.text} {own(k)}",
                sentences=(replace(first, text=f"{first.text} {own(k)}"), *base.sentences[1:]))
        for k in range(_ARTICLES + 40)
    ]  # fmt: skip
    lex = LexicalIndex.build(many)
    terms = {k: lex.article_terms(f"a{k}") for k in range(_ARTICLES + 40)}
    shapes = {k: lex.article_shapes(f"a{k}") for k in range(_ARTICLES + 40)}
    assert 0 < len(lex._article_terms) <= _ARTICLES and 0 < len(lex._article_shapes) <= _ARTICLES
    for k in (0, 1, _ARTICLES, _ARTICLES + 39):  # read again, kept or not: each article's own
        assert lex.article_terms(f"a{k}") == terms[k] == lex.chunk_terms(many[k].id)
        assert set(tokens(own(k))) <= terms[k] and not set(tokens(own(k))) & terms[(k + 1) % len(terms)]
        assert lex.article_shapes(f"a{k}") == shapes[k] and shapes[k] != shapes[(k + 1) % len(shapes)]


def test_a_saved_index_loads_memory_mapped_and_the_same(chunks, tmp_path: Path) -> None:
    built = LexicalIndex.build(chunks, "g1")
    folder = save(built, tmp_path)
    assert folder == tmp_path / "g1" and (folder / META).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None and loaded.generation == "g1"
    assert isinstance(loaded.tokens.base, np.memmap)  # read from the mapped file, not copied
    assert loaded.vectors is not None and isinstance(loaded.vectors.matrix.base, np.memmap)
    _same(built, loaded)
    assert LexicalIndex.load(tmp_path, "g2") is None  # another generation: never the wrong words


def test_a_translation_of_a_whole_passage_reads_back_the_same(chunks, tmp_path: Path) -> None:
    """A passage translated as a whole (not sentence by sentence): its words are the passage's, in
    the built index and in the one read back from disk alike."""
    first = chunks[0]
    whole = replace(
        first,
        id="whole-translation",
        sentences=tuple(replace(s, translation=None) for s in first.sentences),
        translation="Washington and Moscow agreed on direct talks between the regime and the opposition.",
    )
    built = LexicalIndex.build([*chunks, whole], "g1")
    save(built, tmp_path)
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None
    _same(built, loaded)
    words = set(tokens("Washington Moscow opposition regime"))
    assert words <= built.chunk_terms(whole.id) == loaded.chunk_terms(whole.id)
    assert all(built.df(w) == loaded.df(w) > 0 for w in words)


def test_the_bm25_sides_name_their_passages_instead_of_listing_them(chunks, tmp_path: Path, caplog) -> None:
    """A side's rows are every passage, or every translated one, in order: the description says so
    instead of repeating every id (8 MB to decode at each start of a 200k archive). Rows that are not
    that are listed in full; a folder of layout 3 (listed always) is still read; a description this
    version does not know makes the folder unreadable (rebuilt), never misread."""
    import json

    built = LexicalIndex.build(chunks, "g1")
    assert any(c.translation for c in chunks) and set(built.bm25) == {True, False}
    assert built.bm25[False][1] == [c.id for c in built.chunks.values() if c.translation]
    folder = save(built, tmp_path)
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    assert meta["layout"] == LAYOUT == 5
    assert meta["sides"] == {"bm25-original": "every passage", "bm25-translated": "every translated passage"}
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None
    _same(built, loaded)

    listed = {
        **meta,
        "layout": 3,
        "sides": {"bm25-original": built.bm25[True][1], "bm25-translated": built.bm25[False][1]},
    }
    (folder / META).write_text(json.dumps(listed, ensure_ascii=False), encoding="utf-8")
    older = LexicalIndex.load(tmp_path, "g1")  # (with the titles and the columns of layout 5: read too)
    assert older is not None
    _same(built, older)

    (folder / META).write_text(json.dumps({**meta, "sides": {"bm25-original": "some passages"}}), encoding="utf-8")
    assert LexicalIndex.load(tmp_path, "g1") is None and "unreadable" in caplog.text
    short = {**meta, "sides": {**meta["sides"], "bm25-original": built.bm25[True][1][:-1]}}  # a row too few
    (folder / META).write_text(json.dumps(short), encoding="utf-8")
    assert LexicalIndex.load(tmp_path, "g1") is None and "bm25-original scores" in caplog.text
    unknown = ["x"] * len(built.bm25[True][1])  # as many rows, none of them a passage
    (folder / META).write_text(json.dumps({**meta, "sides": {**meta["sides"], "bm25-original": unknown}}))
    assert LexicalIndex.load(tmp_path, "g1") is None and "does not have" in caplog.text
    (folder / META).write_text("[]", encoding="utf-8")  # JSON, but not a description
    assert LexicalIndex.load(tmp_path, "g1") is None and saved_lookups(tmp_path, "use-m3") is not None

    other = LexicalIndex.build(chunks, "g2")
    bm25, rows = other.bm25[False]
    other.bm25[False] = (bm25, rows[::-1])  # rows that are not the translated passages in order
    save(other, tmp_path)
    meta = json.loads((tmp_path / "g2" / META).read_text(encoding="utf-8"))
    assert meta["sides"]["bm25-translated"] == rows[::-1] and meta["sides"]["bm25-original"] == "every passage"
    reread = LexicalIndex.load(tmp_path, "g2")
    assert reread is not None and reread.bm25[False][1] == rows[::-1]


def test_strings_kept_in_one_buffer_read_and_find_as_a_list_does(tmp_path: Path) -> None:
    words = ["000_seed", "news-élan", "", "مقال-٣", "a\nb", *[f"bukhari-{i}" for i in range(500)]]
    for kept in (Strings.of(words), _saved(Strings.of(words), tmp_path)):
        assert list(kept) == words and len(kept) == len(words) and kept[-1] == words[-1] and kept[1:3] == words[1:3]
        assert [kept.find(w) for w in words] == list(range(len(words)))
        assert all(w in kept for w in words) and "bukhari-500" not in kept and 7 not in kept
        assert kept.find("news-elan") is None and kept.find(None) is None
        with pytest.raises(IndexError):
            kept[len(words)]
        with pytest.raises(IndexError):
            kept[-len(words) - 1]


def test_strings_whose_hashes_collide_are_still_told_apart(monkeypatch) -> None:
    import qa_bot.passages

    monkeypatch.setattr(qa_bot.passages, "hash", lambda s: 7, raising=False)  # every string the same hash
    words = ["b", "a", "c", "news-harbour"]
    kept = Strings.of(words)
    assert [kept.find(w) for w in words] == [0, 1, 2, 3] and kept.find("d") is None


def _saved(strings: Strings, folder: Path) -> Strings:
    strings.save(folder, "words")
    return Strings.open(folder, "words")


def test_titles_have_a_file_and_the_bm25_vocabularies_share_the_snapshots_terms(chunks, tmp_path: Path) -> None:
    """Layout 5: the titles in a file of their own, read and decoded when asked for, and each BM25
    side's vocabulary a column per term id, the term strings the snapshot's own (not a dict and a
    string per term for each side). A folder of layout 4 (titles in the description, each side's
    vocabulary its own) reads the same."""
    import json

    built = LexicalIndex.build(chunks, "g1")
    folder = save(built, tmp_path)
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    assert "articles" not in meta and "article_ids" not in meta and (folder / "article-ids.bin").is_file()
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None
    _same(built, loaded)
    assert dict(loaded.titles) == {c.article_id: c.title for c in chunks} and all(loaded.titles.values())
    assert "no-such-article" not in loaded.titles and loaded.titles.position("no-such-article") is None
    assert [loaded.titles.position(a) for a in loaded.titles] == list(range(len(loaded.titles)))
    assert isinstance(loaded.chunks.titles._text, RowFile)  # read from its file when asked for
    for bm25, _ in loaded.bm25.values():
        assert isinstance(bm25.vocab_dict, Columns) and bm25.vocab_dict.term_ids is loaded.term_ids
        assert len(bm25.vocab_dict) == len(dict(bm25.vocab_dict)) > 0
    original = loaded.bm25[True][0].vocab_dict
    assert set(original) == {t for t in built.bm25[True][0].vocab_dict if t} and "no-such-term" not in original
    assert original.get("no-such-term") is None and all(original[t] == original.get(t) for t in original)

    for side in ("bm25-original", "bm25-translated"):
        (folder / side / COLUMNS).unlink()
    for name in ("article-titles", "article-ids", "article-keys"):
        for suffix in (".bin", ".npy"):
            (folder / f"{name}{suffix}").unlink()
    (folder / "article-order.npy").unlink()
    old = meta | {"layout": 4, "articles": [[a, built.titles[a]] for a in built.titles]}
    (folder / META).write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    older = LexicalIndex.load(tmp_path, "g1")
    assert older is not None
    _same(built, older)
    assert isinstance(older.bm25[True][0].vocab_dict, Columns)  # read from its own file, then shared


def test_a_side_without_a_single_word_is_left_out(chunks, tmp_path: Path) -> None:
    """Translations with no searchable word (punctuation only) give no translated BM25 side, rather
    than bm25s failing to index the whole archive; the snapshot saves and loads as usual."""
    bare = [
        replace(c, translation="…", sentences=tuple(replace(x, translation="…") for x in c.sentences))
        for c in chunks[:3]
    ]
    built = LexicalIndex.build(bare, "g1")
    assert set(built.bm25) == {True}
    save(built, tmp_path)
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None
    _same(built, loaded)


def test_the_bm25_reader_scores_as_bm25s_does(tmp_path: Path) -> None:
    import bm25s

    docs = [tokens(t) for t in ("Kerry met Putin in Moscow", "Lavrov and Kerry spoke for four hours",
                                "التقى كيري بوتين في موسكو", "Minsk Minsk Ukraine", "nothing here at all")]  # fmt: skip
    built = bm25s.BM25()
    built.index(docs, show_progress=False)
    built.save(str(tmp_path / "side"), show_progress=False)
    theirs = bm25s.BM25.load(str(tmp_path / "side"), mmap=True, show_progress=False)
    ours = SavedBM25.load(tmp_path / "side")
    assert ours.vocab_dict == {t: i for t, i in theirs.vocab_dict.items() if t}  # bm25s's "" has no column
    for query in (["kerri"], ["kerri", "moscow"], ["minsk", "minsk"], ["موسكو", "no-such-term"], ["no-such-term"]):
        known = [t for t in query if t in theirs.vocab_dict] or query
        expected = theirs.get_scores(known) if known != ["no-such-term"] else np.zeros(len(docs), np.float32)
        got = ours.get_scores(query)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), query
    assert ours.get_scores(["kerri"]).argmax() in (0, 1) and ours.get_scores(["minsk"]).argmax() == 3


def test_the_bm25_reader_refuses_a_method_it_cannot_score(tmp_path: Path) -> None:
    import bm25s

    other = bm25s.BM25(method="bm25+")  # its scores need a per-term constant the columns lack
    other.index([["a", "b"], ["b", "c"]], show_progress=False)
    other.save(str(tmp_path / "side"), show_progress=False)
    with pytest.raises(ValueError, match="bm25\\+"):
        SavedBM25.load(tmp_path / "side")


def test_a_reader_loads_a_snapshot_without_bm25s(chunks, tmp_path: Path) -> None:
    save(LexicalIndex.build(chunks, "g1"), tmp_path)
    probe = (
        "import sys; from pathlib import Path; from qa_bot.lexical import LexicalIndex;"
        f"lex = LexicalIndex.load(Path({str(tmp_path)!r}), 'g1'); assert lex is not None and lex.bm25;"
        "bm25, rows = lex.bm25[False]; assert bm25.get_scores(['kerri']).max() > 0;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_a_loaded_index_reads_passages_only_when_asked(chunks, tmp_path: Path) -> None:
    save(LexicalIndex.build(chunks, "g1"), tmp_path)
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None
    passages = loaded.chunks
    assert passages._decode.cache_info().currsize == 0  # nothing decoded at start-up
    last = chunks[-1]
    # what a question asks of every passage comes from the arrays, not from decoding passages
    assert passages.article_of(last.id) == last.article_id and passages.sentence_count(last.id) == len(last.sentences)
    assert sum(loaded.chunks.article_counts().values()) == len(chunks) and loaded.titles
    assert passages._decode.cache_info().currsize == 0
    assert passages[last.id] == last and passages._decode.cache_info().currsize == 1
    assert "no-such-passage" not in passages and passages.first_row("no-such-passage") is None
    assert passages.before("no-such-passage") is None and passages.of_article("no-such-article") == []


def test_passages_are_read_without_mapping_their_file(chunks, tmp_path: Path) -> None:
    """A server decodes a few dozen passages per question from `chunks.jsonl`, and reads their
    sentences' terms from `tokens.npy` and their articles' titles: read through a memory map, each
    would make the pages around it resident too, and a large archive's files would fill the
    process. They are read with pread, and the files are closed with the snapshot."""
    folder = save(LexicalIndex.build(chunks, "g1"), tmp_path)
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None
    assert [loaded.chunks[c.id] for c in chunks] == chunks  # every passage decoded, the same
    assert str(folder / "chunks.jsonl") not in Path("/proc/self/maps").read_text()
    built = LexicalIndex.build(chunks)
    for c in chunks:  # every passage's and every sentence's terms read, the same, none of the file resident
        assert loaded.chunk_terms(c.id) == built.chunk_terms(c.id)
        assert [loaded.sentence_pairs(c.id, i) for i in range(len(c.sentences))] == [
            built.sentence_pairs(c.id, i) for i in range(len(c.sentences))
        ]
    assert mapped_kb(folder / "tokens.npy") == 0
    assert dict(loaded.titles) == dict(built.titles)
    assert str(folder / "article-titles.bin") not in Path("/proc/self/maps").read_text()
    lines = loaded.chunks._lines
    assert lines is not None
    fd = lines[0].fd
    os.fstat(fd)
    del loaded, lines
    gc.collect()
    with pytest.raises(OSError):  # the descriptor is closed with the snapshot's passages
        os.fstat(fd)


def test_a_folder_saved_before_the_passage_arrays_still_loads(chunks, tmp_path: Path) -> None:
    built = LexicalIndex.build(chunks, "g1")
    folder = save(built, tmp_path)
    for array in folder.glob("passage-*.npy"):
        array.unlink()
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None
    _same(built, loaded)


def test_passages_that_do_not_match_their_arrays_are_not_used(chunks, tmp_path: Path, caplog) -> None:
    folder = save(LexicalIndex.build(chunks, "g1"), tmp_path)
    with (folder / "chunks.jsonl").open("a", encoding="utf-8") as lines:
        lines.write('["a passage written behind the snapshot", {}]\n')
    with caplog.at_level(logging.WARNING, logger="qa_bot.lexical"):
        assert LexicalIndex.load(tmp_path, "g1") is None
    assert "unreadable" in caplog.text


def test_a_damaged_or_foreign_folder_is_not_used(chunks, tmp_path: Path, caplog) -> None:
    save(LexicalIndex.build(chunks, "g1"), tmp_path)
    (tmp_path / "g1" / "tokens.npy").write_bytes(b"\x93NUMPY damaged")
    with caplog.at_level(logging.WARNING, logger="qa_bot.lexical"):
        assert LexicalIndex.load(tmp_path, "g1") is None
    assert "unreadable" in caplog.text

    save(LexicalIndex.build(chunks, "g2"), tmp_path)
    meta = tmp_path / "g2" / META
    meta.write_text(meta.read_text(encoding="utf-8").replace(f'"layout": {LAYOUT}', '"layout": 99'), encoding="utf-8")
    assert LexicalIndex.load(tmp_path, "g2") is None


def test_a_folder_of_the_float16_layout_is_still_read(chunks, tmp_path: Path) -> None:
    """Snapshots written before the byte rows (layout 2: float16 rows, no scales) load as they are:
    a newer version never makes an archive embed its sentences again."""
    built = LexicalIndex.build(chunks, "g1")
    folder = save(built, tmp_path)
    current = LexicalIndex.load(tmp_path, "g1")
    assert current is not None and current.vectors is not None and current.vectors.matrix.dtype == np.int8
    query = np.asarray(row_maker(EMBEDDINGS)([chunks[0]])[0], dtype=np.float32)
    ids = [c.id for c in chunks]
    expected = {cid: sims.copy() for cid, sims in current.best_sentences(ids, query).items()}
    old = current.vectors.rows(0, len(current.offsets) - 1).astype(np.float16)
    del current
    np.save(folder / "old.npy", old)
    (folder / "old.npy").replace(folder / "vectors.npy")
    (folder / "vector-scales.npy").unlink()
    meta = folder / META
    meta.write_text(meta.read_text(encoding="utf-8").replace(f'"layout": {LAYOUT}', '"layout": 2'), encoding="utf-8")
    loaded = LexicalIndex.load(tmp_path, "g1")
    assert loaded is not None and loaded.vectors is not None and loaded.vectors.scales is None
    found = loaded.best_sentences(ids, query)
    assert max(float(found[cid].max()) for cid in ids) > 0.99  # the first passage's own first sentence
    for cid in ids:
        assert np.allclose(found[cid], expected[cid], atol=2e-3)


def test_a_search_reads_many_passages_sentences_at_once_as_one_by_one(chunks, tmp_path: Path) -> None:
    save(LexicalIndex.build(chunks, "g1"), tmp_path)
    lex = LexicalIndex.load(tmp_path, "g1")
    assert lex is not None and lex.vectors is not None
    query = np.asarray(EMBEDDINGS.embed_query("Who met in Moscow?"), dtype=np.float32)
    ids = [*reversed([c.id for c in chunks]), "no-such-passage"]
    runs, tops = lex.passage_sentences(ids, query)
    for cid, run, top in zip(ids, runs, tops.tolist(), strict=True):
        alone = lex.sentence_similarities(cid, query)
        assert len(run) == len(alone) and np.allclose(run, alone, rtol=0, atol=1e-6)  # one product vs. several
        assert top == (float(run.max()) if len(run) else -1.0)
    assert len(runs[-1]) == 0 and tops[-1] == -1.0


def test_an_empty_snapshot_gives_unknown_passages_no_sentences() -> None:
    from qa_bot.vectors import SentenceVectors

    lex = LexicalIndex()
    lex.vectors = SentenceVectors(np.zeros((0, 8), np.int8), np.zeros(1, np.int64), np.zeros(0, np.float32))
    runs, tops = lex.passage_sentences(["no-such-passage", "another"], np.ones(8, dtype=np.float32))
    assert [len(r) for r in runs] == [0, 0] and tops.tolist() == [-1.0, -1.0]


def test_only_the_last_two_generations_are_kept(chunks, tmp_path: Path) -> None:
    lex = LexicalIndex.build(chunks)
    for n, generation in enumerate(("g1", "g2", "g3")):
        lex.generation = generation
        save(lex, tmp_path)
        os.utime(tmp_path / generation, (n, n))  # saved in this order, whatever the clock's resolution
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g2", "g3"]
    assert LexicalIndex.load(tmp_path, "g3") is not None


def _no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Index) -> list:
        raise AssertionError("the lexical index was rebuilt from the store")

    monkeypatch.setattr(Index, "chunks", refuse)


def test_a_reader_loads_what_the_writer_saved_and_follows_a_refresh(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "project")
    settings = Settings(root=root, prompts_dir=REPO / "prompts")
    writer = Bot.from_settings(settings)
    generation = writer.index.generation()
    assert generation and (settings.lexical_path / generation / META).is_file()
    expected = [writer.ask(q).to_dict() for q in QUESTIONS]

    _no_rebuild(monkeypatch)
    reader = Bot.from_settings(settings, refresh=False)
    assert [reader.ask(q).to_dict() for q in QUESTIONS] == expected

    (root / "seeds" / "harbour.txt").write_text(
        "The new harbour bridge in Tunis opened on Monday. The bridge is 1.2 kilometres long.\n", encoding="utf-8"
    )
    writer.index.refresh()
    assert writer.index.generation() != generation
    answer = reader.ask("How long is the new harbour bridge in Tunis?")  # reloads from the new generation's folder
    assert not answer.abstained and answer.citations[0].article_id == "harbour"


def test_a_missing_folder_is_rebuilt_from_the_store_once(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path / "project")
    settings = Settings(root=root, prompts_dir=REPO / "prompts")
    writer = Bot.from_settings(settings)
    expected = writer.ask(QUESTIONS[0]).to_dict()
    # A replica reading its own (empty) copy of the lexical folder: it rebuilds and saves it there.
    elsewhere = replace(settings, lexical_dir=tmp_path / "replica-lexical")
    replica = Bot.from_settings(elsewhere, refresh=False)
    assert replica.ask(QUESTIONS[0]).to_dict() == expected
    assert (tmp_path / "replica-lexical" / str(writer.index.generation()) / META).is_file()
    _no_rebuild(monkeypatch)
    again = Bot.from_settings(elsewhere, refresh=False)
    assert again.ask(QUESTIONS[0]).to_dict() == expected
