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
