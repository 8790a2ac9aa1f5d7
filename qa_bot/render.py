"""Chat markup: each message in its own direction, the cited passages beneath answers, each source
labelled for readers (article title · section · date) — file paths and offsets stay in the JSON —
and the page script that makes [n] markers, "Show in the article" and the picker work.

Everything shown comes from corpus or user text, so all of it is `html.escape`d before it is put into
markup; gradio's own sanitiser (kept on) then only sees our tags (div, p, details, summary, mark, bdi,
a) and attributes (class, dir, lang, href, rel), which it allows. No gradio import here.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from .config import Settings
from .errors import QaBotError
from .prompts import load_wording
from .text import detect_language
from .types import Answer, Chunk, Citation

_MARKER = re.compile(r"\[(\d{1,2})\]")
Direction = Literal["rtl", "ltr"]

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
.qa-goto, .qa-url {{ font-size: .9em; }}
.qa-links {{ margin: 0 0 .3em !important; }}
.qa-src-date {{ font-weight: normal; }}
body:not(:has(#qa-article-box)) .qa-goto {{ display: none; }}
.qa-note {{ font-size: .85em; color: var(--body-text-color-subdued); margin-top: .3em !important; }}
.qa-flash {{ outline: 2px solid var(--color-accent, #f59e0b); outline-offset: 2px; transition: outline .3s; }}
.qa-article {{ max-height: 70vh; overflow-y: auto; }}
.qa-art-row {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1em; padding: .4em 0;
  border-bottom: 1px solid var(--border-color-primary); }}
.qa-art-translation {{ color: var(--body-text-color-subdued); }}
@media (max-width: 700px) {{ .qa-art-row {{ grid-template-columns: 1fr; }} }}
"""


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


def _isolated(text: str, cls: str, default: Literal["ar", "en"] = "en") -> str:
    """`text` escaped in a <bdi> with its own direction: an Arabic title never reorders what is around it."""
    direction = text_direction(text, default)
    lang = "ar" if direction == "rtl" else "en"
    return f'<bdi class="{cls}" dir="{direction}" lang="{lang}">{_escape(text)}</bdi>'


def label_parts(c: Citation) -> list[tuple[str, str]]:
    """A source's label for readers, as (kind, text): its article's title (or id when it has none),
    section and date, leaving out what is missing. File paths and offsets are not for readers."""
    parts = [("title", c.title.strip() or c.article_id), ("section", (c.section or "").strip())]
    parts.append(("date", (c.date or "").strip()))
    return [(kind, text) for kind, text in parts if text]


def source_label(c: Citation) -> str:
    """`title · section · date` as markup, each part isolated in its own direction."""
    return " · ".join(
        _isolated(text, f"qa-src-{kind}", "ar" if kind != "date" else "en") for kind, text in label_parts(c)
    )


def _safe_url(url: str | None) -> str | None:
    """An http(s) URL, attribute-escaped; anything else (javascript:, data:…) is not linked."""
    if url and re.match(r"^https?://[^\s\"'<>]+$", url.strip(), re.I):
        return html.escape(url.strip(), quote=True)
    return None


def render_citation(c: Citation) -> str:
    """A collapsible source: `[n] article title · section · date`, the passage with its quoted
    sentences marked, the translation, a link to the original when the article has a URL, and a
    link that shows the passage in the whole article."""
    parts = label_parts(c)
    direction = text_direction(parts[0][1], "ar") if parts else "ltr"
    summary = f"[{c.n}] {source_label(c)}"
    passage = highlight_passage(c.passage, c.start, c.highlights)
    body = _wrap(text_direction(c.passage, "ar"), passage, "qa-passage")
    if c.translation:
        body += _wrap(text_direction(c.translation), _escape(c.translation), "qa-translation")
    links = [f'<a class="qa-goto {_place(c.source, c.start)}" href="#">Show in the article · اعرض في المقال</a>']
    url = _safe_url(c.url)
    if url:
        links.append(f'<a class="qa-url" href="{url}" rel="noopener noreferrer">Original article · المقال الأصلي</a>')
    body += f'<p class="qa-links" dir="ltr">{" ".join(links)}</p>'
    return f'<details class="qa-citation qa-n-{c.n}"><summary dir="{direction}">{summary}</summary>{body}</details>'


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
    if answer.degraded and answer.abstained:  # the refusal may be the outage's, not the article's
        notes.append(
            "Keyword search alone found nothing while the full search is briefly unavailable; please ask again"
            " in a moment · لم يجد البحث بالكلمات شيئًا والبحث الكامل غير متاح مؤقتًا؛ أعد السؤال بعد قليل"
        )
    elif answer.degraded:
        notes.append(
            "Found by keyword search only: the full search is briefly unavailable"
            " · وُجدت بالبحث بالكلمات فقط: البحث الكامل غير متاح مؤقتًا"
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
            date = f' <small><bdi dir="ltr">{_escape(c.date)}</bdi></small>' if c.date else ""
            rows.append(f'<h3 class="qa-art-title" dir="auto">{_escape(c.title or c.article_id)}{date}</h3>')
        if c.section and c.section != section:
            section = c.section
            rows.append(_wrap(text_direction(c.section, "ar"), f"<h4>{_escape(c.section)}</h4>", "qa-art-section"))
        original = _wrap(text_direction(c.text, "ar"), _escape(c.text), "qa-art-original")
        translated = _wrap("ltr", _escape(c.translation), "qa-art-translation") if c.translation else ""
        rows.append(f'<div class="qa-art-row {_place(c.source, c.start)}">{original}{translated}</div>')
    return f'<div class="qa-article">{"".join(rows)}</div>'


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
    whenThere(row, function (r) {
      var before = document.querySelectorAll(".qa-art-row[aria-current]");
      before.forEach(function (e) { e.removeAttribute("aria-current"); });
      r.setAttribute("aria-current", "location");  // stays: the passage the reader was sent to
      r.scrollIntoView({block: "center"});
      flash(r);
    });
  }
});
// Call `then` with find()'s element as soon as it is on the page (the article view renders on demand).
function whenThere(find, then) {
  var el = find();
  if (el) { then(el); return; }
  var watch = new MutationObserver(function () {
    var found = find();
    if (found) { watch.disconnect(); then(found); }
  });
  watch.observe(document.body, {childList: true, subtree: true});
  setTimeout(function () { watch.disconnect(); }, 60000);  // the passage never came: stop watching
}
// Focusing the article picker selects its text, so typing searches instead of appending to "All articles".
document.addEventListener("focusin", function (event) {
  var input = event.target;
  if (input.matches && input.matches("#qa-article input")) { setTimeout(function () { input.select(); }, 0); }
});
function flash(el) {
  el.classList.add("qa-flash");
  setTimeout(function () { el.classList.remove("qa-flash"); }, 2000);
}
</script>
"""
