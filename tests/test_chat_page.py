"""The chat page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ARTIFACTS, BROWSER_TIMEOUT_MS, chromium_page, serve, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def chat_url(bot, data_dir: Path) -> Iterator[str]:
    with serve(bot, data_dir=data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with chromium_page(tmp_path_factory.mktemp("chromium-profile")) as tab:
        yield tab


def ask(page, question: str) -> object:
    answers = page.locator(".qa-answer")
    before = answers.count()
    page.fill("#qa-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.qa-answer').length > {before}", timeout=BROWSER_TIMEOUT_MS)
    wait_idle(page)
    return answers.nth(before)


def wait_idle(page) -> None:
    """Until no event of the page is running (Gradio's status trackers all hidden): a click while
    the chat re-renders can land on a button that is being replaced."""
    idle = "!document.querySelector('.wrap.generating, .wrap.translucent:not(.hide)')"
    page.wait_for_function(idle, timeout=BROWSER_TIMEOUT_MS)


def test_chat_answers_in_both_languages_with_clickable_sources(page, chat_url) -> None:
    page.goto(chat_url)
    english = ask(page, "What did Kerry say about a new constitution?")
    assert "August" in english.locator(".qa-text").inner_text()
    assert english.evaluate("e => getComputedStyle(e).direction") == "ltr"
    source = english.locator("details.qa-citation").first
    assert source.evaluate("e => e.open") is False
    english.locator(".qa-cite").first.click()
    assert source.evaluate("e => e.open") is True
    assert "دستور" in source.locator(".qa-passage").inner_text()
    assert "constitution" in source.locator(".qa-translation").inner_text()
    assert source.locator(".qa-passage mark").count() >= 1  # the quoted sentence is highlighted

    arabic = ask(page, "أين جرت المباحثات بين بوتين وكيري؟")
    assert "الكرملين" in arabic.locator(".qa-text").inner_text()
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    question = page.locator(".qa-user").last
    assert question.evaluate("e => getComputedStyle(e).direction") == "rtl"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"))


def test_show_in_article_opens_the_article_at_the_passage(page, chat_url) -> None:
    answer = page.locator(".qa-answer").first
    answer.locator(".qa-cite").first.click()
    answer.locator(".qa-goto").first.click()
    row = page.locator(".qa-art-row[aria-current='location']")
    row.wait_for()
    assert "دستور" in row.inner_text() and "constitution" in row.inner_text()


def test_markup_in_a_question_renders_as_text(page, chat_url) -> None:
    page.evaluate("window.__pwned = undefined")
    ask(page, "<img src=x onerror=window.__pwned=1> What did Lavrov say about NATO?")
    assert "<img src=x" in page.locator(".qa-user").last.inner_text()
    assert page.locator(".qa-user img").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_thumbs_up_is_stored_for_review(page, chat_url, data_dir) -> None:
    import json

    wait_idle(page)
    page.locator("#qa-chat .message-row.bot-row, #qa-chat [data-testid='bot']").first.hover()
    page.locator("#qa-chat button[aria-label='Like']").first.click()
    # the page shows the click taken (the button turns "Liked") before the server is waited for
    page.locator("#qa-chat button[aria-label='Liked']").first.wait_for(timeout=BROWSER_TIMEOUT_MS)
    store = data_dir / "feedback.jsonl"
    wait_for(lambda: store.exists() and store.read_text(encoding="utf-8").strip(), what="the feedback record")
    entry = json.loads(store.read_text(encoding="utf-8").splitlines()[0])
    assert entry["rating"] == "up" and entry["question"] == "What did Kerry say about a new constitution?"
    assert entry["answer"]["citations"] and "August" in entry["answer"]["text"]
