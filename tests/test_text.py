import re
import sys

import pytest

from qa_bot.text import (
    _MAY_HOLD_DIGIT,
    clauses,
    detect_language,
    is_question,
    light_stem_ar,
    normalise,
    numbers,
    sentence_spans,
    tokens,
    word_count,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أَعْلَنَت", "اعلنت"),  # diacritics
        ("مـــفاوضات", "مفاوضات"),  # tatweel
        ("أإآٱ", "اااا"),  # alef/hamza forms
        ("على", "علي"),  # alef maqsura
        ("الهدنة", "الهدنه"),  # taa marbuta
        ("مؤتمر رئيس", "موتمر رييس"),
        ("١٥ ديسمبر", "15 ديسمبر"),  # Arabic-Indic digits
        ("NATO Geneva", "nato geneva"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_light_stemming_unifies_clitic_forms() -> None:
    forms = ["مفاوضات", "المفاوضات", "والمفاوضات", "بالمفاوضات"]
    assert len({light_stem_ar(normalise(f)) for f in forms}) == 1


@pytest.mark.parametrize(
    ("name", "related"),
    [("لبنان", "اللبنانيين"), ("إيران", "الإيرانية"), ("عمان", "العماني")],
)
def test_a_name_ending_in_alef_nun_keeps_it(name: str, related: str) -> None:
    # without the article, "ان" is a dual ending only after four letters: لبنان is not لبن (milk),
    # and the country and its adjective share one search term
    assert tokens(name) == tokens(related) != tokens("لبن")


def test_suffixes_leave_three_letters_and_duals_still_stem() -> None:
    assert tokens("مكان") != tokens("مك") and tokens("البيان") == ["بيان"]  # not "place" → مك
    assert tokens("الجانبان") == tokens("الجانب") and tokens("الطرفين") == tokens("الطرف")
    assert tokens("الطرفان") == tokens("الطرفين") and tokens("البلدان") == tokens("البلدين")  # "the two sides"


def test_tokens_drop_stopwords_and_stem_in_both_languages() -> None:
    assert tokens("What did Kerry say about the negotiations?") == ["kerri", "negoti"]
    ar = tokens("ماذا قال كيري عن المفاوضات؟")
    assert ar == tokens("وماذا قال كيري عن مفاوضات")
    assert "عن" not in ar and len(ar) == 2


@pytest.mark.parametrize(
    ("text", "lang"), [("What happened?", "en"), ("ماذا حدث؟", "ar"), ("ماذا قال Kerry عن NATO؟", "ar"), ("", "en")]
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_sentences_end_at_marks_and_keep_closing_quotes() -> None:
    text = 'قال: "لا أحد يريد ذلك." ونحن لا نريد، أبدا؟ وأخيرا كلام بلا نقطة'
    parts = [text[s:e] for s, e in sentence_spans(text)]
    assert parts == ['قال: "لا أحد يريد ذلك."', "ونحن لا نريد، أبدا؟", "وأخيرا كلام بلا نقطة"]


def test_comma_is_a_clause_mark_not_a_sentence_end() -> None:
    text = "وقال لافروف، إن روسيا والولايات المتحدة ستواصلان العمل، إلى جانب تركيزهما على الهدنة."
    assert len(list(sentence_spans(text))) == 1
    assert len(clauses(text)) >= 2


def test_numbers_read_arabic_indic_digits() -> None:
    assert numbers("يوم ١٥ كانون الأول و 24") == ["15", "24"]


@pytest.mark.parametrize("text", ["mm² ½ ① ⒈ ㋀ ㎟ 🄁", "٢٠١٦ ۱۲", "no digits here", "بلا أرقام ﷺ"])
def test_numbers_are_those_of_the_normalised_text(text: str) -> None:
    assert numbers(text) == re.findall(r"\d+", normalise(text))


def test_every_character_that_normalises_to_a_digit_is_looked_for() -> None:
    # `numbers` skips normalising a text with none of these: a character missing from the list
    # would hide a number (㋀ is "1月", ½ "1⁄2")
    missed = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if not 0xD800 <= c <= 0xDFFF and re.search(r"\d", normalise(chr(c))) and not _MAY_HOLD_DIGIT.match(chr(c))
    ]
    assert missed == []


@pytest.mark.parametrize(
    "text", ["Jabir said: he oiled his head.", "قال ﷺ: صلوا", "  كيري   و  لافروف ", "\u200f في عام"]
)
def test_word_count_is_that_of_the_normalised_text(text: str) -> None:
    assert word_count(text) == len(normalise(text).split())


@pytest.mark.parametrize(
    ("sentence", "asks"),
    [
        ("What is this?", True),
        ("ما هذا؟", True),
        ('He said: "Why not?"', True),
        ("قال: «لماذا؟»", True),
        ("Really?!", True),
        ("It is so.", False),
        ("Is it? No, it is not.", False),
        ("وقال إن الهدنة صامدة.", False),
    ],
)
def test_a_sentence_that_asks_is_told_from_one_that_tells(sentence: str, asks: bool) -> None:
    assert is_question(sentence) is asks
