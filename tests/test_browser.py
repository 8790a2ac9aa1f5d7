"""The embeddable widget in a real headless Chromium (Debian's package, driven by Playwright).

Servers are real: qa-bot under uvicorn (as `qa-bot serve` runs it) and, on another port, a tiny
static "third-party" site whose pages embed the widget with the one-line script tag and carry
hostile CSS. One browser and one set of servers per module; a fresh browser context per test.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import ARTIFACTS, BROWSER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, serve, wait_for

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# The required hostile rules, plus selectors that would hide or restyle the widget if they reached it.
HOSTILE_CSS = (
    "html{direction:rtl;font-family:serif} button{background:red} "
    "*{font-family:'Comic Sans MS',cursive;line-height:3} button{display:none} mark{display:none} "
    "p{margin:40px} .panel,.msg{color:lime}"
)
EN_QUESTION = "What did Kerry say about a new constitution?"
AR_QUESTION = "أين جرت المباحثات بين بوتين وكيري؟"
XSS = "<img src=x onerror=window.__pwned=1>"
ANSWER_TIMEOUT = BROWSER_TIMEOUT_MS  # warm answers take tens of milliseconds; a loaded machine is slower
expect.set_options(timeout=BROWSER_TIMEOUT_MS)


@pytest.fixture(scope="module")
def api_url(bot) -> Iterator[str]:
    """Default origin policy: same-origin and localhost."""
    with serve(bot) as url:
        yield url


@pytest.fixture(scope="module")
def refusing_url(bot) -> Iterator[str]:
    """Only https://news.example may use this one."""
    with serve(bot, allowed_origins="https://news.example") as url:
        yield url


@pytest.fixture(scope="module")
def limited_url(bot) -> Iterator[str]:
    """One question per minute per client."""
    with serve(bot, rate_limit=1) as url:
        yield url


def _host_page(script_src: str, *, lang: str, attrs: str = "", body: str = "") -> str:
    return f"""<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A third-party news site</title><style>{HOSTILE_CSS}</style></head>
<body>
<h1>Daily News</h1>
<p id="host-text">The host page's own text.</p>
<button id="host-button">Host button</button>
<div class="panel" id="host-panel">A host element that happens to be called "panel".</div>
{body}
<script src="{script_src}"{attrs} async></script>
</body>
</html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, api_url, refusing_url, limited_url) -> Iterator[str]:
    """A static third-party site on another port, embedding the widget of each server."""
    root = tmp_path_factory.mktemp("site")
    pages = {
        "widget.html": _host_page(f"{api_url}/widget.js", lang="en", attrs=' data-lang="en" data-title="News helper"'),
        "arabic.html": _host_page(f"{api_url}/widget.js", lang="ar"),  # no data-lang: follows <html lang>
        "refused.html": _host_page(f"{refusing_url}/widget.js", lang="en", attrs=' data-lang="en"'),
        "limited.html": _host_page(f"{limited_url}/widget.js", lang="en", attrs=' data-lang="en"'),
        "frames.html": (
            f'<!doctype html><html><body><iframe id="allowed" src="{api_url}/embed" width="420" height="600"></iframe>'
            f'<iframe id="refused" src="{refusing_url}/embed" width="420" height="600"></iframe></body></html>'
        ),
    }
    for name, text in pages.items():
        (root / name).write_text(text, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make test does)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)  # fresh temporary profile
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(BROWSER_TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _w(page: Any, selector: str) -> Any:
    """A locator inside the widget (Playwright's CSS engine pierces the open shadow root)."""
    return page.locator(f"qa-bot-widget {selector}")


def _ask(page: Any, question: str) -> None:
    _w(page, "textarea").fill(question)
    _w(page, "textarea").press("Enter")


def _style(locator: Any, prop: str) -> str:
    return str(locator.evaluate(f"e => getComputedStyle(e).{prop}"))


def _shadow_count(page: Any, selector: str) -> int:
    return int(
        page.evaluate(f"() => document.querySelector('qa-bot-widget').shadowRoot.querySelectorAll({selector!r}).length")
    )


@pytest.mark.browser
def test_widget_answers_with_citations_in_both_languages_on_a_hostile_page(page, site, api_url, bot) -> None:
    asked: list[Any] = []
    page.on("request", lambda r: asked.append(r) if r.url == f"{api_url}/api/ask" else None)
    page.goto(f"{site}/widget.html")
    launcher = _w(page, ".launcher")
    expect(launcher).to_be_visible()
    expect(launcher).to_have_text("Ask the article")
    assert _style(launcher, "backgroundColor") != "rgb(255, 0, 0)"  # host `button{background:red}` stays out
    launcher.click()
    panel = _w(page, ".panel")
    expect(panel).to_be_visible()
    expect(_w(page, ".title")).to_have_text("News helper")
    assert _style(panel, "direction") == "ltr"  # in spite of html{direction:rtl}
    assert "Comic Sans" not in _style(panel, "fontFamily") and _style(panel, "fontFamily").startswith("system-ui")
    expect(_w(page, "textarea")).to_be_focused()

    _ask(page, EN_QUESTION)
    answer = _w(page, ".msg.bot").nth(0)
    expect(answer).to_contain_text("August", timeout=ANSWER_TIMEOUT)
    expect(_w(page, ".msg.user").nth(0)).to_have_text(EN_QUESTION)
    assert answer.get_attribute("dir") == "auto" and _style(answer, "direction") == "ltr"
    cite = answer.locator(".cite", has_text="[1]")
    expect(cite).to_be_visible()
    expect(answer.locator(".card")).to_have_count(0)
    cite.click()
    card = answer.locator(".card")
    expect(card).to_be_visible()
    expected = bot.ask(EN_QUESTION).citations[0]
    expect(card.locator(".passage")).to_have_text(expected.passage)
    assert _style(card.locator(".passage"), "direction") == "rtl"
    (hs, he) = expected.highlights[0]
    mark = card.locator(".passage mark")
    expect(mark).to_be_visible()  # host `mark{display:none}` stays out
    expect(mark).to_have_text(expected.passage[hs - expected.start : he - expected.start])
    assert expected.translation
    expect(card.locator(".translation")).to_contain_text(expected.translation)
    assert _style(card.locator(".translation"), "direction") == "ltr"
    head = card.locator(".card-head")  # for readers: title · section (· date); the path stays in the JSON
    expect(head).to_contain_text(f"{expected.title} · {expected.section}")
    expect(head).not_to_contain_text(expected.source)
    cite.click()  # the same marker hides it again
    expect(answer.locator(".card")).to_have_count(0)

    _ask(page, AR_QUESTION)
    arabic = _w(page, ".msg.bot").nth(1)
    expect(arabic).to_contain_text("الكرملين", timeout=ANSWER_TIMEOUT)
    assert _style(arabic, "direction") == "rtl" and _style(arabic.locator(".text"), "direction") == "rtl"
    assert _style(_w(page, ".msg.user").nth(1), "direction") == "rtl"
    arabic.locator(".cite").first.click()
    expect(arabic.locator(".card .passage")).to_contain_text("الكرملين")

    # The conversation goes with each question, as plain text.
    assert [r.post_data_json for r in asked] == [
        {"question": EN_QUESTION, "history": []},
        {
            "question": AR_QUESTION,
            "history": [
                {"role": "user", "content": EN_QUESTION},
                {"role": "assistant", "content": bot.ask(EN_QUESTION).text},
            ],
        },
    ]
    # The widget did not restyle the host page either.
    assert page.evaluate("getComputedStyle(document.documentElement).direction") == "rtl"
    assert _style(page.locator("#host-button"), "backgroundColor") == "rgb(255, 0, 0)"
    assert _style(page.locator("#host-button"), "display") == "none"
    assert _style(page.locator("#host-panel"), "position") == "static"
    assert "Comic Sans" in _style(page.locator("#host-text"), "fontFamily")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget.png"))
    _w(page, ".close").click()
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()


@pytest.mark.browser
def test_widget_follows_the_page_language_and_fits_a_phone(browser, site) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{site}/arabic.html")  # <html lang="ar">, no data-lang
        launcher = _w(page, ".launcher")
        expect(launcher).to_have_text("اسأل المقال")
        launcher.tap()
        panel = _w(page, ".panel")
        expect(panel).to_be_visible()
        assert _style(panel, "direction") == "rtl"
        expect(_w(page, ".send")).to_have_text("إرسال")
        box = panel.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["width"] >= 370
        assert box["y"] >= 0 and box["y"] + box["height"] <= 700
        for part in (".send", "textarea", ".close"):
            part_box = _w(page, part).bounding_box()
            assert part_box is not None and part_box["x"] >= 0 and part_box["x"] + part_box["width"] <= 375
        _ask(page, AR_QUESTION)
        expect(_w(page, ".msg.bot")).to_contain_text("الكرملين", timeout=ANSWER_TIMEOUT)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-mobile.png"))
    finally:
        context.close()


@pytest.mark.browser
def test_a_refused_origin_sees_why_in_the_widget(page, site, refusing_url) -> None:
    page.goto(f"{site}/refused.html")
    _w(page, ".launcher").click()
    _ask(page, "What did Lavrov say about NATO?")
    error = _w(page, ".msg.error")
    expect(error).to_contain_text("This site is not allowed to use this chat", timeout=ANSWER_TIMEOUT)
    expect(error).to_contain_text("QA_BOT_ALLOWED_ORIGINS")
    expect(_w(page, ".msg.bot")).to_have_count(0)
    # The same request made directly, with that page's Origin, is refused by the API itself.
    direct = httpx.post(f"{refusing_url}/api/ask", json={"question": "NATO?"}, headers={"Origin": site})
    assert direct.status_code == 403 and "QA_BOT_ALLOWED_ORIGINS" in direct.json()["error"]
    check = httpx.get(f"{refusing_url}/widget/origin", headers={"Origin": site})
    assert check.json() == {"origin": site, "allowed": False} and check.headers["access-control-allow-origin"] == "*"
    listed = httpx.get(f"{refusing_url}/widget/origin", headers={"Origin": "https://news.example"})
    assert listed.json()["allowed"] is True


@pytest.mark.browser
def test_rate_limit_shows_when_to_retry(page, site) -> None:
    page.goto(f"{site}/limited.html")
    _w(page, ".launcher").click()
    _ask(page, EN_QUESTION)
    expect(_w(page, ".msg.bot")).to_contain_text("August", timeout=ANSWER_TIMEOUT)
    _ask(page, AR_QUESTION)
    error = _w(page, ".msg.error")
    expect(error).to_contain_text("Too many questions, retry in", timeout=ANSWER_TIMEOUT)
    seconds = int(error.inner_text().split("retry in ")[1].split(" s")[0])
    assert 1 <= seconds <= 60  # Retry-After, readable cross-origin


def _directive(csp: str, name: str) -> str:
    found = [d.strip()[len(name) :].strip() for d in csp.split(";") if d.strip().startswith(name + " ")]
    assert len(found) == 1, csp
    return found[0]


@pytest.mark.browser
def test_embed_page_is_framed_only_by_allowed_origins_and_answers(page, site, api_url, refusing_url, bot) -> None:
    default = httpx.get(f"{api_url}/embed")
    assert default.status_code == 200 and default.headers["content-type"].startswith("text/html")
    csp = default.headers["content-security-policy"]
    assert _directive(csp, "frame-ancestors") == "'self' http://localhost:* http://127.0.0.1:*"
    assert _directive(csp, "script-src") == "'self'"
    refusing = httpx.get(f"{refusing_url}/embed")
    assert _directive(refusing.headers["content-security-policy"], "frame-ancestors") == "'self' https://news.example"
    script = httpx.get(f"{api_url}/widget.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert "max-age=" in script.headers["cache-control"]
    assert httpx.get(f"{api_url}/widget.js", headers={"If-None-Match": script.headers["etag"]}).status_code == 304
    for source in (default.text, script.text):  # nothing about the machine in page source
        for secret in (str(bot.settings.root), str(bot.settings.index_path), "/home/", "/tmp/"):
            assert secret not in source
    escaped = httpx.get(f"{api_url}/embed", params={"lang": "ar", "title": '"><script>alert(1)</script>'})
    assert "<script>alert" not in escaped.text and 'data-lang="ar"' in escaped.text

    # Full page: open at once, no launcher, the whole viewport.
    page.goto(f"{api_url}/embed")
    panel = _w(page, ".panel")
    expect(panel).to_be_visible()
    expect(_w(page, ".launcher")).to_be_hidden()
    box = panel.bounding_box()
    assert box is not None and box["width"] == 1280 and box["height"] == 800
    _ask(page, EN_QUESTION)
    expect(_w(page, ".msg.bot")).to_contain_text("August", timeout=ANSWER_TIMEOUT)

    # ?article= (data-article on the script tag) keeps questions inside one article: sent with each one.
    article = bot.index.chunks()[0].article_id
    page.goto(f"{api_url}/embed?article={article}")
    _ask(page, EN_QUESTION)
    expect(_w(page, ".msg.bot")).to_contain_text("August", timeout=ANSWER_TIMEOUT)
    page.goto(f"{api_url}/embed?article=gone-1")
    _ask(page, EN_QUESTION)
    expect(_w(page, ".msg.error")).to_contain_text("no article with id 'gone-1'", timeout=ANSWER_TIMEOUT)

    # Framed by a localhost page: allowed by the default policy, refused by the listed one.
    page.goto(f"{site}/frames.html")
    allowed = page.frame_locator("#allowed")
    expect(allowed.locator("qa-bot-widget .panel")).to_be_visible()
    allowed.locator("qa-bot-widget textarea").fill(AR_QUESTION)
    allowed.locator("qa-bot-widget .send").click()
    expect(allowed.locator("qa-bot-widget .msg.bot")).to_contain_text("الكرملين", timeout=ANSWER_TIMEOUT)
    refused = page.locator("#refused").element_handle().content_frame()
    wait_for(lambda: refused.url.startswith("chrome-error:"), what="the refused frame to be blocked")
    assert refused.locator("qa-bot-widget").count() == 0


@pytest.mark.browser
def test_question_markup_is_shown_as_text(page, site) -> None:
    page.goto(f"{site}/widget.html")
    _w(page, ".launcher").click()
    _ask(page, XSS)
    expect(_w(page, ".msg.user")).to_have_text(XSS)
    expect(_w(page, ".msg.bot, .msg.error")).to_have_count(1, timeout=ANSWER_TIMEOUT)
    assert _shadow_count(page, "img") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


@pytest.mark.browser
def test_server_text_is_never_parsed_as_markup_and_errors_are_shown(page, api_url) -> None:
    evil = "<img src=x onerror=window.__pwned=1>"
    answer = {
        "text": f"{evil} quoted [1] and [9] <b>bold</b>",
        "language": "en",
        "abstained": False,
        "query": None,
        "citations": [
            {
                "n": 1,
                "passage": f"نص {evil} <script>window.__pwned=2</script> آخر",
                "translation": f"Text {evil}",
                "source": f"seeds/{evil}.txt",
                "start": 100,
                "end": 150,
                "score": 0.9,
                "section": "<b>قسم</b>",
                "article_id": "x",
                "title": evil,
                "url": "javascript:window.__pwned=3",
                "highlights": [[103, 140]],
            }
        ],
    }
    replies = iter(
        [
            (200, answer, {}),
            (403, {"error": "origin is not allowed"}, {}),
            (422, {"error": "question: must not be empty"}, {}),
            (429, {"error": "too many requests"}, {"Retry-After": "7"}),
            (503, {"error": "too many answers in progress; try again in a moment"}, {}),
        ]
    )

    def fulfil(route: Any) -> None:
        status, body, headers = next(replies)
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body), headers=headers)

    page.route("**/api/ask", fulfil)
    page.goto(f"{api_url}/embed")
    _ask(page, "anything")
    bot_msg = _w(page, ".msg.bot")
    expect(bot_msg.locator(".text")).to_have_text(f"{evil} quoted [1] and [9] <b>bold</b>")
    expect(bot_msg.locator(".cite")).to_have_count(1)  # [9] cites nothing: left as text
    bot_msg.locator(".cite").click()
    passage = answer["citations"][0]["passage"]  # type: ignore[index]
    expect(bot_msg.locator(".passage mark")).to_have_text(passage[3:40])  # highlight 103-140, passage at 100
    expect(bot_msg.locator(".passage")).to_have_text(passage)
    expect(bot_msg.locator(".card-head")).to_have_text(f"Source [1]: {evil} · <b>قسم</b>")  # title · section
    expect(bot_msg.locator(".card")).not_to_contain_text("seeds/")
    expect(bot_msg.locator(".source-url")).to_have_count(0)  # a javascript: URL is never a link
    expect(bot_msg.locator(".card")).to_contain_text("<b>قسم</b>")
    for status_text in (
        "This site is not allowed to use this chat",
        "Error 422: question: must not be empty",
        "Too many questions, retry in 7 s.",
        "Error 503: too many answers in progress",
    ):
        _ask(page, "again")
        expect(_w(page, ".msg.error").last).to_contain_text(status_text)
    assert _shadow_count(page, "img, script, b") == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
