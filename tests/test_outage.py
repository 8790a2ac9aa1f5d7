"""A real `chroma run` server killed under a stream of questions, and started again.

While it is away every response is JSON: answers from the lexical index (marked degraded, with
the same citations) or 503s with Retry-After; /healthz says 503; the log says so once. When it is
back, answers are the normal ones again, without a restart.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import REPO, free_port, make_project, serve, wait_for, wait_until_up
from qa_bot.bot import Bot
from qa_bot.config import Settings
from qa_bot.health import UNREACHABLE

KERRY = "What did Kerry say about a new constitution?"
KREMLIN = "أين جرت المباحثات بين بوتين وكيري؟"
NOT_IN_ARTICLE = "Who won the football World Cup in 2018?"


class ChromaServer:
    """`chroma run` on a fixed port and folder, so it can be killed and started again as the same server."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        command = [str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(f"{self.url}/api/v2/heartbeat")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma")
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()


class Questioner(threading.Thread):
    """Asks the same few questions over and over, recording every response with the phase it was formed in."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.phase = "before"
        self.responses: list[tuple[str, str, httpx.Response]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=120) as client:
            while not self.stop.is_set():
                for question in (KERRY, KREMLIN, NOT_IN_ARTICLE):
                    phase = self.phase
                    response = client.post(f"{self.url}/api/ask", json={"question": question})
                    # an answer whose phase changed while it was formed may go either way
                    self.responses.append((phase if phase == self.phase else "changing", question, response))

    def count(self, phase: str) -> int:
        return sum(p == phase for p, _, _ in self.responses)


def _store_lines(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "qa_bot.store" and words in r.getMessage()]


def test_answers_go_on_through_a_vector_store_outage(
    chroma: ChromaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = Settings(
        root=make_project(tmp_path / "project"),
        prompts_dir=REPO / "prompts",
        chroma_url=chroma.url,
        index_dir=tmp_path / "index",
    )
    bot = Bot.from_settings(settings)
    normal = {q: bot.ask(q).to_dict() for q in (KERRY, KREMLIN)}
    assert all(not a["abstained"] and a["citations"] for a in normal.values())

    with serve(bot) as url:
        health = httpx.get(f"{url}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        questioner = Questioner(url)
        questioner.start()
        wait_for(lambda: questioner.count("before") >= 3, what="answers before the outage")

        questioner.phase = "killing"  # answers in flight now may go either way
        chroma.kill()
        # The first health check after the server died already tells the truth (it asks the store itself).
        health = httpx.get(f"{url}/healthz")
        assert health.status_code == 503, health.text
        body = health.json()
        assert body["status"] == "degraded" and body["store"] == "unreachable" and body["since"]
        assert int(health.headers["Retry-After"]) > 0
        questioner.phase = "down"
        wait_for(lambda: questioner.count("down") >= 9, what="answers during the outage")

        # The same question, asked directly: the lexical index finds the same passage at the same offsets.
        during = httpx.post(f"{url}/api/ask", json={"question": KERRY}, timeout=120)
        assert during.status_code == 200, during.text
        degraded = during.json()
        assert degraded["degraded"] == UNREACHABLE and not degraded["abstained"]
        first, was = degraded["citations"][0], normal[KERRY]["citations"][0]
        assert (first["source"], first["start"], first["end"]) == (was["source"], was["start"], was["end"])
        assert "August" in degraded["text"]
        refused = httpx.post(f"{url}/api/ask", json={"question": NOT_IN_ARTICLE}, timeout=120)
        assert refused.status_code == 503 and "Retry-After" in refused.headers
        assert UNREACHABLE in refused.json()["error"]

        # The streaming route says the same, as events.
        stream = httpx.post(f"{url}/api/ask/stream", json={"question": KERRY}, timeout=120).text
        final = json.loads(stream.split("event: final\ndata: ", 1)[1].split("\n", 1)[0])
        assert final["degraded"] == UNREACHABLE and final["citations"] == degraded["citations"]
        stream = httpx.post(f"{url}/api/ask/stream", json={"question": NOT_IN_ARTICLE}, timeout=120).text
        assert "event: final" not in stream and "event: error" in stream and UNREACHABLE in stream

        chroma.start()  # the same server, folder and port
        wait_for(lambda: httpx.get(f"{url}/healthz").status_code == 200, what="/healthz to recover")
        questioner.phase = "after"
        wait_for(lambda: questioner.count("after") >= 3, what="answers after the outage")
        questioner.stop.set()
        questioner.join()
        after = {q: httpx.post(f"{url}/api/ask", json={"question": q}, timeout=120).json() for q in normal}
        assert after == normal  # normal answers again, without a restart

    for phase, question, response in questioner.responses:
        assert response.headers["content-type"].startswith("application/json"), (phase, response.text)
        data: dict[str, Any] = response.json()
        if response.status_code == 200:
            if "degraded" in data:  # a degraded answer always shows its sources; never a degraded refusal
                assert data["degraded"] == UNREACHABLE and data["citations"] and not data["abstained"], data
            assert ("degraded" in data) == (phase == "down") or phase in ("changing", "killing"), (phase, data)
        else:
            assert response.status_code == 503 and phase != "before", (phase, question, response.text)
            assert data["error"] and int(response.headers["Retry-After"]) > 0
    answered_down = [r for p, q, r in questioner.responses if p == "down" and q == KERRY]
    assert answered_down and all(r.status_code == 200 for r in answered_down)
    assert all(p != "after" or "degraded" not in r.json() for p, _, r in questioner.responses[-3:])

    # The log: one line when the store went away, one when it came back; no tracebacks.
    assert len(_store_lines(caplog, "unreachable")) == 1
    assert len(_store_lines(caplog, "is back after")) == 1
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]


def test_a_hung_store_counts_as_away_after_the_store_timeout(chroma: ChromaServer, tmp_path: Path) -> None:
    import os
    import signal

    settings = Settings(
        root=make_project(tmp_path / "project"),
        prompts_dir=REPO / "prompts",
        chroma_url=chroma.url,
        index_dir=tmp_path / "index",
        store_timeout=0.5,  # how long a request waits for the server, not a guess at the machine's speed
    )
    bot = Bot.from_settings(settings)
    normal = bot.ask(KERRY).to_dict()
    assert chroma.proc is not None
    os.kill(chroma.proc.pid, signal.SIGSTOP)  # accepts connections (the kernel does), never answers
    try:
        hung = bot.ask(KERRY)
        assert hung.degraded == UNREACHABLE and hung.citations
        assert hung.citations[0].start == normal["citations"][0]["start"]
        assert not bot.store_answers()
    finally:
        os.kill(chroma.proc.pid, signal.SIGCONT)
    wait_for(bot.store_answers, what="the store to answer again")
    assert bot.ask(KERRY).to_dict() == normal


def test_a_replica_starts_while_the_store_is_down_from_the_saved_lexical_index(
    chroma: ChromaServer, tmp_path: Path
) -> None:
    from dataclasses import replace

    from qa_bot.errors import IndexStoreError

    settings = Settings(
        root=make_project(tmp_path / "project"), prompts_dir=REPO / "prompts", chroma_url=chroma.url,
        index_dir=tmp_path / "indexer", lexical_dir=tmp_path / "lexical", store_timeout=2.0,
    )  # fmt: skip
    indexer = Bot.from_settings(settings)
    normal = {q: indexer.ask(q).to_dict() for q in (KERRY, KREMLIN)}
    chroma.kill()

    # Without a saved lexical index there is nothing to answer from: one clear error.
    with pytest.raises(IndexStoreError, match="QA_BOT_CHROMA_URL"):
        Bot.from_settings(replace(settings, index_dir=tmp_path / "r0", lexical_dir=tmp_path / "empty"))

    replica = Bot.from_settings(replace(settings, index_dir=tmp_path / "r1"))  # the shared lexical folder
    assert replica.index.health.down
    for q in (KERRY, KREMLIN):
        answer = replica.ask(q)
        assert answer.degraded == UNREACHABLE and not answer.abstained
        first, usual = answer.citations[0], normal[q]["citations"][0]
        assert (first.source, first.start, first.end) == (usual["source"], usual["start"], usual["end"])
    assert replica.ask(NOT_IN_ARTICLE).abstained

    chroma.start()
    wait_for(lambda: replica.ask(KERRY).degraded is None, what="normal answers once the store is back")
    assert {q: replica.ask(q).to_dict() for q in (KERRY, KREMLIN)} == normal
