"""What each kind of embedded record buys: passage, mean of sentences, sentence, clause.

    python -m bench.record_kinds [--files eval/public/xquad-dev.ar.json,eval/public/arcd-train.json]

On the articles of the public Arabic sets (qa-bot's own passages, no translations), every question is
answered by brute force from four kinds of vector, and scored on whether the passage ranked first
(top-1) or one of the first four (top-4) holds a gold answer:

- **passage**: the passage embedded as one text (what qa-bot stored before);
- **mean of sentences**: the normalised mean of its sentences' vectors (what qa-bot stores now);
- **best sentence**: the passage scored by its most similar sentence;
- **best sentence or clause**: the same, long sentences' clauses also embedded.

Also the embedding time of each kind of text against the passages' (same model, same threads, in
this run), which is what each kind costs at indexing time. XQuAD's English questions are asked over
the same Arabic articles. Writes bench/results/record_kinds.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import REPO, git_state, log, machine, now_iso, write_result

DEFAULT_FILES = ("eval/public/xquad-dev.ar.json", "eval/public/arcd-train.json")
PARALLEL = {"eval/public/xquad-dev.ar.json": "eval/public/xquad-dev.en.json"}


def _chunks(path: Path) -> tuple[list[Any], list[Any]]:
    from qa_bot.ingest import load_corpus
    from qa_bot.squad import load_squad, write_archive

    articles = load_squad(path, json.loads(path.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory(prefix="bench-kinds-") as tmp:
        root = Path(tmp)
        (root / "seeds").mkdir()
        write_archive(articles, frozenset(), root / "seeds" / "archive.jsonl")
        return articles, load_corpus(root / "seeds", root)


def _timed(embed: Any, texts: list[str]) -> tuple[np.ndarray, float]:
    began = time.perf_counter()
    vectors = np.asarray(embed(texts), dtype=np.float32) if texts else np.zeros((0, 512), dtype=np.float32)
    return vectors, time.perf_counter() - began


def _best_by_owner(sims: np.ndarray, owner: np.ndarray, passages: int) -> np.ndarray:
    out = np.full((sims.shape[0], passages), -1.0, dtype=np.float32)
    np.maximum.at(out.T, owner, sims.T)
    return out


def _hits(scores: np.ndarray, gold: list[np.ndarray]) -> dict[str, float]:
    order = np.argsort(-scores, axis=1, kind="stable")
    top1 = np.mean([holds[o[0]] for o, holds in zip(order, gold, strict=True)])
    top4 = np.mean([holds[o[:4]].any() for o, holds in zip(order, gold, strict=True)])
    return {"top1": round(float(top1), 3), "top4": round(float(top4), 3)}


def measure(path: Path, questions_path: Path | None, embeddings: Any) -> dict[str, Any]:
    from qa_bot.squad import holds_answer, replace_questions
    from qa_bot.text import clauses

    articles, chunks = _chunks(path)
    sentences = [(i, s.text) for i, c in enumerate(chunks) for s in c.sentences]
    parts = [(i, p) for i, c in enumerate(chunks) for s in c.sentences for p in clauses(s.text)]
    embed = embeddings.embed_documents
    passage_vectors, passage_s = _timed(embed, [c.text for c in chunks])
    sentence_vectors, sentence_s = _timed(embed, [t for _, t in sentences])
    clause_vectors, clause_s = _timed(embed, [t for _, t in parts])
    owner = np.array([i for i, _ in sentences])
    clause_owner = np.array([i for i, _ in parts], dtype=np.int64)
    mean = np.zeros_like(passage_vectors)
    np.add.at(mean, owner, sentence_vectors)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    result: dict[str, Any] = {
        "file": str(path.relative_to(REPO)),
        "passages": len(chunks),
        "sentences": len(sentences),
        "clauses": len(parts),
        "chars": {
            "passages": sum(len(c.text) for c in chunks),
            "sentences": sum(len(t) for _, t in sentences),
            "clauses": sum(len(t) for _, t in parts),
        },
        "embedding_seconds": {
            "passages": round(passage_s, 2),
            "sentences": round(sentence_s, 2),
            "clauses": round(clause_s, 2),
        },
        "cost_vs_passages": {"sentences": round(sentence_s / passage_s, 3), "clauses": round(clause_s / passage_s, 3)},
        "questions": {},
    }
    asked = {"ar": articles}
    if questions_path is not None:
        asked["en"] = replace_questions(
            articles, questions_path, json.loads(questions_path.read_text(encoding="utf-8"))
        )
    gold_answers = {q.id: q.answers for a in articles for q in a.questions}
    for lang, variant in asked.items():
        questions = [q for a in variant for q in a.questions]
        query = np.asarray([embeddings.embed_query(q.question) for q in questions], dtype=np.float32)
        gold = [np.array([holds_answer(c.text, gold_answers[q.id]) for c in chunks]) for q in questions]
        best_sentence = _best_by_owner(query @ sentence_vectors.T, owner, len(chunks))
        with_clauses = best_sentence.copy()
        if len(parts):
            with_clauses = np.maximum(with_clauses, _best_by_owner(query @ clause_vectors.T, clause_owner, len(chunks)))
        result["questions"][lang] = {
            "n": len(questions),
            "passage": _hits(query @ passage_vectors.T, gold),
            "mean_of_sentences": _hits(query @ mean.T, gold),
            "best_sentence": _hits(best_sentence, gold),
            "best_sentence_or_clause": _hits(with_clauses, gold),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.record_kinds", description=__doc__)
    parser.add_argument("--files", default=",".join(DEFAULT_FILES))
    args = parser.parse_args(argv)

    from qa_bot.config import Settings
    from qa_bot.models import make_embeddings, warm_up

    settings = Settings.from_env()
    embeddings = make_embeddings(settings)
    warm_up(embeddings)
    sets = []
    for name in args.files.split(","):
        parallel = PARALLEL.get(name)
        sets.append(measure(REPO / name, REPO / parallel if parallel else None, embeddings))
        log(f"record kinds: {json.dumps(sets[-1], ensure_ascii=False)}")
    result = {
        "measured_at": now_iso(),
        "command": "python -m bench.record_kinds " + " ".join(argv if argv is not None else sys.argv[1:]),
        "embeddings": settings.embeddings,
        "threads": settings.threads,
        "machine": machine(),
        "git": git_state(),
        "sets": sets,
    }
    write_result("record_kinds", result)
    for s in sets:
        cost = s["cost_vs_passages"]
        sys.stdout.write(f"{s['file']}: sentences cost {cost['sentences']}× the passages, clauses {cost['clauses']}×\n")
        for lang, row in s["questions"].items():
            cells = "  ".join(f"{k} {v['top1']:.3f}/{v['top4']:.3f}" for k, v in row.items() if k != "n")
            sys.stdout.write(f"  {lang} ({row['n']}): {cells}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
