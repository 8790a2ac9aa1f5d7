"""A free English translation aligned to its article's sentences (qa_bot.align), and what ingest makes of it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from conftest import SEED, SIDECAR
from qa_bot.align import align
from qa_bot.ingest import _paragraph_segments, blocks, chunk_article, load_corpus, read_translation

TEXT = SEED.read_text(encoding="utf-8")


def _by_paragraph(lines: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """The seed's segments by paragraph, and its sidecar's lines grouped the same way."""
    groups = _paragraph_segments(TEXT, blocks(TEXT))
    it = iter(lines)
    return groups, [[next(it) for _ in g] for g in groups]


def test_a_translation_written_by_paragraph_aligns_sentence_by_sentence() -> None:
    lines = read_translation(SIDECAR)
    groups, english = _by_paragraph(lines)
    running = "\n".join(" ".join(p) for p in english)  # as a translator writes it: one line per paragraph
    assert align(groups, running) == lines


def test_paragraphs_merged_or_split_are_aligned_over_the_whole_text() -> None:
    lines = read_translation(SIDECAR)
    groups, english = _by_paragraph(lines)
    merged = [" ".join(s for p in english[i : i + 2] for s in p) for i in range(0, len(english), 2)]  # other breaks
    found = align(groups, "\n".join(merged))
    assert found is not None and len(found) == len(lines)
    # every sentence that has a full stop in both is paired with its own line (headings, which lack
    # one, run into the next English sentence)
    sentences = [i for i, line in enumerate(lines) if line.rstrip().endswith((".", '"'))]
    right = sum(found[i] == lines[i] for i in sentences)
    assert right >= 0.8 * len(sentences)


def _right_and_wrong(found: list[str | None] | None, lines: list[str]) -> tuple[int, int]:
    assert found is not None and len(found) == len(lines)
    right = sum(f == line for f, line in zip(found, lines, strict=True))
    return right, sum(f is not None and f != line for f, line in zip(found, lines, strict=True))


def test_as_many_paragraphs_that_do_not_correspond_are_not_paired_blindly() -> None:
    """Paragraphs merged in one place and split in another leave the counts equal: pairing line k
    with paragraph k would shift every sentence between the two edits (20 of 31 wrong, accepted)."""
    lines = read_translation(SIDECAR)
    groups, english = _by_paragraph(lines)
    paragraphs = [" ".join(p) for p in english]
    edited = [f"{paragraphs[0]} {paragraphs[1]}", *paragraphs[2:]]  # the first two merged ...
    at = next(i for i, p in enumerate(english[2:], start=1) if len(p) >= 2)  # ... a later one split
    edited[at : at + 1] = [english[at + 1][0], " ".join(english[at + 1][1:])]
    assert len(edited) == len(groups)
    right, wrong = _right_and_wrong(align(groups, "\n".join(edited)), lines)
    assert right >= len(lines) - 3 and wrong <= 1


def test_a_translation_cut_short_leaves_the_end_untranslated() -> None:
    lines = read_translation(SIDECAR)
    cut = len(lines) - 6
    found = align([[line] for line in _flat_segments()], "\n".join(lines[:cut]))
    right, wrong = _right_and_wrong(found, lines)
    assert found is not None and found[cut:] == [None] * 6
    assert wrong <= 1 and right >= cut - 2


def _flat_segments() -> list[str]:
    return [s for p in _paragraph_segments(TEXT, blocks(TEXT)) for s in p]


def test_a_sidecar_with_a_line_missing_is_aligned_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = read_translation(SIDECAR)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / SEED.name).write_text(TEXT, encoding="utf-8")
    (seeds / SIDECAR.name).write_text("\n".join(lines[:5] + lines[6:]) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        chunks = load_corpus(seeds, tmp_path)
    assert "aligned by sentence length" in caplog.text and "check the sidecar" in caplog.text
    english = [s.translation for c in chunks for s in c.sentences]
    assert sum(e is not None for e in english) >= len(english) - 2


def test_a_pair_that_writes_the_same_digits_is_likelier() -> None:
    from qa_bot.align import _bead_cost

    arabic = ["قتل 12 شخصا في الهجوم على السوق."]
    same, other = (
        _bead_cost(arabic, ["12 people were killed in the attack."], 1.0),
        _bead_cost(arabic, ["13 people were killed in the attack."], 1.0),
    )
    assert same < other
    assert _bead_cost(arabic, ["Dozens were killed in the attack."], 1.0) < other  # a missing run costs less than two


def test_a_text_that_is_not_a_translation_is_not_aligned() -> None:
    groups = _paragraph_segments(TEXT, blocks(TEXT))
    assert align(groups, "The weather was fine. Nothing else happened.") is None
    assert align(groups, "") is None and align([], "Some text.") is None


def test_a_bulk_article_with_a_running_translation_gets_it_sentence_by_sentence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, a free translation of an article longer than one passage was ignored."""
    lines = read_translation(SIDECAR)
    _, english = _by_paragraph(lines)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    record = {"id": "moscow", "text": TEXT, "lang": "ar", "translation": "\n".join(" ".join(p) for p in english)}
    (seeds / "wire.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    with caplog.at_level(logging.INFO):
        chunks = load_corpus(seeds, tmp_path)
    assert "translation ignored" not in caplog.text
    expected = chunk_article(SEED, SEED.parent.parent)  # the same article with its line-by-line sidecar
    assert len(chunks) == len(expected) > 1
    for got, want in zip(chunks, expected, strict=True):
        assert got.text == want.text and got.translation == want.translation
        assert [s.translation for s in got.sentences] == [s.translation for s in want.sentences]
