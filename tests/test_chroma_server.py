"""The QA pipeline against a real `chroma run` server (QA_BOT_CHROMA_URL) instead of the embedded store."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import REPO, free_port, make_project, wait_until_up
from qa_bot.bot import Bot
from qa_bot.config import Settings
from qa_bot.errors import IndexStoreError
from qa_bot.index import Index


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    server = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path_factory.mktemp("chroma")),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/v2/heartbeat")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_answers_come_from_a_chroma_server(project, chroma_url: str, tmp_path: Path) -> None:
    settings = Settings(root=project, prompts_dir=REPO / "prompts", chroma_url=chroma_url, index_dir=tmp_path / "a")
    bot = Bot.from_settings(settings)
    assert bot.last_refresh is not None and bot.last_refresh.added > 20
    answer = bot.ask("What did Kerry say about a new constitution?")
    assert not answer.abstained and "August" in answer.text
    source = (project / answer.citations[0].source).read_text(encoding="utf-8")
    assert source[answer.citations[0].start : answer.citations[0].end].replace("\n", " ") == answer.citations[0].passage
    arabic = bot.ask("أين جرت المباحثات بين بوتين وكيري؟")
    assert "الكرملين" in arabic.text
    count = bot.index.count()

    # A second replica with its own (empty) local folder shares the server: nothing is re-embedded.
    replica = Bot.from_settings(replace(settings, index_dir=tmp_path / "b"))
    assert replica.last_refresh is not None and replica.last_refresh.added == 0
    assert replica.index.count() == count
    assert replica.ask("What did Kerry say about a new constitution?").to_dict() == answer.to_dict()


def test_replicas_pick_up_an_import_made_elsewhere(chroma_url: str, tmp_path: Path, monkeypatch) -> None:
    import qa_bot.index

    monkeypatch.setattr(qa_bot.index, "_GENERATION_EVERY", 0.0)  # read the server's generation on every question
    root = make_project(tmp_path / "shared")  # the seeds/ every replica mounts
    settings = Settings(
        root=root, prompts_dir=REPO / "prompts", chroma_url=chroma_url, index_dir=tmp_path / "a", collection="shared"
    )
    serving = Bot.from_settings(settings)
    question = "How long is the new harbour bridge in Tunis?"
    assert serving.ask(question).abstained

    # Another machine imports an article into the shared server.
    (root / "seeds" / "harbour.txt").write_text(
        "The new harbour bridge in Tunis opened on Monday. The bridge is 1.2 kilometres long.\n", encoding="utf-8"
    )
    writer = Bot.from_settings(replace(settings, index_dir=tmp_path / "b"))
    assert writer.last_refresh is not None and writer.last_refresh.articles_added == 1

    answer = serving.ask(question)  # no restart: the collection's generation changed, so it reloads
    assert not answer.abstained and answer.citations[0].article_id == "harbour"


def test_an_unreachable_server_is_a_clear_error(project, tmp_path: Path) -> None:
    settings = Settings(root=project, chroma_url=f"http://127.0.0.1:{free_port()}", index_dir=tmp_path)
    with pytest.raises(IndexStoreError, match="QA_BOT_CHROMA_URL"):
        Bot.from_settings(settings)


def test_replicas_answer_from_the_shared_lexical_index_without_rebuilding_it(
    chroma_url: str, tmp_path: Path, monkeypatch
) -> None:
    import qa_bot.index

    monkeypatch.setattr(qa_bot.index, "_GENERATION_EVERY", 0.0)
    root = make_project(tmp_path / "shared")
    settings = Settings(
        root=root,
        prompts_dir=REPO / "prompts",
        chroma_url=chroma_url,
        index_dir=tmp_path / "indexer",
        lexical_dir=tmp_path / "shared-lexical",  # the folder every replica mounts (QA_BOT_LEXICAL_DIR)
        collection="lexical",
    )
    indexer = Bot.from_settings(settings)
    questions = ["What did Kerry say about a new constitution?", "أين جرت المباحثات بين بوتين وكيري؟"]
    expected = [indexer.ask(q).to_dict() for q in questions]

    def rebuild(self: qa_bot.index.Index) -> list:
        raise AssertionError("a replica rebuilt the lexical index from the store")

    monkeypatch.setattr(qa_bot.index.Index, "chunks", rebuild)
    replicas = [Bot.from_settings(replace(settings, index_dir=tmp_path / f"r{i}"), refresh=False) for i in (1, 2)]
    for replica in replicas:
        assert [replica.ask(q).to_dict() for q in questions] == expected

    # The indexer imports an article: both replicas follow the server's new generation to its folder.
    (root / "seeds" / "harbour.txt").write_text(
        "The new harbour bridge in Tunis opened on Monday. The bridge is 1.2 kilometres long.\n", encoding="utf-8"
    )
    assert indexer.index.refresh().articles_added == 1
    for replica in replicas:
        answer = replica.ask("How long is the new harbour bridge in Tunis?")
        assert not answer.abstained and answer.citations[0].article_id == "harbour"
        assert replica.retriever._lex.generation == indexer.index.generation()


def test_a_failed_read_from_the_server_never_drops_the_shared_collection(
    chroma_url: str, tmp_path: Path, monkeypatch
) -> None:
    import httpx

    import qa_bot.index

    settings = Settings(
        root=make_project(tmp_path / "p"), prompts_dir=REPO / "prompts", chroma_url=chroma_url,
        index_dir=tmp_path / "a", collection="flaky",
    )  # fmt: skip
    indexer = Bot.from_settings(settings)
    count = indexer.index.count()
    question = "What did Kerry say about a new constitution?"
    expected = indexer.ask(question).to_dict()

    def timed_out(self: qa_bot.index.Index) -> None:
        raise httpx.ReadTimeout("timed out")  # what a slow server's reply looks like to the client

    # A new replica whose first read of the server times out (the delete that used to follow would not).
    with monkeypatch.context() as m:
        m.setattr(qa_bot.index.Index, "_stored_passages", timed_out)
        m.setattr(qa_bot.index.Index, "_passage_ids", timed_out)
        with pytest.raises(IndexStoreError, match="Nothing was changed"):
            Bot.from_settings(replace(settings, index_dir=tmp_path / "b"))
    assert indexer.index.count() == count
    assert indexer.ask(question).to_dict() == expected


def test_a_replica_upgraded_after_another_keeps_the_collection_it_rebuilt(
    project, chroma_url: str, tmp_path: Path
) -> None:
    """A replica whose manifest says layout 3 (the version before one record per passage) meets a
    collection another upgraded replica has rebuilt: no translation's record is left, so nothing is
    dropped or embedded again."""
    settings = Settings(
        root=project,
        prompts_dir=REPO / "prompts",
        chroma_url=chroma_url,
        index_dir=tmp_path / "a",
        collection="upgraded",
    )
    first = Bot.from_settings(settings)
    count = first.index.count()
    manifest = tmp_path / "a" / "manifest.json"
    later = replace(settings, index_dir=tmp_path / "b")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text(manifest.read_text().replace('"layout": "4"', '"layout": "3"'))
    assert Index(later, first.embeddings).stale_reason() == "the index was written by another version of qa-bot"
    replica = Bot.from_settings(later)
    assert replica.last_refresh is not None and not replica.last_refresh.rebuilt and replica.last_refresh.added == 0
    assert replica.index.count() == count and Index(later, first.embeddings).stale_reason() is None
