"""Locust user for the HTTP load run: POST /api/ask with the dev questions, no think time.

Run by bench/load.py as `locust -f bench/locustfile.py --headless ...`; BENCH_EVAL names the
question file (format of shared/eval/dev.json). Every user cycles through every question string.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

from locust import HttpUser, constant, task


def _questions() -> list[str]:
    data = json.loads(Path(os.environ["BENCH_EVAL"]).read_text(encoding="utf-8"))
    out = [str(i["q"]) for i in data.get("answerable", []) + data.get("unanswerable", [])]
    out += [str(t["q"]) for c in data.get("conversations", []) for t in c["turns"]]
    return out


QUESTIONS = _questions()


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
