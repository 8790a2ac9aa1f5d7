"""Evaluation on a question file in the format of `shared/eval/dev.json`.

Per language: top-citation hit (a gold substring in citation 1), any-citation hit, fact accuracy
(every fact group has an alternative in the answer text), abstention on unanswerables, false
abstention on answerables, latency p50/p95. Conversations are asked turn by turn with history.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .text import normalise
from .types import Answer

Ask = Callable[[str, list[dict[str, str]]], Answer]


@dataclass
class _Tally:
    answerable: int = 0
    top_hit: int = 0
    any_hit: int = 0
    facts: int = 0
    false_abstain: int = 0
    unanswerable: int = 0
    abstained: int = 0
    conversations: int = 0
    conversations_right: int = 0
    latencies: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "answerable": self.answerable,
            "top_citation_hit": rate(self.top_hit, self.answerable),
            "any_citation_hit": rate(self.any_hit, self.answerable),
            "fact_accuracy": rate(self.facts, self.answerable),
            "false_abstention": rate(self.false_abstain, self.answerable),
            "unanswerable": self.unanswerable,
            "abstention_accuracy": rate(self.abstained, self.unanswerable),
            "conversations": self.conversations,
            "conversations_right": self.conversations_right,
            **latency_ms(self.latencies),
        }


def rate(hits: int, total: int) -> float | None:
    """hits / total to three places, or None when there was nothing to count."""
    return round(hits / total, 3) if total else None


def latency_ms(seconds: list[float]) -> dict[str, float | None]:
    """p50 and p95 of answer times, in milliseconds."""
    lat = sorted(seconds)
    return {
        "latency_ms_p50": round(_percentile(lat, 50) * 1000, 1) if lat else None,
        "latency_ms_p95": round(_percentile(lat, 95) * 1000, 1) if lat else None,
    }


def _percentile(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def read_json(path: Path) -> Any:
    """A JSON file's content; InputError when it cannot be read or parsed."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None


def load_eval(path: Path, data: Any = None) -> dict[str, Any]:
    """A question file in the format of `shared/eval/dev.json` (read from `path` unless `data` is given)."""
    data = read_json(path) if data is None else data
    if not isinstance(data, dict) or not any(k in data for k in ("answerable", "unanswerable", "conversations")):
        raise InputError(f'{path} must be an object with "answerable", "unanswerable" and/or "conversations" lists')
    for section in ("answerable", "unanswerable", "conversations"):
        items = data.setdefault(section, [])
        if not isinstance(items, list):
            raise InputError(f'{path}: "{section}" must be a list')
        for i, item in enumerate(items):
            label = f" ({item['id']})" if isinstance(item, dict) and "id" in item else ""
            where = f"{path}: {section}[{i}]{label}"
            if section == "conversations":
                turns = item.get("turns") if isinstance(item, dict) else None
                if not isinstance(turns, list) or not turns:
                    raise InputError(f'{where} needs a non-empty "turns" list')
                for j, turn in enumerate(turns):
                    _check_item(turn, f"{where} turn {j}", answerable=True)
            else:
                _check_item(item, where, answerable=section == "answerable")
    return data


def _check_item(item: Any, where: str, *, answerable: bool) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("q"), str):
        raise InputError(f'{where} needs a "q" string')
    if not answerable:
        return
    gold, facts = item.get("gold", []), item.get("facts", [])
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        raise InputError(f'{where}: "gold" must be a list of strings')
    if not isinstance(facts, list) or not all(
        isinstance(group, list) and all(isinstance(alt, str) for alt in group) for group in facts
    ):
        raise InputError(f'{where}: "facts" must be a list of lists of strings')


def gold_hit(answer: Answer, gold: Iterable[str], first_only: bool) -> bool:
    cited = answer.citations[:1] if first_only else answer.citations
    keys = [normalise(g) for g in gold]
    return any(k in normalise(c.passage) for c in cited for k in keys)


def facts_hold(answer: Answer, facts: Iterable[Iterable[str]]) -> bool:
    text = normalise(answer.text)
    return all(any(normalise(alt) in text for alt in group) for group in facts)


def run_eval(data: dict[str, Any], ask: Ask) -> dict[str, Any]:
    """Ask every question; return figures per language and overall, plus per-item details."""
    tallies: dict[str, _Tally] = {}
    details: list[dict[str, Any]] = []

    def timed(q: str, history: list[dict[str, str]]) -> Answer:
        began = time.perf_counter()
        answer = ask(q, history)
        elapsed = time.perf_counter() - began
        for key in (lang, "all"):
            tallies.setdefault(key, _Tally()).latencies.append(elapsed)
        return answer

    def score_answerable(item: dict[str, Any], answer: Answer) -> bool:
        top = gold_hit(answer, item.get("gold", []), True)
        anyhit = gold_hit(answer, item.get("gold", []), False)
        facts = facts_hold(answer, item.get("facts", []))
        for key in (lang, "all"):
            t = tallies.setdefault(key, _Tally())
            t.answerable += 1
            t.top_hit += top
            t.any_hit += anyhit
            t.facts += facts
            t.false_abstain += answer.abstained
        details.append({"id": item.get("id"), "q": item["q"], "top_hit": top, "facts": facts, "answer": answer.text})
        return top and facts

    for item in data.get("answerable", []):
        lang = item.get("lang", "en")
        score_answerable(item, timed(item["q"], []))
    for item in data.get("unanswerable", []):
        lang = item.get("lang", "en")
        answer = timed(item["q"], [])
        for key in (lang, "all"):
            t = tallies.setdefault(key, _Tally())
            t.unanswerable += 1
            t.abstained += answer.abstained
        details.append({"id": item.get("id"), "q": item["q"], "abstained": answer.abstained, "answer": answer.text})
    for conv in data.get("conversations", []):
        lang = conv.get("lang", "en")
        history: list[dict[str, str]] = []
        right = True
        for turn in conv.get("turns", []):
            answer = timed(turn["q"], list(history))
            right = score_answerable({**turn, "id": conv.get("id")}, answer) and right
            history += [{"role": "user", "content": turn["q"]}, {"role": "assistant", "content": answer.text}]
        for key in (lang, "all"):
            t = tallies.setdefault(key, _Tally())
            t.conversations += 1
            t.conversations_right += right
    return {"figures": {k: t.figures() for k, t in sorted(tallies.items())}, "details": details}


def format_figures(figures: dict[str, dict[str, Any]]) -> str:
    """A small plain-text table, one row per language, then the latency.

    The table holds only what the answers decide, so two runs on the same index print it
    identically; the latency depends on the machine and is reported on its own line.
    """
    cols = [
        ("top_citation_hit", "top-cite"),
        ("any_citation_hit", "any-cite"),
        ("fact_accuracy", "facts"),
        ("abstention_accuracy", "abstain"),
        ("false_abstention", "false-abst"),
        ("conversations_right", "convs-ok"),
    ]
    lines = ["lang " + " ".join(f"{label:>10}" for _, label in cols)]
    for lang, fig in figures.items():
        cells = []
        for key, _ in cols:
            value = fig.get(key)
            if key == "conversations_right":
                value = f"{fig['conversations_right']}/{fig['conversations']}"
            cells.append(f"{'-' if value is None else value!s:>10}")
        lines.append(f"{lang:<4} " + " ".join(cells))
    timing = [
        f"{lang} p50 {fig['latency_ms_p50']} / p95 {fig['latency_ms_p95']}"
        for lang, fig in figures.items()
        if fig.get("latency_ms_p50") is not None
    ]
    if timing:
        lines.append("latency ms (this machine, now): " + "; ".join(timing))
    return "\n".join(lines)
