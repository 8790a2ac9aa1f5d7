"""Ingest: read an article → repair broken lines → sections → sentences → passages with offsets.

An optional translation sidecar (`NAME.en.txt` beside `NAME.txt`) holds one English line per
Arabic segment: each heading, each sentence, and the promotional "read also" line, in order.
Blank lines in the sidecar are ignored.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .text import ends_sentence, normalise, sentence_spans
from .types import Chunk, Sentence

log = logging.getLogger(__name__)

MAX_PASSAGE_CHARS = 700
ARTICLE_SUFFIXES = (".txt", ".md")
# Bumped whenever chunking changes, so a stale index is rebuilt.
INGEST_VERSION = "8"

_PROMO = re.compile(r"^\s*(?:[اإأ]قر[أا]\s+[اأ]يض(?:ا|اً|ًا)|read\s+(?:also|more)|see\s+also)\s*:", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•|]|\d+[.)])\s")
# A line ending in one of these words continues on the next line: it is not a heading.
_OPEN_ENDING_WORDS = (
    "إن أن أنه إنه في من على عن إلى الى مع و أو ثم بين بعد قبل حول الذي التي الذين لدى عند كما لكن بأن"
    " the a an of to in on at for from with and or but that which who by as"
)
_OPEN_ENDINGS = frozenset(normalise(w) for w in _OPEN_ENDING_WORDS.split())
_MAX_HEADING_WORDS = 7
_MAX_HEADING_CHARS = 60


@dataclass(frozen=True)
class _Block:
    kind: str  # "paragraph" | "heading" | "promo"
    start: int
    end: int


def is_translation_sidecar(path: Path) -> bool:
    """`NAME.en.txt` / `NAME.en.md` files are translations, not articles."""
    return path.suffix in ARTICLE_SUFFIXES and Path(path.stem).suffix == ".en"


def article_files(seeds: Path) -> list[Path]:
    """The article files under `seeds` (sorted), excluding translation sidecars."""
    if not seeds.is_dir():
        raise CorpusError(f"No seeds folder at {seeds}. Create it and put .txt/.md articles in it.")
    return sorted(
        p for p in seeds.rglob("*") if p.is_file() and p.suffix in ARTICLE_SUFFIXES and not is_translation_sidecar(p)
    )


def sidecar_for(path: Path) -> Path | None:
    for suffix in ARTICLE_SUFFIXES:
        candidate = path.with_name(f"{path.stem}.en{suffix}")
        if candidate.is_file():
            return candidate
    return None


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not UTF-8 text (byte {exc.start}). Save it as UTF-8.") from None
    except OSError as exc:
        raise CorpusError(f"Cannot read {path}: {exc.strerror}") from None


def blocks(text: str) -> list[_Block]:
    """Split raw article text into paragraphs, headings and promo lines.

    A line continues the previous one when that line did not end a sentence (the source breaks
    lines mid-sentence). A short line without final punctuation that starts after a finished
    sentence is a heading. Blank lines always end a paragraph.
    """
    lines = list(_lines(text))
    out: list[_Block] = []
    current: list[int] | None = None
    prev_ended = True
    for i, (start, end) in enumerate(lines):
        line = text[start:end].strip()
        if not line:
            current, prev_ended = _close(out, current), True
            continue
        has_next = any(text[s:e].strip() for s, e in lines[i + 1 :])
        if _PROMO.match(line):
            current = _close(out, current)
            out.append(_Block("promo", *_strip_span(text, start, end)))
            prev_ended = True
            continue
        if _LIST_ITEM.match(line):  # Markdown list items and table rows: each its own paragraph
            current = _close(out, current)
            current, prev_ended = [start, end], True
            continue
        # Two short lines in a row: the second starts the section's text (broken mid-sentence).
        after_heading = bool(out) and out[-1].kind == "heading" and current is None
        if line.startswith("#") or (prev_ended and has_next and not after_heading and _looks_like_heading(line)):
            current = _close(out, current)
            s, e = _strip_span(text, start, end)
            while s < e and text[s] in "# ":
                s += 1
            out.append(_Block("heading", s, e))
            prev_ended = True
            continue
        if current is not None and not prev_ended:
            current[1] = end
        else:
            current = _close(out, current)
            current = [start, end]
        prev_ended = ends_sentence(line)
    _close(out, current)
    return out


def _lines(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for line in text.splitlines(keepends=True):
        yield pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)


def _close(out: list[_Block], current: list[int] | None) -> list[int] | None:
    """Emit the open paragraph, if any; returns the new (empty) open paragraph."""
    if current is not None:
        out.append(_Block("paragraph", current[0], current[1]))
    return None


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _looks_like_heading(line: str) -> bool:
    last = normalise(line.split()[-1]) if line.split() else ""
    return (
        len(line) <= _MAX_HEADING_CHARS
        and len(line.split()) <= _MAX_HEADING_WORDS
        and not ends_sentence(line)
        and not line.endswith((":", "،", ",", "-", "–"))
        and last not in _OPEN_ENDINGS  # "وقال لافروف إن" breaks off mid-sentence
    )


def display(text: str) -> str:
    """Source text as shown to users: broken lines joined (same length, so offsets still hold)."""
    return text.replace("\r", " ").replace("\n", " ")


def segments(text: str, parsed: list[_Block] | None = None) -> list[tuple[int, int]]:
    """The translatable segments in order: headings, promo lines and each paragraph's sentences."""
    out: list[tuple[int, int]] = []
    for block in parsed if parsed is not None else blocks(text):
        if block.kind == "paragraph":
            flat = display(text[block.start : block.end])
            out.extend((block.start + s, block.start + e) for s, e in sentence_spans(flat))
        else:
            out.append((block.start, block.end))
    return out


def read_translation(path: Path) -> list[str]:
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


def chunk_article(path: Path, root: Path) -> list[Chunk]:
    """Read one article (and its sidecar, if any) into passages ready to index."""
    text = read_text(path)
    source = _relative(path, root)
    parsed = blocks(text)
    segs = segments(text, parsed)
    english: dict[tuple[int, int], str] = {}
    sidecar = sidecar_for(path)
    if sidecar is not None:
        lines = read_translation(sidecar)
        if len(lines) == len(segs):
            english = dict(zip(segs, lines, strict=True))
        else:
            log.warning(
                "%s has %d lines but %s has %d segments; translation ignored "
                "(one English line per heading, sentence and 'read also' line).",
                _relative(sidecar, root),
                len(lines),
                source,
                len(segs),
            )
    article_id = path.stem
    title = _title(text, parsed, article_id)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    section: str | None = None
    for block in parsed:
        if block.kind == "heading":
            section = display(text[block.start : block.end])
            continue
        if block.kind == "promo":
            continue  # links another article: never evidence
        flat = display(text[block.start : block.end])
        sentences = [
            Sentence(block.start + s, block.start + e, flat[s:e], english.get((block.start + s, block.start + e)))
            for s, e in sentence_spans(flat)
        ]
        for group in _passages(sentences):
            start, end = group[0].start, group[-1].end
            passage = display(text[start:end])
            translation = " ".join(s.translation for s in group if s.translation) or None
            key = f"{source}\n{passage}\n{translation or ''}"
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            chunks.append(
                Chunk(
                    id=hashlib.sha256(f"{key}\n{occurrence}".encode()).hexdigest()[:32],
                    article_id=article_id,
                    title=title,
                    source=source,
                    start=start,
                    end=end,
                    text=passage,
                    translation=translation,
                    section=section,
                    position=len(chunks),
                    sentences=tuple(group),
                )
            )
    return chunks


def _passages(sentences: list[Sentence]) -> Iterator[list[Sentence]]:
    """Group a paragraph's sentences into passages of at most MAX_PASSAGE_CHARS."""
    group: list[Sentence] = []
    for sentence in (piece for s in sentences for piece in _split_long(s)):
        if group and sentence.end - group[0].start > MAX_PASSAGE_CHARS:
            yield group
            group = []
        group.append(sentence)
    if group:
        yield group


_CLAUSE_END = re.compile(r"[،,؛;:](?=\s)")
_SPACE = re.compile(r"\s")


def _split_long(sentence: Sentence) -> Iterator[Sentence]:
    """A sentence longer than a passage is cut after its last clause mark (else space) before the limit.

    The translation stays with the first piece: it cannot be cut at the same place.
    """
    text, start, translation = sentence.text, sentence.start, sentence.translation
    while len(text) > MAX_PASSAGE_CHARS:
        window = text[:MAX_PASSAGE_CHARS]
        cuts = [m.end() for m in _CLAUSE_END.finditer(window)] or [m.start() for m in _SPACE.finditer(window)]
        cut = cuts[-1] if cuts and cuts[-1] > 0 else MAX_PASSAGE_CHARS
        yield Sentence(start, start + cut, text[:cut], translation)
        rest = text[cut:]
        skipped = len(rest) - len(rest.lstrip())
        start, text, translation = start + cut + skipped, rest.lstrip(), None
    if text:
        yield Sentence(start, start + len(text), text, translation)


def _title(text: str, parsed: list[_Block], fallback: str) -> str:
    first = parsed[0] if parsed else None
    if first is None:
        return fallback
    line = display(text[first.start : first.end])
    if first.kind == "heading":
        return line
    words = line.split()
    return " ".join(words[:10]) + ("…" if len(words) > 10 else "")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_corpus(seeds: Path, root: Path) -> list[Chunk]:
    """Every passage of every article under `seeds`."""
    chunks: list[Chunk] = []
    for path in article_files(seeds):
        chunks.extend(chunk_article(path, root))
    return chunks


def corpus_files(seeds: Path) -> list[Path]:
    """Articles and their sidecars: everything whose change makes the index stale."""
    files = []
    for path in article_files(seeds):
        files.append(path)
        sidecar = sidecar_for(path)
        if sidecar is not None:
            files.append(sidecar)
    return files
