"""The public sets (`eval/public/`) inside the benchmark's index, asked at every size.

As `make eval` asks them: XQuAD-dev's Arabic articles with their Arabic questions and with the
parallel English ones (`--questions`), 3 articles held out; ARCD-train, 15% held out; each article's
questions answered with the cross-validation selector that did not see it (`eval/selector-folds.json`,
`--selector`). The held-out articles (`qa_bot.squad.choose_holdout`, seed 0) are left out of the
index, so their questions must be refused. Unlike `make eval`, the indexed articles share the
benchmark's index with the seed article and the distractors (`seeds/public.jsonl`), so the figures
show what the distractors cost on questions no one here wrote.

The tutorial pipeline indexes the same article texts; its figures are top-1 / top-4 gold hits
(`qa_bot.squad.holds_answer`) over the same in-archive questions (it has no way to refuse).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from .common import REPO

PUBLIC = "public.jsonl"  # the indexed public articles, beside seeds/distractors.jsonl
SELECTOR_FOLDS = REPO / "eval" / "selector-folds.json"
SEED = 0  # `qa-bot eval --seed`'s default


@dataclass(frozen=True)
class PublicSet:
    """One `make eval` line: the articles (with the questions asked) and those left out."""

    name: str
    articles: Sequence[Any]  # qa_bot.squad.SquadArticle
    left_out: frozenset[str]


def public_sets(folder: Path = REPO / "eval" / "public") -> list[PublicSet]:
    """XQuAD-dev Arabic, the same articles asked in English, ARCD-train (as `make eval` runs them)."""
    from qa_bot.squad import choose_holdout, load_squad, replace_questions

    def read(name: str) -> tuple[Path, Any]:
        path = folder / name
        return path, json.loads(path.read_text(encoding="utf-8"))

    xquad = load_squad(*read("xquad-dev.ar.json"))
    english = replace_questions(xquad, *read("xquad-dev.en.json"))
    arcd = load_squad(*read("arcd-train.json"))
    xquad_out = choose_holdout(xquad, 3, SEED)
    return [
        PublicSet("xquad-ar", xquad, xquad_out),
        PublicSet("xquad-en-questions", english, xquad_out),
        PublicSet("arcd", arcd, choose_holdout(arcd, 0.15, SEED)),
    ]


def indexed_records(sets: Sequence[PublicSet]) -> list[dict[str, str]]:
    """The bulk records of every article some set indexes (each article once)."""
    out: dict[str, dict[str, str]] = {}
    for s in sets:
        for a in s.articles:
            if a.id not in s.left_out:
                out.setdefault(a.id, a.record())
    return list(out.values())


def write_public(root: Path, sets: Sequence[PublicSet]) -> Path:
    path = root / "seeds" / PUBLIC
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in indexed_records(sets)), "utf-8")
    return path


def public_documents(sets: Sequence[PublicSet]) -> list[Document]:
    """The same articles as a tutorial loader over the JSONL gives them (`.text`)."""
    return [Document(page_content=r["text"], metadata={"source": r["id"]}) for r in indexed_records(sets)]


def _fold_selectors() -> Callable[[str], Any] | None:
    """Article group → the cross-validation model that did not see it (`qa-bot eval --selector`)."""
    from qa_bot.selector import Selector

    try:
        data = json.loads(SELECTOR_FOLDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    models = [Selector.from_dict(m) for m in data["models"]]
    folds: dict[str, int] = data["folds"]
    return lambda group: models[folds[group]]


def ask_public(bot: Any, sets: Sequence[PublicSet]) -> dict[str, Any]:
    """Every question of every set through `bot.ask`, figures per set (`run_squad_eval`); the bot's
    own selector is put back afterwards."""
    from qa_bot.squad import article_group, run_squad_eval

    choose = _fold_selectors()
    shipped = bot.answerer.selector
    out: dict[str, Any] = {"selector": str(SELECTOR_FOLDS.relative_to(REPO)) if choose else "shipped"}
    try:
        for s in sets:

            def before(article: Any) -> None:
                if choose is not None:
                    bot.answerer.selector = choose(article_group(article.id))

            result = run_squad_eval(s.articles, s.left_out, lambda q: bot.ask(q), before)
            out[s.name] = result["figures"].get("all", {})
    finally:
        bot.answerer.selector = shipped
    return out


def tutorial_public(search: Callable[[str], list[Document]], sets: Sequence[PublicSet]) -> dict[str, Any]:
    """The tutorial's top-1 / top-4 gold hits over each set's in-archive questions."""
    from qa_bot.squad import holds_answer

    out: dict[str, Any] = {}
    for s in sets:
        asked = top1 = top4 = 0
        for article in s.articles:
            if article.id in s.left_out:
                continue
            for q in article.questions:
                found = search(q.question)
                asked += 1
                top1 += bool(found) and holds_answer(found[0].page_content, q.answers)
                top4 += any(holds_answer(d.page_content, q.answers) for d in found)
        out[s.name] = {
            "questions": asked,
            "top_1": round(top1 / asked, 3) if asked else None,
            "top_4": round(top4 / asked, 3) if asked else None,
        }
    return out
