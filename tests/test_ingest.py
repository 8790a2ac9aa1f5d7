import logging
import re
from pathlib import Path

import pytest

from conftest import SEED, SIDECAR
from qa_bot.ingest import MAX_PASSAGE_CHARS, blocks, chunk_article, display, load_corpus, read_translation, segments
from qa_bot.text import numbers

TEXT = SEED.read_text(encoding="utf-8")
HEADINGS = ["دستور جديد", "تثبيت الهدنة", "تهيئة العملية السياسية", "تعاون مشترك", "خلافات متفاقمة"]


@pytest.fixture(scope="module")
def chunks() -> list:
    return chunk_article(SEED, SEED.parent.parent)


def test_seed_is_the_shared_article_byte_for_byte() -> None:
    shared = SEED.parent.parent.parent / "shared" / "seeds" / SEED.name
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert SEED.read_bytes() == shared.read_bytes()


def test_broken_lines_are_joined_into_one_passage(chunks: list) -> None:
    # The source breaks "فلاديمير\nبوتين" and "سيرغي\nلافروف" mid-sentence.
    assert "\nبوتين" in TEXT
    joined = [c for c in chunks if "فلاديمير بوتين ووزير خارجيته سيرغي لافروف" in c.text]
    assert len(joined) == 1
    assert joined[0].text.endswith("منذ أكثر من خمسة أعوام.")


def test_headings_are_section_metadata_not_passages(chunks: list) -> None:
    assert [b for b in blocks(TEXT) if b.kind == "heading"] and not any(c.text in HEADINGS for c in chunks)
    sections = {c.section for c in chunks}
    assert set(HEADINGS) <= sections
    constitution = next(c for c in chunks if "جدول زمني ومشروع دستور" in c.text)
    assert constitution.section == "دستور جديد"
    first = chunks[0]
    assert first.section is None and first.text.startswith("أعلنت الولايات المتحدة")


def test_read_also_line_is_never_evidence(chunks: list) -> None:
    assert "اقرأ أيضا" in TEXT
    assert not any("اقرأ أيضا" in c.text or "علاقتنا بمصر" in c.text for c in chunks)


def test_offsets_slice_the_source_file_to_the_passage(chunks: list) -> None:
    for c in chunks:
        assert display(TEXT[c.start : c.end]) == c.text
        assert re.sub(r"\s+", " ", TEXT[c.start : c.end]) == re.sub(r"\s+", " ", c.text)
        for s in c.sentences:
            assert c.start <= s.start < s.end <= c.end
            assert display(TEXT[s.start : s.end]) == s.text


def test_passages_are_focused(chunks: list) -> None:
    assert all(len(c.text) <= MAX_PASSAGE_CHARS for c in chunks)
    assert len(chunks) >= 20


def test_chunk_ids_are_stable_and_unique(chunks: list) -> None:
    again = chunk_article(SEED, SEED.parent.parent)
    assert [c.id for c in chunks] == [c.id for c in again]
    assert len({c.id for c in chunks}) == len(chunks)


def test_translation_is_aligned_segment_by_segment() -> None:
    english = read_translation(SIDECAR)
    arabic = [display(TEXT[s:e]) for s, e in segments(TEXT)]
    assert len(english) == len(arabic)
    for ar, en in zip(arabic, english, strict=True):
        assert numbers(ar) == numbers(en), (ar, en)
    joined = " ".join(english)
    for name in [
        "Kerry", "Lavrov", "Putin", "Ushakov", "Tefft", "Sputnik", "Rossiya-24", "Minsk", "Donbas",
        "Geneva", "NATO", "four hours", "August", "December 15", "Obama", "Brussels", "Paris",
    ]:  # fmt: skip
        assert name in joined, name


def test_every_passage_carries_its_translation(chunks: list) -> None:
    assert all(c.translation for c in chunks)
    constitution = next(c for c in chunks if "جدول زمني ومشروع دستور" in c.text)
    assert "timetable" in constitution.translation and "August" in constitution.translation


def test_other_articles_are_ingested_without_a_sidecar(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "note.md").write_text("# Title line\n\nFirst sentence here. Second one!\n\nAnother paragraph.\n")
    chunks = load_corpus(seeds, tmp_path)
    assert [c.text for c in chunks] == ["First sentence here. Second one!", "Another paragraph."]
    assert chunks[0].section == "Title line" and chunks[0].title == "Title line"
    assert chunks[0].translation is None and chunks[0].source == "seeds/note.md"


def test_misaligned_sidecar_is_reported_and_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("جملة أولى. جملة ثانية.\n", encoding="utf-8")
    (seeds / "a.en.txt").write_text("Only one line.\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        chunks = load_corpus(seeds, tmp_path)
    assert chunks and chunks[0].translation is None
    assert "translation ignored" in caplog.text


def test_non_utf8_article_is_a_clear_error(tmp_path: Path) -> None:
    from qa_bot.errors import CorpusError

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_corpus(seeds, tmp_path)


def test_a_sentence_longer_than_a_passage_is_cut_at_clauses(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    clause = "وقال المتحدث إن الاجتماع تناول قضايا كثيرة تتعلق بالأمن والاقتصاد والتعاون الإقليمي"
    text = "، ".join([clause] * 20) + "."
    (seeds / "long.txt").write_text(text + "\n", encoding="utf-8")
    chunks = load_corpus(seeds, tmp_path)
    assert len(chunks) > 1 and all(len(c.text) <= MAX_PASSAGE_CHARS for c in chunks)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.endswith(("،", "."))  # cut after a clause mark, not inside a word


def test_short_line_that_breaks_off_mid_sentence_is_not_a_heading() -> None:
    text = "انتهت المحادثات في موسكو.\nوقال لافروف إن\nالمحادثات كانت بناءة ومفيدة جدا.\n"
    parsed = blocks(text)
    assert [b.kind for b in parsed] == ["paragraph", "paragraph"]
    assert display(text[parsed[1].start : parsed[1].end]) == "وقال لافروف إن المحادثات كانت بناءة ومفيدة جدا."


def test_markdown_list_items_are_passages_not_headings(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "notes.md").write_text("# Notes\n\n- first point\n- second point\n\nClosing line.\n", encoding="utf-8")
    texts = [c.text for c in load_corpus(seeds, tmp_path)]
    assert texts == ["- first point", "- second point", "Closing line."]


def test_an_empty_seeds_folder_is_a_clear_error(tmp_path: Path) -> None:
    from qa_bot.config import Settings
    from qa_bot.errors import CorpusError
    from qa_bot.index import Index
    from qa_bot.models import UseM3Embeddings

    (tmp_path / "seeds").mkdir()
    with pytest.raises(CorpusError, match="No article text"):
        Index(Settings(root=tmp_path), UseM3Embeddings()).refresh()


def test_a_short_line_right_after_a_heading_starts_the_text() -> None:
    text = "عنوان قصير\nقال كيري إن الدستور\nسيكون جاهزا في آب.\n"
    assert [b.kind for b in blocks(text)] == ["heading", "paragraph"]
