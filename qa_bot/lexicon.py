"""English words in Arabic: a bilingual dictionary, so English questions can match Arabic text word by word.

An archive is mostly Arabic without translations; an English question over it can otherwise match
only through cross-lingual embeddings, digits and transliterated names. The FreeDict English–Arabic
dictionary (Arabeyes word list, 87k headwords, GPL; Debian's `dict-freedict-eng-ara`, which the
Makefile installs) gives each English word its Arabic renderings. Retrieval adds them to an English
question's lexical query and counts them, like synonyms, in a sentence's term coverage.

The dictionary is data read at run time from `QA_BOT_LEXICON` (default: where Debian puts it); when
it is missing, English questions fall back to embeddings, digits and names (one log line says so).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from pathlib import Path

from .once import once
from .text import normalise, tokens

log = logging.getLogger(__name__)

DEFAULT = Path("/usr/share/dictd/freedict-eng-ara")
MAX_RENDERINGS = 2  # Arabic words kept per English headword: its first entry's first senses, the common ones
# A rendering that negates a word ("boundless" لا محدود) would leave only the word once its particle
# is dropped as a stop word: the opposite sense ("limited"). Such renderings are skipped.
_NEGATING = frozenset({"لا", "غير", "عدم", "بلا", "بدون", "دون", "ليس", "لم", "لن"})
_VERSION = 3  # of what `read_dictd` keeps: a cached parse of an older version is parsed again
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _number(code: str) -> int:
    """A dictd index offset or length (base 64, most significant digit first)."""
    n = 0
    for c in code:
        n = n * 64 + _B64.index(c)
    return n


def read_dictd(base: Path) -> dict[str, frozenset[str]]:
    """English search term → the search terms of its Arabic renderings, from a dictd dictionary
    (`base.index` + `base.dict.dz`). Multi-word headwords and renderings are skipped, and so are
    renderings that negate a word ("boundless" لا محدود is not محدود "limited")."""
    index = base.with_name(base.name + ".index")
    body = base.with_name(base.name + ".dict.dz")
    data = gzip.decompress(body.read_bytes())
    out: dict[str, set[str]] = {}
    seen: set[str] = set()
    for line in index.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or parts[0].startswith("00database") or " " in parts[0] or parts[0] in seen:
            continue  # (a headword's later entries are its rarer senses: "weather" the verb, تجاوز)
        seen.add(parts[0])
        english = tokens(parts[0])
        if len(english) != 1:
            continue  # a stop word, or more than one word
        start, length = _number(parts[1]), _number(parts[2])
        entry = data[start : start + length].decode("utf-8", errors="replace").splitlines()[1:]
        renderings = [r.strip() for line in entry for r in line.replace("،", ",").split(",") if r.strip()]
        kept = [
            r for r in renderings[:MAX_RENDERINGS] if len(r.split()) == 1 or normalise(r.split()[0]) not in _NEGATING
        ]
        arabic = [t for r in kept if len(found := tokens(r)) == 1 for t in found]
        if arabic:
            out.setdefault(english[0], set()).update(arabic)
    return {term: frozenset(words) for term, words in out.items()}


def _cache_file(base: Path) -> Path | None:
    """Where the parsed dictionary is kept, named after the dictionary file's path, size and time."""
    try:
        stat = base.with_name(base.name + ".dict.dz").stat()
    except OSError:
        return None
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa-bot"
    root = Path(os.environ.get("QA_BOT_CACHE_DIR") or default)
    stamp = f"{base.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{MAX_RENDERINGS}|{_VERSION}"
    key = hashlib.sha256(stamp.encode()).hexdigest()
    return root / f"lexicon-{key[:16]}.json"


def _cached(base: Path) -> dict[str, frozenset[str]]:
    """`read_dictd(base)`, parsed once per dictionary file and kept as JSON (a second start reads
    it in milliseconds instead of parsing 87k entries in about a second)."""
    cache_file = _cache_file(base)
    if cache_file is not None:
        try:
            data = json.loads(cache_file.read_text(encoding="utf-8"))
            return {term: frozenset(words) for term, words in data.items()}
        except (OSError, ValueError):
            pass
    lexicon = read_dictd(base)
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            partial = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps({t: sorted(w) for t, w in lexicon.items()}, ensure_ascii=False), "utf-8")
            partial.replace(cache_file)  # atomic: a reader never sees half a file
        except OSError:
            log.debug("could not cache the parsed dictionary in %s", cache_file, exc_info=True)
    return lexicon


@once
def english_to_arabic() -> dict[str, frozenset[str]]:
    """The dictionary at `QA_BOT_LEXICON` (or the Debian path); empty when there is none."""
    base = Path(os.environ.get("QA_BOT_LEXICON") or DEFAULT)
    try:
        return _cached(base)
    except OSError:
        log.warning(
            "no English–Arabic dictionary at %s: English questions over Arabic text match by meaning, "
            "digits and names only (install Debian's dict-freedict-eng-ara, or set QA_BOT_LEXICON)",
            base,
        )
        return {}


@once
def arabic_to_english() -> dict[str, frozenset[str]]:
    """The same dictionary read the other way: Arabic search term → the English terms it renders.
    How an Arabic question's words are found in an English text that has no Arabic translation."""
    out: dict[str, set[str]] = {}
    for english, renderings in english_to_arabic().items():
        for arabic in renderings:
            out.setdefault(arabic, set()).add(english)
    return {term: frozenset(words) for term, words in out.items()}
