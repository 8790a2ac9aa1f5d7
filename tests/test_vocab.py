"""The Arabic lexicon (Arramooz, from PyPI) that tells the words of an Arabic claim that name
something from the words of the language."""

from __future__ import annotations

import logging

import pytest

from qa_bot import vocab
from qa_bot.facts import facts_of
from qa_bot.vocab import reading


def _reading(word: str) -> str | None:
    return reading(facts_of(word).words[0])


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # names: proper nouns the lexicon lists, a place's adjective, words it does not list at all
        ("بوتين", "name"),  # as written, not ب + وتين "aorta"
        ("أمريكا", "name"),
        ("وسمرقند", "name"),
        ("الكنديين", "name"),
        ("الروسي", "name"),
        ("بالبريطانية", "name"),
        ("يوسيمايت", "unknown"),
        ("إيرغانزونغشولين", "unknown"),
        # words of the language, spelled with the long vowels foreign names have
        ("حوالي", "word"),
        ("لوجود", "word"),
        ("وبالتالي", "word"),  # و + ب + ال
        ("بالألوان", "word"),  # a broken plural that is also a surname (Alwan)
        # inflected: a verb's present and future, pronouns, plural and dual endings
        ("يعود", "stem"),
        ("تديرها", "stem"),
        ("ستبقى", "stem"),
        ("يمكن", "stem"),
        ("تتجه", "stem"),
        ("إمكانياتها", "stem"),
        ("نوعان", "stem"),
        ("للولايات", "stem"),  # ل + ال, a plural
        ("حكمت", "stem"),  # "she ruled" as well as the name Hikmat
        ("وصلات", "stem"),  # "links"
        ("التبت", "name"),  # Tibet, not تب + ت
        ("واحد", "word"),  # "one", which the frequency list tags as a name
        ("يستطيع", "stem"),  # a hollow verb of form X (استطاع)
        ("ضدها", "stem"),  # a two-letter word and a pronoun
        ("البر", "word"),  # the article and a two-letter word
        ("الدينية", "stem"),  # "religious", not Dina + ي
        ("المائية", "word"),  # "watery", not Maya + ي (a hamza's seat)
        ("مدى", "word"),  # ى is no adjective's ي
        ("خلت", "stem"),  # a defective verb (خلا)
        ("تنج", "stem"),  # (نجا)
        ("السالبيات", "stem"),  # an adjective's plural
        ("بشن", "word"),  # ب + a two-letter word
        # before a pronoun the feminine ة is written ت and a plural's ون loses its ن
        ("بمرحلتي", "stem"),  # مرحلة + ي
        ("مدرّسوها", "stem"),  # مدرسون + ها
        ("مهدوي", "unknown"),  # (a plural's و is never before ي: مدرسيّ)
        ("مادونا", "unknown"),  # nor before نا: Madonna is no ماد + و + نا
        # a preposition or the article is not followed by a verb: كـ + ينجز (accomplishes) is no
        # reading of كينجز (Kings), nor ب + الزهو of بالزهوت
        ("كينجز", "unknown"),
        ("بالزهوت", "unknown"),
    ],
)
def test_the_lexicon_reads_names_words_and_inflected_words(word: str, expected: str) -> None:
    assert _reading(word) == expected


def test_without_the_lexicon_nothing_is_read_and_one_warning_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(vocab, "_data_dir", lambda: None)
    vocab.vocabulary.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="qa_bot.vocab"):
            assert _reading("بوتين") is None
            assert _reading("حوالي") is None
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1 and "pip install arramooz-pysqlite" in warnings[0]
    finally:
        vocab.vocabulary.cache_clear()
