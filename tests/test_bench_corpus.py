"""The benchmark's recombined distractors (bench/corpus.py): deterministic, made of real pieces of
different records. Synthetic records only: the hadith packages are benchmark-only installs."""

from __future__ import annotations

import itertools
import re

from bench.corpus import pieces, recombine

ARABIC = [
    "حدثنا فلان، عن فلان، قال: " + "كان الناس يجتمعون في السوق كل يوم، " * 12 + f"وهذا الحديث رقم {i}."
    for i in range(12)
]
ENGLISH = [
    " ".join(
        f"Sentence {j} of record {i} says something plain about the market, the river or the road." for j in range(6)
    )
    for i in range(12)
]
RECORDS = [{"id": f"ar-{i}", "text": t, "lang": "ar"} for i, t in enumerate(ARABIC)] + [
    {"id": f"en-{i}", "text": t, "lang": "en"} for i, t in enumerate(ENGLISH)
]


def _take(n: int, seed: int = 12) -> list[dict[str, str]]:
    return list(itertools.islice(recombine(RECORDS, seed), n))


def test_pieces_are_sentences_and_runs_of_a_long_sentences_clauses() -> None:
    assert (
        pieces(ENGLISH[0])[0] == "Sentence 0 of record 0 says something plain about the market, the river or the road."
    )
    assert pieces("Short one. Short two. " + ENGLISH[1])[0].startswith("Short one. Short two. Sentence 0")
    arabic = pieces(ARABIC[0])
    assert len(arabic) > 3  # one long sentence, cut at its commas
    assert "".join(arabic).replace(" ", "") == ARABIC[0].replace(" ", "")  # nothing lost or added
    assert all(len(p) >= 80 for p in arabic[:-1])


def test_recombination_is_deterministic_and_seeded() -> None:
    first, again = _take(40), _take(40)
    assert first == again
    assert first != _take(40, seed=13)
    assert _take(10) == first[:10]  # a smaller size is a prefix of a larger one


def test_recombined_records_mix_pieces_of_different_records() -> None:
    made = _take(60)
    assert [r["lang"] for r in made[:4]] == ["ar", "en", "ar", "en"]
    assert len({r["id"] for r in made}) == len(made)
    sentence = re.compile(r"[^.]+\.")
    owner = {m.group().strip(): r["id"] for r in RECORDS if r["lang"] == "en" for m in sentence.finditer(r["text"])}
    originals = {r["text"] for r in RECORDS}
    for record in made:
        assert record["text"] not in originals
        assert "translation" not in record
        if record["lang"] == "en":  # each source record gives one run of its sentences, at most
            sources = [owner[m.group().strip()] for m in sentence.finditer(record["text"])]
            runs = [k for k, _ in itertools.groupby(sources)]
            assert len(runs) == len(set(runs)) >= 2
