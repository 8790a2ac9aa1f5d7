"""Wording files in prompts/: the example questions shown under the chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from qa_bot.errors import ConfigError
from qa_bot.prompts import EXAMPLE_MAX_CHARS, load_examples

SEED_QUESTIONS = {
    "en": ("What did Kerry say about a new constitution?", "Which region of Ukraine is mentioned?"),
    "ar": ("أين جرت المباحثات بين بوتين وكيري؟", "ماذا قال كيري عن الجدول الزمني؟"),
}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_shipped_examples_are_the_seed_questions(language: str) -> None:
    assert load_examples(REPO / "prompts", language) == SEED_QUESTIONS[language]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "en",
            "# a comment\n\n  How long is the bridge?  \n# another\nWho opened it?\n",
            ("How long is the bridge?", "Who opened it?"),
        ),
        (
            "ar",
            "\ufeff# تعليق\nكم يبلغ طول الجسر؟\r\nكم يبلغ طول الجسر؟\nمن افتتحه؟",
            ("كم يبلغ طول الجسر؟", "من افتتحه؟"),
        ),
    ],
)
def test_one_question_a_line_comments_blanks_and_repeats_dropped(
    tmp_path: Path, language: str, text: str, expected: tuple[str, ...]
) -> None:
    (tmp_path / f"examples.{language}.txt").write_text(text, encoding="utf-8")
    assert load_examples(tmp_path, language) == expected


@pytest.mark.parametrize("text", ["", "# only comments\n#\n\n   \n"])
def test_a_file_without_questions_means_no_examples(tmp_path: Path, text: str) -> None:
    (tmp_path / "examples.en.txt").write_text(text, encoding="utf-8")
    assert load_examples(tmp_path, "en") == ()


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Missing examples file .*examples\.ar\.txt.*QA_BOT_PROMPTS_DIR"):
        load_examples(tmp_path, "ar")


def test_bad_files_name_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "examples.en.txt").write_text("Fine?\n" + "x" * (EXAMPLE_MAX_CHARS + 1) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"examples\.en\.txt line 2: an example question is 301 characters"):
        load_examples(tmp_path, "en")
    (tmp_path / "examples.ar.txt").write_bytes("سؤال؟".encode("cp1256"))
    with pytest.raises(ConfigError, match=r"examples\.ar\.txt is not UTF-8"):
        load_examples(tmp_path, "ar")
