"""The chat page over an archive, in a real headless Chromium: the article picker, source labels, examples."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ARTIFACTS, BROWSER_TIMEOUT_MS, REPO, SEED, chromium_page, make_project, serve
from qa_bot import ui
from qa_bot.config import Settings

pytestmark = pytest.mark.browser

TIMEOUT = BROWSER_TIMEOUT_MS  # the machine is shared; Playwright's auto-waiting, never a fixed sleep
SEED_ID = SEED.stem
HARBOUR = {
    "id": "news-harbour",
    "title": "New harbour bridge opens in Tunis",
    "text": "The new harbour bridge in Tunis opened on Monday after four years of construction. "
    "The bridge is 1.2 kilometres long and cost 300 million dinars.",
    "lang": "en",
    "date": "2016-03-25",
    "url": "https://example.com/harbour",
}
OLIVE = {
    "id": "news-olive",
    "title": "موسم الزيتون",
    "text": "توقعت وزارة الزراعة أن يبلغ إنتاج زيت الزيتون هذا الموسم مئتي ألف طن.",
    "lang": "ar",
    "translation": "The agriculture ministry expected olive oil production this season to reach "
    "two hundred thousand tonnes.",
    "date": "2017-11-02",
}
LATE = {
    "id": "news-late",
    "title": "Late edition: the desert railway",
    "text": "The desert railway between Tozeur and Gafsa reopened for tourists this spring.",
    "lang": "en",
}


def index(root: Path, *paths: Path) -> None:
    """`qa-bot index PATH…` in another process, as an editor would run it beside the server."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "qa_bot", "index", "--root", str(root), *map(str, paths)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def jsonl(path: Path, *records: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from qa_bot.bot import Bot

    root = make_project(tmp_path_factory.mktemp("archive"))
    index(root, jsonl(tmp_path_factory.mktemp("inbox") / "wire.jsonl", HARBOUR, OLIVE))
    return root, Bot.from_settings(Settings(root=root, prompts_dir=REPO / "prompts"))


@pytest.fixture(scope="module")
def chat_url(archive: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(archive[1], data_dir=tmp_path_factory.mktemp("data")) as url:
        yield url


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium_page(tmp_path_factory.mktemp("chromium-profile"), height=1100) as tab:
        yield tab


def options(page: Any) -> Any:
    return page.locator("#qa-article [role=option]")


def open_picker(page: Any) -> Any:
    """Click into the picker (from outside it): its text is selected, so typing replaces it."""
    page.locator("#qa-question textarea").focus()
    picker = page.locator("#qa-article input")
    picker.click()
    page.wait_for_function(
        "() => { const i = document.querySelector('#qa-article input');"
        " return i.selectionStart === 0 && i.selectionEnd === i.value.length; }"
    )
    return picker


def choose(page: Any, typed: str, option: str) -> None:
    """Type into the picker (real keystrokes) and click the option whose text contains `option`."""
    open_picker(page).press_sequentially(typed)
    options(page).filter(has_text=option).first.click()
    from playwright.sync_api import expect

    expect(page.locator("#qa-article input")).to_have_value(re.compile(re.escape(option)))


def ask(page: Any, question: str) -> Any:
    from playwright.sync_api import expect

    answers = page.locator(".qa-answer")
    before = answers.count()
    page.fill("#qa-question textarea", question)
    page.keyboard.press("Enter")
    expect(answers).to_have_count(before + 1, timeout=TIMEOUT)
    return answers.nth(before)


def summaries(answer: Any) -> list[str]:
    return [s.strip() for s in answer.locator("details.qa-citation summary").all_inner_texts()]


def test_picker_lists_every_article_all_first_and_typing_filters_by_title(page: Any, chat_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(chat_url)
    picker = open_picker(page)
    expect(picker).to_have_value("All articles · كل المقالات")
    listed = options(page)
    expect(listed).to_have_count(4)
    texts = listed.all_inner_texts()
    assert "All articles · كل المقالات" in texts[0]
    assert any(f"{HARBOUR['title']}\u2069 · news-harbour" in t for t in texts)
    assert any(f"{OLIVE['title']}\u2069 · news-olive" in t for t in texts)
    assert any(f"· {SEED_ID}" in t for t in texts)
    picker.press_sequentially("harbour")  # replaces the selected "All articles"
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text(HARBOUR["title"])
    # Arabic text in one input event (clearing first is a second one, after which the dropdown may
    # put the chosen article back into the box), then the key-up an Arabic keyboard would send
    picker.fill("الزيتون")
    expect(picker).to_have_value("الزيتون")
    page.keyboard.press("End")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("موسم الزيتون")
    page.keyboard.press("Escape")


def test_the_chosen_article_restricts_the_answer_and_all_articles_does_not(page: Any, chat_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(chat_url)
    choose(page, "harbour", HARBOUR["title"])
    bridge = ask(page, "How long is the bridge?")
    expect(bridge.locator(".qa-text")).to_contain_text("1.2 kilometres")
    labels = summaries(bridge)
    assert labels and all(label == f"[{i}] {HARBOUR['title']} · 2016-03-25" for i, label in enumerate(labels, 1))
    assert not re.search(r"seeds/|\.jsonl|\d+–\d+", bridge.locator(".qa-sources").inner_text())
    bridge.locator(".qa-cite").first.click()
    expect(bridge.locator("a.qa-url").first).to_have_attribute("href", HARBOUR["url"])

    kerry = ask(page, "Who met Kerry in the Kremlin?")  # the bridge article knows nothing of Kerry
    assert all(HARBOUR["title"] in label for label in summaries(kerry))
    assert "Putin" not in kerry.inner_text() and "بوتين" not in kerry.inner_text()

    choose(page, "all", "All articles")
    everywhere = ask(page, "Who met Kerry in the Kremlin?")
    expect(everywhere.locator(".qa-text")).to_contain_text("Putin")
    seed_title = summaries(everywhere)[0]
    assert seed_title.startswith("[1] أعلنت الولايات المتحدة وروسيا") and "seeds/" not in seed_title
    expect(page.locator(".qa-user").last.locator(".qa-switch")).to_contain_text("All articles")

    choose(page, "olive", "موسم الزيتون")  # the id finds it too
    olive = ask(page, "كم يبلغ إنتاج زيت الزيتون هذا الموسم؟")
    expect(olive.locator(".qa-text")).to_contain_text("مئتي ألف طن")
    summary = olive.locator("details.qa-citation summary").first
    assert summary.inner_text().strip() == "[1] موسم الزيتون · 2017-11-02"
    assert summary.evaluate("e => getComputedStyle(e).direction") == "rtl"
    title = summary.locator("bdi.qa-src-title")
    assert title.evaluate("e => getComputedStyle(e).direction + ' ' + getComputedStyle(e).unicodeBidi") == (
        "rtl isolate"
    )
    expect(page.locator(".qa-user").last.locator(".qa-switch")).to_contain_text("موسم الزيتون")
    ARTIFACTS.mkdir(exist_ok=True)
    olive.locator(".qa-cite").first.click()
    page.screenshot(path=str(ARTIFACTS / "chat-archive.png"), full_page=True)


def test_examples_are_the_deployments_file(page: Any, chat_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(chat_url)
    examples = page.locator("#qa-examples")
    for question in ui.example_questions(REPO / "prompts"):
        expect(examples).to_contain_text(question)
    examples.get_by_text("Which region of Ukraine is mentioned?").click()
    expect(page.locator("#qa-question textarea")).to_have_value("Which region of Ukraine is mentioned?")


def test_past_the_cap_a_search_box_finds_any_article_on_the_server(
    page: Any, chat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr(ui, "PICKER_MAX_CHOICES", 2)
    searched: list[str] = []
    search = ui.article_choices

    def recorded(articles: Any, query: str = "", **kwargs: Any) -> Any:
        searched.append(query)
        return search(articles, query, **kwargs)

    monkeypatch.setattr(ui, "article_choices", recorded)
    page.goto(chat_url)
    expect(page.locator("#qa-article")).to_contain_text("3 articles: the list holds 2 of them by title")
    find = page.locator("#qa-find input, #qa-find textarea").first
    expect(find).to_be_visible()
    open_picker(page)
    expect(options(page)).to_have_count(3)  # "All articles" and the first two titles
    assert "موسم الزيتون" not in " ".join(options(page).all_inner_texts())
    page.keyboard.press("Escape")
    find.fill("olive")  # an id; not in the browser's list: the server finds it
    find.press("Enter")
    deadline = time.monotonic() + TIMEOUT / 1000
    while searched.count("olive") < 2:  # the search as typed and on Enter have both been answered
        assert time.monotonic() < deadline, searched
        page.wait_for_timeout(50)
    open_picker(page)
    expect(options(page)).to_have_count(2)
    options(page).filter(has_text="موسم الزيتون").click()
    expect(page.locator("#qa-article input")).to_have_value(re.compile("موسم الزيتون"))
    olive = ask(page, "How much olive oil is expected this season?")
    expect(olive.locator(".qa-text")).to_contain_text("two hundred thousand tonnes")
    assert summaries(olive)[0] == "[1] موسم الزيتون · 2017-11-02"


def test_an_article_indexed_while_serving_shows_up_on_the_next_page_load(
    page: Any, chat_url: str, archive: tuple[Path, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    root, _ = archive
    index(root, jsonl(tmp_path / "late.jsonl", LATE))
    page.goto(chat_url)
    open_picker(page)
    expect(options(page).filter(has_text=LATE["title"])).to_have_count(1)
    choose(page, "railway", LATE["title"])
    late = ask(page, "Which railway reopened for tourists?")
    assert summaries(late) and all(label == f"[{i}] {LATE['title']}" for i, label in enumerate(summaries(late), 1))
