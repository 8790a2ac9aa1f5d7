"""The faithfulness set: its generator, the committed file, and `qa-bot eval` on it."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO
from qa_bot import cli, faithset
from qa_bot.facts import facts
from qa_bot.faithset import _drop_negation, _month_swap, _negate, _number_swap

SET = REPO / "eval" / "faithfulness.json"
SOURCE = "وقال كيري: لقد اتفقنا على وجوب أن يكون هناك جدول زمني ومشروع دستور بحلول آب/أغسطس بعد أربع ساعات."


def test_the_committed_set_covers_every_kind_in_both_languages_and_splits() -> None:
    data = json.loads(SET.read_text(encoding="utf-8"))
    counts = Counter((c["lang"], c["kind"].split("-")[0]) for c in data["claims"])
    for lang in ("en", "ar"):
        for kind in ("number", "date", "month", "name", "negation", "faithful"):
            assert counts[(lang, kind)] >= 5, (lang, kind, counts)
    assert {c["split"] for c in data["claims"]} == {"tune", "heldout"}
    assert all(c["source"] in data["sources"] for c in data["claims"])
    assert (REPO / "eval" / "public" / "LICENSE-XQuAD-CC-BY-SA-4.0.txt").exists() and (
        REPO / "eval" / "public" / "LICENSE-ARCD-MIT.txt"
    ).exists()


def test_the_committed_set_is_what_the_generator_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # README: the set is made by `python -m qa_bot.faithset` and is deterministic; a change to the
    # fact readers that changes the claims must come with the regenerated set (and its figures)
    monkeypatch.chdir(REPO)
    assert faithset.main([str(REPO / "eval" / "public"), str(tmp_path / "set.json")]) == 0
    assert (tmp_path / "set.json").read_bytes() == SET.read_bytes()
    assert "claims →" in capsys.readouterr().out


def test_a_fact_the_arabic_translation_lacks_makes_no_faithful_claim_over_the_arabic_alone() -> None:
    data = json.loads(SET.read_text(encoding="utf-8"))
    gaps = [c for c in data["claims"] if c["cross"] and any(f in c["claim"] for f in faithset.NOT_IN_TRANSLATION)]
    assert gaps and all(c["altered"] for c in gaps)  # their alterations are still asked


def test_a_check_set_has_only_sentences_the_committed_set_has_no_claim_from(tmp_path: Path) -> None:
    # README: `--unseen-from` makes the check on sentences never looked at while developing
    out = tmp_path / "unseen.json"
    assert (
        faithset.main([str(REPO / "eval" / "public"), str(out), "--seed", "11", "12", "--unseen-from", str(SET)]) == 0
    )
    claims = json.loads(out.read_text(encoding="utf-8"))["claims"]
    committed = json.loads(SET.read_text(encoding="utf-8"))["claims"]
    seen = {c["sentence"] for c in committed}
    fresh = {c["sentence"] for c in claims}
    assert fresh and not fresh & seen  # seed 11's sentences are all out, seed 12's new ones in
    # a sentence whose committed claims are all alterations (a fact the Arabic lacks) is seen too
    assert any("Hashimoto's thyroiditis" in c for c in seen) and not any("Hashimoto's thyroiditis" in c for c in fresh)
    assert [c["id"] for c in claims] == list(range(len(claims)))
    assert {c["kind"] for c in claims} > {"faithful-verbatim", "number", "name"}


def test_the_generator_names_a_missing_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        faithset.main([str(tmp_path), str(tmp_path / "set.json")])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1
    assert "xquad-dev.ar.json not found" in err and not (tmp_path / "set.json").exists()


@pytest.mark.parametrize(
    ("sentence", "english"),
    [(SOURCE, False), ("Kerry said there must be a draft constitution by August after four hours.", True)],
)
def test_the_generator_changes_exactly_one_fact(sentence: str, english: bool) -> None:
    rng = random.Random(1)
    number = _number_swap(sentence, rng, sentence, not english)
    month = _month_swap(sentence, rng, sentence)
    assert number and number[1] == "number" and {f.key for f in facts(number[0]).numbers} != {"4"}
    assert month and month[1] == "month" and "g8" not in {f.key for f in facts(month[0]).dates}
    assert {f.key for f in facts(month[0]).numbers} == {"4"}  # the number is untouched
    negated = _negate(sentence, rng, not english)
    assert negated and negated != sentence
    assert _drop_negation(negated) is not None and _drop_negation(sentence) is None


def test_eval_reports_caught_and_kept_per_kind_and_language(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = json.loads(SET.read_text(encoding="utf-8"))
    picked, seen = [], Counter()
    for c in data["claims"]:
        key = (c["lang"], c["kind"], c["split"])
        if c["origin"] == "seed" and seen[key] < 2:
            picked.append(c)
            seen[key] += 1
    small = {**data, "claims": picked, "sources": {c["source"]: data["sources"][c["source"]] for c in picked}}
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
    assert cli.main(["eval", str(path), "--root", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["details"]) == len(picked)
    assert result["figures"]["all/all/FAITHFUL"]["n"] == sum(not c["altered"] for c in picked)
    caught = [d for d in result["details"] if d["altered"] and not d["supported"]]
    assert caught and all(d["reason"] for d in caught)  # every rejection says why
    assert cli.main(["eval", str(path), "--root", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "caught (altered) / kept (faithful)" in table and "faithful-verbatim" in table and "ar" in table
