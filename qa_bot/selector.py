"""Answer selection as a small learned model: features per candidate sentence → P(it answers).

`features()` turns what retrieval found for a question into one named, ordered vector per
candidate sentence; `Selector` (coefficients and a threshold in `selector.json`, written by
`make train`) turns a vector into the probability that the sentence answers the question.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import numpy as np

from .errors import ConfigError
from .facts import facts_of, word_shapes
from .retrieve import Candidate, HybridRetriever, ScoredSentence
from .text import detect_language, normalise, numbers, tokens, word_count
from .translit import foreign_spelling, skeleton, skeletons_match
from .types import Language

MODEL_FILE = "selector.json"

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
    "names",  # share of the question's Latin-script names found, transliterated, in the sentence
    "names_passage",  # ... in its passage
    "local_coverage",  # coverage with each term weighted by how few of the candidate sentences have it
    "entity_fit",  # +1 the question asks who/where and the sentence names someone or somewhere, -1 it names none
    "dense_above_pool",  # dense minus the median best-sentence similarity of every passage the search looked at
)


_WORD = re.compile(r"\w+")


_ASKS_ENTITY = re.compile(
    r"^\W*(who|whom|where)\b|\b(which|what) (city|country|countries|cities|town|place|person|people|region|state)\b"
    r"|^\W*(من|اين|الى اين)\s|\bاي (مدينه|دوله|بلد|مكان|منطقه|شخص|مدن|دول)\b"
)


@lru_cache(maxsize=1 << 16)
def _names_someone(text: str) -> bool:
    """The text names a person, place or organisation: a capitalised name (English), a name after a
    title or place noun, or a word spelled like a transliterated foreign name (Arabic)."""
    if facts_of(text).names:
        return True
    return any(foreign_spelling(w) for w in _WORD.findall(text) if not w.isascii())


@lru_cache(maxsize=1 << 12)
def _title_terms(title: str) -> frozenset[str]:
    return frozenset(tokens(title))


def _question_names(question: str) -> list[list[str]]:
    """The skeletons of each Latin-script name in the question ("Kerry", "Sergei Lavrov")."""
    out = []
    for name in facts_of(question).names:
        if name.surface.isascii():
            parts = [skeleton(p) for p in name.surface.split()]
            if parts := [p for p in parts if len(p) >= 2]:
                out.append(parts)
    return out


def _names_found(names: list[list[str]], shapes: frozenset[str]) -> float:
    """Share of `names` with a part that matches one of `shapes`."""
    if not names:
        return 0.0
    hits = sum(any(skeletons_match(part, s) for part in parts for s in shapes) for parts in names)
    return hits / len(names)


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

    def has(
        term: str, terms: set[str] | frozenset[str], crosslingual: bool = True, shapes: frozenset[str] = frozenset()
    ) -> bool:
        return (
            term in terms
            or not qterms.alternatives(term, crosslingual).isdisjoint(terms)
            or (crosslingual and qterms.named(term, shapes))
        )

    unseen = sum(w for t, w in qterms.weights.items() if not retriever.knows(t)) / total
    rank = {c.chunk.id: i for i, c in enumerate(candidates)}
    by_id = {c.chunk.id: c for c in candidates}
    top_fused = max((c.fused for c in candidates), default=1.0) or 1.0
    top_lexical = max((c.lexical for c in candidates), default=0.0)
    best_dense = max(s.dense for s in primary)
    best_coverage = max(s.coverage for s in primary)
    asked_numbers = set(numbers(question))
    squared = {t: w * w for t, w in qterms.weights.items()}
    squared_total = sum(squared.values()) or 1.0
    known = [t for t in qterms.weights if retriever.knows(t)]
    rarest = max(known, key=lambda t: qterms.weights[t]) if known else None
    dense_at = {(s.chunk.id, s.idx): s.dense for s in primary}
    names = _question_names(question)
    names_passage: dict[str, float] = {}
    # Within one article every term is "rare" archive-wide: what tells sentences apart is which
    # of the question's terms few of the candidates share.
    held = [retriever.sentence_terms(s.chunk.id, s.idx) for s in primary]
    bare = [not s.sentence.translation for s in primary]
    # names across scripts: the words' skeletons, where a Latin name of the question can be spelled
    spelled = [
        word_shapes(s.sentence.text) if qterms.names and u else frozenset() for s, u in zip(primary, bare, strict=True)
    ]
    # which question terms each sentence holds, worked out once for the three features that read it
    holds = [{t for t in qterms.weights if has(t, h, u, sh)} for h, u, sh in zip(held, bare, spelled, strict=True)]
    local = {t: w * math.log(1 + len(held) / (1 + sum(t in h for h in holds))) for t, w in qterms.weights.items()}
    local_total = sum(local.values()) or 1.0
    asks_entity = bool(_ASKS_ENTITY.search(normalise(question)))
    # what depends on the sentence's article only: its share of missing terms, the title's, the rarest term
    per_article: dict[str, tuple[float, float, float]] = {}
    rows = []
    for s, in_sentence in zip(primary, holds, strict=True):
        c = by_id[s.chunk.id]
        article = s.chunk.article_id
        if article not in per_article:
            used = retriever.article_terms(article)
            named = retriever.article_shapes(article) if qterms.names else frozenset()
            title = _title_terms(s.chunk.title)
            per_article[article] = (
                sum(w for t, w in qterms.weights.items() if not has(t, used, True, named)) / total,
                sum(w for t, w in qterms.weights.items() if has(t, title)) / total,
                1.0 if rarest is not None and has(rarest, used, True, named) else 0.0,
            )
        missing, titled, rarest_in_article = per_article[article]
        sentence = s.sentence
        text = f"{sentence.text} {sentence.translation or ''}"
        readable = detect_language(sentence.text) == language or bool(
            sentence.translation and detect_language(sentence.translation) == language
        )
        if names and c.chunk.id not in names_passage:
            names_passage[c.chunk.id] = _names_found(names, word_shapes(c.chunk.text))
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
            missing,
            len(asked_numbers.intersection(numbers(text))) / len(asked_numbers) if asked_numbers else 0.0,
            math.log1p(word_count(sentence.text)),
            sum(w for t, w in squared.items() if t in in_sentence) / squared_total,
            rarest_in_article,
            1.0 if rarest in in_sentence else 0.0,
            titled,
            max(dense_at.get((s.chunk.id, s.idx - 1), 0.0), dense_at.get((s.chunk.id, s.idx + 1), 0.0)),
            _names_found(names, word_shapes(sentence.text)) if names else 0.0,
            names_passage.get(c.chunk.id, 0.0),
            sum(w for t, w in local.items() if t in in_sentence) / local_total,
            (1.0 if _names_someone(text) else -1.0) if asks_entity else 0.0,
            s.dense - s.background,
        ]
        rows.append(Row(s, np.asarray(vector, dtype=np.float64)))
    return rows


@dataclass(frozen=True)
class Logistic:
    """Logistic regression over standardised inputs (what scikit-learn fitted, as plain numbers)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def linear(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept, dtype=np.float64)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.linear(x))), dtype=np.float64)

    @classmethod
    def from_dict(cls, data: dict[str, Any], width: int) -> Logistic:
        mean, scale, coef = (np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef"))
        model = cls(mean, scale, coef, float(data["intercept"]))
        if not model.mean.shape == model.scale.shape == model.coef.shape == (width,):
            raise ValueError(f"expected {width} weights")
        return model

    def to_dict(self) -> dict[str, Any]:
        def r(v: np.ndarray) -> list[float]:
            return [round(float(x), 6) for x in v]

        return {
            "mean": r(self.mean),
            "scale": r(self.scale),
            "coef": r(self.coef),
            "intercept": round(self.intercept, 6),
        }


# The gate sees the best sentence's score, its margin over the runner-up, its share of the softmax
# over the question's sentences, and the best sentence's features.
GATE_INPUTS = ("score", "margin", "share", *FEATURES)
# ... but not how similar the best sentence is in absolute terms: the more passages an archive
# has, the closer its closest one comes to any question, answered there or not (the gate is fitted
# on archives of a few hundred passages; a newsroom's has tens of thousands). How far the sentence
# stands above the passages the search looked at (`dense_above_pool`), and the question's words it
# holds, carry over from one archive size to another. The ranker still uses them all.
NOT_GATED = ("dense", "dense_passage", "neighbour_dense", "cross_dense")
_NOT_GATED = [GATE_INPUTS.index(f) for f in NOT_GATED]
# The direction each input may move the gate's confidence in (`make train` drops an input whose fitted
# weight points the other way, and refits): the more the best sentence holds of the question, the
# closer it stands to the best-matching sentence and the more it stands out, the surer the answer;
# the more of the question the archive or its article lacks, the less sure. Fitted without this on
# archives of a few hundred passages, the gate had learned that a sentence far below the best one in
# similarity (kept because it alone has the asked-for number or date) is *more* likely right —
# true there, and false in an archive of thousands of passages, where such a sentence is a
# distractor's ("How old is John Kerry?" answered with a hadith on "the old age of" the Prophet).
_RAISE_CONFIDENCE = (
    *("score", "margin", "share", "dense_gap", "coverage", "coverage_gap", "coverage_passage", "phrase", "rank"),
    *("fused", "lexical", "rare_coverage", "rarest_in_article", "rarest_in_sentence", "title", "names"),
    *("names_passage", "local_coverage", "numbers", "dense_above_pool", "type_fit", "entity_fit"),
)
_LOWER_CONFIDENCE = ("unseen", "article_missing")
GATE_SIGNS: dict[str, int] = {
    **dict.fromkeys(_RAISE_CONFIDENCE, 1),
    **dict.fromkeys(_LOWER_CONFIDENCE, -1),
}  # free: length, readable


def gate_signs() -> np.ndarray:
    """`GATE_SIGNS` as a vector over `GATE_INPUTS` (0: either way)."""
    return np.array([GATE_SIGNS.get(name, 0) for name in GATE_INPUTS], dtype=np.int64)


NO_RUNNER_UP = 10.0  # the margin when there is a single candidate sentence


def gate_input(scores: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The gate's input for one question, from its sentences' ranker scores (in any order)."""
    order = np.argsort(-scores, kind="stable")
    best = float(scores[order[0]])
    margin = best - float(scores[order[1]]) if len(order) > 1 else NO_RUNNER_UP
    share = 1.0 / float(np.sum(np.exp(scores - best)))
    out = np.concatenate([[best, margin, share], vectors[order[0]]])
    out[_NOT_GATED] = 0.0
    return out


@dataclass(frozen=True)
class Selector:
    """Two small linear models. `ranker` scores each candidate sentence (trained pairwise: a sentence
    that answers the question should outscore one of the same question that does not); `gate` gives,
    from the best-scored sentence, P(answering is right), and the bot refuses below `threshold`."""

    ranker: Logistic
    gate: Logistic
    threshold: float
    about: dict[str, Any]

    def scores(self, rows: Sequence[Row]) -> np.ndarray:
        """The ranker's score of each row (higher: more likely the answer; differences are log-odds)."""
        if not rows:
            return np.zeros(0)
        return self.ranker.linear(np.stack([r.vector for r in rows]))

    def confidence(self, rows: Sequence[Row], scores: np.ndarray) -> float:
        """P(answering with the best of `rows` is right), given their ranker `scores`."""
        if not rows:
            return 0.0
        return float(self.gate(gate_input(scores, np.stack([r.vector for r in rows]))[None, :])[0])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Selector:
        if tuple(data["features"]) != FEATURES:
            raise ValueError("it was trained on other features")
        return cls(
            Logistic.from_dict(data["ranker"], len(FEATURES)),
            Logistic.from_dict(data["gate"], len(GATE_INPUTS)),
            float(data["threshold"]),
            dict(data.get("about", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "ranker": self.ranker.to_dict(),
            "gate": self.gate.to_dict(),
            "threshold": round(self.threshold, 6),
            "about": self.about,
        }


@cache
def shipped_selector() -> Selector:
    """The model shipped in the package (`qa_bot/selector.json`, written by `make train`)."""
    resource = files("qa_bot").joinpath(MODEL_FILE)
    if not resource.is_file():
        raise ConfigError(f"the answer selector qa_bot/{MODEL_FILE} is missing: run `make train`")
    try:
        return Selector.from_dict(json.loads(resource.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"the answer selector qa_bot/{MODEL_FILE} is unusable ({exc}): run `make train`") from exc
