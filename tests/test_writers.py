"""One writer at a time, a kill -9 in the middle of indexing, and a reader that keeps answering meanwhile."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import REPO, SEED, make_project, stopped_when, wait_for
from qa_bot.bot import Bot
from qa_bot.cli import main
from qa_bot.config import Settings
from qa_bot.index import LOCK, Index
from qa_bot.ingest import load_corpus
from qa_bot.records import records

pytestmark = pytest.mark.slow

SENTENCES = [s.strip() + "." for s in SEED.read_text(encoding="utf-8").replace("\n", " ").split(".") if len(s) > 60]


def bulk_archive(path: Path, n: int) -> Path:
    """n distinct articles, each a unique headline sentence followed by a few of the seed's sentences."""
    lines = []
    for i in range(n):
        body = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(3))
        text = f"افتتح المتحف الوطني رقم {i} في مدينة الاختبار معرضا للخزف. {body}"
        lines.append(json.dumps({"id": f"archive-{i}", "title": f"معرض {i}", "text": text}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def qa_bot(root: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    env = {**os.environ, "QA_BOT_ROOT": str(root), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "qa_bot", *args], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def manifest(root: Path) -> dict[str, object]:
    try:
        return dict(json.loads((root / "index" / "manifest.json").read_text()))
    except (OSError, ValueError):
        return {}


# Enough passages for a run to write its records in more than one step (`qa_bot.index._WRITE_BATCH`).
ARTICLES = 400


def part_way(root: Path) -> bool:
    """The run has stored some passages and has more to go (the manifest records its progress)."""
    m = manifest(root)
    done, total = m.get("indexed"), m.get("to_index")
    return m.get("complete") is False and isinstance(done, int) and isinstance(total, int) and 0 < done < total


def test_kill_9_while_indexing_is_detected_and_repaired(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    archive = bulk_archive(tmp_path / "archive.jsonl", ARTICLES)
    writer = qa_bot(root, "index", str(archive))
    stopped_when(writer, lambda: part_way(root))  # frozen between two of its steps, half-way through
    writer.kill()  # SIGKILL: no cleanup, no finally blocks
    writer.wait()

    assert (root / "seeds" / "archive.jsonl").read_bytes() == archive.read_bytes()  # the user's import is kept
    settings = Settings(root=root, prompts_dir=REPO / "prompts")
    bot = Bot.from_settings(settings)  # the next start notices and repairs
    assert bot.last_refresh is not None and bot.last_refresh.added > 0
    chunks = load_corpus(settings.seeds_path, root)
    assert manifest(root)["complete"] is True and manifest(root)["passages"] == len(chunks)
    # exactly the records of a clean build: nothing duplicated, nothing half-written left behind
    assert bot.index.count() == len(list(records(chunks)))
    assert {c.id for c in bot.index.chunks()} == {c.id for c in chunks}
    answer = bot.ask("ما رقم المتحف الوطني الذي افتتح معرضا للخزف؟ رقم 117")
    assert answer.citations and answer.citations[0].article_id == "archive-117"


def test_a_second_writer_waits_then_runs_or_gives_up_clearly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = make_project(tmp_path / "p")
    (root / "index").mkdir()
    holder = open(root / "index" / LOCK, "a+")  # noqa: SIM115 - held across the test, like another process
    fcntl.flock(holder, fcntl.LOCK_EX)
    monkeypatch.setenv("QA_BOT_LOCK_TIMEOUT", "1")
    assert main(["index", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another qa-bot is still writing the index" in err
    assert "QA_BOT_LOCK_TIMEOUT" in err and not (root / "index" / "manifest.json").exists()

    monkeypatch.setenv("QA_BOT_LOCK_TIMEOUT", "600")
    result: list[int] = []
    with caplog.at_level("WARNING"):
        second = threading.Thread(target=lambda: result.append(main(["index", "--root", str(root)])))
        second.start()
        wait_for(lambda: "waiting for it to finish" in caplog.text)  # it is queued behind the holder
        assert second.is_alive() and not (root / "index" / "manifest.json").exists()
        fcntl.flock(holder, fcntl.LOCK_UN)
        second.join()
    assert result == [0]
    assert "1 added" in capsys.readouterr().out
    holder.close()


def test_a_reading_server_keeps_answering_during_a_refresh_and_then_sees_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    settings = Settings(root=root, prompts_dir=REPO / "prompts")
    bot = Bot.from_settings(settings)
    expected = bot.ask("Who met Kerry in the Kremlin?").to_dict()
    writer = qa_bot(root, "index", str(bulk_archive(tmp_path / "archive.jsonl", ARTICLES)))
    stopped_when(writer, lambda: part_way(root))  # the other process is in the middle of its refresh
    for _ in range(5):
        assert bot.ask("Who met Kerry in the Kremlin?").to_dict() == expected
    os.kill(writer.pid, signal.SIGCONT)
    while writer.poll() is None:  # and while it goes on writing
        answer = bot.ask("Who met Kerry in the Kremlin?").to_dict()
        if manifest(root).get("complete") is not False:
            break  # the refresh just finished: from here on the bot may see the new articles
        assert answer == expected
    assert writer.wait() == 0, writer.communicate()
    answer = bot.ask("ما رقم المتحف الوطني الذي افتتح معرضا للخزف؟ رقم 42")  # reloads: the manifest changed
    assert answer.citations and answer.citations[0].article_id == "archive-42"
    assert len(bot.retriever.articles()) == ARTICLES + 1
    assert Index(settings, bot.embeddings).stale_reason() is None


def test_a_disk_that_fills_while_indexing_stops_with_one_line_and_the_next_run_repairs(tmp_path: Path) -> None:
    import resource

    root = make_project(tmp_path / "p")
    archive = bulk_archive(tmp_path / "archive.jsonl", 120)
    seed_files = {p.name: p.read_bytes() for p in (root / "seeds").iterdir()}
    limit = 2 * archive.stat().st_size  # the import fits; the index (a few MB) does not

    def small_disk() -> None:  # every file this process writes stops growing at `limit` bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "QA_BOT_ROOT": str(root), "HF_HUB_OFFLINE": "1"}
    full = subprocess.run(
        [sys.executable, "-m", "qa_bot", "index", str(archive)],
        env=env,
        text=True,
        capture_output=True,
        preexec_fn=small_disk,
    )
    assert full.returncode != 0
    errors = [line for line in full.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "Traceback" not in full.stderr, full.stderr
    assert f"cannot write the index in {root / 'index'}" in errors[0] and "qa-bot index" in errors[0]
    # seeds/ holds what it held, and the import, whole
    assert {p.name: p.read_bytes() for p in (root / "seeds").iterdir()} == {
        **seed_files,
        "archive.jsonl": archive.read_bytes(),
    }
    assert manifest(root).get("complete") is False

    again = qa_bot(root, "index")  # room again: the next run repairs and finishes
    _, err = again.communicate()
    assert again.returncode == 0, err
    settings = Settings(root=root, prompts_dir=REPO / "prompts")
    bot = Bot.from_settings(settings, refresh=False)
    chunks = load_corpus(settings.seeds_path, root)
    assert manifest(root)["complete"] is True and bot.index.count() == len(list(records(chunks)))
    assert bot.ask("What did Kerry say about a new constitution?").citations
