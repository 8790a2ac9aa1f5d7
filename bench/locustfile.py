"""Locust user for the HTTP load run: POST /api/ask with the dev questions, no think time.

Run by bench/load.py and bench/soak.py as `locust -f bench/locustfile.py --headless ...`; BENCH_EVAL
names the question file (format of shared/eval/dev.json). Every user cycles through every question
string. With BENCH_REQUEST_LOG set, every request is also written to that file as one JSON line
(`{"t": end time, "ms": response time, "error": null or what went wrong}`) for per-minute figures.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import IO, Any

from locust import HttpUser, constant, events, task


def _questions() -> list[str]:
    data = json.loads(Path(os.environ["BENCH_EVAL"]).read_text(encoding="utf-8"))
    out = [str(i["q"]) for i in data.get("answerable", []) + data.get("unanswerable", [])]
    out += [str(t["q"]) for c in data.get("conversations", []) for t in c["turns"]]
    return out


QUESTIONS = _questions()
_sink: list[IO[str]] = []


@events.init.add_listener
def _open_log(**_: Any) -> None:
    path = os.environ.get("BENCH_REQUEST_LOG")
    if path:
        _sink.append(open(path, "a", encoding="utf-8", buffering=1 << 16))  # noqa: SIM115 (closed on quit)


@events.request.add_listener
def _record(response_time: float, exception: BaseException | None = None, **_: Any) -> None:
    if _sink:
        error = None if exception is None else str(exception)[:80]
        _sink[0].write(json.dumps({"t": round(time.time(), 3), "ms": round(response_time, 1), "error": error}) + "\n")


@events.quitting.add_listener
def _close_log(**_: Any) -> None:
    while _sink:
        _sink.pop().close()


class Asker(HttpUser):
    wait_time = constant(0)  # closed loop: each user sends its next question as soon as it has an answer

    def on_start(self) -> None:
        order = QUESTIONS[:]
        random.Random(id(self)).shuffle(order)
        self._next = itertools.cycle(order)

    @task
    def ask(self) -> None:
        question = next(self._next)
        with self.client.post("/api/ask", json={"question": question}, name="/api/ask", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}: {r.text[:120]}")
                return
            try:
                body = r.json()
            except ValueError:
                r.failure("not JSON")
                return
            if not isinstance(body, dict) or "text" not in body or "citations" not in body:
                r.failure("no answer in the body")
