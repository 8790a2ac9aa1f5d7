"""Arabic words and Arabic names: which words of an Arabic claim name something.

Arabic writes no capitals, so a claim's names cannot be told by their shape, and a rule on spelling
alone (long vowels where Arabic patterns have none) both misses names (يوسيمايت Yosemite, أندرسون
Anderson) and takes words of the language for names (حوالي "about", لإيجاد "to find"). A lexicon
tells them apart: Arramooz (Taha Zerrouki's Arabic dictionary for morphological analysis, GPL; PyPI
`arramooz-pysqlite`, which the project depends on) lists 30k nouns with their broken plurals, 14k
verbs, 38k frequent words (5k of them tagged as proper nouns) and 17k forms of function words. Its
SQLite files are data read at run time from the installed package; its code is never imported.
When it is missing, the spelling rule alone decides (one log line says so).
"""

from __future__ import annotations

import importlib.util
import logging
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from .facts import Word
from .text import normalise

log = logging.getLogger(__name__)

Reading = Literal["name", "word", "stem", "unknown"]


@dataclass(frozen=True)
class Vocabulary:
    words: frozenset[str]  # normalised words of the language, as listed (nouns, plurals, verbs, particles)
    names: frozenset[str]  # proper nouns that are not also words (مجدي "my glory" is both)


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec("arramooz")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _rows(path: Path, query: str) -> list[tuple[str, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(query).fetchall()


@cache
def vocabulary() -> Vocabulary | None:
    """Arramooz's words and names, normalised; None (and one warning) when it is not installed."""
    data = _data_dir()
    try:
        if data is None:
            raise OSError("package arramooz not found")
        nouns = _rows(data / "arabicdictionary.sqlite", "select unvocalized, broken_plural from nouns")
        verbs = _rows(data / "arabicdictionary.sqlite", "select unvocalized, '' from verbs")
        frequent = _rows(data / "wordfreq.sqlite", "select unvocalized, word_type from wordfreq")
        particles = _rows(data / "stopwords.sqlite", "select UNVOCALIZED, '' from STOPWORDS")
    except (OSError, sqlite3.Error) as exc:
        log.warning(
            "no Arabic word list (%s): the claim checks tell Arabic names from words by spelling alone "
            "(pip install arramooz-pysqlite)",
            exc,
        )
        return None
    common = {normalise(word) for word, kind in [*verbs, *particles, *frequent] if kind != "noun_prop"}
    # the noun list has some places too (أمريكا): a proper noun is a name unless it is also a verb,
    # a particle or a frequent common word (مجدي "my glory")
    plurals = {normalise(p.removeprefix("+ات").strip()) for _, listed in nouns for p in (listed or "").split(";")}
    names = {normalise(word) for word, kind in frequent if kind == "noun_prop"} - common - plurals
    words = ((common | {normalise(word) for word, _ in nouns}) - names | plurals) - {""}
    return Vocabulary(frozenset(words), frozenset(names))


# pronoun suffixes; the endings of nouns (plurals, duals, the feminine, an adjective's ي) and of
# verbs (person and number); a verb's person prefix in the present (أ normalised to ا)
_PRONOUNS = ("كما", "هما", "هم", "هن", "كم", "ها", "نا", "ه", "ك", "ي")
_NOUN_ENDINGS = ("يتان", "يتين", "يات", "يين", "يون", "يه", "تان", "تين", "ات", "ان", "ين", "ون", "ي", "ه")
_VERB_ENDINGS = ("تما", "تم", "تن", "وا", "ون", "ين", "ان", "تا", "ت", "ن", "ا", "ي")
_PRESENT = "يتنا"


def _lemmas(key: str, verb: bool) -> set[str]:
    """The forms a listed word may take in `key`: a pronoun suffix and a noun's ending taken off,
    the feminine ة put back (إمكانياتها → امكانيه); and, when `key` may be a verb (no preposition or
    article before it: not كـ + ينجز), a verb's ending and present-tense prefix taken off, with a
    form IV/VIII verb's alef (يمكن → امكن, تتجه → اتجه), an assimilated verb's و (يجب → وجب), a
    hollow verb's alef (يعود → عاد), after the future's س (ستبقى). Three letters at least."""
    out = {key}
    for pronoun in ("", *_PRONOUNS):
        if pronoun and not (key.endswith(pronoun) and len(key) - len(pronoun) >= 3):
            continue
        base = key[: len(key) - len(pronoun)]
        for ending in ("", *_NOUN_ENDINGS):
            if not ending or (base.endswith(ending) and len(base) - len(ending) >= 3):
                word = base[: len(base) - len(ending)]
                out.update((word, word + "ه"))
                if word.endswith("ا"):
                    out.add(word[:-1] + "ي")  # a defective word's alef maqsura before an ending (المشتراة)
        for ending in ("", *_VERB_ENDINGS) if verb else ():
            if ending and not (base.endswith(ending) and len(base) - len(ending) >= 2):
                continue
            word = base[: len(base) - len(ending)]
            out.update((word, word + "ا", word + "ي"))  # a defective verb's last letter (خلت → خلا)
            if len(word) >= 4 and word[0] == "س" and word[1] in _PRESENT:
                word = word[1:]
            if len(word) >= 3 and word[0] in _PRESENT:
                rest = word[1:]
                out.update((rest, "ا" + rest, "و" + rest, rest + "ا", rest + "ي"))  # (تنج → نجا)
                if len(rest) == 3 and rest[1] in "وي":
                    out.add(rest[0] + "ا" + rest[2])
    return {w for w in out if len(w) >= 3}


def _readings(key: str) -> list[tuple[str, bool]]:
    """A normalised word with its clitics taken off one way or another, as written first: a
    conjunction (و ف), then a preposition (ب ل ك), then the article (وبالتالي → تالي); each with
    whether it may still be a verb (after و, ف and ل, not after ب, ك or the article)."""
    out = [(key, True)]
    out += [(v[1:], verb) for v, verb in out if v[:1] in "وف" and len(v) >= 3]
    out += [(v[1:], verb and v[0] == "ل") for v, verb in out if v[:1] in "بلك" and len(v) >= 3]
    out += [(v[2:], False) for v, _ in out if v.startswith("ال") and len(v) >= 5]
    out += [(v[2:], False) for v, _ in out if v.startswith("لل") and len(v) >= 5]  # ل + ال
    return list(dict.fromkeys(out))


def _nisba(key: str) -> str:
    """A word without the article and a noun's ending, when it ends in the adjective's ي:
    الكنديين → كندي, البريطانية → بريطاني; "" otherwise."""
    word = key.removeprefix("ال") if len(key) >= 5 else key
    for ending in ("تين", "تان", "ين", "ون", "ان", "ات", "ه", ""):
        if word.endswith(ending) and word[: len(word) - len(ending)].endswith("ي"):
            return word[: len(word) - len(ending)]
    return ""


def reading(w: Word) -> Reading | None:
    """How the lexicon reads an Arabic word, its clitics taken off one way or another: a proper
    noun or its adjective ("name": الكنديين), a listed word as written ("word") or inflected
    ("stem"), or nothing it knows ("unknown"); None without the lexicon."""
    vocab = vocabulary()
    if vocab is None:
        return None
    readings = _readings(w.key)
    variants = list(dict.fromkeys(v for v, _ in readings))
    for v in variants:  # a place's adjective, listed as a word or not (الروسي, الكنديين)
        x = _nisba(v)
        places = {x[:-1], x[:-1] + "ا", x + "ا"} & vocab.names if x else set()
        # but from a name of three letters only an adjective the lexicon does not list as a word
        # (المائية "watery" is not ماي + ي, "May")
        if any(len(p) > 3 for p in places) or (places and x not in vocab.words):
            return "name"
    for v in variants:  # as written before a reading that takes letters off (بوتين is not ب + وتين)
        if v in vocab.words:
            return "word"
        if v in vocab.names:
            # a word and a pronoun (عمره "his age", not the name Omra) reads both ways
            owned = any(v.endswith(p) and v[: -len(p)] in vocab.words for p in _PRONOUNS[:-1])
            return "stem" if owned else "name"
    return "stem" if any(_lemmas(v, verb) & vocab.words for v, verb in readings) else "unknown"
