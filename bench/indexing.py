"""Indexing speed on an archive no one here wrote, against two baselines measured in the same run.

    python -m bench.indexing [--rounds 2] [--files eval/public/xquad-dev.ar.json,eval/public/arcd-train.json]

The archive is every article of the public Arabic sets (no translations, as most newsrooms' archives).
Each round measures, with one embeddings object and in turn:

- the **embedding floor**: the embedder alone encoding each of qa-bot's passages once (the same
  texts qa-bot stores, the same batches of 64 passages, the same threads) — no store, no sentences;
- the **tutorial pipeline**: RecursiveCharacterTextSplitter(1000, 200) over the article texts,
  embedded into a fresh dense-only Chroma;
- **qa-bot**: `Index.ensure()` on a fresh project (chunking, embedding, Chroma writes, the lexical
  index), as `qa-bot index` runs it.

Rates are passages per second, qa-bot's passage count over each pipeline's wall time; the ratios
(qa-bot ÷ floor, qa-bot ÷ tutorial) are what to compare, since this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import REPO, git_state, log, machine, now_iso, write_result

DEFAULT_FILES = ("eval/public/xquad-dev.ar.json", "eval/public/arcd-train.json")


def _archive(files: list[Path]) -> list[dict[str, str]]:
    from qa_bot.squad import load_squad

    out = []
    for path in files:
        out += [a.record() for a in load_squad(path, json.loads(path.read_text(encoding="utf-8")))]
    return out


def _qa_bot(settings: Any, embeddings: Any, records: list[dict[str, str]]) -> dict[str, Any]:
    from qa_bot.index import Index

    with tempfile.TemporaryDirectory(prefix="bench-indexing-") as tmp:
        root = Path(tmp)
        (root / "seeds").mkdir()
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        (root / "seeds" / "archive.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        project = dataclasses.replace(settings, root=root, seeds_dir=None, index_dir=None, data_dir=None, chroma_url="")
        index = Index(project, embeddings)
        began = time.perf_counter()
        report = index.ensure()
        seconds = time.perf_counter() - began
        chunks = index.chunks()
        vectors = index.store._collection.count()
    assert report is not None
    return {"seconds": seconds, "passages": report.added, "vectors": vectors, "texts": [c.text for c in chunks]}


def _floor(embeddings: Any, texts: list[str]) -> float:
    began = time.perf_counter()
    for i in range(0, len(texts), 64):
        embeddings.embed_documents(texts[i : i + 64])
    return time.perf_counter() - began


def _tutorial(embeddings: Any, records: list[dict[str, str]]) -> dict[str, Any]:
    from langchain_core.documents import Document

    from .tutorial import TutorialPipeline

    pipeline = TutorialPipeline(embeddings)
    try:
        began = time.perf_counter()
        added = pipeline.add([Document(r["text"]) for r in records])
        return {"seconds": time.perf_counter() - began, "chunks": added["chunks_added"]}
    finally:
        pipeline.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.indexing", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--files", default=",".join(DEFAULT_FILES))
    parser.add_argument("--out", type=Path, help="write the result here instead of bench/results/indexing.json")
    args = parser.parse_args(argv)

    from qa_bot.config import Settings
    from qa_bot.models import make_embeddings, warm_up

    files = [REPO / f for f in args.files.split(",")]
    records = _archive(files)
    settings = Settings.from_env()
    embeddings = make_embeddings(settings)
    warm_up(embeddings)
    rounds: list[dict[str, Any]] = []
    for n in range(args.rounds):
        mine = _qa_bot(settings, embeddings, records)
        floor = _floor(embeddings, mine.pop("texts"))
        tutorial = _tutorial(embeddings, records)
        passages = mine["passages"]
        row = {
            "qa_bot_seconds": round(mine["seconds"], 2),
            "floor_seconds": round(floor, 2),
            "tutorial_seconds": round(tutorial["seconds"], 2),
            "passages": passages,
            "vectors": mine["vectors"],
            "tutorial_chunks": tutorial["chunks"],
            "qa_bot_passages_per_s": round(passages / mine["seconds"], 1),
            "floor_passages_per_s": round(passages / floor, 1),
            "tutorial_passages_per_s": round(passages / tutorial["seconds"], 1),
            "qa_bot_vs_floor": round(floor / mine["seconds"], 3),
            "qa_bot_vs_tutorial": round(tutorial["seconds"] / mine["seconds"], 3),
        }
        log(f"indexing round {n + 1}: " + json.dumps(row))
        rounds.append(row)
    summary = {
        key: statistics.median(r[key] for r in rounds)
        for key in (
            "qa_bot_passages_per_s",
            "floor_passages_per_s",
            "tutorial_passages_per_s",
            "qa_bot_vs_floor",
            "qa_bot_vs_tutorial",
        )
    }
    result = {
        "measured_at": now_iso(),
        "command": "python -m bench.indexing " + " ".join(argv if argv is not None else sys.argv[1:]),
        "files": [str(f.relative_to(REPO)) for f in files],
        "articles": len(records),
        "embeddings": settings.embeddings,
        "threads": settings.threads,
        "machine": machine(),
        "git": git_state(),
        "rounds": rounds,
        "median": summary,
    }
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        write_result("indexing", result)
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
