"""The CLI as a user runs it: a real subprocess against a real index in a temp project."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_project


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory):
    root = make_project(tmp_path_factory.mktemp("cli"))
    env = {**os.environ, "QA_BOT_ROOT": str(root), "QA_BOT_PROMPTS_DIR": str(REPO / "prompts"), "HF_HUB_OFFLINE": "1"}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "qa_bot", *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
        )

    built = run("index")
    assert built.returncode == 0, built.stderr
    assert "1 added" in built.stdout and "passages embedded" in built.stdout
    return run


def test_ask_json_has_the_documented_shape(cli) -> None:
    result = cli("ask", "What did Lavrov say about NATO?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["language"] == "en" and data["abstained"] is False and "[1]" in data["text"]
    citation = data["citations"][0]
    assert {"n", "passage", "translation", "source", "start", "end", "score"} <= set(citation)
    assert citation["n"] == 1 and citation["source"] == "seeds/000_b7f32638cd3eede3.txt"
    assert "الناتو" in citation["passage"] and "NATO" in citation["translation"]


def test_ask_plain_text_lists_sources(cli) -> None:
    result = cli("ask", "أين جرت المباحثات بين بوتين وكيري؟")
    assert result.returncode == 0, result.stderr
    assert "الكرملين" in result.stdout and "المصادر:" in result.stdout
    first = next(line for line in result.stdout.splitlines() if line.startswith("[1] "))
    # the article is named (title and id) beside the file and offsets
    assert "(000_b7f32638cd3eede3) · seeds/000_b7f32638cd3eede3.txt:" in first


def test_jsonl_answers_each_line_and_reports_bad_ones_in_place(cli) -> None:
    lines = [
        json.dumps({"question": "What did Kerry say about a new constitution?"}),
        "{not json",
        json.dumps(
            {
                "question": "By when?",
                "history": [{"role": "user", "content": "What did Kerry say about a new constitution?"}],
            }
        ),
        json.dumps({"question": "   "}),
        json.dumps({"question": "x", "history": [{"role": "robot", "content": "hi"}]}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"question": "ما هي عاصمة فرنسا؟"}),
        '{"question": "Kerry \\ud800"}',  # a lone surrogate: not text
        json.dumps({"question": "By when?", "history": 5}),
        "[" * 100_000,
        json.dumps({"question": "\u200b\u200f"}),  # invisible characters only
        json.dumps({"question": "What did Lavrov say about NATO?"}),
    ]
    result = cli("ask", "--jsonl", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert result.returncode == 1  # some lines failed; every line still got its answer or error
    assert "constitution" in out[0]["text"] and out[0]["citations"]
    assert out[1]["error"].startswith("line 2: invalid JSON")
    assert "August" in out[2]["text"]
    assert "empty" in out[3]["error"] and "role" in out[4]["error"] and "object" in out[5]["error"]
    assert out[6]["abstained"] is True and out[6]["language"] == "ar"
    assert "invalid characters" in out[7]["error"] and "history must be a list" in out[8]["error"]
    assert "invalid JSON" in out[9]["error"] and "empty" in out[10]["error"]
    assert "NATO" in out[11]["text"]  # still answered after all the bad lines
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "   "), "question is empty"),
        (("ask", "Kerry " * 2000), "the limit is 2000"),
        (("ask",), "no question"),
        (("ask", "hello", "--bogus"), "unrecognized arguments"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(cli, args, message) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_setting_is_one_line(cli) -> None:
    result = cli("ask", "hello", "--embeddings", "/no/such/model")
    assert result.returncode == 1
    assert "QA_BOT_EMBEDDINGS" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_eval_prints_per_language_figures(cli, tmp_path: Path) -> None:
    questions = {
        "answerable": [
            {
                "id": "a",
                "lang": "en",
                "q": "What did Lavrov say about NATO?",
                "gold": ["حلف الناتو"],
                "facts": [["NATO"]],
            }
        ],
        "unanswerable": [{"id": "u", "lang": "ar", "q": "ما هي عاصمة فرنسا؟"}],
    }
    path = tmp_path / "q.json"
    path.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    result = cli("eval", str(path), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    assert figures["en"]["top_citation_hit"] == 1.0 and figures["en"]["fact_accuracy"] == 1.0
    assert figures["ar"]["abstention_accuracy"] == 1.0
    missing = cli("eval", str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_serve_answers_on_one_blas_thread_each_with_the_word_lists_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A server answers several questions side by side; a second BLAS thread per answer only spins."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import qa_bot.api
    import qa_bot.models
    from qa_bot import cli as cli_module
    from qa_bot import once

    seen: dict[str, object] = {}
    monkeypatch.setenv("QA_BOT_ROOT", str(make_project(tmp_path)))
    monkeypatch.setenv("QA_BOT_PROMPTS_DIR", str(REPO / "prompts"))
    monkeypatch.setenv("QA_BOT_THREADS", "2")
    monkeypatch.setattr(cli_module, "_bot", lambda settings: seen.setdefault("threads", settings.threads))

    def serve(bot: object, host: str, port: int) -> None:
        seen["blas"] = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        seen["word lists"] = [loader.name for loader in once._ALL if not loader.loaded]

    once.preload()  # every loader registered, then forgotten: serving must load them again
    for loader in once._ALL:
        loader.cache_clear()
    monkeypatch.setattr(qa_bot.api, "serve", serve)
    monkeypatch.setattr(qa_bot.models, "few_malloc_arenas", lambda: seen.setdefault("arenas", "threads" not in seen))
    with threadpool_limits(limits=2, user_api="blas"):  # restored afterwards, for the tests that follow
        assert cli_module.main(["serve"]) == 0
    assert seen["threads"] == 1
    assert seen["blas"] and set(seen["blas"]) == {1}  # type: ignore[arg-type]
    assert seen["arenas"] is True  # malloc arenas capped before the bot (and any thread) was made
    assert seen["word lists"] == []  # loaded before serving, not by the first answers side by side


ARENAS = """
import ctypes, sys, tempfile, threading
if sys.argv[1] == "capped":
    from qa_bot.models import few_malloc_arenas
    assert few_malloc_arenas(2)
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    keep = [bytearray(10_000) for _ in range(500)]  # below the mmap threshold: from an arena
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile("r") as out:
    fp = ctypes.c_void_p(libc.fopen(out.name.encode(), b"w"))
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(out.read().count("<heap nr="))
"""


def test_a_server_keeps_two_malloc_arenas_however_many_threads_answer() -> None:
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc arenas are glibc's")
    runs = {
        mode: subprocess.run([sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, check=True)
        for mode in ("capped", "default")
    }
    arenas = {mode: int(run.stdout) for mode, run in runs.items()}
    assert arenas["capped"] <= 2 < arenas["default"]  # eight threads, all alive at once
