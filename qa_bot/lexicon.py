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
import logging
import os
from functools import cache
from pathlib import Path

from .text import tokens

log = logging.getLogger(__name__)

DEFAULT = Path("/usr/share/dictd/freedict-eng-ara")
MAX_RENDERINGS = 2  # Arabic words kept per English headword: its first entry's first senses, the common ones
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _number(code: str) -> int:
    """A dictd index offset or length (base 64, most significant digit first)."""
    n = 0
    for c in code:
        n = n * 64 + _B64.index(c)
    return n


def read_dictd(base: Path) -> dict[str, frozenset[str]]:
    """English search term → the search terms of its Arabic renderings, from a dictd dictionary
    (`base.index` + `base.dict.dz`). Multi-word headwords and renderings are skipped."""
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
        arabic = [t for r in renderings[:MAX_RENDERINGS] if len(found := tokens(r)) == 1 for t in found]
        if arabic:
            out.setdefault(english[0], set()).update(arabic)
    return {term: frozenset(words) for term, words in out.items()}


@cache
def english_to_arabic() -> dict[str, frozenset[str]]:
    """The dictionary at `QA_BOT_LEXICON` (or the Debian path); empty when there is none."""
    base = Path(os.environ.get("QA_BOT_LEXICON") or DEFAULT)
    try:
        return read_dictd(base)
    except OSError:
        log.warning(
            "no English–Arabic dictionary at %s: English questions over Arabic text match by meaning, "
            "digits and names only (install Debian's dict-freedict-eng-ara, or set QA_BOT_LEXICON)",
            base,
        )
        return {}
