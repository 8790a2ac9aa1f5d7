"""Gradio chat UI: one bubble per turn, each in its own direction, with the cited passages beneath answers.

Everything shown comes from corpus or user text, so all of it is `html.escape`d before it is put into
markup; gradio's own sanitiser (kept on) then only sees our tags (div, p, details, summary, mark) and
attributes (class, dir, lang), which it allows. gradio is imported inside functions: importing this
module costs nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .config import Settings
from .errors import QaBotError
from .prompts import load_wording
from .text import detect_language
from .types import Answer, Chunk, Citation

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

ChatHistory = list[dict[str, Any]]
_MARKER = re.compile(r"\[(\d{1,2})\]")
Direction = Literal["rtl", "ltr"]

TITLE = "Ask the article · اسأل المقال"
# The side-by-side article view is part of the page; an archive is too big for that (citations stay).
ARTICLE_VIEW_MAX_PASSAGES = 400
EXAMPLES = (
    "What did Kerry say about a new constitution?",
    "Which region of Ukraine is mentioned?",
    "أين جرت المباحثات بين بوتين وكيري؟",
    "ماذا قال كيري عن الجدول الزمني؟",
)
_HEADER = (
    f'<div class="qa-header"><h1>{html.escape(TITLE)}</h1>'
    '<p dir="ltr" lang="en">Ask in English or Arabic. Answers quote the article and cite their sources.</p>'
    '<p dir="rtl" lang="ar">اسأل بالعربية أو بالإنجليزية. تقتبس الإجابات من المقال وتذكر مصادرها.</p></div>'
)
# Local fonts only (no CDN): the first installed one wins.
_ARABIC_FONTS = (
    '"Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", "Scheherazade New", "Geeza Pro", '
    '"Traditional Arabic", "Arabic Typesetting", "Segoe UI", Tahoma, "DejaVu Sans", Arial, sans-serif'
)
CSS = f"""
.qa-msg {{ line-height: 1.6; text-align: start; }}
.qa-msg[dir="rtl"], .qa-passage, [lang="ar"] {{ font-family: {_ARABIC_FONTS}; line-height: 1.9; }}
.qa-msg p {{ margin: 0; }}
.qa-sources {{ margin-top: .6em; padding-top: .4em; font-size: .92em;
  border-top: 1px solid var(--border-color-primary); }}
.qa-sources-label {{ font-weight: 600; margin-bottom: .2em; }}
.qa-citation summary {{ cursor: pointer; font-weight: 600; }}
.qa-passage, .qa-translation {{ margin: .3em 0 .5em; }}
.qa-passage mark {{ background: var(--color-accent-soft, #fde68a); color: inherit;
  border-radius: 3px; padding: 0 .1em; }}
.qa-translation {{ color: var(--body-text-color-subdued); }}
.qa-header h1 {{ margin-bottom: .2em; }}
.qa-header p {{ margin: 0; }}
#qa-question textarea {{ unicode-bidi: plaintext; text-align: start; }}
.qa-cite {{ text-decoration: none; font-weight: 600; padding: 0 .1em; border-radius: 3px; cursor: pointer; }}
.qa-cite:hover {{ background: var(--color-accent-soft, #fde68a); }}
.qa-goto {{ font-size: .9em; }}
body:not(:has(#qa-article-box)) .qa-goto {{ display: none; }}
.qa-note {{ font-size: .85em; color: var(--body-text-color-subdued); margin-top: .3em !important; }}
.qa-flash {{ outline: 2px solid var(--color-accent, #f59e0b); outline-offset: 2px; transition: outline .3s; }}
.qa-article {{ max-height: 70vh; overflow-y: auto; }}
.qa-art-row {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1em; padding: .4em 0;
  border-bottom: 1px solid var(--border-color-primary); }}
.qa-art-translation {{ color: var(--body-text-color-subdued); }}
@media (max-width: 700px) {{ .qa-art-row {{ grid-template-columns: 1fr; }} }}
"""


class Asker(Protocol):
    """What the UI needs from a Bot (a fake in tests)."""

    def ask(self, question: str, history: ChatHistory) -> Answer: ...


def text_direction(text: str, default: Literal["ar", "en"] = "en") -> Direction:
    """`"rtl"` for Arabic text, `"ltr"` otherwise (decided by `detect_language`)."""
    return "rtl" if detect_language(text, default) == "ar" else "ltr"


def _escape(text: str) -> str:
    """HTML-escape and keep line breaks without emitting newlines (gradio runs `inspect.cleandoc`)."""
    return html.escape(text.replace("\r\n", "\n")).replace("\n", "<br>")


def _wrap(direction: Direction, inner: str, cls: str) -> str:
    lang = "ar" if direction == "rtl" else "en"
    return f'<div class="{cls}" dir="{direction}" lang="{lang}">{inner}</div>'


def highlight_passage(passage: str, start: int, highlights: tuple[tuple[int, int], ...]) -> str:
    """The escaped passage with the highlighted spans (absolute offsets, passage begins at `start`) in <mark>."""
    spans = sorted((max(0, hs - start), min(len(passage), he - start)) for hs, he in highlights)
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        s = max(s, pos)
        if e <= s:
            continue
        parts += [_escape(passage[pos:s]), f"<mark>{_escape(passage[s:e])}</mark>"]
        pos = e
    parts.append(_escape(passage[pos:]))
    return "".join(parts)


def render_citation(c: Citation) -> str:
    """A collapsible source: `[n] article title · section`, the passage with its quoted sentences
    marked, the translation, and a link that shows the passage in the whole article."""
    # <bdi> keeps an Arabic title or section name from reordering the numbers around it.
    section = f" · <bdi>{html.escape(c.section)}</bdi>" if c.section else ""
    title = f"<bdi>{html.escape(c.title)}</bdi> · " if c.title else ""
    summary = f"[{c.n}] {title}{html.escape(c.source)}{section} · {c.start}–{c.end}"
    passage = highlight_passage(c.passage, c.start, c.highlights)
    body = _wrap(text_direction(c.passage, "ar"), passage, "qa-passage")
    if c.translation:
        body += _wrap(text_direction(c.translation), _escape(c.translation), "qa-translation")
    body += f'<a class="qa-goto {_place(c.source, c.start)}" href="#">Show in the article · اعرض في المقال</a>'
    return f'<details class="qa-citation qa-n-{c.n}"><summary dir="ltr">{summary}</summary>{body}</details>'


def _place(source: str, start: int) -> str:
    """A CSS class naming a passage's place (gradio's sanitiser keeps classes, not data-* attributes)."""
    return f"qa-at-{hashlib.sha1(source.encode()).hexdigest()[:8]}-{start}"


def render_user(question: str) -> str:
    """A user message wrapped in its own direction."""
    return _wrap(text_direction(question), f"<p>{_escape(question)}</p>", "qa-msg qa-user")


def _linked(escaped: str, numbers: set[int]) -> str:
    """`[n]` markers of cited sources as links that open the source."""
    return _MARKER.sub(
        lambda m: (
            f'<a class="qa-cite qa-n-{m.group(1)}" href="#">[{m.group(1)}]</a>'
            if int(m.group(1)) in numbers
            else m.group(0)
        ),
        escaped,
    )


def render_answer(answer: Answer, sources_label: str | None = None) -> str:
    """A bot message: the answer text, then one <details> per citation.

    A generated answer shows only its supported claims (its `text`, as the widget does); how many
    sentences were left out for want of support is noted under it, as are the rewritten question of
    a follow-up and a fallback to quoting.
    """
    direction = text_direction(answer.text, answer.language)
    numbers = {c.n for c in answer.citations}
    text = _linked(_escape(answer.text), numbers)
    inner = f'<p class="qa-text">{text}</p>'
    notes = []
    if answer.query:
        notes.append(f"Searched for · بحثتُ عن: <bdi>{_escape(answer.query)}</bdi>")
    left_out = sum(not c.supported for c in answer.claims)
    if answer.fallback_reason and answer.fallback == "unsupported":
        notes.append("Quoted from the article: the model's answer was not supported by its sources · اقتباس من المقال")
    elif answer.fallback_reason:
        notes.append("Quoted from the article; the language model was unavailable · اقتباس من المقال")
    elif left_out:
        notes.append(
            f"{left_out} sentence(s) of the model's answer left out: not supported by their sources"
            f" · حُذفت {left_out} من الجمل لا تدعمها المصادر"
        )
    if answer.backend and not answer.abstained and not answer.fallback_reason:
        notes.append(f"Written by {_escape(answer.backend)}; every sentence checked against its sources")
    if notes:
        inner += "".join(f'<p class="qa-note" dir="auto">{note}</p>' for note in notes)
    if answer.citations:
        label = sources_label if sources_label is not None else sources_label_for(answer.language)
        cites = "".join(render_citation(c) for c in answer.citations)
        inner += f'<div class="qa-sources"><div class="qa-sources-label">{html.escape(label)}</div>{cites}</div>'
    return _wrap(direction, inner, "qa-msg qa-answer")


def sources_label_for(language: Literal["ar", "en"], prompts_dir: Path | None = None) -> str:
    """The "Sources" label from `prompts/extractive.<language>.toml`."""
    try:
        return load_wording(prompts_dir or Settings.prompts_dir, language).sources
    except QaBotError:
        return "المصادر" if language == "ar" else "Sources"


def render_article(chunks: Sequence[Chunk]) -> str:
    """The whole article(s): each passage in its language beside its translation, under its section."""
    rows: list[str] = []
    source, section = None, None
    for c in chunks:
        if c.source != source:
            source, section = c.source, None
            rows.append(
                f'<h3 class="qa-art-title" dir="auto">{_escape(c.title)} <small>({_escape(c.source)})</small></h3>'
            )
        if c.section and c.section != section:
            section = c.section
            rows.append(_wrap(text_direction(c.section, "ar"), f"<h4>{_escape(c.section)}</h4>", "qa-art-section"))
        original = _wrap(text_direction(c.text, "ar"), _escape(c.text), "qa-art-original")
        translated = _wrap("ltr", _escape(c.translation), "qa-art-translation") if c.translation else ""
        rows.append(f'<div class="qa-art-row {_place(c.source, c.start)}">{original}{translated}</div>')
    return f'<div class="qa-article">{"".join(rows)}</div>'


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
    bot: Asker, question: str | None, chat: ChatHistory, history: ChatHistory
) -> tuple[str, ChatHistory, ChatHistory]:
    """One turn: ask with the plain-text `history`; return (textbox value, rendered chat, history).

    `history` holds the plain text of each turn (what the bot is given) and, on answers, the answer
    JSON under "answer" (what feedback records). A QaBotError (empty or too long question...)
    becomes a gr.Warning and leaves everything as it was.
    """
    import gradio as gr

    question = question or ""
    try:
        answer = bot.ask(question, [{"role": m["role"], "content": m["content"]} for m in history])
    except QaBotError as exc:
        gr.Warning(html.escape(str(exc)))
        return question, chat, history
    except Exception:
        log.exception("answering %r failed", question[:200])
        raise gr.Error("Something went wrong while answering; please try again. · حدث خطأ، حاول مرة أخرى.") from None
    return "", *_append(bot, chat, history, question.strip(), answer)


def _append(
    bot: Asker, chat: ChatHistory, history: ChatHistory, question: str, answer: Answer
) -> tuple[ChatHistory, ChatHistory]:
    prompts_dir = getattr(getattr(bot, "settings", None), "prompts_dir", None)
    chat = [
        *chat,
        {"role": "user", "content": render_user(question)},
        {"role": "assistant", "content": render_answer(answer, sources_label_for(answer.language, prompts_dir))},
    ]
    history = [
        *history,
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer.text, "answer": answer.to_dict()},
    ]
    return chat, history


def respond_streaming(
    bot: Asker, question: str | None, chat: ChatHistory, history: ChatHistory
) -> Iterator[tuple[str, ChatHistory, ChatHistory]]:
    """Like `respond`, but shows the question at once and the answer's text as it is written."""
    import gradio as gr

    asked = (question or "").strip()
    stream = getattr(bot, "stream", None)
    if stream is None or not asked:
        yield respond(bot, question, chat, history)
        return
    try:
        events = stream(asked, [{"role": m["role"], "content": m["content"]} for m in history])
    except QaBotError as exc:
        gr.Warning(html.escape(str(exc)))
        yield question or "", chat, history
        return
    shown = [*chat, {"role": "user", "content": render_user(asked)}]
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
        chat, history = _append(bot, chat, history, asked, final)
    yield "", chat, history


def clear() -> tuple[str, ChatHistory, ChatHistory, ChatHistory]:
    """Empty textbox, chatbot, rendered chat and plain history."""
    return "", [], [], []


# Clicks inside chat messages (gradio strips inline handlers, so one delegated listener does it all):
# [n] opens that answer's n-th source; "Show in the article" opens the article view at the passage.
HEAD_JS = """
<script>
document.addEventListener("click", function (event) {
  var cite = event.target.closest && event.target.closest(".qa-cite");
  if (cite) {
    event.preventDefault();
    var n = (cite.className.match(/qa-n-(\\d+)/) || [])[1];
    var answer = cite.closest(".qa-answer");
    var source = answer && n && answer.querySelector("details.qa-citation.qa-n-" + n);
    if (source) { source.open = true; source.scrollIntoView({block: "nearest"}); flash(source); }
    return;
  }
  var go = event.target.closest && event.target.closest(".qa-goto");
  if (go) {
    event.preventDefault();
    var place = (go.className.match(/qa-at-[0-9a-f]+-\\d+/) || [])[0];
    var box = document.getElementById("qa-article-box");
    var toggle = box && box.querySelector("button");
    var row = function () { return place && document.querySelector(".qa-art-row." + place); };
    if (!row() && toggle) { toggle.click(); }
    setTimeout(function () { var r = row(); if (r) { r.scrollIntoView({block: "center"}); flash(r); } }, 150);
  }
});
function flash(el) {
  el.classList.add("qa-flash");
  setTimeout(function () { el.classList.remove("qa-flash"); }, 2000);
}
</script>
"""


def create_app(bot: Asker, feedback: FeedbackLog | None = None) -> gr.Blocks:
    """Build (not launch) the chat app around `bot`."""
    import gradio as gr

    def on_submit(question: str, chat: ChatHistory, history: ChatHistory) -> Iterator[tuple[Any, Any, Any, Any]]:
        for text, shown, new_history in respond_streaming(bot, question, chat, history):
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

    # gradio finds the LikeData parameter by its annotation object; this module's annotations are strings.
    on_like.__annotations__["data"] = gr.LikeData

    chunks: Sequence[Chunk] = getattr(getattr(bot, "retriever", None), "chunks", [])
    app = gr.Blocks(title=TITLE, analytics_enabled=False)
    with app:
        gr.HTML(_HEADER)
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
        gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="Examples · أمثلة", cache_examples=False)
        if 0 < len(chunks) <= ARTICLE_VIEW_MAX_PASSAGES:
            with gr.Accordion("The article · المقال", open=False, elem_id="qa-article-box"):
                gr.HTML(render_article(chunks))

        inputs = [question, chat_state, history_state]
        outputs = [question, chatbot, chat_state, history_state]
        question.submit(on_submit, inputs, outputs)
        send.click(on_submit, inputs, outputs)
        reset.click(clear, None, outputs, queue=False)
        chatbot.clear(clear, None, outputs, queue=False)
        if feedback is not None:
            chatbot.like(on_like, [history_state], None)
    return app
