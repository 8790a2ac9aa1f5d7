"""`qa-bot eval` on SQuAD-format files: a temporary project, articles left out, parallel questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, SEED, make_project
from qa_bot.cli import main
from qa_bot.errors import InputError
from qa_bot.squad import SquadArticle, choose_holdout, load_squad, replace_questions

SEED_TEXT = SEED.read_text(encoding="utf-8")
ARTICLES = [
    {
        "title": "Moscow_talks",
        "paragraphs": [
            {
                "context": SEED_TEXT,
                "qas": [
                    {
                        "id": "q1",
                        "question": "أين التقى كيري بوتين؟",
                        "answers": [{"text": "الكرملين", "answer_start": 0}],
                    },
                    {
                        "id": "q2",
                        "question": "متى يجب أن يكون هناك مشروع دستور؟",
                        "answers": [{"text": "آب/أغسطس", "answer_start": 0}],
                    },
                ],
            }
        ],
    },
    {
        "title": "Water_summit",
        "paragraphs": [
            {
                "context": "افتتحت في مدينة الرياض قمة إقليمية للمياه بمشاركة وزراء من ثماني دول. "
                "وأعلن وزير البيئة أن الدول المشاركة ستخصص ملياري دولار لمشاريع تحلية مياه البحر حتى عام 2030.",
                "qas": [
                    {
                        "id": "q3",
                        "question": "كم ستخصص الدول لمشاريع تحلية مياه البحر؟",
                        "answers": [{"text": "ملياري دولار", "answer_start": 0}],
                    }
                ],
            }
        ],
    },
    {
        "title": "Harbour_bridge",
        "paragraphs": [
            {
                "context": "افتتح جسر الميناء الجديد في تونس يوم الاثنين بعد أربع سنوات من البناء. "
                "ويبلغ طول الجسر 1.2 كيلومتر وبلغت تكلفته 300 مليون دينار.",
                "qas": [
                    {"id": "q4", "question": "كم يبلغ طول جسر الميناء في تونس؟", "answers": [{"text": "1.2 كيلومتر"}]},
                ],
            }
        ],
    },
]
ENGLISH = {
    "q1": "Where did Kerry meet Putin?",
    "q2": "By when must there be a draft constitution?",
    "q3": "How much will the countries spend on desalination?",
    "q4": "How long is the harbour bridge in Tunis?",
}


def squad_file(path: Path, articles: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"version": "1.1", "data": articles}, ensure_ascii=False), encoding="utf-8")
    return path


def english_file(path: Path) -> Path:
    translated = json.loads(json.dumps(ARTICLES))
    for article in translated:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa["question"] = ENGLISH[qa["id"]]
    return squad_file(path, translated)


def test_articles_and_questions_are_read_with_their_gold_answers(tmp_path: Path) -> None:
    path = squad_file(tmp_path / "set.json", ARTICLES)
    articles = load_squad(path, json.loads(path.read_text(encoding="utf-8")))
    assert [a.title for a in articles] == ["Moscow talks", "Water summit", "Harbour bridge"]
    assert [q.id for q in articles[0].questions] == ["q1", "q2"] and articles[2].questions[0].answers == (
        "1.2 كيلومتر",
    )
    record = articles[1].record()
    assert record["lang"] == "ar" and record["id"] == "set-001" and "الرياض" in record["text"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"data": []}, 'no "data" list'),
        ({"data": [{"title": "x"}]}, 'data[0]: needs a "paragraphs" list'),
        ({"data": [{"paragraphs": [{"qas": []}]}]}, 'data[0].paragraphs[0]: needs a "context" string'),
        ({"data": [{"paragraphs": [{"context": "نص", "qas": [{"question": "؟"}]}]}]}, 'needs "id"'),
        (
            {"data": [{"paragraphs": [{"context": "نص", "qas": [{"id": 1, "question": "؟", "answers": "x"}]}]}]},
            "answers",
        ),
    ],
)
def test_a_malformed_file_is_one_error_naming_the_entry(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_squad(tmp_path / "bad.json", data)


def _articles(n: int) -> list[SquadArticle]:
    return [SquadArticle(f"a-{i:02d}", f"t{i}", ("نص",), ()) for i in range(n)]


def test_holdout_is_a_share_or_a_count_and_the_same_for_the_same_seed() -> None:
    articles = _articles(20)
    assert len(choose_holdout(articles, 0.15, 0)) == 3 and len(choose_holdout(articles, 4, 0)) == 4
    assert choose_holdout(articles, 0.15, 0) == choose_holdout(articles, 0.15, 0)
    assert choose_holdout(articles, 0.15, 0) != choose_holdout(articles, 0.15, 1)
    assert len(choose_holdout(_articles(3), 0.01, 0)) == 1 and choose_holdout(articles, 0, 0) == frozenset()
    for bad in (-0.1, 2.5, 20):
        with pytest.raises(InputError, match="--holdout"):
            choose_holdout(articles, bad, 0)


def test_parallel_questions_must_share_the_question_ids(tmp_path: Path) -> None:
    path = squad_file(tmp_path / "ar.json", ARTICLES)
    articles = load_squad(path, json.loads(path.read_text(encoding="utf-8")))
    english = english_file(tmp_path / "en.json")
    asked = replace_questions(articles, english, json.loads(english.read_text(encoding="utf-8")))
    assert asked[0].questions[0].question == ENGLISH["q1"] and asked[0].questions[0].answers == ("الكرملين",)
    partial = json.loads(english.read_text(encoding="utf-8"))
    partial["data"] = partial["data"][:1]
    with pytest.raises(InputError, match="2 question ids of the articles' file are not in it"):
        replace_questions(articles, english, partial)


def _eval(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> dict[str, object]:
    assert main(["eval", *args, "--json", "--root", str(root)]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_eval_imports_into_a_temporary_project_and_must_refuse_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_BOT_PROMPTS_DIR", str(REPO / "prompts"))
    root = make_project(tmp_path / "user")  # the user's own project: its index/ must stay untouched
    path = squad_file(tmp_path / "set.json", ARTICLES)
    report = _eval(capsys, root, str(path), "--holdout", "1", "--seed", "3")
    assert not (root / "index").exists()
    left_out = report["archive"]["left_out"]  # type: ignore[index]
    assert len(left_out) == 1
    details = {d["id"]: d for d in report["details"]}  # type: ignore[attr-defined]
    outside = [d for d in details.values() if not d["in_archive"]]
    assert outside and all(d["article"] == left_out[0] for d in outside)
    figures = report["figures"]["ar"]  # type: ignore[index]
    assert figures["out_of_archive"] == len(outside) and figures["questions"] == 4 - len(outside)
    inside = [d for d in details.values() if d["in_archive"]]
    assert all(d["cite_at_1"] and d["answer_in_text"] for d in inside), inside
    assert figures["cite_at_1"] == 1.0 and figures["false_abstention"] == 0.0

    # The same articles, asked in English: the gold answers stay the Arabic ones.
    english = _eval(capsys, root, str(path), "--questions", str(english_file(tmp_path / "en.json")), "--holdout", "0")
    assert set(english["figures"]) == {"all", "en"}  # type: ignore[arg-type]
    en = {d["id"]: d for d in english["details"]}  # type: ignore[attr-defined]
    assert {i: d["q"] for i, d in en.items()} == ENGLISH and english["figures"]["en"]["questions"] == 4  # type: ignore[index]
    assert english["archive"]["questions_file"].endswith("en.json")  # type: ignore[index]


def test_squad_options_on_a_dev_format_file_are_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(REPO / "tests" / "eval_own.json"), "--holdout", "0.2", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "for SQuAD-format files" in err


def test_out_of_archive_questions_answered_right_from_another_article_are_not_failures() -> None:
    from qa_bot.squad import run_squad_eval
    from qa_bot.types import Answer

    articles = load_squad(Path("set.json"), {"data": ARTICLES})
    said = {
        "أين التقى كيري بوتين؟": "التقيا في الكرملين [1]",
        "كم يبلغ طول جسر الميناء في تونس؟": "طوله 5 كيلومترات [1]",
    }

    def ask(question: str) -> Answer:
        if question in said:
            return Answer(said[question], "ar", False, ())
        return Answer("لا يذكر المقال ذلك.", "ar", True, ())

    left_out = frozenset(a.id for a in articles)  # every question is about an article not in the archive
    figures = run_squad_eval(articles, left_out, ask)["figures"]["ar"]
    # q1's quote holds its gold answer (another article says it); q4's does not: a failure to refuse.
    assert figures["out_of_archive"] == 4 and figures["out_of_archive_answered_elsewhere"] == 1
    assert figures["out_of_archive_refused"] == 0.75


def test_train_collects_fits_by_article_and_eval_uses_the_model_that_did_not_see_each_article(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa_bot.config import Settings
    from qa_bot.selector import Selector
    from qa_bot.squad import article_group
    from qa_bot.train import _Set, collect, fit

    monkeypatch.setenv("QA_BOT_PROMPTS_DIR", str(REPO / "prompts"))
    path = squad_file(tmp_path / "set.json", ARTICLES)
    data = collect(Settings.from_env(root=tmp_path), [_Set("tiny", str(path))], folds=3)
    # every question asked twice: once with its article in the archive, once without
    assert sorted(data["texts"]) == sorted(
        [q.question for a in load_squad(path, {"data": ARTICLES}) for q in a.questions] * 2
    )
    assert data["inside"].any() and (~data["inside"]).any() and data["sentence"][data["inside"]].any()
    assert not data["sentence"][~data["inside"] & (data["set"] == "tiny")].all()
    fitted = fit(data, folds=3)
    groups = {article_group(a.id) for a in load_squad(path, {"data": ARTICLES})}
    assert set(fitted.fold_of) == groups and len(fitted.folds) == 3
    again = Selector.from_dict(json.loads(json.dumps(fitted.selector.to_dict())))
    assert again.threshold == pytest.approx(fitted.selector.threshold, abs=1e-6)
    assert set(fitted.selector.about["cross_validated"]) == {"tiny-ar"}

    folds = tmp_path / "folds.json"
    folds.write_text(
        json.dumps({"folds": fitted.fold_of, "models": [m.to_dict() for m in fitted.folds]}), encoding="utf-8"
    )
    report = _eval(capsys, tmp_path / "user", str(path), "--holdout", "0", "--selector", str(folds))
    assert report["figures"]["ar"]["questions"] == 4  # type: ignore[index]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"folds": {}, "models": []}), encoding="utf-8")
    assert main(["eval", str(path), "--holdout", "0", "--selector", str(partial), "--root", str(tmp_path)]) == 2
    assert "has no fold for article" in capsys.readouterr().err


def test_the_refusal_threshold_is_the_lowest_that_refuses_the_target_share_over_the_languages() -> None:
    import numpy as np

    from qa_bot.train import choose_threshold

    # 10 out-of-archive questions per language (their gate confidences); one is answered right elsewhere
    conf = np.r_[np.linspace(0.05, 0.95, 10), np.linspace(0.0, 0.45, 10)]
    data = {
        "set": np.array(["x"] * 20),
        "lang": np.array(["ar"] * 10 + ["en"] * 10),
        "inside": np.zeros(20, dtype=bool),
        "sentence": np.array([False] * 9 + [True] + [False] * 10),
    }
    top = np.arange(20)

    def refused(t: float) -> float:
        r = (conf < t) | data["sentence"]
        return float((r[:10].mean() + r[10:].mean()) / 2)

    both = [("x", "ar"), ("x", "en")]
    threshold = choose_threshold(data, top, conf, 0.9, both)
    assert refused(threshold) >= 0.9 and refused(threshold - 1e-3) < 0.9  # the lowest that does it
    assert choose_threshold(data, top, conf, 0.5, both) < threshold
    assert choose_threshold(data, top, conf, 0.9, [("other", "ar")]) == 0.0  # no calibration questions: no bar
    # a group left out of the calibration does not move the threshold: English alone needs less
    english = choose_threshold(data, top, conf, 0.9, [("x", "en")])
    assert english < threshold and float(np.mean(conf[10:] < english)) >= 0.9
