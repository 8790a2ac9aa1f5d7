"""The English–Arabic dictionary: read from dictd files, used so English questions match Arabic words."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from conftest import REPO, make_project
from qa_bot.lexicon import DEFAULT, _number, arabic_to_english, english_to_arabic, read_dictd

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _code(n: int) -> str:
    out = ""
    while True:
        out = _B64[n % 64] + out
        n //= 64
        if not n:
            return out


def _dictd(base: Path, entries: dict[str, str]) -> Path:
    """A dictd dictionary (index + gzip body) with `entries` (headword → Arabic lines)."""
    body, index = b"00-database-info\nA test dictionary\n", ["00databaseinfo\tA\tg"]
    for word, arabic in entries.items():
        text = f"{word.capitalize()} /ipa/\n{arabic}\n".encode()
        index.append(f"{word}\t{_code(len(body))}\t{_code(len(text))}")
        body += text
    base.with_name(base.name + ".index").write_text("\n".join(index) + "\n", encoding="utf-8")
    base.with_name(base.name + ".dict.dz").write_bytes(gzip.compress(body))
    return base


def test_offsets_are_dictd_base64() -> None:
    assert _number("A") == 0 and _number("B") == 1 and _number("BA") == 64
    assert all(_number(_code(n)) == n for n in (0, 63, 64, 4095, 123456))


def test_a_dictd_file_gives_each_english_term_its_arabic_terms(tmp_path: Path) -> None:
    base = _dictd(
        tmp_path / "eng-ara",
        {
            "truce": "الهدنة",
            "talks": "المحادثات، المفاوضات",
            "ice cream": "بوظة",
            "the": "ال",
            "x": "وقف إطلاق النار",
            "endless": "لا نهائي",
            "boundless": "لا محدود، مطلق",
        },
    )
    lexicon = read_dictd(base)
    assert lexicon["truce"] == {"هدن"}  # normalised and stemmed like the text
    assert lexicon["talk"] == {"محادث", "مفاوض"}  # both renderings, keyed by the English stem
    assert "ice" not in lexicon and "cream" not in lexicon  # multi-word headwords are skipped
    assert "x" not in lexicon  # ... and multi-word renderings
    # a negated rendering is not its word (لا being a stop word): "endless" is not نهائي "final"
    assert "endless" not in lexicon and lexicon["boundless"] == {"مطلق"}


def test_the_installed_dictionary_covers_news_words() -> None:
    assert DEFAULT.with_name(DEFAULT.name + ".index").exists(), "install dict-freedict-eng-ara (make setup does)"
    lexicon = english_to_arabic()
    assert len(lexicon) > 20_000
    assert "هدن" in lexicon["truce"] and "دستور" in lexicon["constitut"] and "اتفاق" in lexicon["agreement"]


def test_without_a_dictionary_english_questions_still_work_and_the_log_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("QA_BOT_LEXICON", str(tmp_path / "missing"))
    english_to_arabic.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="qa_bot.lexicon"):
            assert english_to_arabic() == {}
        assert "QA_BOT_LEXICON" in caplog.text and "dict-freedict-eng-ara" in caplog.text
    finally:
        english_to_arabic.cache_clear()


def test_an_english_question_matches_an_untranslated_arabic_passage_word_by_word(tmp_path: Path) -> None:
    from qa_bot.bot import Bot
    from qa_bot.config import Settings

    bot = Bot.from_settings(Settings(root=make_project(tmp_path, sidecar=False), prompts_dir=REPO / "prompts"))
    candidates = bot.retriever.search("truce")
    assert candidates and candidates[0].lexical > 0 and "الهدنة" in candidates[0].chunk.text
    terms = bot.retriever.query_terms("What did they say about the truce?")
    assert "هدن" in terms.renderings["truce"] and bot.retriever.knows("truce")
    assert not bot.retriever.knows("weather")  # الطقس: not in the article
    # "What did X say about Y?" over untranslated text: a word the dictionary lacks is not a missing topic
    answer = bot.ask("What did Lavrov say about NATO?")
    assert not answer.abstained and "الناتو" in answer.citations[0].passage


def test_the_parsed_dictionary_is_cached_and_a_broken_cache_is_reparsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _dictd(tmp_path / "eng-ara", {"truce": "الهدنة", "talks": "المحادثات"})
    monkeypatch.setenv("QA_BOT_LEXICON", str(base))
    monkeypatch.setenv("QA_BOT_CACHE_DIR", str(tmp_path / "cache"))
    english_to_arabic.cache_clear()
    try:
        first = english_to_arabic()
        cached = list((tmp_path / "cache").glob("lexicon-*.json"))
        assert first == read_dictd(base) and len(cached) == 1
        english_to_arabic.cache_clear()
        assert english_to_arabic() == first  # read back from the cache
        cached[0].write_text("{not json", encoding="utf-8")
        english_to_arabic.cache_clear()
        assert english_to_arabic() == first  # a broken cache is parsed again, and rewritten
        assert '"truce"' in cached[0].read_text(encoding="utf-8")
    finally:
        english_to_arabic.cache_clear()


def test_the_dictionary_read_the_other_way_gives_arabic_terms_their_english_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _dictd(tmp_path / "eng-ara", {"truce": "الهدنة", "armistice": "هدنة", "talks": "المحادثات، المفاوضات"})
    monkeypatch.setenv("QA_BOT_LEXICON", str(base))
    monkeypatch.setenv("QA_BOT_CACHE_DIR", str(tmp_path / "cache"))
    english_to_arabic.cache_clear()
    arabic_to_english.cache_clear()
    try:
        inverse = arabic_to_english()
        assert inverse["هدن"] == {"truce", "armistic"}  # every English word it renders, as search terms
        assert inverse["مفاوض"] == {"talk"} and inverse["محادث"] == {"talk"}
    finally:
        english_to_arabic.cache_clear()
        arabic_to_english.cache_clear()


ENGLISH_NEWS = [
    {
        "id": "ceasefire",
        "title": "Ceasefire talks",
        "text": "The ceasefire in Syria began on 27 February after weeks of negotiations. "
        "The army said that the truce was holding in most provinces. "
        "Foreign Minister Sergei Lavrov called the talks useful.",
    },
    {
        "id": "harvest",
        "title": "A late harvest",
        "text": "Farmers in the valley started the wheat harvest two weeks late this year. "
        "Heavy rain in May damaged part of the crop.",
    },
    {
        "id": "envoy",
        "title": "The envoy's plan",
        "text": "The former envoy Kofi Annan presented a six-point plan in Geneva.",
    },
]


@pytest.fixture(scope="module")
def english_archive(tmp_path_factory: pytest.TempPathFactory):
    """English articles without Arabic translations, for Arabic questions."""
    import json

    from qa_bot.bot import Bot
    from qa_bot.config import Settings

    root = tmp_path_factory.mktemp("english")
    (root / "seeds").mkdir()
    lines = "".join(json.dumps({**a, "lang": "en"}) + "\n" for a in ENGLISH_NEWS)
    (root / "seeds" / "news.jsonl").write_text(lines, encoding="utf-8")
    return Bot.from_settings(Settings(root=root, prompts_dir=REPO / "prompts"))


def test_a_questions_terms_are_weighed_once_on_the_snapshot_in_use(english_archive, tmp_path: Path) -> None:
    from qa_bot.ingest import load_corpus
    from qa_bot.lexical import LexicalIndex

    retriever = english_archive.retriever
    question = "What did the army say about the truce in Moscow?"
    first = retriever.query_terms(question)
    assert retriever.query_terms(question) is first  # an answer reads them three times: weighed once
    root = make_project(tmp_path)
    other = LexicalIndex.build(load_corpus(root / "seeds", root))  # another archive: other idf
    elsewhere = retriever.query_terms(question, other)
    assert elsewhere is not first and elsewhere.weights != first.weights
    assert retriever.query_terms(question).weights == first.weights  # back on its own snapshot


def test_an_arabic_question_finds_its_words_in_an_untranslated_english_passage(english_archive) -> None:
    question = "ماذا قال الجيش عن الهدنة؟"  # "What did the army say about the truce?"
    retriever = english_archive.retriever
    terms = retriever.query_terms(question)
    assert "truce" in terms.english["هدن"]
    ceasefire = next(c for c in retriever.search(question) if c.chunk.article_id == "ceasefire")
    assert ceasefire.coverage > 0  # by the dictionary read from Arabic to English, not by similarity alone
    answer = english_archive.ask(question)
    assert not answer.abstained and "the truce was holding" in answer.text


def test_an_arabic_name_is_found_in_an_english_passage_by_its_letters(english_archive) -> None:
    retriever = english_archive.retriever
    terms = retriever.query_terms("ماذا قال لافروف عن المحادثات؟")  # "What did Lavrov say about the talks?"
    assert "لافروف" in terms.arabic_names
    ceasefire = retriever.search("لافروف")[0]
    assert ceasefire.chunk.article_id == "ceasefire"
    only_the_name = retriever.query_terms("لافروف")
    text = ceasefire.chunk.text
    assert only_the_name.coverage(retriever.article_terms("ceasefire"), **only_the_name.in_english(text, None)) > 0
    assert only_the_name.coverage(retriever.article_terms("ceasefire")) == 0  # not as a written word


def test_a_two_consonant_arabic_name_is_found_when_it_writes_a_long_vowel(english_archive) -> None:
    from qa_bot.retrieve import arabic_names

    retriever = english_archive.retriever
    kofi = retriever.query_terms("ماذا قال كوفي؟")  # "What did Kofi say?": كوفي is KF, two consonants
    assert kofi.arabic_names == {"كوف": "KF"}  # a name the dictionary does not have
    text = retriever.search("كوفي")[0].chunk.text
    assert "Kofi" in text
    assert kofi.coverage(frozenset(), **kofi.in_english(text, None)) > 0
    assert "عبر" not in arabic_names("عبر الحدود")  # no written vowel: a word, not a name


# A one-word rendering negates nothing (normalised, غيّر "changed" and دوّن "recorded" read as غير, دون)
def test_a_one_word_rendering_with_vowel_marks_is_kept(tmp_path: Path) -> None:
    lexicon = read_dictd(_dictd(tmp_path / "eng-ara", {"transfigure": "غيّر", "journalize": "دوّن"}))
    assert lexicon.get("transfigur") == {"غير"} and lexicon.get("journal") == {"دون"}
