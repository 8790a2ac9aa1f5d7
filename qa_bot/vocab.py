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
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .facts import Word
from .once import once
from .text import normalise

log = logging.getLogger(__name__)

Reading = Literal["name", "word", "stem", "unknown"]
_FAMOUS = 20_000  # occurrences in Arramooz's frequency list: كندا 61k, بولندا 27k; دينا 5k, مايا 3k


@dataclass(frozen=True)
class Vocabulary:
    words: frozenset[str]  # normalised words of the language, as listed (nouns, plurals, verbs, particles)
    names: frozenset[str]  # proper nouns that are not also words (مجدي "my glory" is both)
    famous: frozenset[str]  # the names news uses most (كندا, not دينا)


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec("arramooz")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _rows(path: Path, query: str) -> list[tuple[str, ...]]:
    if not path.is_file():  # (connecting would create an empty database)
        raise OSError(f"{path} not found")
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return db.execute(query).fetchall()


@once
def vocabulary() -> Vocabulary | None:
    """Arramooz's words and names, normalised; None (and one warning) when it is not installed."""
    data = _data_dir()
    try:
        if data is None:
            raise OSError("package arramooz not found")
        nouns = _rows(data / "arabicdictionary.sqlite", "select unvocalized, broken_plural, wordtype from nouns")
        verbs = _rows(data / "arabicdictionary.sqlite", "select unvocalized, 'verb' from verbs")
        frequent = _rows(data / "wordfreq.sqlite", "select unvocalized, word_type, freq from wordfreq")
        particles = _rows(data / "stopwords.sqlite", "select UNVOCALIZED, 'particle' from STOPWORDS")
    except (OSError, sqlite3.Error) as exc:
        log.warning(
            "no Arabic word list (%s): the claim checks tell Arabic names from words by spelling alone "
            "(pip install arramooz-pysqlite)",
            exc,
        )
        return None
    common = {normalise(word) for word, kind, *_ in [*verbs, *particles, *frequent] if kind != "noun_prop"}
    # the noun list has some places too (أمريكا, a primitive noun): a proper noun is a name unless it
    # is also a verb, a particle, a frequent common word (مجدي "my glory"), a plural or a derived noun
    # (واحد "one", an active participle, tagged a name in the frequency list)
    plurals = {normalise(p.removeprefix("+ات").strip()) for _, listed, _ in nouns for p in (listed or "").split(";")}
    derived = {normalise(word) for word, _, kind in nouns if "جامد" not in (kind or "")}
    names = {normalise(word) for word, kind, _ in frequent if kind == "noun_prop"} - common - plurals - derived
    words = ((common | {normalise(word) for word, _, _ in nouns}) - names | plurals) - {""}
    famous = {normalise(word) for word, kind, freq in frequent if kind == "noun_prop" and int(freq) >= _FAMOUS}
    return Vocabulary(frozenset(words), frozenset(names), frozenset(famous & names))


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
        for form in possessed(key) if pronoun else ():  # مرحلتي → مرحله, مدرسوها → مدرس
            out.add(form.removesuffix("ون"))
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
                if len(rest) >= 3 and rest[-2] in "وي":  # hollow: يعود → عاد, يستطيع → استطاع
                    hollow = rest[:-2] + "ا" + rest[-1]
                    out.update((hollow, "ا" + hollow))
    return {w for w in out if len(w) >= 3}


def possessed(key: str) -> set[str]:
    """A noun before a pronoun suffix, as it is written without one: the feminine's ت back to ة
    (مرحلتهم → مرحله) and a plural's lost ن back (مدرسوهم → مدرسون; not before ي, where the plural
    is مدرسيّ, nor نا: مادونا, كريمونا are names); empty when `key` has no such ending."""
    for pronoun in _PRONOUNS:
        base = key[: len(key) - len(pronoun)]
        if key.endswith(pronoun) and len(base) >= 4:
            if base.endswith("ت"):
                return {base[:-1] + "ه"}
            if base.endswith("و") and pronoun not in ("ي", "نا"):
                return {base + "ن"}
            return set()
    return set()


def _readings(key: str) -> list[tuple[str, bool]]:
    """A normalised word with its clitics taken off one way or another, as written first: a
    conjunction (و ف), then a preposition (ب ل ك), then the article (وبالتالي → تالي); each with
    whether it may still be a verb (after و, ف and ل, not after ب, ك or the article)."""
    out = [(key, True)]
    out += [(v[1:], verb) for v, verb in out if v[:1] in "وف" and len(v) >= 3]
    out += [(v[1:], verb and v[0] == "ل") for v, verb in out if v[:1] in "بلك" and len(v) >= 3]
    out += [(v[2:], False) for v, _ in out if v.startswith("ال") and len(v) >= 4]
    out += [(v[2:], False) for v, _ in out if v.startswith("لل") and len(v) >= 4]  # ل + ال
    return list(dict.fromkeys(out))


def _nisba(key: str) -> str:
    """A word without the article and a noun's ending, when it ends in the adjective's ي and has
    the article or an ending (a noun): الكنديين → كندي, البريطانية → بريطاني; "" otherwise (not a
    verb, تودي)."""
    word = key.removeprefix("ال") if len(key) >= 5 else key
    for ending in ("تين", "تان", "ين", "ون", "ان", "ات", "ه", ""):
        if word.endswith(ending) and word[: len(word) - len(ending)].endswith("ي"):
            return word[: len(word) - len(ending)] if ending or word != key else ""
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
    # (an adjective's ي is never ى, مدى, and the names a hamza's seat turns into are no places:
    # المائية is not مايا + ي)
    adjective = not w.surface.endswith("ى") and not any(c in "ءئؤ" for c in w.surface)
    for v in variants if adjective else ():  # a place's adjective, listed as a word or not (الروسي, الكنديين)
        x = _nisba(v)
        # an adjective the lexicon lists as a word only from a name news uses often (الكندي from
        # كندا, but الدينية "religious" is not دينا + ي)
        if x and {x[:-1], x[:-1] + "ا", x + "ا"} & (vocab.famous if x in vocab.words else vocab.names):
            return "name"
    for v in variants:  # as written before a reading that takes letters off (بوتين is not ب + وتين)
        if v in vocab.words:
            return "word"
        if v in vocab.names:
            # a word and a pronoun (عمره "his age", not the name Omra) or a past tense's or plural's
            # ending (حكمت "she ruled", وصلات "links") reads both ways
            inflected = any(
                v.endswith(p) and len(v) - len(p) >= 3 and v[: -len(p)] in vocab.words
                for p in (*_PRONOUNS[:-1], "ات", "ت")
            )
            return "stem" if inflected else "name"
    if any(len(v) - len(p) == 2 and v.endswith(p) and v[:2] in vocab.words for v in variants for p in _PRONOUNS):
        return "stem"  # a two-letter word and a pronoun (ضدها)
    return "stem" if any(_lemmas(v, verb) & vocab.words for v, verb in readings) else "unknown"
