"""Do two builds of the same archive answer alike? `python -m bench.determinism [--questions N]`.

Indexes the benchmark's size-0 archive (the seed article and the public sets' articles, as
`bench/public.py` writes them) twice, into two fresh projects in this process, then asks both the
first N ARCD-train questions and compares, question by question: the query vectors, the store's
dense top-40 (the same query vector sent to both stores), and the answer texts; and, record by
record, the stored ids and vectors. A measurement, not a test: it prints what differs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from .common import REPO, dense_k, log
from .corpus import make_project
from .public import public_sets, write_public


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.determinism", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300, help="ARCD-train questions to ask (default 300)")
    args = parser.parse_args(argv)

    from qa_bot.bot import Bot
    from qa_bot.config import Settings

    sets = public_sets()
    bots = []
    with tempfile.TemporaryDirectory(prefix="bench-determinism-") as tmp:
        for k in range(2):
            root = make_project(Path(tmp) / f"build-{k}")
            write_public(root, sets)
            bots.append(Bot.from_settings(Settings.from_env(root=root)))
        data = json.loads((REPO / "eval" / "public" / "arcd-train.json").read_text(encoding="utf-8"))["data"]
        questions = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]][: args.questions]
        stores = [b.index.store._collection for b in bots]
        vectors = dense = answers = 0
        k = dense_k()
        for q in questions:
            v0, v1 = (b.retriever.embed(q) for b in bots)
            vectors += not np.array_equal(v0, v1)
            found = [s.query(query_embeddings=[v0], n_results=k, include=["distances"])["ids"] for s in stores]
            dense += found[0] != found[1]
            answers += bots[0].ask(q).text != bots[1].ask(q).text
        held = [s.get(include=["embeddings"]) for s in stores]
        rows = [dict(zip(h["ids"], np.asarray(h["embeddings"]), strict=True)) for h in held]
        same_ids = rows[0].keys() == rows[1].keys()
        differing = sum(not np.array_equal(v, rows[1][i]) for i, v in rows[0].items() if i in rows[1])
        log(
            f"{len(rows[0]):,} store records in each build (same ids: {same_ids}, vectors that differ: {differing}); "
            f"of {len(questions)} questions: query vectors that differ {vectors}, dense top-{k} lists that "
            f"differ {dense}, answers that differ {answers}"
        )


if __name__ == "__main__":
    main()
