"""How many of the exact nearest passages does the store's search return? `python -m bench.recall
--root PROJECT [--beams 100,200,400] [--questions 300]`.

Embeds a seeded sample of the public sets' questions (XQuAD-dev in Arabic and English, ARCD-train),
works out each one's exact 40 nearest store records by brute force over the vectors the store holds
(cosine), and asks a copy of the project's store, once per HNSW search beam (`ef_search`, set on the
copy; each beam measured in a fresh process, as Chroma reads it when it opens a collection), for the
same 40. Prints recall@40 (mean, 10th percentile, worst) and the query time. A measurement, not a
test; the project's own index is only read.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import REPO, dense_k, log
from .public import public_sets

SEED = 7


def _measure(index: Path, name: str, data: Path) -> dict[str, float]:
    """Recall@40 and query time of the store in `index` for the query vectors in `data`."""
    import chromadb

    arrays = np.load(data)
    exact = arrays["exact"]
    k = exact.shape[1]
    collection = chromadb.PersistentClient(str(index)).get_collection(name)
    for v in arrays["queries"][:5]:  # warm: the first query loads the graph
        collection.query(query_embeddings=[v], n_results=k, include=["distances"])
    recalls, times = [], []
    for v, want in zip(arrays["queries"], exact, strict=True):
        began = time.perf_counter()
        got = collection.query(query_embeddings=[v], n_results=k, include=["distances"])["ids"][0]
        times.append(time.perf_counter() - began)
        recalls.append(len(set(got) & set(want.tolist())) / k)
    return {
        "recall": round(float(np.mean(recalls)), 3),
        "p10": round(float(np.percentile(recalls, 10)), 3),
        "worst": round(float(min(recalls)), 3),
        "ms": round(statistics.median(times) * 1000, 2),
        "beam": collection.configuration["hnsw"]["ef_search"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recall", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="a qa-bot project with its index built")
    parser.add_argument("--beams", default="100,200,400", help="search beams to try (default %(default)s)")
    parser.add_argument("--questions", type=int, default=300, help="questions sampled (default 300)")
    parser.add_argument("--measure", nargs=3, metavar=("INDEX", "COLLECTION", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        index, name, data = args.measure
        sys.stdout.write(json.dumps(_measure(Path(index), name, Path(data))) + "\n")
        return
    if args.root is None:
        parser.error("--root is required")

    from qa_bot.bot import Bot
    from qa_bot.config import Settings

    bot = Bot.from_settings(Settings.from_env(root=args.root.resolve()), refresh=False)
    collection = bot.index.store._collection
    questions = [q.question for s in public_sets() for a in s.articles for q in a.questions]
    random.Random(SEED).shuffle(questions)
    questions = questions[: args.questions]
    queries = np.stack([bot.retriever.embed(q) for q in questions])
    held = collection.get(include=["embeddings"])
    ids = np.asarray(held["ids"])
    vectors = np.asarray(held["embeddings"], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    k = dense_k()
    exact = np.stack([ids[np.argsort(-(vectors @ (q / np.linalg.norm(q))))[:k]] for q in queries])
    log(f"{len(ids):,} store records, {len(questions)} questions; exact top-{k} by brute force")
    with tempfile.TemporaryDirectory(prefix="bench-recall-") as tmp:
        data = Path(tmp) / "queries.npz"
        np.savez(data, queries=queries, exact=exact)
        for beam in (int(b) for b in args.beams.split(",")):
            copy = Path(tmp) / f"index-{beam}"
            shutil.copytree(bot.index.path, copy)
            setting = [sys.executable, "-c", _SET_BEAM, str(copy), collection.name, str(beam)]
            subprocess.run(setting, check=True, capture_output=True)
            out = subprocess.run(
                [sys.executable, "-m", "bench.recall", "--measure", str(copy), collection.name, str(data)],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            log(
                f"search beam {r['beam']}: recall@{k} {r['recall']:.3f} (10th percentile {r['p10']:.2f}, "
                f"worst {r['worst']:.2f}), {r['ms']:.2f} ms a query (median)"
            )
            shutil.rmtree(copy)


_SET_BEAM = (
    "import sys, chromadb; "
    "chromadb.PersistentClient(sys.argv[1]).get_collection(sys.argv[2])"
    ".modify(configuration={'hnsw': {'ef_search': int(sys.argv[3])}})"
)


if __name__ == "__main__":
    main()
