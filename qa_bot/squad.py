"""Evaluation on SQuAD-format files (SQuAD, XQuAD, ARCD, MLQA, TyDi-GoldP) in a temporary project.

The file's articles are imported into a throw-away project (never the user's `index/`), a seeded
share of them is left out of the index so that their questions must be refused, and every question
is asked. Per language: cite@1 (the first citation's passage holds a gold answer), any-cite,
answer-in-text, false abstention on questions the archive can answer, refusal of questions about
articles it does not hold, and latency.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import InputError
from .evaluate import latency_ms, rate
from .text import detect_language, normalise
from .types import Answer

Ask = Callable[[str], Answer]


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    article_id: str


@dataclass(frozen=True)
class SquadArticle:
    id: str
    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[SquadQuestion, ...]

    def record(self) -> dict[str, str]:
        """The article as one line of a qa-bot JSONL bulk file."""
        text = "\n\n".join(" ".join(p.split()) for p in self.paragraphs)
        return {"id": self.id, "title": self.title, "text": text, "lang": detect_language(text)}


def _fail(path: Path, where: str, what: str) -> InputError:
    return InputError(f"{path}: {where}: {what} (expected SQuAD format: see README, Evaluate on your own data)")


def is_squad(data: Any) -> bool:
    """True for a parsed SQuAD-format document (`{"data": [{"title", "paragraphs": [...]}]}`)."""
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def load_squad(path: Path, data: Any) -> list[SquadArticle]:
    """The articles and questions of a SQuAD-format document read from `path`; InputError names a bad entry."""
    if not is_squad(data) or not data["data"]:
        raise _fail(path, "top level", 'no "data" list of articles')
    out: list[SquadArticle] = []
    stem = "".join(ch if ch.isalnum() else "-" for ch in path.stem.lower()).strip("-") or "squad"
    for i, entry in enumerate(data["data"]):
        where = f"data[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("paragraphs"), list):
            raise _fail(path, where, 'needs a "paragraphs" list')
        article_id = f"{stem}-{i:03d}"
        title = entry.get("title")
        paragraphs: list[str] = []
        questions: list[SquadQuestion] = []
        for j, paragraph in enumerate(entry["paragraphs"]):
            at = f"{where}.paragraphs[{j}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                raise _fail(path, at, 'needs a "context" string')
            if not paragraph["context"].strip():
                continue
            paragraphs.append(paragraph["context"])
            for k, qa in enumerate(paragraph.get("qas", [])):
                q_at = f"{at}.qas[{k}]"
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or "id" not in qa:
                    raise _fail(path, q_at, 'needs "id" and a "question" string')
                answers = qa.get("answers", [])
                if not isinstance(answers, list) or not all(
                    isinstance(a, dict) and isinstance(a.get("text"), str) for a in answers
                ):
                    raise _fail(path, q_at, '"answers" must be a list of {"text": ...}')
                texts = tuple(dict.fromkeys(a["text"].strip() for a in answers if a["text"].strip()))
                if texts and not qa.get("is_impossible"):
                    questions.append(SquadQuestion(str(qa["id"]), qa["question"], texts, article_id))
        if paragraphs:
            name = title.replace("_", " ").strip() if isinstance(title, str) and title.strip() else article_id
            out.append(SquadArticle(article_id, name, tuple(paragraphs), tuple(questions)))
    if not out:
        raise _fail(path, "data", "no article has any paragraph text")
    return out


def replace_questions(articles: list[SquadArticle], path: Path, data: Any) -> list[SquadArticle]:
    """The same articles asked with the questions of a parallel file (same question ids, e.g.
    XQuAD's English questions over its Arabic articles); gold answers stay the first file's."""
    asked = {q.id: q.question for a in load_squad(path, data) for q in a.questions}
    missing = [q.id for a in articles for q in a.questions if q.id not in asked]
    if missing:
        raise InputError(
            f"{path}: {len(missing)} question ids of the articles' file are not in it (e.g. {missing[0]!r}); "
            "--questions must be a parallel file with the same question ids"
        )
    return [
        SquadArticle(
            a.id,
            a.title,
            a.paragraphs,
            tuple(SquadQuestion(q.id, asked[q.id], q.answers, q.article_id) for q in a.questions),
        )
        for a in articles
    ]


def choose_holdout(articles: Sequence[SquadArticle], holdout: float, seed: int) -> frozenset[str]:
    """Ids of the articles left out of the index: `holdout` < 1 is a share, ≥ 1 a count (seeded)."""
    if holdout < 0 or (holdout >= 1 and holdout != int(holdout)):
        raise InputError(f"--holdout must be a share below 1 (e.g. 0.15) or a whole number of articles, got {holdout}")
    n = int(holdout) if holdout >= 1 else round(holdout * len(articles))
    if holdout > 0:
        n = max(1, n)
    if n >= len(articles):
        raise InputError(f"--holdout {holdout:g} leaves no article in the index ({len(articles)} articles)")
    ids = sorted(a.id for a in articles)
    return frozenset(random.Random(seed).sample(ids, n))


def write_archive(articles: Sequence[SquadArticle], left_out: frozenset[str], path: Path) -> Path:
    """The indexed articles as a JSONL bulk file at `path`."""
    lines = [json.dumps(a.record(), ensure_ascii=False) for a in articles if a.id not in left_out]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SEED_GROUP = "seed"  # the project's own questions are all about the seed articles: one group


def article_group(article_id: str) -> str:
    """Cross-validation group of an article: the same article in another language of a parallel set
    (XQuAD's xquad-dev-ar-003 and xquad-dev-en-003) is one group."""
    return re.sub(r"-(ar|en)-", "-", article_id)


@contextmanager
def archive_bot(settings: Settings, articles: Sequence[SquadArticle], left_out: frozenset[str]) -> Iterator[Any]:
    """A Bot over `articles` minus `left_out`, indexed in a throw-away project (never `index/`)."""
    from .bot import Bot  # heavy imports only when a bot is wanted

    with tempfile.TemporaryDirectory(prefix="qa-bot-eval-") as tmp:
        root = Path(tmp)
        (root / "seeds").mkdir()
        write_archive(articles, left_out, root / "seeds" / "archive.jsonl")
        project = dataclasses.replace(settings, root=root, seeds_dir=None, index_dir=None, data_dir=None, chroma_url="")
        yield Bot.from_settings(project)


def holds_answer(haystack: str, answers: Sequence[str]) -> bool:
    """A gold answer occurs in `haystack` (both normalised, white space folded)."""
    key = normalise(" ".join(haystack.split()))
    return any(normalise(" ".join(a.split())) in key for a in answers)


@dataclass
class _Tally:
    questions: int = 0
    top_hit: int = 0
    any_hit: int = 0
    in_text: int = 0
    false_abstain: int = 0
    outside: int = 0
    refused: int = 0
    elsewhere: int = 0  # outside questions answered right from another indexed article
    latencies: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "cite_at_1": rate(self.top_hit, self.questions),
            "any_cite": rate(self.any_hit, self.questions),
            "answer_in_text": rate(self.in_text, self.questions),
            "false_abstention": rate(self.false_abstain, self.questions),
            "out_of_archive": self.outside,
            "out_of_archive_refused": rate(self.refused + self.elsewhere, self.outside),
            "out_of_archive_answered_elsewhere": self.elsewhere,
            **latency_ms(self.latencies),
        }


def run_squad_eval(
    articles: Sequence[SquadArticle],
    left_out: frozenset[str],
    ask: Ask,
    before: Callable[[SquadArticle], None] | None = None,
) -> dict[str, Any]:
    """Ask every question; figures per language and overall, plus one detail record per question.
    `before(article)` runs before an article's questions (cross-validation picks its model there)."""
    tallies: dict[str, _Tally] = {}
    details: list[dict[str, Any]] = []
    for article in articles:
        if before is not None:
            before(article)
        for q in article.questions:
            lang = detect_language(q.question)
            began = time.perf_counter()
            answer = ask(q.question)
            elapsed = time.perf_counter() - began
            inside = article.id not in left_out
            detail: dict[str, Any] = {"id": q.id, "lang": lang, "q": q.question, "article": article.id}
            if inside:
                detail |= {
                    "cite_at_1": bool(answer.citations) and holds_answer(answer.citations[0].passage, q.answers),
                    "any_cite": any(holds_answer(c.passage, q.answers) for c in answer.citations),
                    "answer_in_text": not answer.abstained and holds_answer(answer.text, q.answers),
                }
            else:
                # Wikipedia-style archives repeat facts across articles: an answer whose quote holds
                # the gold answer came from another indexed article, and is right, not a failure to refuse.
                detail["answered_elsewhere"] = not answer.abstained and holds_answer(answer.text, q.answers)
            detail |= {"in_archive": inside, "abstained": answer.abstained, "answer": answer.text}
            details.append(detail)
            for key in (lang, "all"):
                t = tallies.setdefault(key, _Tally())
                t.latencies.append(elapsed)
                if inside:
                    t.questions += 1
                    t.top_hit += detail["cite_at_1"]
                    t.any_hit += detail["any_cite"]
                    t.in_text += detail["answer_in_text"]
                    t.false_abstain += answer.abstained
                else:
                    t.outside += 1
                    t.refused += answer.abstained
                    t.elsewhere += detail["answered_elsewhere"]
    return {"figures": {k: t.figures() for k, t in sorted(tallies.items())}, "details": details}


def format_squad_figures(figures: dict[str, dict[str, Any]]) -> str:
    """One row per language: what the answers decide; the latency on its own line."""
    cols = [
        ("questions", "questions"),
        ("cite_at_1", "cite@1"),
        ("any_cite", "any-cite"),
        ("answer_in_text", "in-text"),
        ("false_abstention", "false-abst"),
        ("out_of_archive", "outside"),
        ("out_of_archive_refused", "refused"),
    ]
    lines = ["lang " + " ".join(f"{label:>10}" for _, label in cols)]
    for lang, fig in figures.items():
        lines.append(f"{lang:<4} " + " ".join(f"{'-' if fig[k] is None else fig[k]!s:>10}" for k, _ in cols))
    timing = [f"{lang} p50 {fig['latency_ms_p50']} / p95 {fig['latency_ms_p95']}" for lang, fig in figures.items()]
    lines.append("latency ms (this machine, now): " + "; ".join(timing))
    return "\n".join(lines)
