"""The article library in seeds/: import files, folders and JSONL bulk files into it; remove articles.

seeds/ is the source of truth: the index is rebuilt from it after any crash, so an import copies
the articles there (validated first, written atomically) before anything is indexed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError, InputError
from .ingest import (
    ARTICLE_SUFFIXES,
    BULK_SUFFIX,
    Article,
    article_files,
    articles,
    bulk_articles,
    file_article,
    is_translation_sidecar,
    read_text,
    sidecar_for,
)


@dataclass(frozen=True)
class Imported:
    """Files copied into seeds/ (source → destination) by one import."""

    files: tuple[tuple[Path, Path], ...]

    def __str__(self) -> str:
        n = len(self.files)
        return f"{n} file{'s' if n != 1 else ''} copied into seeds/" if n else "nothing new to copy"


def import_paths(paths: Sequence[Path], seeds: Path, root: Path) -> Imported:
    """Copy articles (files, folders of them, JSONL bulk files) into `seeds`.

    Everything is validated before the first file is written: a bad file or an article id that
    another article already uses is an error naming it, and seeds/ is left as it was.
    """
    plan: dict[Path, Path] = {}  # destination -> source
    for path in paths:
        for source, destination in _plan(path, seeds):
            plan[destination] = source
    incoming: dict[str, str] = {}
    for destination, source in plan.items():
        if destination.suffix == BULK_SUFFIX or not is_translation_sidecar(source):
            for article in _read(source, destination, seeds, root):
                if article.id in incoming:
                    raise InputError(
                        f"two imported articles have the id {article.id!r} ({incoming[article.id]}, {source})"
                    )
                incoming[article.id] = str(source)
    _check_ids(incoming, set(plan), seeds, root)
    seeds.mkdir(parents=True, exist_ok=True)
    copied = []
    for destination, source in sorted(plan.items()):
        if destination.is_file() and destination.read_bytes() == source.read_bytes():
            continue
        _atomic_copy(source, destination)
        copied.append((source, destination))
    return Imported(tuple(copied))


def remove_articles(ids: Iterable[str], seeds: Path, root: Path) -> list[str]:
    """Delete articles from seeds/ by id (their file and sidecar, or their line of a JSONL file)."""
    wanted = list(dict.fromkeys(ids))
    by_id: dict[str, Article] = {a.id: a for a in articles(seeds, root)}
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        raise InputError(f"no article with id {unknown[0]!r} in {seeds} (`qa-bot articles` lists them)")
    files = {p.resolve(): p for p in article_files(seeds)}
    bulk_edits: dict[Path, set[str]] = {}
    for article_id in wanted:
        source = by_id[article_id].source
        if "#" in source:
            path = _source_path(source.split("#", 1)[0], root, files)
            bulk_edits.setdefault(path, set()).add(article_id)
        else:
            path = _source_path(source, root, files)
            sidecar = sidecar_for(path)
            path.unlink()
            if sidecar is not None:
                sidecar.unlink()
    for path, gone in bulk_edits.items():
        kept = [
            line for line in read_text(path).splitlines() if line.strip() and json.loads(line).get("id") not in gone
        ]
        if kept:
            _atomic_write(path, "\n".join(kept) + "\n")
        else:
            path.unlink()
    return wanted


def _plan(path: Path, seeds: Path) -> list[tuple[Path, Path]]:
    """(source, destination in seeds/) for everything an import of `path` copies."""
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    if _inside(path, seeds):
        return []  # already in the library: indexing picks it up
    if path.is_dir():
        found = [
            p
            for p in sorted(path.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and p.suffix in (*ARTICLE_SUFFIXES, BULK_SUFFIX)
        ]
        if not found:
            raise InputError(f"{path} holds no .txt, .md or .jsonl articles")
        return [(p, seeds / path.name / p.relative_to(path)) for p in found]
    if path.suffix not in (*ARTICLE_SUFFIXES, BULK_SUFFIX):
        raise InputError(f"{path}: not an article (.txt, .md), a JSONL bulk file (.jsonl) or a folder")
    pairs = [(path, seeds / path.name)]
    sidecar = sidecar_for(path) if path.suffix != BULK_SUFFIX else None
    if sidecar is not None and not is_translation_sidecar(path):
        pairs.append((sidecar, seeds / sidecar.name))
    return pairs


def _read(source: Path, destination: Path, seeds: Path, root: Path) -> list[Article]:
    """The articles `source` will hold once copied to `destination` (validated: CorpusError → InputError)."""
    try:
        if source.suffix == BULK_SUFFIX:
            found = list(bulk_articles(source, root))
            if not found:
                raise InputError(f"{source} holds no articles (one JSON object per line)")
            return found
        article = file_article(source, source.parent, root)
    except CorpusError as exc:
        raise InputError(str(exc)) from None
    if not article.text.strip():
        raise InputError(f"{source} is empty")
    relative = destination.relative_to(seeds).with_suffix("").as_posix()
    return [Article(id=relative, text=article.text, source=str(source))]


def _check_ids(incoming: dict[str, str], replaced: set[Path], seeds: Path, root: Path) -> None:
    """An imported article may not take the id of a different article already in seeds/."""
    if not seeds.is_dir():
        return
    replaced_files = {p.resolve() for p in replaced}
    for article in articles(seeds, root):
        own_file = (root / article.source.split("#", 1)[0]).resolve()
        if article.id in incoming and own_file not in replaced_files:
            raise InputError(
                f"the article id {article.id!r} of {incoming[article.id]} is already used by {article.source}; "
                f"remove that one first (qa-bot index --remove {article.id}) or change the id"
            )


def _source_path(source: str, root: Path, files: dict[Path, Path]) -> Path:
    path = (root / source).resolve()
    return files.get(path, path)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _atomic_copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".import-")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, destination)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".edit-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
