"""What an English translation buys English questions over Arabic articles.

    python -m bench.translations [--selector eval/selector-folds.json]

XQuAD's Arabic articles are imported as JSONL three times: one record per paragraph without
translations; one record per paragraph with the parallel English paragraph as its `translation`
(one line: `qa-bot index` aligns it to the paragraph's sentences, or keeps it whole when it does
not align and the paragraph is one passage); and one record per article with the English article
as a running translation, one paragraph per line (aligned paragraph by paragraph). XQuAD's English
questions and its Arabic ones are asked over each archive (`make eval`'s three articles left out,
their questions to be refused; each article answered by the cross-validation model not fitted on
it). An English answer may quote the translation, so its answer-in-text is also counted against
XQuAD's English gold answer. Writes bench/results/translations.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import REPO, git_state, log, machine, now_iso, write_result

ARTICLES = "eval/public/xquad-dev.ar.json"
PARALLEL = "eval/public/xquad-dev.en.json"
WITHOUT, WITH, WHOLE = "without translations", "with translations", "whole articles with translations"


def _records(
    articles: list[Any], parallel: dict[str, tuple[str, ...]], left_out: frozenset[str], mode: str
) -> list[str]:
    lines = []
    for a in articles:
        if a.id in left_out:
            continue
        english = [" ".join(p.split()) for p in parallel[a.id]]
        if mode == WHOLE:  # one record per article; its translation one paragraph per line
            lines.append(json.dumps(a.record() | {"translation": "\n".join(english)}, ensure_ascii=False))
            continue
        for i, paragraph in enumerate(a.paragraphs):
            record = {"id": f"{a.id}-p{i}", "title": a.title, "text": " ".join(paragraph.split()), "lang": "ar"}
            if mode == WITH:
                record["translation"] = english[i]
            lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.translations", description=__doc__)
    parser.add_argument("--selector", type=Path, default=REPO / "eval/selector-folds.json")
    parser.add_argument("--holdout", type=float, default=3)
    args = parser.parse_args(argv)

    from qa_bot.bot import Bot
    from qa_bot.cli import _selectors
    from qa_bot.config import Settings
    from qa_bot.squad import (
        SquadArticle,
        article_group,
        choose_holdout,
        holds_answer,
        load_squad,
        replace_questions,
        run_squad_eval,
    )

    path, english_path = REPO / ARTICLES, REPO / PARALLEL
    articles = load_squad(path, json.loads(path.read_text(encoding="utf-8")))
    english_data = json.loads(english_path.read_text(encoding="utf-8"))
    parallel = {a.id.replace("-en-", "-ar-"): a.paragraphs for a in load_squad(english_path, english_data)}
    asked = {"en": replace_questions(articles, english_path, english_data), "ar": articles}
    left_out = choose_holdout(articles, args.holdout, 0)
    models = _selectors(args.selector)
    result: dict[str, Any] = {}
    english_answers = {q.id: q.answers for a in load_squad(english_path, english_data) for q in a.questions}
    for mode in (WITHOUT, WITH, WHOLE):
        with tempfile.TemporaryDirectory(prefix="bench-translations-") as tmp:
            root = Path(tmp)
            (root / "seeds").mkdir()
            lines = _records(articles, parallel, left_out, mode)
            (root / "seeds" / "archive.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            settings = dataclasses.replace(
                Settings.from_env(), root=root, seeds_dir=None, index_dir=None, data_dir=None, chroma_url=""
            )
            bot = Bot.from_settings(settings)
            bot.index.ensure()
            chunks = bot.index.chunks()

            def choose(article: SquadArticle, bot: Any = bot) -> None:
                if models is not None:
                    bot.answerer.selector = models(article_group(article.id))

            row: dict[str, Any] = {
                "passages": len(chunks),
                "translated_passages": sum(1 for c in chunks if c.translation),
            }
            for lang, questions in asked.items():
                run = run_squad_eval(questions, left_out, bot.ask, choose)
                row[lang] = run["figures"]["all"]
                if lang == "en":  # an English answer may quote the translation: its gold answer is XQuAD's English one
                    inside = [d for d in run["details"] if d["in_archive"]]
                    hits = sum(
                        d["answer_in_text"]
                        or (not d["abstained"] and holds_answer(d["answer"], english_answers[d["id"]]))
                        for d in inside
                    )
                    row[lang]["answer_in_text_either_language"] = round(hits / len(inside), 3)
            log(f"translations {mode}: " + json.dumps(row))
            result[mode] = row
    out = {
        "measured_at": now_iso(),
        "command": "python -m bench.translations " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "git": git_state(),
        "left_out": sorted(left_out),
        **result,
    }
    write_result("translations", out)
    keys = (
        "cite_at_1",
        "answer_in_text",
        "answer_in_text_either_language",
        "false_abstention",
        "out_of_archive_refused",
    )
    for mode, row in result.items():
        for lang in asked:
            label = f"{mode} ({row['translated_passages']} of {row['passages']} passages translated), {lang}"
            sys.stdout.write(f"{label}: " + "  ".join(f"{k} {row[lang][k]}" for k in keys if k in row[lang]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
