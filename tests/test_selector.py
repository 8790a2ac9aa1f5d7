"""Answer-selection features and the model file they feed."""

from __future__ import annotations

import numpy as np
import pytest

from qa_bot.answer import _provides, answer_needs
from qa_bot.selector import FEATURES, Row, Selector, features


def _rows(bot, question: str, language: str = "en") -> list[Row]:
    retriever = bot.retriever
    vector = retriever.embed(question)
    candidates = retriever.search(question, vector=vector)
    primary = retriever.score_sentences(candidates, question, vector)
    return features(retriever, question, language, candidates, primary, answer_needs(question), _provides)


def test_every_candidate_sentence_gets_one_named_finite_vector(bot) -> None:
    rows = _rows(bot, "How many hours did the meeting between Kerry and Putin last?")
    assert len(rows) > 8 and all(r.vector.shape == (len(FEATURES),) and np.isfinite(r.vector).all() for r in rows)
    col = {name: np.stack([r.vector for r in rows])[:, i] for i, name in enumerate(FEATURES)}
    assert col["dense_gap"].max() == 0.0 and col["coverage_gap"].max() == 0.0 and col["rank"].max() == 1.0
    assert set(col["type_fit"]) <= {-1.0, 1.0} and 1.0 in col["type_fit"]  # "how many" asks for a number
    best = rows[int(np.argmax(col["coverage"]))].sentence.sentence
    assert "four" in (best.translation or "") or "4" in best.text


def test_terms_the_archive_lacks_raise_the_unseen_share(bot) -> None:
    known = _rows(bot, "What did Lavrov say about NATO?")
    unknown = _rows(bot, "What did the Pope say about the football championship in Brazil?")
    unseen = FEATURES.index("unseen")
    assert known[0].vector[unseen] == 0.0 and unknown[0].vector[unseen] > 0.5


def test_a_model_file_round_trips_and_names_its_features() -> None:
    n = len(FEATURES)
    model = Selector(np.zeros(n), np.ones(n), np.linspace(-1, 1, n), 0.5, 0.3, {"trained_on": "test"})
    again = Selector.from_dict(model.to_dict())
    row = Row(None, np.ones(n))  # type: ignore[arg-type]
    assert again.probabilities([row]) == pytest.approx(model.probabilities([row]))
    assert again.threshold == 0.3 and again.about == {"trained_on": "test"}
    stale = {**model.to_dict(), "features": list(FEATURES[:-1])}
    with pytest.raises(ValueError, match="make train"):
        Selector.from_dict(stale)
