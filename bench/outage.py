"""What a vector store outage costs: answers with a real `chroma run` server, without it, and after it is back.

    .venv/bin/python bench/outage.py            # prints a JSON report

Seed project in a temp folder, the default model. Times are ratios against the normal answer measured
in the same run (this machine is shared); recovery is the time from the server answering its
heartbeat again to the first normal (not degraded) answer.
"""

from __future__ import annotations

import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qa_bot.bot import Bot  # noqa: E402
from qa_bot.config import Settings  # noqa: E402

QUESTIONS = [
    "What did Kerry say about a new constitution?",
    "أين جرت المباحثات بين بوتين وكيري؟",
    "Which region of Ukraine is mentioned?",
    "ما الذي قاله لافروف عن الهدنة؟",
]
ROUNDS = 10


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _start(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not _up(f"http://127.0.0.1:{port}"):
        time.sleep(0.05)
    return proc


def _p50(bot: Bot) -> tuple[float, int, int]:
    """Median ms per answer over ROUNDS of QUESTIONS, answers with citations, degraded answers."""
    times, cited, degraded = [], 0, 0
    for _ in range(ROUNDS):
        for q in QUESTIONS:
            t = time.perf_counter()
            answer = bot.ask(q)
            times.append((time.perf_counter() - t) * 1000)
            cited += bool(answer.citations)
            degraded += answer.degraded is not None
    return statistics.median(times), cited, degraded


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(REPO / "seeds", root / "seeds")
        port = _port()
        server = _start(Path(tmp) / "chroma", port)
        url = f"http://127.0.0.1:{port}"
        bot = Bot.from_settings(Settings(root=root, prompts_dir=REPO / "prompts", chroma_url=url))
        normal_answers = {q: bot.ask(q).to_dict() for q in QUESTIONS}
        normal, normal_cited, _ = _p50(bot)
        server.kill()
        server.wait()
        down_answers = {q: bot.ask(q).to_dict() for q in QUESTIONS}
        down, down_cited, down_marked = _p50(bot)
        same = sum(
            bool(down_answers[q]["citations"])
            and down_answers[q]["citations"][0]["start"] == normal_answers[q]["citations"][0]["start"]
            for q in QUESTIONS
        )
        server = _start(Path(tmp) / "chroma", port)
        back = time.perf_counter()
        while bot.ask(QUESTIONS[0]).degraded is not None:
            time.sleep(0.01)
        recovery = time.perf_counter() - back
        after = {q: bot.ask(q).to_dict() for q in QUESTIONS}
        server.kill()
        server.wait()
    n = ROUNDS * len(QUESTIONS)
    sys.stdout.write(
        json.dumps(
            {
                "answers": n,
                "normal_p50_ms": round(normal, 1),
                "degraded_p50_ms": round(down, 1),
                "degraded_over_normal": round(down / normal, 2),
                "cited_normal": normal_cited,
                "cited_degraded": down_cited,
                "marked_degraded": down_marked,
                "same_first_citation": f"{same}/{len(QUESTIONS)}",
                "recovery_seconds": round(recovery, 2),
                "answers_after_equal_before": after == normal_answers,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
