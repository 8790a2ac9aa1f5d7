"""The real `openai:` backend client against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from conftest import REPO, free_port
from qa_bot.bot import Bot
from qa_bot.config import Settings

REPLY = "Kerry said there must be a timetable and a draft constitution by August [1]."


class Script:
    """What the fake server does next: "ok", "500" or "hang"; and what it received."""

    mode: ClassVar[str] = "ok"
    released: ClassVar[threading.Event] = threading.Event()  # a "hang" lasts until the test has finished
    requests: ClassVar[list[dict]] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Script.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if Script.mode == "500":
            self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
        elif Script.mode == "hang":
            Script.released.wait()  # never answers in time, however slow or fast the machine
        elif body.get("stream"):
            self._stream(body["model"])
        else:
            self._send(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )

    def _stream(self, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i, word in enumerate(REPLY.split(" ")):
            piece = word if i == 0 else " " + word
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _openai_bot(project, endpoint: str, timeout: float) -> Bot:
    settings = Settings(
        root=project,
        prompts_dir=REPO / "prompts",
        llm="openai:test-model",
        llm_base_url=endpoint,
        llm_api_key="sk-test-secret",
        llm_timeout=timeout,
    )
    return Bot.from_settings(settings)


@pytest.fixture(scope="module")
def openai_bot(project, endpoint: str) -> Bot:
    return _openai_bot(project, endpoint, timeout=120.0)  # a loaded machine must not time out a quick reply


@pytest.fixture(scope="module")
def impatient_bot(project, endpoint: str) -> Bot:
    return _openai_bot(project, endpoint, timeout=1.0)  # for the server that never answers


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    Script.mode, Script.requests = "ok", []
    Script.released.clear()
    yield
    Script.released.set()


def test_answer_through_the_openai_client(openai_bot: Bot) -> None:
    answer = openai_bot.ask("What did Kerry say about a new constitution?")
    assert answer.backend == "openai:test-model" and answer.claims[0].supported
    sent = Script.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["model"] == "test-model"
    assert sent["auth"] == "Bearer sk-test-secret"  # the key goes to the server, and nowhere else
    assert sent["body"]["messages"][0]["role"] == "system" and "[1]" in sent["body"]["messages"][-1]["content"]
    assert "sk-test-secret" not in json.dumps(answer.to_dict())


@pytest.mark.parametrize(("mode", "calls"), [("500", 2), ("hang", 2)])
def test_server_errors_and_hangs_fall_back_after_one_retry(
    openai_bot: Bot, impatient_bot: Bot, mode: str, calls: int
) -> None:
    Script.mode = mode
    bot = impatient_bot if mode == "hang" else openai_bot
    answer = bot.ask("What did Lavrov say about NATO?")
    data = answer.to_dict()
    assert data["fallback"] == "extractive" and "NATO" in data["text"] and data["citations"]
    assert len(Script.requests) == calls
    assert "sk-test-secret" not in json.dumps(data)
    bot.llm.breaker.record(True)  # keep the breaker closed for the next test


def test_streamed_tokens_through_the_openai_client(openai_bot: Bot) -> None:
    events = list(openai_bot.stream("What did Kerry say about a new constitution?"))
    deltas = [data for name, data in events if name == "delta"]
    assert events[0][0] == "citations" and events[-1][0] == "final" and len(deltas) > 5
    assert "".join(deltas) == REPLY and Script.requests[0]["body"]["stream"] is True
    final = events[-1][1]
    assert final.backend == "openai:test-model" and final.claims[0].supported
