"""Ingest: read an article → repair broken lines → sections → sentences → passages with offsets.

An optional translation sidecar (`NAME.en.txt` beside `NAME.txt`) holds one English line per
Arabic segment: each heading, each sentence, and the promotional "read also" line, in order.
Blank lines in the sidecar are ignored. A translation written as running text (or a sidecar whose
line count is off) is aligned to the segments by `align`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .align import align
from .errors import CorpusError
from .text import ends_sentence, normalise, sentence_spans
from .types import Chunk, Sentence

log = logging.getLogger(__name__)

MAX_PASSAGE_CHARS = 700
ARTICLE_SUFFIXES = (".txt", ".md")
BULK_SUFFIX = ".jsonl"  # many articles, one JSON object per line
# Bumped whenever chunking or search terms (stemming) change, so a stale index is rebuilt.
INGEST_VERSION = "12"

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
_ARTICLE_ID = re.compile(r"[\w.\-/]{1,200}")


@dataclass(frozen=True)
class _Block:
    kind: str  # "paragraph" | "heading" | "promo"
    start: int
    end: int


def is_translation_sidecar(path: Path) -> bool:
    """`NAME.en.txt` / `NAME.en.md` files are translations, not articles."""
    return path.suffix in ARTICLE_SUFFIXES and Path(path.stem).suffix == ".en"


def article_files(seeds: Path) -> list[Path]:
    """The article files under `seeds` (sorted): `.txt`/`.md` articles and `.jsonl` bulk files, not sidecars."""
    if not seeds.is_dir():
        raise CorpusError(f"No seeds folder at {seeds}. Create it and put .txt/.md articles in it.")
    return sorted(
        p
        for p in seeds.rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and (p.suffix == BULK_SUFFIX or (p.suffix in ARTICLE_SUFFIXES and not is_translation_sidecar(p)))
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
    return [(a, b) for group in _block_segments(text, parsed) for a, b, _ in group]


def _block_segments(text: str, parsed: list[_Block] | None = None) -> list[list[tuple[int, int, str]]]:
    """The segments (start, end, text as displayed) grouped by block: a heading or promo line is a
    block of one, a paragraph has its sentences."""
    out: list[list[tuple[int, int, str]]] = []
    for block in parsed if parsed is not None else blocks(text):
        flat = display(text[block.start : block.end])
        if block.kind == "paragraph":
            out.append([(block.start + s, block.start + e, flat[s:e]) for s, e in sentence_spans(flat)])
        else:
            out.append([(block.start, block.end, flat)])
    return out


def _paragraph_segments(text: str, parsed: list[_Block]) -> list[list[str]]:
    """The segments' texts grouped by block, in order (what `align` pairs a translation with)."""
    return [[t for _, _, t in group] for group in _block_segments(text, parsed)]


def read_translation(path: Path) -> list[str]:
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


@dataclass(frozen=True)
class Article:
    """One article as read from seeds/: a `.txt`/`.md` file, or one line of a `.jsonl` bulk file.

    `translation` is the English text: one line per segment (heading, sentence, "read also" line),
    or running text, which `chunk` aligns to the segments (`align`) or, failing that, keeps whole
    when the article is one passage.
    """

    id: str
    text: str
    source: str
    title: str | None = None
    translation: str | None = None
    lang: str | None = None
    date: str | None = None
    url: str | None = None
    free_translation: bool = False  # bulk files may give the translation as free text


BULK_FIELDS = {"id", "title", "text", "lang", "translation", "date", "url"}


def bulk_articles(path: Path, root: Path) -> Iterator[Article]:
    """The articles of a JSONL bulk file, validated: CorpusError names the line and the fix."""
    source = _relative(path, root)
    seen: set[str] = set()
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise CorpusError(f"{where}: invalid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise CorpusError(f'{where}: each line must be an object {{"id", "title", "text", "lang", ...}}')
        unknown = sorted(set(record) - BULK_FIELDS)
        if unknown:
            raise CorpusError(
                f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(BULK_FIELDS))})"
            )
        for key in ("id", "text"):
            if not isinstance(record.get(key), str) or not record[key].strip():
                raise CorpusError(f'{where}: "{key}" must be a non-empty string')
        for key in BULK_FIELDS - {"id", "text"}:
            if record.get(key) is not None and not isinstance(record[key], str):
                raise CorpusError(f'{where}: "{key}" must be a string')
        article_id = record["id"].strip()
        if not _ARTICLE_ID.fullmatch(article_id):
            raise CorpusError(f'{where}: "id" may use letters, digits and . _ - / only, got {article_id!r}')
        if article_id in seen:
            raise CorpusError(f'{where}: duplicate "id" {article_id!r}')
        if record.get("lang") not in (None, "ar", "en"):
            raise CorpusError(f'{where}: "lang" must be "ar" or "en", got {record["lang"]!r}')
        seen.add(article_id)
        yield Article(
            id=article_id,
            text=record["text"],
            source=f"{source}#{article_id}",
            title=(record.get("title") or "").strip() or None,
            translation=record.get("translation") or None,
            lang=record.get("lang"),
            date=record.get("date") or None,
            url=record.get("url") or None,
            free_translation=True,
        )


def file_article(path: Path, seeds: Path, root: Path) -> Article:
    """A `.txt`/`.md` article and its sidecar translation, if any."""
    sidecar = sidecar_for(path)
    return Article(
        id=_article_id(path, seeds),
        text=read_text(path),
        source=_relative(path, root),
        translation="\n".join(read_translation(sidecar)) if sidecar is not None else None,
    )


def _article_id(path: Path, seeds: Path) -> str:
    """The path under seeds/ without its suffix: `seeds/2016/moscow.txt` → `2016/moscow`."""
    try:
        relative = path.resolve().relative_to(seeds.resolve())
    except ValueError:
        relative = Path(path.name)
    return relative.with_suffix("").as_posix()


def articles(seeds: Path, root: Path) -> Iterator[Article]:
    """Every article under `seeds` (files and bulk files), in path order."""
    for path in article_files(seeds):
        if path.suffix == BULK_SUFFIX:
            yield from bulk_articles(path, root)
        else:
            yield file_article(path, seeds, root)


def chunk_article(path: Path, root: Path) -> list[Chunk]:
    """Read one article file (and its sidecar, if any) into passages ready to index."""
    return chunk(file_article(path, path.parent, root))


def chunk(article: Article) -> list[Chunk]:
    """An article's passages ready to index: sections, sentences, offsets and aligned translations."""
    text, source = article.text, article.source
    parsed = blocks(text)
    grouped = _block_segments(text, parsed)
    segs = [(a, b) for group in grouped for a, b, _ in group]
    english: dict[tuple[int, int], str] = {}
    whole_translation: str | None = None
    if article.translation:
        lines = [line.strip() for line in article.translation.splitlines() if line.strip()]
        if len(lines) == len(segs):
            english = dict(zip(segs, lines, strict=True))
        else:
            found = align([[t for _, _, t in group] for group in grouped], article.translation)
            if found is not None:
                english = {seg: line for seg, line in zip(segs, found, strict=True) if line}
                if not article.free_translation:  # a sidecar is meant line by line: say it was not
                    log.warning(
                        "%s: the translation has %d lines for %d segments; aligned by sentence length "
                        "(%d of %d segments have English): check the sidecar.",
                        source,
                        len(lines),
                        len(segs),
                        len(english),
                        len(segs),
                    )
            else:
                whole_translation = " ".join(lines)
    title = article.title or _title(text, parsed, article.id)
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
                    article_id=article.id,
                    title=title,
                    source=source,
                    start=start,
                    end=end,
                    text=passage,
                    translation=translation,
                    section=section,
                    position=len(chunks),
                    sentences=tuple(group),
                    date=article.date,
                    url=article.url,
                )
            )
    if whole_translation is not None:
        # One passage: a free-text translation is the passage's (not aligned by sentence).
        if len(chunks) == 1 and article.free_translation:
            chunks[0] = replace(
                chunks[0],
                translation=whole_translation,
                id=hashlib.sha256(f"{chunks[0].id}\n{whole_translation}".encode()).hexdigest()[:32],
            )
        else:
            log.log(
                logging.INFO if article.free_translation else logging.WARNING,
                "%s: the translation has %d lines for %d segments; translation ignored "
                "(one English line per heading, sentence and 'read also' line).",
                source,
                len(article.translation.splitlines()) if article.translation else 0,
                len(segs),
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
    """Every passage of every article under `seeds`; CorpusError when two articles share an id."""
    chunks: list[Chunk] = []
    sources: dict[str, str] = {}
    for article in articles(seeds, root):
        if article.id in sources:
            raise CorpusError(
                f"two articles have the id {article.id!r}: {sources[article.id]} and {article.source}. "
                'Rename one (ids are file paths under seeds/ without the suffix, or the JSONL "id").'
            )
        sources[article.id] = article.source
        chunks.extend(chunk(article))
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
