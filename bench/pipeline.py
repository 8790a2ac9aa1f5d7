"""qa-bot and the tutorial pipeline side by side, as distractor passages are added step by step.

At each size: qa-bot's incremental index refresh (only the new distractors are embedded), warm
retrieval and full-answer latency, dev-set figures, a cold `qa-bot ask --json` in a fresh process;
the tutorial pipeline's incremental add, retrieval latency and gold hits. One embeddings object
(qa-bot's default, USE-m3, threads = cores) serves both.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .common import (
    VENV_BIN,
    CpuWatch,
    TimedEmbeddings,
    cpu_count,
    git_state,
    latency_ms,
    log,
    machine,
    now_iso,
    quiet_env,
    rss_mb,
)
from .corpus import (
    aligned_english,
    article_documents,
    distractor_documents,
    distractor_records,
    make_project,
    plan,
    write_distractors,
)
from .tutorial import TutorialPipeline

REPEATS = 3  # passes over the dev questions for the warm latency figures
COLD_RUNS = 1


def _questions(data: dict[str, Any]) -> list[str]:
    """Every question string of the set (conversation turns as asked, standalone)."""
    out = [str(i["q"]) for i in data.get("answerable", []) + data.get("unanswerable", [])]
    out += [str(t["q"]) for c in data.get("conversations", []) for t in c["turns"]]
    return out


def _embedded(chunks: list[Any]) -> tuple[int, int] | None:
    """Distinct texts and characters qa-bot embeds for these passages: every record of
    `qa_bot.records.records`, each distinct text once per group of passages, as `Index._embed` does."""
    try:
        from qa_bot.index import _EMBED_GROUP
        from qa_bot.records import records
    except ImportError:
        return None
    texts = chars = 0
    for i in range(0, len(chunks), _EMBED_GROUP):
        distinct = dict.fromkeys(text for text, _, _ in records(chunks[i : i + _EMBED_GROUP]))
        texts += len(distinct)
        chars += sum(map(len, distinct))
    return texts, chars


def _answerable_hits(items: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """qa-bot's top- and any-citation hits per language over the answerable items alone (the
    tutorial's question set), scored with qa_bot.evaluate.gold_hit."""
    from qa_bot.evaluate import gold_hit

    tallies: dict[str, list[tuple[bool, bool]]] = {}
    for item in items:
        answer = answers[str(item["q"])]
        hit = (gold_hit(answer, item.get("gold", []), True), gold_hit(answer, item.get("gold", []), False))
        for key in (str(item.get("lang", "en")), "all"):
            tallies.setdefault(key, []).append(hit)
    return {
        lang: {
            "answerable": len(hits),
            "top_hit": round(sum(t for t, _ in hits) / len(hits), 3),
            "any_hit": round(sum(a for _, a in hits) / len(hits), 3),
        }
        for lang, hits in sorted(tallies.items())
    }


def _breakdown(retriever: Any, questions: list[str]) -> dict[str, Any]:
    """Where a standalone answer's time goes, stage by stage, with the retriever's public methods:
    the question's embedding, the hybrid search given that vector, and the scoring of every sentence
    of the candidates (which fetches their sentence vectors from the store). One pass."""
    stages: dict[str, list[float]] = {"embed": [], "search_given_vector": [], "score_sentences": []}
    for q in questions:
        t0 = time.perf_counter()
        vector = retriever.embed(q)
        t1 = time.perf_counter()
        candidates = retriever.search(q, vector=vector)
        t2 = time.perf_counter()
        retriever.score_sentences(candidates, q, vector)
        t3 = time.perf_counter()
        stages["embed"].append(t1 - t0)
        stages["search_given_vector"].append(t2 - t1)
        stages["score_sentences"].append(t3 - t2)
    return {name: latency_ms(values) for name, values in stages.items()}


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cold_start(project: Path, question: str) -> dict[str, Any]:
    """A fresh `qa-bot ask --json` process: wall time to the answer line and to exit, and its peak RSS.

    The peak is the child's own VmHWM, polled until it exits: `ru_maxrss` from wait4 would report
    this (large) benchmark process's RSS instead, which Linux carries into a forked child's figure.
    """
    env = quiet_env(QA_BOT_ROOT=str(project), QA_BOT_THREADS=str(cpu_count()))
    with tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(
            [str(VENV_BIN / "qa-bot"), "ask", "--json", question], env=env, stdout=subprocess.PIPE, stderr=err
        )
        peak_kb = 0
        halt = threading.Event()

        def poll() -> None:
            nonlocal peak_kb
            while not halt.is_set():
                peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
                halt.wait(0.02)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        assert proc.stdout is not None
        line = proc.stdout.readline()
        answered = time.perf_counter() - began
        rest = proc.stdout.read()
        proc.wait()
        exited = time.perf_counter() - began
        halt.set()
        poller.join()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace").strip()
    ok = proc.returncode == 0 and line.startswith(b"{")
    if not ok:
        log(f"cold start FAILED (exit {proc.returncode}): {stderr[-400:]} {(line + rest)[:200]!r}")
    return {
        "ok": ok,
        "exit": proc.returncode,
        "answer_s": round(answered, 2),
        "exit_s": round(exited, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "stderr_tail": stderr[-300:] if stderr else "",
    }


def run_pipeline(sizes: list[int], project: Path, eval_path: Path, command: str) -> dict[str, Any]:
    """Measure every size in `sizes` (ascending) in the temporary project `project`."""
    from qa_bot.bot import Bot
    from qa_bot.config import Settings
    from qa_bot.evaluate import load_eval, run_eval
    from qa_bot.index import Index
    from qa_bot.models import embeddings_id, make_embeddings, warm_up

    began_all = time.perf_counter()
    data = load_eval(eval_path)
    questions = _questions(data)
    aligned = aligned_english(data)
    make_project(project)
    records = distractor_records()
    log(f"corpus: {len(records):,} distractor records available; planning sizes {sizes}")
    steps = plan(records, sizes)
    for s in steps:
        log(
            f"corpus: size {s.target:,} → {s.records:,} records ({s.arabic:,} ar, {s.english:,} en), "
            f"~{s.passages:,} passages"
        )

    settings = Settings(root=project, threads=cpu_count())
    embeddings: Any = TimedEmbeddings(make_embeddings(settings))  # one model object for both pipelines
    t = time.perf_counter()
    warm_up(embeddings)
    log(f"embeddings {embeddings_id(embeddings)} loaded in {time.perf_counter() - t:.1f}s (threads={settings.threads})")
    index = Index(settings, embeddings)
    tutorial = TutorialPipeline(embeddings)
    rows: list[dict[str, Any]] = []
    done = 0
    try:
        for step in steps:
            log(f"=== size {step.target:,}: {step.records - done:,} new distractor records")
            new_records = records[done : step.records]
            write_distractors(project, records[: step.records])
            row: dict[str, Any] = {"target": step.target, "records": step.records, "arabic_records": step.arabic,
                                   "english_records": step.english}  # fmt: skip

            watch = CpuWatch()
            # -- qa-bot: incremental refresh (the product path: ensure() → refresh of what changed)
            vectors_before = index.count() if rows else 0
            embeddings.take()
            t = time.perf_counter()
            report = index.ensure()
            wall = time.perf_counter() - t
            embed_s, embed_texts = embeddings.take()
            added = report.added if report else 0
            vectors_after = index.count()
            bot = Bot(settings, embeddings, index)
            t = time.perf_counter()
            bot.retriever.load()
            load_s = time.perf_counter() - t
            chunks = sorted(bot.retriever.chunks, key=lambda c: (c.source, c.position))
            distractor_passages = sum(1 for c in chunks if "#" in c.source)
            new_ids = {r["id"] for r in new_records}
            new_chunks = [c for c in chunks if c.source.partition("#")[2] in new_ids] if new_ids else [
                c for c in chunks if "#" not in c.source]  # fmt: skip
            embedded = _embedded(new_chunks)
            row["qa_bot_index"] = {
                "passages_added": added,
                "passages_total": len(chunks),
                "distractor_passages": distractor_passages,
                "seconds": round(report.seconds, 2) if report else 0.0,
                "wall_seconds": round(wall, 2),
                "passages_per_s": round(added / report.seconds, 1) if report and report.seconds else None,
                "vectors_added": vectors_after - vectors_before,
                "vectors_total": vectors_after,
                "vectors_per_passage": round((vectors_after - vectors_before) / added, 2) if added else None,
                "vectors_per_s": round((vectors_after - vectors_before) / report.seconds, 1) if report else None,
                "embedding_seconds": round(embed_s, 2),
                "embedding_calls_texts": embed_texts,
                "embedded_texts": embedded[0] if embedded else None,
                "embedded_chars": embedded[1] if embedded else None,
                "report": str(report) if report else "up to date",
            }
            log(f"qa-bot: {report}; {vectors_after - vectors_before:,} vectors")

            row["qa_bot_load_s"] = round(load_s, 2)

            # -- tutorial: the same new texts
            docs = (article_documents(project) if not rows else []) + distractor_documents(new_records)
            embeddings.take()
            tut = tutorial.add(docs)
            tut["embedding_seconds"] = round(embeddings.take()[0], 2)
            tut_passages = added  # the same texts, in qa-bot passages
            tut["passages_equivalent"] = tut_passages
            tut["chunks_per_s"] = round(tut["chunks_added"] / tut["seconds"], 1) if tut["seconds"] else None
            tut["passages_equivalent_per_s"] = round(tut_passages / tut["seconds"], 1) if tut["seconds"] else None
            row["tutorial_index"] = tut
            log(f"tutorial: {tut['chunks_added']:,} chunks in {tut['seconds']:.1f}s ({tut['chunks_per_s']}/s)")

            # -- warm latency: retrieval alone, then full cited answers (which also give the dev figures)
            bot.retriever.search(questions[0])
            times: list[float] = []
            for _ in range(REPEATS):
                for q in questions:
                    t = time.perf_counter()
                    bot.retriever.search(q)
                    times.append(time.perf_counter() - t)
            row["qa_bot_retrieval"] = latency_ms(times)
            row["qa_bot_breakdown"] = _breakdown(bot.retriever, questions)
            bot.ask(questions[0])
            ask_times: list[float] = []

            standalone: dict[str, Any] = {}  # question → answer, for the answerable-only hits below

            def timed_ask(
                q: str,
                history: list[dict[str, str]],
                bot: Any = bot,
                sink: list[float] = ask_times,
                standalone: dict[str, Any] = standalone,
            ) -> Any:
                t = time.perf_counter()
                answer = bot.ask(q, history)
                sink.append(time.perf_counter() - t)
                if not history:
                    standalone.setdefault(q, answer)
                return answer

            result = run_eval(data, timed_ask)
            for _ in range(REPEATS - 1):
                run_eval(data, timed_ask)
            row["qa_bot_answer"] = latency_ms(ask_times)
            row["qa_bot_eval"] = result["figures"]
            row["qa_bot_answerable"] = _answerable_hits(data.get("answerable", []), standalone)
            row["qa_bot_details"] = [{k: d.get(k) for k in ("id", "top_hit", "facts", "abstained")} for d in
                                     result["details"]]  # fmt: skip

            row["tutorial_retrieval"] = tutorial.latency(questions, REPEATS)
            quality = tutorial.quality(data.get("answerable", []), aligned)
            row["tutorial_eval"] = quality["figures"]
            row["tutorial_details"] = quality["details"]
            log(
                f"latency p50: qa-bot answer {row['qa_bot_answer']['p50_ms']} ms, retrieval "
                f"{row['qa_bot_retrieval']['p50_ms']} ms; tutorial retrieval {row['tutorial_retrieval']['p50_ms']} ms"
            )
            fig = row["qa_bot_eval"]
            log(
                "top-cite: qa-bot en {} ar {}; tutorial en {} ar {}".format(
                    fig.get("en", {}).get("top_citation_hit"),
                    fig.get("ar", {}).get("top_citation_hit"),
                    quality["figures"].get("en", {}).get("top_hit"),
                    quality["figures"].get("ar", {}).get("top_hit"),
                )
            )

            # -- cold start: a fresh process answering one question from the built index
            row["cold_start"] = [cold_start(project, questions[0]) for _ in range(COLD_RUNS)]
            log("cold start: answer after {answer_s}s, peak RSS {peak_rss_mb} MB".format(**row["cold_start"][0]))
            row["bench_process_rss_mb"] = rss_mb()
            row["cpu"] = watch.stop()
            rows.append(row)
            done = step.records
            del bot
    finally:
        tutorial.close()
    return {
        "kind": "pipeline",
        "measured_at": now_iso(),
        "machine": machine(),
        "git": git_state(),
        "command": command,
        "eval_file": str(eval_path),
        "questions": len(questions),
        "repeats": REPEATS,
        "embeddings": embeddings_id(embeddings),
        "threads": settings.threads,
        "seconds": round(time.perf_counter() - began_all, 1),
        "sizes": rows,
    }
