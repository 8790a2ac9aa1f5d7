"""Answer selection as a small learned model: features per candidate sentence → P(it answers).

`features()` turns what retrieval found for a question into one named, ordered vector per
candidate sentence; `Selector` (coefficients and a threshold in `selector.json`, written by
`make train`) turns a vector into the probability that the sentence answers the question.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from .retrieve import Candidate, HybridRetriever, ScoredSentence
from .text import detect_language, normalise, numbers, tokens
from .types import Language

# The order of the vector; the model file names them, so a mismatch is caught when it loads.
FEATURES = (
    "dense",  # best similarity of the sentence (or a clause of it, either language) to the question
    "dense_gap",  # that minus the best sentence's: 0 for the best
    "dense_passage",  # the passage's best similarity
    "coverage",  # idf-weighted share of the question's terms in the sentence (synonyms, partial words)
    "coverage_gap",
    "coverage_passage",
    "phrase",  # share of the question's word pairs found side by side
    "rank",  # 1 / (passage rank)
    "fused",  # the passage's fused score relative to the best passage's
    "lexical",  # the passage's BM25 score relative to the best (0 when nothing matched lexically)
    "readable",  # the sentence (or its translation) is in the question's language
    "cross_dense",  # dense, for a sentence that is not (cross-lingual evidence)
    "type_fit",  # +1 the question asks for a number/time/age and the sentence has one, -1 it has none
    "unseen",  # share of the question's term weight that no passage of the archive uses
    "article_missing",  # share that the sentence's article does not use
    "numbers",  # share of the question's numbers found in the sentence
    "length",  # log of the sentence's word count
    "rare_coverage",  # coverage with squared idf weights: the rare terms (names) count most
    "rarest_in_article",  # the question's rarest known term is in the sentence's article
    "rarest_in_sentence",  # ... in the sentence itself
    "title",  # share of the question's term weight in the article's title
    "neighbour_dense",  # the best similarity of the sentence before or after it
)


@dataclass(frozen=True)
class Row:
    """One candidate sentence and its feature vector."""

    sentence: ScoredSentence
    vector: np.ndarray


def features(
    retriever: HybridRetriever,
    question: str,
    language: Language,
    candidates: Sequence[Candidate],
    primary: Sequence[ScoredSentence],
    needs: Sequence[str] = (),
    provides: Any = None,
) -> list[Row]:
    """The feature vector of every candidate sentence (`primary`) for `question`."""
    if not primary:
        return []
    qterms = retriever.query_terms(question)
    total = sum(qterms.weights.values()) or 1.0
    df = retriever.document_frequency
    unseen = sum(w for t, w in qterms.weights.items() if not df(t)) / total
    rank = {c.chunk.id: i for i, c in enumerate(candidates)}
    by_id = {c.chunk.id: c for c in candidates}
    top_fused = max((c.fused for c in candidates), default=1.0) or 1.0
    top_lexical = max((c.lexical for c in candidates), default=0.0)
    best_dense = max(s.dense for s in primary)
    best_coverage = max(s.coverage for s in primary)
    asked_numbers = set(numbers(question))
    squared = {t: w * w for t, w in qterms.weights.items()}
    squared_total = sum(squared.values()) or 1.0
    known = [t for t in qterms.weights if df(t)]
    rarest = max(known, key=lambda t: qterms.weights[t]) if known else None
    dense_at = {(s.chunk.id, s.idx): s.dense for s in primary}
    missing: dict[str, float] = {}
    titled: dict[str, float] = {}
    rows = []
    for s in primary:
        c = by_id[s.chunk.id]
        article = s.chunk.article_id
        used = retriever.article_terms(article)
        if article not in missing:
            missing[article] = sum(w for t, w in qterms.weights.items() if t not in used) / total
            title = set(tokens(s.chunk.title))
            titled[article] = sum(w for t, w in qterms.weights.items() if t in title) / total
        in_sentence = retriever.sentence_terms(s.chunk.id, s.idx)
        sentence = s.sentence
        text = f"{sentence.text} {sentence.translation or ''}"
        readable = detect_language(sentence.text) == language or bool(
            sentence.translation and detect_language(sentence.translation) == language
        )
        found = set(numbers(text))
        fit = 0.0
        if needs and provides is not None:
            fit = 1.0 if provides(s, needs) else -1.0
        vector = [
            s.dense,
            s.dense - best_dense,
            c.dense,
            s.coverage,
            s.coverage - best_coverage,
            c.coverage,
            s.phrase,
            1.0 / (rank[c.chunk.id] + 1),
            c.fused / top_fused,
            c.lexical / top_lexical if top_lexical > 0 else 0.0,
            1.0 if readable else 0.0,
            0.0 if readable else s.dense,
            fit,
            unseen,
            missing[article],
            len(asked_numbers & found) / len(asked_numbers) if asked_numbers else 0.0,
            math.log1p(len(normalise(sentence.text).split())),
            sum(w for t, w in squared.items() if t in in_sentence) / squared_total,
            1.0 if rarest is not None and rarest in used else 0.0,
            1.0 if rarest is not None and rarest in in_sentence else 0.0,
            titled[article],
            max(dense_at.get((s.chunk.id, s.idx - 1), 0.0), dense_at.get((s.chunk.id, s.idx + 1), 0.0)),
        ]
        rows.append(Row(s, np.asarray(vector, dtype=np.float64)))
    return rows


@dataclass(frozen=True)
class Selector:
    """Logistic regression over standardised features: P(sentence answers) and the refusal threshold."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    about: dict[str, Any]

    def probabilities(self, rows: Sequence[Row]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        x = (np.stack([r.vector for r in rows]) - self.mean) / self.scale
        return np.asarray(1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept))), dtype=np.float64)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Selector:
        if tuple(data["features"]) != FEATURES:
            raise ValueError("the selector model was trained on other features: run `make train`")
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
            float(data["threshold"]),
            dict(data.get("about", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 6),
            "about": self.about,
        }


@cache
def shipped_selector() -> Selector | None:
    """The model in the package (`qa_bot/selector.json`), or None before the first `make train`."""
    resource = files("qa_bot").joinpath("selector.json")
    if not resource.is_file():
        return None
    return Selector.from_dict(json.loads(resource.read_text(encoding="utf-8")))
