"""`make train`: fit the answer selector on public QA data, with cross-validation grouped by article.

1. Collect: for each SQuAD-format training file, the articles are split into folds; for each fold
   an index of the *other* articles is built in a temporary project, the fold's questions are asked
   as out-of-archive questions (every candidate a negative) and the next fold's as answerable ones
   (a candidate is positive when it holds the gold answer). So every question is asked once inside
   and once outside the archive, against an index that really lacks its article.
2. Fit and report: logistic regression, cross-validated by article (no article is scored by a model
   trained on it); the refusal threshold is chosen on those held-out predictions.
3. Save: coefficients, threshold, provenance and the cross-validated figures in `qa_bot/selector.json`.

    python -m qa_bot.train collect --out build/train-rows.npz   # the slow part (indexing, asking)
    python -m qa_bot.train fit build/train-rows.npz             # fit, report, write selector.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings
from .selector import FEATURES, features
from .squad import SquadArticle, SquadQuestion, load_squad, replace_questions, write_archive
from .text import detect_language, normalise
from .types import Language

log = logging.getLogger("qa_bot.train")

FOLDS = 4


@dataclasses.dataclass(frozen=True)
class _Set:
    name: str
    articles: str
    questions: str | None = None


def _contains(text: str, answers: Sequence[str]) -> bool:
    key = normalise(" ".join(text.split()))
    return any(normalise(" ".join(a.split())) in key for a in answers)


@contextmanager
def temporary_bot(settings: Settings, articles: Sequence[SquadArticle], left_out: frozenset[str]) -> Iterator[Any]:
    """A Bot over `articles` minus `left_out`, in a throw-away project."""
    from .bot import Bot

    with tempfile.TemporaryDirectory(prefix="qa-bot-train-") as tmp:
        root = Path(tmp)
        (root / "seeds").mkdir()
        write_archive(articles, left_out, root / "seeds" / "archive.jsonl")
        project = dataclasses.replace(settings, root=root, seeds_dir=None, index_dir=None, data_dir=None, chroma_url="")
        yield Bot.from_settings(project)


def question_rows(bot: Any, q: SquadQuestion, inside: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows of every candidate sentence for `q`, with labels (sentence holds the answer,
    passage holds it)."""
    from .answer import _provides, answer_needs

    retriever = bot.retriever
    question = q.question.strip()
    language: Language = "ar" if detect_language(question) == "ar" else "en"
    vector = retriever.embed(question)
    candidates = retriever.search(question, vector=vector)
    primary = retriever.score_sentences(candidates, question, vector)
    rows = features(retriever, question, language, candidates, primary, answer_needs(question), _provides)
    if not rows:
        empty = np.zeros((0, len(FEATURES)))
        return empty, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    x = np.stack([r.vector for r in rows])
    sentence = np.array([inside and _contains(f"{r.sentence.sentence.text}", q.answers) for r in rows], dtype=bool)
    passage = np.array([inside and _contains(r.sentence.chunk.text, q.answers) for r in rows], dtype=bool)
    return x, sentence, passage


def collect(settings: Settings, sets: Sequence[_Set], folds: int = FOLDS, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows for every question of every set, asked inside and outside the archive."""
    columns: dict[str, list[Any]] = {
        k: [] for k in ("x", "sentence", "passage", "question", "group", "set", "lang", "inside")
    }
    qid = 0
    for spec in sets:
        path = Path(spec.articles)
        articles = load_squad(path, json.loads(path.read_text(encoding="utf-8")))
        variants = [articles]
        if spec.questions:
            qpath = Path(spec.questions)
            variants.append(replace_questions(articles, qpath, json.loads(qpath.read_text(encoding="utf-8"))))
        ids = sorted(a.id for a in articles)
        random.Random(seed).shuffle(ids)
        fold_of = {a: i % folds for i, a in enumerate(ids)}
        for k in range(folds):
            left_out = frozenset(a for a, f in fold_of.items() if f == k)
            log.warning("%s: fold %d/%d, %d articles left out", spec.name, k + 1, folds, len(left_out))
            with temporary_bot(settings, articles, left_out) as bot:
                for variant in variants:
                    for article in variant:
                        fold = fold_of[article.id]
                        if fold not in (k, (k + 1) % folds):
                            continue
                        inside = fold != k
                        for q in article.questions:
                            x, sentence, passage = question_rows(bot, q, inside)
                            n = len(x)
                            columns["x"].append(x)
                            columns["sentence"].append(sentence)
                            columns["passage"].append(passage)
                            columns["question"].append(np.full(n, qid))
                            columns["group"].append(np.full(n, f"{spec.name}:{article.id}"))
                            columns["set"].append(np.full(n, spec.name))
                            columns["lang"].append(np.full(n, detect_language(q.question)))
                            columns["inside"].append(np.full(n, inside))
                            qid += 1
    return {k: np.concatenate(v) for k, v in columns.items()}


def _top_rows(p: np.ndarray, question: np.ndarray) -> np.ndarray:
    """Index of each question's most probable row."""
    order = np.lexsort((-p, question))
    first = np.ones(len(order), dtype=bool)
    first[1:] = question[order][1:] != question[order][:-1]
    return order[first]


def figures(data: dict[str, np.ndarray], p: np.ndarray, threshold: float) -> dict[str, dict[str, Any]]:
    """Per set and language, from held-out probabilities `p`: the best sentence's passage / the
    sentence itself holds the answer (and it is not refused), false abstention, out-of-archive refusal."""
    top = _top_rows(p, data["question"])
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(data["set"][top])):
        for lang in sorted(set(data["lang"][top])):
            rows = top[(data["set"][top] == name) & (data["lang"][top] == lang)]
            if not len(rows):
                continue
            inside, outside = rows[data["inside"][rows]], rows[~data["inside"][rows]]
            answered = p[inside] >= threshold
            out[f"{name}-{lang}"] = {
                "questions": len(inside),
                "cite_at_1": round(float(np.mean(data["passage"][inside] & answered)), 3),
                "answer_in_text": round(float(np.mean(data["sentence"][inside] & answered)), 3),
                "false_abstention": round(float(np.mean(~answered)), 3),
                "out_of_archive": len(outside),
                "out_of_archive_refused": round(float(np.mean(p[outside] < threshold)), 3) if len(outside) else None,
            }
    return out


def fit(data: dict[str, np.ndarray], folds: int = 5) -> tuple[Any, np.ndarray]:
    """Logistic regression on all rows, and held-out probabilities from folds grouped by article."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def model() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))

    x, y, groups = data["x"], data["sentence"], data["group"]
    held_out = np.zeros(len(y))
    for train, test in GroupKFold(folds).split(x, y, groups):
        held_out[test] = model().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return model().fit(x, y), held_out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa_bot.train")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="ask every question inside and outside the archive; save feature rows")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--public", type=Path, default=Path("eval/public"))
    f = sub.add_parser("fit", help="fit on the rows, report grouped cross-validated figures")
    f.add_argument("rows", type=Path)
    f.add_argument("--threshold", type=float, action="append", help="refusal thresholds to report (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="train: %(message)s")
    if args.command == "collect":
        p = args.public
        sets = [
            _Set("xquad", str(p / "xquad-dev.ar.json"), str(p / "xquad-dev.en.json")),
            _Set("arcd", str(p / "arcd-train.json")),
        ]
        data = collect(Settings.from_env(), sets)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.out, **data)  # type: ignore[arg-type]
        sys.stdout.write(f"{len(data['x'])} rows, {len(set(data['question']))} questions → {args.out}\n")
        return 0
    loaded = np.load(args.rows)
    data = {k: loaded[k] for k in loaded.files}
    model, held_out = fit(data)
    sys.stdout.write("feature weights (per standard deviation):\n")
    for name, weight in sorted(zip(FEATURES, model[-1].coef_[0], strict=True), key=lambda t: -abs(t[1])):
        sys.stdout.write(f"  {name:<18} {weight:+.3f}\n")
    for threshold in args.threshold or [0.0, 0.1, 0.2, 0.3]:
        sys.stdout.write(f"threshold {threshold:g} (held out, grouped by article):\n")
        for key, row in figures(data, held_out, threshold).items():
            sys.stdout.write(f"  {key:<10} {json.dumps(row)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
