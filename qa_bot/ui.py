"""Gradio chat UI: an article picker, the conversation, example questions from `prompts/`.

Markup comes from `render.py` (everything escaped there). Each turn is asked with the article
chosen in the picker; the conversation the bot is given is the run of turns asked about that same
choice, so switching articles never mixes them. gradio is imported inside functions: importing
this module costs nothing.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .config import Settings
from .errors import QaBotError
from .passages import find_articles
from .prompts import EXAMPLE_LANGUAGES, load_examples
from .render import (
    CSS,
    HEAD_JS,
    _escape,
    _wrap,
    highlight_passage,
    render_answer,
    render_article,
    render_citation,
    render_user,
    source_label,
    sources_label_for,
    text_direction,
)
from .types import Answer, Chunk

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

__all__ = [
    "CSS",
    "HEAD_JS",
    "FeedbackLog",
    "article_choices",
    "clear",
    "create_app",
    "example_questions",
    "highlight_passage",
    "render_answer",
    "render_article",
    "render_citation",
    "render_user",
    "respond",
    "respond_streaming",
    "source_label",
    "text_direction",
]

ChatHistory = list[dict[str, Any]]

TITLE = "Ask the article · اسأل المقال"
# The side-by-side article view is part of the page; an archive is too big for that (citations stay).
ARTICLE_VIEW_MAX_PASSAGES = 400
ALL_ARTICLES = ""  # the picker's value for "every article" (article ids are never empty)
ALL_LABEL = "All articles · كل المقالات"
# The picker's list is sent to the browser whole; past this many articles it holds the first ones by
# title and a search box above it finds any of them on the server.
PICKER_MAX_CHOICES = 1000
_HEADER = (
    f'<div class="qa-header"><h1>{html.escape(TITLE)}</h1>'
    '<p dir="ltr" lang="en">Ask in English or Arabic. Answers quote the article and cite their sources.</p>'
    '<p dir="rtl" lang="ar">اسأل بالعربية أو بالإنجليزية. تقتبس الإجابات من المقال وتذكر مصادرها.</p></div>'
)
_FSI, _PDI = "\u2068", "\u2069"  # first-strong isolate: an Arabic title does not reorder the id after it


class Asker(Protocol):
    """What the UI needs from a Bot (a fake in tests)."""

    def ask(self, question: str, history: ChatHistory, articles: Iterable[str] | None = None) -> Answer: ...


def example_questions(prompts_dir: Path | None = None) -> list[str]:
    """The example questions of every language (`prompts/examples.en.txt`, then `.ar.txt`)."""
    folder = prompts_dir or Settings.prompts_dir
    return [q for language in EXAMPLE_LANGUAGES for q in load_examples(folder, language)]


def _picker_state(articles: Mapping[str, str], keep: str | None = None) -> tuple[list[tuple[str, str]], str, bool]:
    """What the page shows of the picker: its choices, its hint, and whether the search box is shown."""
    return article_choices(articles, keep=keep), _picker_info(len(articles)), len(articles) > PICKER_MAX_CHOICES


def article_choices(
    articles: Mapping[str, str], query: str = "", limit: int | None = None, keep: str | None = None
) -> list[tuple[str, str]]:
    """The picker's (label, id) choices: "All articles" first, then the articles whose title or id
    contains `query` (Arabic letter forms, accents and case ignored), by title, at most `limit`
    (default `PICKER_MAX_CHOICES`) of them.

    Each label is `title · id` (titles repeat in an archive; the id tells them apart). `keep`, the
    current choice, stays in the list so a search never drops what is selected.
    """
    ids = find_articles(articles, query, PICKER_MAX_CHOICES if limit is None else limit)
    if keep and keep in articles and keep not in ids:
        ids.insert(0, keep)
    return [(ALL_LABEL, ALL_ARTICLES)] + [(_choice_label(articles[i], i), i) for i in ids]


def _choice_label(title: str, article_id: str) -> str:
    title = " ".join(title.split()) or article_id
    return f"{_FSI}{title}{_PDI} · {article_id}" if title != article_id else article_id


def _articles(bot: Asker) -> Mapping[str, str]:
    retriever = getattr(bot, "retriever", None)
    return retriever.articles() if retriever is not None else {}


def _conversation(history: ChatHistory, article: str) -> list[dict[str, str]]:
    """The plain text of the latest run of turns asked about `article` (what the bot is given)."""
    run: list[dict[str, str]] = []
    for m in reversed(history):
        if m.get("article", ALL_ARTICLES) != article:
            break
        run.append({"role": m["role"], "content": m["content"]})
    return run[::-1]


class FeedbackLog:
    """Thumbs up/down on answers, one JSON object per line (question, answer, citations, time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, liked: bool, question: str, answer: dict[str, Any]) -> None:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rating": "up" if liked else "down",
            "question": question,
            "answer": answer,
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def respond(
    bot: Asker, question: str | None, chat: ChatHistory, history: ChatHistory, article: str | None = ALL_ARTICLES
) -> tuple[str, ChatHistory, ChatHistory]:
    """One turn about `article` (an id, or `ALL_ARTICLES`); return (textbox value, rendered chat, history).

    `history` holds the plain text of each turn, the article it was asked about, and on answers the
    answer JSON under "answer" (what feedback records); the bot is given the latest run of turns
    about the same article. A QaBotError (empty or too long question, an article removed since the
    page loaded...) becomes a gr.Warning and leaves everything as it was.
    """
    import gradio as gr

    question, article = question or "", article or ALL_ARTICLES
    try:
        answer = bot.ask(question, _conversation(history, article), articles=[article] if article else None)
    except QaBotError as exc:
        gr.Warning(html.escape(str(exc)))
        return question, chat, history
    except Exception:
        log.exception("answering %r failed", question[:200])
        raise gr.Error("Something went wrong while answering; please try again. · حدث خطأ، حاول مرة أخرى.") from None
    return "", *_append(bot, chat, history, question.strip(), answer, article)


def _user_message(bot: Asker, question: str, history: ChatHistory, article: str) -> str:
    """The question's bubble; the first one after the picker changed says a new conversation began."""
    if not history or history[-1].get("article", ALL_ARTICLES) == article:
        return render_user(question)
    title = _articles(bot).get(article, article) if article else ALL_LABEL
    note = f'<p class="qa-note qa-switch" dir="auto">New conversation · محادثة جديدة: <bdi>{_escape(title)}</bdi></p>'
    return render_user(question).removesuffix("</div>") + note + "</div>"


def _append(
    bot: Asker, chat: ChatHistory, history: ChatHistory, question: str, answer: Answer, article: str
) -> tuple[ChatHistory, ChatHistory]:
    prompts_dir = getattr(getattr(bot, "settings", None), "prompts_dir", None)
    chat = [
        *chat,
        {"role": "user", "content": _user_message(bot, question, history, article)},
        {"role": "assistant", "content": render_answer(answer, sources_label_for(answer.language, prompts_dir))},
    ]
    history = [
        *history,
        {"role": "user", "content": question, "article": article},
        {"role": "assistant", "content": answer.text, "answer": answer.to_dict(), "article": article},
    ]
    return chat, history


def respond_streaming(
    bot: Asker, question: str | None, chat: ChatHistory, history: ChatHistory, article: str | None = ALL_ARTICLES
) -> Iterator[tuple[str, ChatHistory, ChatHistory]]:
    """Like `respond`, but shows the question at once and the answer's text as it is written."""
    import gradio as gr

    asked, article = (question or "").strip(), article or ALL_ARTICLES
    stream = getattr(bot, "stream", None)
    if stream is None or not asked:
        yield respond(bot, question, chat, history, article)
        return
    try:
        events = stream(asked, _conversation(history, article), articles=[article] if article else None)
    except QaBotError as exc:
        gr.Warning(html.escape(str(exc)))
        yield question or "", chat, history
        return
    shown = [*chat, {"role": "user", "content": _user_message(bot, asked, history, article)}]
    yield "", shown, history
    written, final = "", None
    try:
        for name, data in events:
            if name == "delta":
                written += data
                pending = _wrap(text_direction(written), f'<p class="qa-text">{_escape(written)}</p>', "qa-msg")
                yield "", [*shown, {"role": "assistant", "content": pending}], history
            elif name == "final":
                final = data
    except Exception:
        log.exception("answering %r failed", asked[:200])
        raise gr.Error("Something went wrong while answering; please try again. · حدث خطأ، حاول مرة أخرى.") from None
    if final is not None:
        chat, history = _append(bot, chat, history, asked, final, article)
    yield "", chat, history


def clear() -> tuple[str, ChatHistory, ChatHistory, ChatHistory]:
    """Empty textbox, chatbot, rendered chat and plain history."""
    return "", [], [], []


def _picker_info(total: int) -> str:
    if total > PICKER_MAX_CHOICES:
        return (
            f"{total:,} articles: the list holds {PICKER_MAX_CHOICES:,} of them by title; find others with"
            " the search above · ابحث عن غيرها في الأعلى"
        )
    return "Type to search by title · اكتب للبحث بالعنوان"


def create_app(bot: Asker, feedback: FeedbackLog | None = None) -> gr.Blocks:
    """Build (not launch) the chat app around `bot`.

    Raises:
        ConfigError: an examples file in `prompts/` is missing or invalid.
    """
    import gradio as gr

    examples = example_questions(getattr(getattr(bot, "settings", None), "prompts_dir", None))

    def on_submit(
        question: str, chat: ChatHistory, history: ChatHistory, article: str | None
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        for text, shown, new_history in respond_streaming(bot, question, chat, history, article):
            done = new_history is not history
            yield text, shown, shown if done else chat, new_history

    def on_like(data: gr.LikeData, history: ChatHistory) -> None:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        if feedback is None or not isinstance(index, int) or not 0 < index < len(history):
            return
        turn, asked = history[index], history[index - 1]
        if turn.get("role") == "assistant":
            feedback.record(bool(data.liked), str(asked.get("content", "")), turn.get("answer", {}))
            gr.Info("Thanks for the feedback · شكرًا على رأيك")

    def on_load(current: str | None) -> tuple[Any, Any]:
        """The articles as they are now: a refresh since the app was built shows up on the next page load."""
        reload = getattr(bot, "reload_if_changed", None)
        if reload is not None:
            reload()
        articles = _articles(bot)
        chosen = current if current in articles else ALL_ARTICLES  # an article removed since: back to all
        shown = _picker_state(articles, keep=chosen)
        if shown == built_with and chosen == current:
            # the page shows this already: no update that would reset a picker the reader is typing in
            return gr.skip(), gr.skip()
        picker = gr.update(choices=shown[0], value=chosen, info=shown[1])
        return picker, gr.update(visible=shown[2])

    def on_find(current: str | None, query: str | None) -> Any:
        """Past `PICKER_MAX_CHOICES` the browser holds part of the list: search every title and id here."""
        return gr.update(choices=article_choices(_articles(bot), query or "", keep=current))

    # gradio finds the LikeData parameter by its annotation object; this module's annotations are strings.
    on_like.__annotations__["data"] = gr.LikeData

    chunks: Mapping[str, Chunk] = getattr(getattr(bot, "retriever", None), "chunks", {})  # id -> passage
    articles = _articles(bot)
    # what every page of this app is served with
    built_with = _picker_state(articles)
    app = gr.Blocks(title=TITLE, analytics_enabled=False)
    with app:
        gr.HTML(_HEADER)
        find = gr.Textbox(
            label="Find an article · ابحث عن مقال",
            placeholder="Words of a title, or an id · كلمات من العنوان أو المعرّف",
            visible=len(articles) > PICKER_MAX_CHOICES,
            lines=1,
            max_lines=1,
            elem_id="qa-find",
        )
        picker = gr.Dropdown(
            choices=article_choices(articles),
            value=ALL_ARTICLES,
            label="Article · المقال",
            info=_picker_info(len(articles)),
            filterable=True,
            elem_id="qa-article",
        )
        chatbot = gr.Chatbot(
            label=TITLE,
            height=520,
            render_markdown=False,  # messages are our own escaped HTML, not Markdown
            sanitize_html=True,  # defence in depth: our tags/attributes are on gradio's allow-list
            latex_delimiters=[],
            feedback_options=("Like", "Dislike") if feedback is not None else None,
            buttons=[],
            elem_id="qa-chat",
        )
        chat_state = gr.State([])
        history_state = gr.State([])
        with gr.Row():
            question = gr.Textbox(
                placeholder="Type a question · اكتب سؤالك",
                show_label=False,
                lines=1,
                max_lines=6,
                scale=5,
                autofocus=True,
                elem_id="qa-question",
            )
            send = gr.Button("Send · أرسل", variant="primary", scale=1)
            reset = gr.Button("Clear · امسح", scale=1)
        if examples:
            gr.Examples(
                examples=[[q] for q in examples],
                inputs=[question],
                label="Examples · أمثلة",
                cache_examples=False,
                elem_id="qa-examples",
            )
        if 0 < len(chunks) <= ARTICLE_VIEW_MAX_PASSAGES:
            with gr.Accordion("The article · المقال", open=False, elem_id="qa-article-box"):
                gr.HTML(render_article(list(chunks.values())))

        inputs = [question, chat_state, history_state, picker]
        outputs = [question, chatbot, chat_state, history_state]
        question.submit(on_submit, inputs, outputs)
        send.click(on_submit, inputs, outputs)
        reset.click(clear, None, outputs, queue=False)
        chatbot.clear(clear, None, outputs, queue=False)
        # Past the cap, a search box above the picker narrows its list on the server. (Searching from the
        # picker's own key-ups does not work: gradio re-renders an open, filtered list with stale indices
        # when its choices change under it.)
        find.input(on_find, [picker, find], [picker], queue=False, show_progress="hidden", trigger_mode="always_last")
        find.submit(on_find, [picker, find], [picker], queue=False, show_progress="hidden")
        app.load(on_load, [picker], [picker, find], queue=False, show_progress="hidden")
        if feedback is not None:
            chatbot.like(on_like, [history_state], None)
    return app
