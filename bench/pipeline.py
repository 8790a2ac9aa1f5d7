"""qa-bot and the tutorial pipeline side by side, as distractor passages are added step by step.

Before the sizes: the seed article alone is indexed and the dev set asked (the baseline the
distractors are judged against), then the public sets' articles are added (`bench.public`).
At each size: qa-bot's incremental index refresh (only the new distractors are embedded), the
embedding floor (the embedder alone encoding the same new passages once), warm retrieval and
full-answer latency, dev-set and public-set figures, a cold `qa-bot ask --json` in a fresh
process, and a real `qa-bot serve`'s memory; the tutorial pipeline's incremental add, retrieval
latency and gold hits. One embeddings object (qa-bot's default, USE-m3, threads = cores) serves all.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
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
    DISTRACTORS,
    aligned_english,
    article_documents,
    distractor_documents,
    make_project,
    plan,
    record_chunks,
    write_distractors,
)
from .load import serve_once
from .public import public_documents, public_sets, tutorial_public, write_public
from .tutorial import TutorialPipeline

REPEATS = 3  # passes over the dev questions for the warm latency figures
COLD_RUNS = 3  # fresh processes per size: the report takes the median (one run moved by ±1 s at 200k)
FLOOR_SAMPLE = 4096  # passages of a step the embedding floor encodes at most (a systematic sample)


def _questions(data: dict[str, Any]) -> list[str]:
    """Every question string of the set (conversation turns as asked, standalone)."""
    out = [str(i["q"]) for i in data.get("answerable", []) + data.get("unanswerable", [])]
    out += [str(t["q"]) for c in data.get("conversations", []) for t in c["turns"]]
    return out


def _embedded(chunks: Sequence[Any]) -> dict[str, int] | None:
    """What qa-bot's indexing makes of these passages (in the order `Index._embed` gets them), as it
    makes it: per group of passages, each distinct sentence and sentence translation is one text sent
    to the model (with USE-m3 its clauses' vectors come from the same pass, `qa_bot.vectors.row_maker`),
    and a free translation of a whole passage is one more; the rows kept in the sentence-vector file
    (sentences, clauses, translations) and the records written to Chroma (one per passage)."""
    try:
        from qa_bot.index import _EMBED_GROUP
        from qa_bot.vectors import aligned, row_counts
    except ImportError:
        return None
    texts = chars = rows = records = 0
    for i in range(0, len(chunks), _EMBED_GROUP):
        group = chunks[i : i + _EMBED_GROUP]
        units = dict.fromkeys(t for c in group for s in c.sentences for t in (s.text, s.translation) if t)
        free = dict.fromkeys(c.translation for c in group if c.translation and not aligned(c))
        texts += len(units) + len(free)
        chars += sum(map(len, units)) + sum(map(len, free))
        rows += sum(sum(row_counts(c)) for c in group)
        records += len(group)
    return {"texts": texts, "chars": chars, "sentence_rows": rows, "store_records": records}


def _floor(embeddings: Any, chunks: Sequence[Any]) -> dict[str, Any] | None:
    """The embedding floor: the embedder alone encoding each of these passages' text once, in groups
    of 64 as qa-bot indexes them, same model object and threads; no sentences, no store. On a large
    step a systematic sample of whole groups (every n-th), at most FLOOR_SAMPLE passages."""
    groups = [[c.text for c in chunks[i : i + 64]] for i in range(0, len(chunks), 64)]
    if not groups:
        return None
    every = max(1, -(-len(groups) * 64 // FLOOR_SAMPLE))
    sample = groups[::every]
    began = time.perf_counter()
    for texts in sample:
        embeddings.embed_documents(texts)
    seconds = time.perf_counter() - began
    passages = sum(map(len, sample))
    return {
        "passages": passages,
        "of": len(chunks),
        "every_nth_group": every,
        "chars": sum(len(t) for g in sample for t in g),
        "seconds": round(seconds, 2),
        "passages_per_s": round(passages / seconds, 1) if seconds else None,
    }


def _new_chunks(settings: Any, before: set[str]) -> list[Any]:
    """The distractor passages not indexed before, in the order the index refresh embedded them."""
    from qa_bot.ingest import load_corpus

    mark = f"seeds/{DISTRACTORS}#"
    return [c for c in load_corpus(settings.seeds_path, settings.root) if c.id not in before and
            c.source.startswith(mark)]  # fmt: skip


def check_rows(embeddings: Any, chunks: Sequence[Any], sample: int = 32) -> tuple[int, list[str]]:
    """Whether qa-bot's indexing would misplace sentence rows: the passages (of the first `sample`
    where it can happen) for which its row maker (`qa_bot.vectors.row_maker`, with USE-m3 one joint
    sentence-and-clause pass) returns another number of rows than `qa_bot.vectors.row_counts`
    expects. Then every later passage of the same indexing group gets another passage's rows, or
    the refresh stops with an IndexError.

    Where it can happen (the known cause): a sentence whose clauses (`qa_bot.text.clauses`) differ
    in number from those of the text as the encoder sees it (`qa_bot.models.for_embedding`: vowel
    and direction marks dropped), which the joint pass splits instead. Returns how many passages
    are such, and the article ids of those found misplaced."""
    from qa_bot.models import for_embedding
    from qa_bot.text import clauses
    from qa_bot.vectors import row_counts, row_maker

    def suspect(c: Any) -> bool:
        texts = (t for s in c.sentences for t in (s.text, s.translation) if t)
        return any(len(clauses(t)) != len(clauses(for_embedding(t))) for t in texts)

    suspects = [c for c in chunks if suspect(c)]
    make = row_maker(embeddings)
    return len(suspects), [c.article_id for c in suspects[:sample] if len(make([c])) != sum(row_counts(c))]


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


def _ask_dev(bot: Any, data: dict[str, Any], repeats: int) -> dict[str, Any]:
    """The dev set through `bot.ask` (`run_eval`), `repeats` times for the latency, after one warm-up;
    figures and details of the first pass, and qa-bot's hits over the answerable items alone."""
    from qa_bot.evaluate import run_eval

    questions = _questions(data)
    bot.ask(questions[0])
    times: list[float] = []
    standalone: dict[str, Any] = {}  # question → answer, for the answerable-only hits

    def timed_ask(q: str, history: list[dict[str, str]]) -> Any:
        t = time.perf_counter()
        answer = bot.ask(q, history)
        times.append(time.perf_counter() - t)
        if not history:
            standalone.setdefault(q, answer)
        return answer

    result = run_eval(data, timed_ask)
    for _ in range(repeats - 1):
        run_eval(data, timed_ask)
    return {
        "latency": latency_ms(times),
        "figures": result["figures"],
        "answerable": _answerable_hits(data.get("answerable", []), standalone),
        "details": [{k: d.get(k) for k in ("id", "top_hit", "facts", "abstained")} for d in result["details"]],
    }


def _picker(bot: Any) -> dict[str, Any]:
    """The chat page's article picker over the archive: the choices a page load builds (the first
    1,000 articles by title), and two searches of every title and id (each the median of 5)."""
    from qa_bot import ui

    articles = bot.retriever.articles()
    out: dict[str, Any] = {"articles": len(articles)}
    for name, query in (("page_load", ""), ("search_arabic", "حدثنا"), ("search_latin", "said")):
        times, found = [], 0
        for _ in range(5):
            t = time.perf_counter()
            found = len(ui.article_choices(articles, query)) - 1
            times.append(time.perf_counter() - t)
        out[name] = {"ms": round(statistics.median(times) * 1e3, 1), "choices": found}
    log(f"picker: {out}")
    return out


def run_pipeline(sizes: list[int], project: Path, eval_path: Path, command: str) -> dict[str, Any]:
    """Measure every size in `sizes` (ascending) in the temporary project `project`."""
    from qa_bot.bot import Bot
    from qa_bot.config import Settings
    from qa_bot.evaluate import load_eval
    from qa_bot.index import Index
    from qa_bot.models import embeddings_id, make_embeddings, warm_up

    from .public import ask_public

    began_all = time.perf_counter()
    data = load_eval(eval_path)
    questions = _questions(data)
    aligned = aligned_english(data)
    make_project(project)
    records, steps = plan(sizes)
    for s in steps:
        log(
            f"corpus: size {s.target:,} → {s.records:,} records ({s.arabic:,} ar, {s.english:,} en; "
            f"{s.recombined:,} recombined), ~{s.passages:,} passages"
        )
    sets = public_sets()

    settings = Settings(root=project, threads=cpu_count())
    embeddings: Any = TimedEmbeddings(make_embeddings(settings))  # one model object for both pipelines
    t = time.perf_counter()
    warm_up(embeddings)
    log(f"embeddings {embeddings_id(embeddings)} loaded in {time.perf_counter() - t:.1f}s (threads={settings.threads})")
    suspects, misplaced = check_rows(embeddings.inner, record_chunks(records))
    if misplaced:
        raise SystemExit(
            f"bench: qa-bot would store the wrong sentence vectors for distractor passages ({', '.join(misplaced[:6])}"
            f"…; {suspects:,} at risk in this corpus) and for the passages indexed after each in the same group: its "
            "row maker returns another number of rows than qa_bot.vectors.row_counts expects for their sentences "
            "(the joint pass of qa_bot/models.py `embed_with_clauses` splits the clauses of for_embedding(text), "
            "row_counts those of the text). Fix qa-bot first (see bench/README.md)."
        )
    log(f"sentence rows: {suspects:,} passages where qa-bot could misplace them, the first checked are right")
    index = Index(settings, embeddings)
    tutorial = TutorialPipeline(embeddings)
    rows: list[dict[str, Any]] = []
    done = 0
    try:
        # -- the seed article alone: the dev figures the distractors are judged against
        write_distractors(project, [])
        report = index.ensure()
        tutorial.add(article_documents(project))
        bot = Bot(settings, embeddings, index)
        bot.retriever.load()
        dev = _ask_dev(bot, data, 1)
        alone = {"passages": len(bot.retriever.chunks), "qa_bot_eval": dev["figures"],
                 "qa_bot_answerable": dev["answerable"], "qa_bot_details": dev["details"]}  # fmt: skip
        log(f"article alone: {alone['passages']} passages, dev top-cite {dev['figures']['all']['top_citation_hit']}")

        # -- the public sets' articles, in both indexes from here on
        write_public(project, sets)
        embeddings.take()
        report = index.ensure()
        embed_s, _ = embeddings.take()
        tut = tutorial.add(public_documents(sets))
        public_index = {
            "articles": sum(1 for _ in public_documents(sets)),
            "passages_added": report.added if report else 0,
            "seconds": round(report.seconds, 2) if report else 0.0,
            "embedding_seconds": round(embed_s, 2),
            "tutorial_chunks": tut["chunks_added"],
            "tutorial_seconds": tut["seconds"],
        }
        log(f"public sets: {public_index['articles']} articles, {public_index['passages_added']} passages indexed")
        before = {c.id for c in index.chunks()}
        del bot

        for step in steps:
            log(f"=== size {step.target:,}: {step.records - done:,} new distractor records")
            new_records = records[done : step.records]
            write_distractors(project, records[: step.records])
            row: dict[str, Any] = {"target": step.target, "records": step.records, "arabic_records": step.arabic,
                                   "english_records": step.english, "recombined_records": step.recombined}  # fmt: skip

            watch = CpuWatch()
            # -- qa-bot: incremental refresh (the product path: ensure() → refresh of what changed)
            vectors_before = index.count()
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
            chunks = list(bot.retriever.chunks.values())
            mark = f"seeds/{DISTRACTORS}#"
            new_chunks = _new_chunks(settings, before) if added else []
            before = {c.id for c in chunks}
            embedded = _embedded(new_chunks) or {}
            row["qa_bot_index"] = {
                "passages_added": added,
                "passages_total": len(chunks),
                "distractor_passages": sum(1 for c in chunks if c.source.startswith(mark)),
                "seconds": round(report.seconds, 2) if report else 0.0,
                "wall_seconds": round(wall, 2),
                "passages_per_s": round(added / report.seconds, 1) if report and report.seconds else None,
                "vectors_added": vectors_after - vectors_before,
                "vectors_total": vectors_after,
                "vectors_per_passage": round((vectors_after - vectors_before) / added, 2) if added else None,
                "embedding_seconds": round(embed_s, 2),
                "embedding_calls_texts": embed_texts,
                "embedded_texts": embedded.get("texts"),
                "embedded_chars": embedded.get("chars"),
                "sentence_rows": embedded.get("sentence_rows"),
                "store_records": embedded.get("store_records"),
                "report": str(report) if report else "up to date",
            }
            log(f"qa-bot: {report or 'up to date'}; {vectors_after - vectors_before:,} store records")
            row["qa_bot_load_s"] = round(load_s, 2)
            row["picker"] = _picker(bot)

            # -- the embedding floor: the model alone, each new passage once
            floor = _floor(embeddings.inner, new_chunks)
            row["floor"] = floor
            if floor:
                log(f"floor: {floor['passages']:,} of {floor['of']:,} passages in {floor['seconds']:.1f}s "
                    f"({floor['passages_per_s']}/s)")  # fmt: skip

            # -- tutorial: the same new texts
            embeddings.take()
            tut = tutorial.add(distractor_documents(new_records))
            tut["embedding_seconds"] = round(embeddings.take()[0], 2)
            tut["passages_equivalent"] = added  # the same texts, in qa-bot passages
            tut["chunks_per_s"] = round(tut["chunks_added"] / tut["seconds"], 1) if tut["seconds"] else None
            tut["passages_equivalent_per_s"] = round(added / tut["seconds"], 1) if tut["seconds"] and added else None
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
            dev = _ask_dev(bot, data, REPEATS)
            row["qa_bot_answer"] = dev["latency"]
            row["qa_bot_eval"] = dev["figures"]
            row["qa_bot_answerable"] = dev["answerable"]
            row["qa_bot_details"] = dev["details"]

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

            # -- the public sets, in the same index
            t = time.perf_counter()
            row["public"] = ask_public(bot, sets)
            row["tutorial_public"] = tutorial_public(tutorial.search, sets)
            log(
                f"public sets ({time.perf_counter() - t:.0f}s): "
                + "; ".join(
                    f"{s.name} cite@1 {row['public'][s.name].get('cite_at_1')} refused "
                    f"{row['public'][s.name].get('out_of_archive_refused')} (tutorial top-1 "
                    f"{row['tutorial_public'][s.name]['top_1']})"
                    for s in sets
                )
            )

            # -- cold start: a fresh process answering one question from the built index
            row["cold_start"] = [cold_start(project, questions[0]) for _ in range(COLD_RUNS)]
            log(
                "cold start: answers after "
                + ", ".join(f"{c['answer_s']}s" for c in row["cold_start"])
                + f" (peak RSS {max(c['peak_rss_mb'] for c in row['cold_start'])} MB)"
            )
            # -- a real server's memory at this size
            row["serving"] = serve_once(project, questions)
            log("serving: ready after {startup_s}s at {rss_ready_mb} MB, peak {rss_peak_mb} MB".format(
                **row["serving"]))  # fmt: skip
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
        "floor_sample": FLOOR_SAMPLE,
        "seconds": round(time.perf_counter() - began_all, 1),
        "article_alone": alone,
        "public_index": public_index,
        "public_sets": {s.name: {"articles": len(s.articles), "left_out": sorted(s.left_out)} for s in sets},
        "sizes": rows,
    }
