"""UI unit tests with a fake bot: rendering, escaping, direction, history handling, errors."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from qa_bot import ui
from qa_bot.config import Settings
from qa_bot.errors import ConfigError, InputError, QaBotError
from qa_bot.passages import Titles
from qa_bot.types import Answer, Citation

XSS = "<img src=x onerror=alert(1)>"
PASSAGE = "قال كيري إن الجدول الزمني مهم. وأضاف أن المحادثات جرت في الكرملين."
SOURCE_START = 100
QUOTED = "وأضاف أن المحادثات جرت في الكرملين."


def citation(passage: str = PASSAGE, translation: str | None = "Kerry said the timetable matters.") -> Citation:
    hs = SOURCE_START + passage.find(QUOTED) if QUOTED in passage else SOURCE_START
    return Citation(
        n=1,
        passage=passage,
        translation=translation,
        source="seeds/x.txt",
        start=SOURCE_START,
        end=SOURCE_START + len(passage),
        score=0.9,
        section="Moscow talks",
        article_id="x",
        highlights=((hs, hs + len(QUOTED)),),
    )


AR_ANSWER = Answer(f"بحسب المقال: {QUOTED} [1]", "ar", False, (citation(),))
EN_ANSWER = Answer("According to the article: Kerry said the timetable matters. [1]", "en", False, (citation(),))


class FakeBot:
    def __init__(self, answers: list[Answer] | None = None, error: Exception | None = None) -> None:
        self.answers = list(answers or [EN_ANSWER, AR_ANSWER])
        self.error = error
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.articles: list[list[str] | None] = []

    def ask(self, question: str, history: list[dict[str, str]], articles: list[str] | None = None) -> Answer:
        self.calls.append((question, list(history)))
        self.articles.append(articles)
        if self.error is not None:
            raise self.error
        return self.answers[min(len(self.calls) - 1, len(self.answers) - 1)]


def outer_dir(markup: str) -> str:
    match = re.match(r'<div class="qa-msg[^"]*" dir="(rtl|ltr)"', markup)
    assert match, markup
    return match.group(1)


def test_direction_per_message() -> None:
    assert outer_dir(ui.render_answer(AR_ANSWER)) == "rtl"
    assert outer_dir(ui.render_answer(EN_ANSWER)) == "ltr"
    assert outer_dir(ui.render_user("أين جرت المباحثات بين بوتين وكيري؟")) == "rtl"
    assert outer_dir(ui.render_user("Which region of Ukraine is mentioned?")) == "ltr"


def test_citation_has_details_mark_and_translation() -> None:
    markup = ui.render_answer(EN_ANSWER, "Sources")
    assert "<details" in markup and "<summary" in markup
    # for readers: the article and section, each isolated for bidi; no file path, no offsets
    assert '<summary dir="ltr">[1] <bdi class="qa-src-title" dir="ltr" lang="en">x</bdi> · ' in markup
    assert '<bdi class="qa-src-section" dir="ltr" lang="en">Moscow talks</bdi></summary>' in markup
    assert "seeds/x.txt" not in markup and "100–166" not in markup
    assert f"<mark>{QUOTED}</mark>" in markup
    assert "قال كيري إن الجدول الزمني مهم. " in markup  # unquoted sentence present, outside <mark>
    assert re.search(r'class="qa-passage" dir="rtl"', markup)
    assert re.search(r'class="qa-translation" dir="ltr"[^>]*>Kerry said the timetable matters\.<', markup)
    assert "Sources" in markup
    assert "\n" not in markup


def test_citation_without_translation_and_default_label() -> None:
    answer = Answer("بحسب المقال: x [1]", "ar", False, (citation(translation=None),))
    markup = ui.render_answer(answer)
    assert "qa-translation" not in markup
    assert "المصادر" in markup


def test_abstention_has_no_sources() -> None:
    markup = ui.render_answer(Answer("The article doesn't say.", "en", True))
    assert "<details" not in markup and "The article doesn&#x27;t say." in markup


def test_highlight_offsets_are_relative_to_passage() -> None:
    assert ui.highlight_passage("abcdef", 10, ((12, 14),)) == "ab<mark>cd</mark>ef"
    assert ui.highlight_passage("abcdef", 10, ((12, 13), (14, 15))) == "ab<mark>c</mark>d<mark>e</mark>f"
    assert ui.highlight_passage("abcdef", 10, ((5, 30),)) == "<mark>abcdef</mark>"  # clamped
    assert ui.highlight_passage("a<b>", 0, ((1, 4),)) == "a<mark>&lt;b&gt;</mark>"


def test_xss_is_escaped_in_question_and_passage() -> None:
    user = ui.render_user(f"What about {XSS}?")
    assert XSS not in user and "&lt;img src=x onerror=alert(1)&gt;" in user
    evil = Citation(1, f"{XSS} {PASSAGE}", XSS, f"seeds/{XSS}", 0, 99, 0.5, XSS, "x", ((0, 5),))
    markup = ui.render_answer(Answer(f"Text {XSS} [1]", "en", False, (evil,)), XSS)
    assert "<img" not in markup and "onerror=alert(1)&gt;" in markup


def test_respond_appends_and_passes_plain_history() -> None:
    bot = FakeBot()
    text, chat, history = ui.respond(bot, "  What did Kerry say about a new constitution? ", [], [])
    assert text == ""
    assert len(chat) == 2 and "<details" in chat[1]["content"]
    assert history == [
        {"role": "user", "content": "What did Kerry say about a new constitution?", "article": ""},
        {"role": "assistant", "content": EN_ANSWER.text, "answer": EN_ANSWER.to_dict(), "article": ""},
    ]
    text, chat, history = ui.respond(bot, "ماذا قال كيري عن الجدول الزمني؟", chat, history)
    assert len(chat) == 4 and len(history) == 4
    question, passed = bot.calls[1]
    assert question == "ماذا قال كيري عن الجدول الزمني؟"
    assert passed == [{"role": m["role"], "content": m["content"]} for m in history[:2]]  # text only
    assert bot.articles == [None, None]  # "All articles": no filter
    assert all("<" not in m["content"] for m in passed)
    assert outer_dir(chat[2]["content"]) == "rtl" and outer_dir(chat[3]["content"]) == "rtl"


@pytest.mark.parametrize("error", [InputError("question is empty: type a question"), QaBotError("index <missing>")])
def test_bot_errors_become_warnings(error: QaBotError) -> None:
    bot = FakeBot(error=error)
    chat = [{"role": "user", "content": "<div>x</div>"}]
    history = [{"role": "user", "content": "x"}]
    with pytest.warns(UserWarning) as record:
        text, new_chat, new_history = ui.respond(bot, "", chat, history)
    assert any(str(error).replace("<", "&lt;").replace(">", "&gt;") in str(w.message) for w in record)
    assert (text, new_chat, new_history) == ("", chat, history)


def test_unexpected_error_is_a_gradio_error() -> None:
    import gradio as gr

    with pytest.raises(gr.Error):
        ui.respond(FakeBot(error=RuntimeError("boom")), "hello", [], [])


def test_clear() -> None:
    assert ui.clear() == ("", [], [], [])


def test_create_app_returns_blocks_without_launching() -> None:
    import gradio as gr

    app = ui.create_app(FakeBot())
    assert isinstance(app, gr.Blocks)
    assert not getattr(app, "is_running", False)
    chatbots = [b for b in app.blocks.values() if isinstance(b, gr.Chatbot)]
    assert len(chatbots) == 1 and chatbots[0].rtl is False and chatbots[0].sanitize_html


def test_module_import_does_not_import_gradio() -> None:
    import subprocess
    import sys

    code = "import sys, qa_bot.ui; assert 'gradio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_citation_markers_are_clickable_and_point_at_their_source() -> None:
    markup = ui.render_answer(EN_ANSWER)
    assert '<a class="qa-cite qa-n-1" href="#">[1]</a>' in markup
    assert '<details class="qa-citation qa-n-1">' in markup
    assert 'class="qa-goto qa-at-' in markup and '-100"' in markup


def test_article_view_lists_every_passage_with_its_translation() -> None:
    from qa_bot.types import Chunk

    chunks = [
        Chunk("a", "x", "Title", "seeds/x.txt", 0, 10, "نص أول.", "First text.", None, 0),
        Chunk("b", "x", "Title", "seeds/x.txt", 11, 30, f"نص {XSS}", None, "قسم", 1),
    ]
    markup = ui.render_article(chunks)
    assert markup.count('class="qa-art-row qa-at-') == 2 and '-11"' in markup
    assert "First text." in markup and "<h4>قسم</h4>" in markup and "<img" not in markup


def test_feedback_is_stored_as_json_lines(tmp_path) -> None:
    import json

    log = ui.FeedbackLog(tmp_path / "data" / "feedback.jsonl")
    log.record(True, "What did Kerry say?", EN_ANSWER.to_dict())
    log.record(False, "ماذا قال كيري؟", EN_ANSWER.to_dict())
    rows = [json.loads(line) for line in (tmp_path / "data" / "feedback.jsonl").read_text().splitlines()]
    assert [r["rating"] for r in rows] == ["up", "down"] and rows[1]["question"] == "ماذا قال كيري؟"
    assert rows[0]["answer"]["citations"][0]["source"] == "seeds/x.txt" and rows[0]["time"].endswith("Z")


def test_generated_answer_shows_only_supported_claims_and_the_query() -> None:
    from dataclasses import replace

    from qa_bot.types import Claim

    answer = replace(
        EN_ANSWER,
        text="Kerry said the timetable matters. [1]",
        claims=(
            Claim("Kerry said the timetable matters.", (1,), True, 0.8),
            Claim("He won a prize.", (1,), False, 0.1, "name 'Nobel' not in source [1]"),
        ),
        backend="ollama:llama3.1",
        query="What did Kerry say about the timetable?",
    )
    markup = ui.render_answer(answer)
    assert "He won a prize" not in markup and "1 sentence(s) of the model's answer left out" in markup
    assert "Searched for" in markup and "What did Kerry say about the timetable?" in markup
    assert "ollama:llama3.1" in markup and markup.count('class="qa-cite qa-n-1"') == 1


def test_an_unsupported_fallback_says_so() -> None:
    from dataclasses import replace

    answer = replace(EN_ANSWER, backend="ollama:llama3.1", fallback="unsupported", fallback_reason="none supported")
    markup = ui.render_answer(answer)
    assert "not supported by its sources" in markup and "every sentence checked" not in markup


def test_streaming_shows_the_text_as_it_arrives_then_the_full_answer() -> None:
    class StreamingBot(FakeBot):
        def stream(self, question, history, articles=None):
            yield "citations", [c.to_dict() for c in EN_ANSWER.citations]
            yield "delta", "Kerry said "
            yield "delta", "the timetable matters. [1]"
            yield "final", EN_ANSWER

    updates = list(ui.respond_streaming(StreamingBot(), "What did Kerry say?", [], []))
    texts = [u[1][-1]["content"] for u in updates if len(u[1]) == 2]
    assert "Kerry said " in texts[0] and "<details" not in texts[0]  # partial text first, no sources yet
    final_text, chat, history = updates[-1]
    assert final_text == "" and "<details" in chat[1]["content"] and history[1]["answer"] == EN_ANSWER.to_dict()


ARTICLES = {
    "000_seed": "أعلنت الولايات المتحدة وروسيا أنهما اتفقتا",
    "news-harbour": "New harbour bridge opens in Tunis",
    "news-harbour-2": "New harbour bridge opens in Tunis",
    "news-olive": "موسم الزيتون",
    "news-élan": "Élan in Sfax",
}


def dated(**changes: Any) -> Citation:
    base = citation(translation=None)
    fields = {"title": "موسم الزيتون", "section": "الإنتاج", "date": "2016-03-25", "article_id": "news-olive"}
    return dataclasses.replace(base, **{**fields, **changes})


def test_source_label_is_title_section_date_for_readers() -> None:
    label = ui.source_label(dated())
    assert label == (
        '<bdi class="qa-src-title" dir="rtl" lang="ar">موسم الزيتون</bdi> · '
        '<bdi class="qa-src-section" dir="rtl" lang="ar">الإنتاج</bdi> · '
        '<bdi class="qa-src-date" dir="ltr" lang="en">2016-03-25</bdi>'
    )
    markup = ui.render_citation(dated())
    assert '<summary dir="rtl">[1] <bdi class="qa-src-title"' in markup  # an Arabic title reads right to left
    assert "seeds/" not in markup and "100–" not in markup and "–1" not in markup


@pytest.mark.parametrize(
    ("changes", "texts"),
    [
        ({"section": None}, ["موسم الزيتون", "2016-03-25"]),
        ({"date": None, "section": "  "}, ["موسم الزيتون"]),
        ({"title": "", "date": None}, ["news-olive", "الإنتاج"]),  # no title: the id, never the path
        ({"title": "Harbour", "section": None, "date": None}, ["Harbour"]),
    ],
)
def test_source_label_skips_missing_parts(changes: dict[str, Any], texts: list[str]) -> None:
    label = ui.source_label(dated(**changes))
    assert re.findall(r">([^<]*)</bdi>", label) == texts
    assert label.count(" · ") == len(texts) - 1


def test_source_label_escapes_and_links_only_web_urls() -> None:
    markup = ui.render_citation(dated(title=XSS, section=XSS, date=XSS, url="https://example.com/a?b=1&c=2"))
    assert "<img" not in markup and markup.count("&lt;img src=x") == 3
    assert '<a class="qa-url" href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">' in markup
    for bad in ("javascript:alert(1)", 'https://x.example/"onmouseover=alert(1)', "data:text/html,x"):
        assert "qa-url" not in ui.render_citation(dated(url=bad))


@pytest.fixture(params=["mapping", "titles", "saved titles"])
def articles(request: pytest.FixtureRequest, tmp_path: Path) -> Mapping[str, str]:
    """The same articles as any mapping (keyed at every search), as a snapshot's titles with the search
    index made in memory, and as titles read back from a snapshot folder with the index saved."""
    if request.param == "mapping":
        return ARTICLES
    titles = Titles.of(list(ARTICLES.items()))
    if request.param == "titles":
        return titles
    titles.save(tmp_path)
    opened = Titles.open(tmp_path)
    assert opened._keys is not None  # the saved search keys, not keys made again
    return opened


def test_saved_title_keys_made_by_another_version_are_made_again(tmp_path: Path) -> None:
    """Keys saved by another `title_key` (or Unicode version) would miss what this one finds."""
    Titles.of(list(ARTICLES.items())).save(tmp_path)
    made_by = tmp_path / "article-keys.json"
    made_by.write_text(made_by.read_text(encoding="utf-8").replace('"title_key": ', '"title_key": 1000'))
    opened = Titles.open(tmp_path)
    assert opened._keys is None
    assert [v for _, v in ui.article_choices(opened, "مُوسم")] == ["", "news-olive"] and opened._keys is not None
    assert ui.article_choices(opened, "\ud800") == [("All articles · كل المقالات", "")]  # a lone surrogate


def test_article_choices_all_first_then_by_title_with_ids(articles: Mapping[str, str]) -> None:
    choices = ui.article_choices(articles)
    assert choices[0] == ("All articles · كل المقالات", "")
    ids = [value for _, value in choices[1:]]
    assert ids == ["news-élan", "news-harbour", "news-harbour-2", "000_seed", "news-olive"]
    labels = dict((value, label) for label, value in choices)
    assert labels["news-harbour"] != labels["news-harbour-2"]  # a repeated title told apart by its id
    assert labels["news-olive"] == "\u2068موسم الزيتون\u2069 · news-olive"


def test_article_choices_search_and_cap(articles: Mapping[str, str]) -> None:
    assert [v for _, v in ui.article_choices(articles, "HARBOUR")] == ["", "news-harbour", "news-harbour-2"]
    assert [v for _, v in ui.article_choices(articles, "الزيتون")] == ["", "news-olive"]
    assert [v for _, v in ui.article_choices(articles, "مُوسم")] == ["", "news-olive"]  # diacritics ignored
    assert [v for _, v in ui.article_choices(articles, "olive")] == ["", "news-olive"]  # ids too
    assert [v for _, v in ui.article_choices(articles, "elan")] == ["", "news-élan"]  # accents ignored
    every = [v for _, v in ui.article_choices(articles)][1:]
    assert [v for _, v in ui.article_choices(articles, "news")][1:] == [v for v in every if v.startswith("news")]
    assert [v for _, v in ui.article_choices(articles, "opens in t")] == ["", "news-harbour", "news-harbour-2"]
    assert (
        ui.article_choices(articles, "nothing like it")
        == ui.article_choices(articles, "tunis\x1enews")
        == [("All articles · كل المقالات", "")]
    )
    assert [v for _, v in ui.article_choices(articles, limit=2)] == ["", "news-élan", "news-harbour"]
    kept = ui.article_choices(articles, "harbour", limit=1, keep="news-olive")
    assert [v for _, v in kept] == ["", "news-olive", "news-harbour"]  # the current choice never drops out


def test_the_chosen_article_filters_and_switching_starts_a_new_conversation() -> None:
    bot = FakeBot()
    bot.retriever = type("R", (), {"articles": lambda self: ARTICLES})()  # type: ignore[attr-defined]
    _, chat, history = ui.respond(bot, "How long is the bridge?", [], [], "news-harbour")
    _, chat, history = ui.respond(bot, "And when did it open?", chat, history, "news-harbour")
    assert bot.articles == [["news-harbour"], ["news-harbour"]]
    assert len(bot.calls[1][1]) == 2  # the follow-up is asked with the turn about the same article
    assert "qa-switch" not in chat[0]["content"] + chat[2]["content"]
    _, chat, history = ui.respond(bot, "And the olive oil?", chat, history, "news-olive")
    assert bot.articles[-1] == ["news-olive"] and bot.calls[-1][1] == []  # nothing from the bridge
    assert "New conversation · محادثة جديدة: <bdi>موسم الزيتون</bdi>" in chat[4]["content"]
    _, chat, history = ui.respond(bot, "What else?", chat, history, None)  # cleared picker = all articles
    assert bot.articles[-1] is None and bot.calls[-1][1] == []
    assert "كل المقالات" in chat[6]["content"]
    assert len(chat) == len(history) == 8  # still aligned, for feedback by message index


def test_create_app_has_the_picker_and_the_examples_from_prompts(tmp_path: Path) -> None:
    (tmp_path / "examples.en.txt").write_text("# mine\nHow long is the bridge?\n", encoding="utf-8")
    (tmp_path / "examples.ar.txt").write_text("كم طول الجسر؟\n", encoding="utf-8")
    (tmp_path / "extractive.en.toml").write_text((REPO / "prompts" / "extractive.en.toml").read_text())
    bot = FakeBot()
    bot.settings = Settings(prompts_dir=tmp_path)  # type: ignore[attr-defined]
    bot.retriever = type("R", (), {"articles": lambda self: ARTICLES, "chunks": []})()  # type: ignore[attr-defined]
    config = ui.create_app(bot).get_config_file()
    props = [c.get("props", {}) for c in config["components"]]
    picker = next(p for p in props if p.get("elem_id") == "qa-article")
    assert picker["value"] == "" and tuple(picker["choices"][0]) == ("All articles · كل المقالات", "")
    assert len(picker["choices"]) == 1 + len(ARTICLES) and picker["filterable"] is True
    find = next(p for p in props if p.get("elem_id") == "qa-find")
    assert find["visible"] is False  # the server-side search box is only for archives past the cap
    examples = next(p for p in props if p.get("elem_id") == "qa-examples")
    assert "How long is the bridge?" in str(examples) and "كم طول الجسر؟" in str(examples)
    assert "Kerry" not in str(examples)


def test_create_app_refuses_a_missing_examples_file(tmp_path: Path) -> None:
    bot = FakeBot()
    bot.settings = Settings(prompts_dir=tmp_path)  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="Missing examples file"):
        ui.create_app(bot)


def test_an_answer_formed_without_the_vector_store_says_so_in_both_languages() -> None:
    normal = ui.render_answer(EN_ANSWER)
    degraded = ui.render_answer(dataclasses.replace(EN_ANSWER, degraded="vector store unreachable"))
    assert "keyword search" not in normal
    assert "Found by keyword search only" in degraded and "البحث بالكلمات" in degraded
    refusal = Answer("The article does not say.", "en", True, degraded="vector store unreachable")
    shown = ui.render_answer(refusal)  # a refusal formed without the store may be the outage's: ask again
    assert "please ask again" in shown and "Found by keyword search only" not in shown
    assert dataclasses.replace(EN_ANSWER, degraded="vector store unreachable").to_dict()["degraded"]
    assert "degraded" not in EN_ANSWER.to_dict()
