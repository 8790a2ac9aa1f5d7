"""The tutorial pipeline on a SQuAD-format set: top-1 / top-4 gold hits, beside `qa-bot eval`.

    python -m bench.tutorial_squad eval/public/xquad-dev.ar.json --holdout 3
    python -m bench.tutorial_squad eval/public/xquad-dev.ar.json --questions eval/public/xquad-dev.en.json --holdout 3

The same archive `qa-bot eval` builds (the same articles left out, by the same seed), split with
RecursiveCharacterTextSplitter(1000, 200), dense-only Chroma with the same USE-m3 embeddings; a
question's chunk is a hit when it contains a gold answer (normalised as qa-bot's eval does).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from langchain_core.documents import Document

from qa_bot.config import Settings
from qa_bot.evaluate import rate
from qa_bot.models import make_embeddings, warm_up
from qa_bot.squad import choose_holdout, holds_answer, load_squad, replace_questions

from .tutorial import TutorialPipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tutorial_squad", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--holdout", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    articles = load_squad(args.file, json.loads(args.file.read_text(encoding="utf-8")))
    if args.questions:
        articles = replace_questions(articles, args.questions, json.loads(args.questions.read_text(encoding="utf-8")))
    left_out = choose_holdout(articles, args.holdout, args.seed)
    embeddings = make_embeddings(Settings.from_env())
    warm_up(embeddings)
    pipeline = TutorialPipeline(embeddings)
    try:
        pipeline.add([Document(a.record()["text"]) for a in articles if a.id not in left_out])
        top1 = top4 = asked = 0
        for article in articles:
            if article.id in left_out:
                continue
            for q in article.questions:
                found = pipeline.search(q.question)
                asked += 1
                top1 += bool(found) and holds_answer(found[0].page_content, q.answers)
                top4 += any(holds_answer(d.page_content, q.answers) for d in found)
    finally:
        pipeline.close()
    report = {"file": str(args.file), "questions_file": str(args.questions) if args.questions else None,
              "questions": asked, "top_1": rate(top1, asked), "top_4": rate(top4, asked)}  # fmt: skip
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
