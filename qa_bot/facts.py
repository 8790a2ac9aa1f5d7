"""The checkable facts of a sentence, in Arabic or English: numbers, dates, names, negations.

`facts(text)` finds them; keys are language-free so they compare across scripts: a number is its
value ("4" for "four", "أربع" and "٤"), a month or weekday its calendar key ("g8" for August and
آب/أغسطس), a name its consonant skeleton ("BM" for Obama and أوباما, see `translit.skeleton`). The word
lists are data files beside this module (`facts_*.txt`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Literal

import numpy as np

from .once import once
from .text import is_stopword, light_stem_ar, normalise, tokens
from .translit import skeleton

Kind = Literal["number", "date", "name"]

# An Arabic word runs on through its vowel marks and tatweel (كِرمان is one word, not ك + رمان).
_WORD = re.compile(
    r"\d+(?:[.,٫]\d+)*|[A-Za-z\u00C0-\u024F]+(?:['’-][A-Za-z\u00C0-\u024F]+)*"
    r"|[\u0621-\u064a\u0671-\u06d3][\u0621-\u065f\u0670-\u06d3\u0640]*"
)
_ARABIC = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")
_CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")


@dataclass(frozen=True)
class Word:
    """One word of a text: what was written, where, and its search key."""

    surface: str
    start: int
    key: str
    arabic: bool


@dataclass(frozen=True)
class Fact:
    """A checkable fact: its kind, the words that state it, and a key that compares across scripts."""

    kind: Kind
    surface: str
    key: str
    position: int  # index of its first word


def words(text: str) -> list[Word]:
    """The words and digit runs of `text`, with search keys (normalised; digits as ASCII)."""
    out = []
    for m in _WORD.finditer(text):
        surface = m.group()
        out.append(Word(surface, m.start(), normalise(surface), bool(_ARABIC.search(surface))))
    return out


def arabic_variants(key: str) -> list[str]:
    """A normalised Arabic word with its clitics (و ف ب ل ك, ال) stripped one way or another."""
    out = [key]
    for clitic in _CLITICS:
        if key.startswith(clitic) and len(key) - len(clitic) >= 2:
            out.append(key[len(clitic) :])
            rest = key[len(clitic) :]
            if rest.startswith("ال") and len(rest) > 4:
                out.append(rest[2:])
    return list(dict.fromkeys(out))


# -- word lists ----------------------------------------------------------------------------------
def _lines(name: str) -> list[str]:
    text = files("qa_bot").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def section_lines(name: str, section: str) -> list[str]:
    """The lines of one `[section]` of a word-list file beside this module, as written."""
    out: list[str] = []
    current = ""
    for line in _lines(name):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif current == section:
            out.append(line)
    return out


def _sections(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in _lines(name):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        sep = "," if "," in line else None
        out.setdefault(current, []).extend(p.strip() for p in line.split(sep) if p.strip())
    return out


@cache
def number_words() -> tuple[dict[str, float], dict[str, float]]:
    """(word → value, multiplier word → factor), keys normalised."""
    values: dict[str, float] = {}
    multipliers: dict[str, float] = {}
    for spelling, (value, multiplier) in number_spellings(ordinals=True).items():
        (multipliers if multiplier else values)[normalise(spelling)] = value
    return values, multipliers


@cache
def number_spellings(*, ordinals: bool = False) -> dict[str, tuple[float, bool]]:
    """Each number word as written in `facts_numbers.txt` → (value, is a multiplier); `ordinals`:
    also the Arabic ordinals (lines starting with "o": السابع = 7)."""
    out = {}
    for line in _lines("facts_numbers.txt"):
        head, _, rest = line.partition(" ")
        if head.startswith("o") and not ordinals:
            continue
        for spelling in rest.split(","):
            if spelling.strip():
                out[spelling.strip()] = (float(head.lstrip("xo")), head.startswith("x"))
    return out


def _calendar_key(name: str) -> str:
    """Month names are matched keeping hamza forms (آب August is not أب father)."""
    text = _DIACRITICS.sub("", unicodedata.normalize("NFKC", name)).casefold()
    return " ".join(text.split())


@cache
def calendar() -> tuple[dict[str, str], int]:
    """(calendar name → key, the longest name in words)."""
    names: dict[str, str] = {}
    for line in _lines("facts_calendar.txt"):
        key, _, rest = line.partition(" ")
        for name in rest.split(","):
            if name.strip():
                names[_calendar_key(name.strip())] = key
    return names, max(len(n.split()) for n in names)


@cache
def negation() -> dict[str, frozenset[str]]:
    """Sections of `facts_negation.txt`: en, ar, strong, not-negation (all normalised)."""
    return {k: frozenset(normalise(v) for v in vs) for k, vs in _sections("facts_negation.txt").items()}


@cache
def letter_names() -> dict[str, frozenset[str]]:
    """An Arabic letter name (normalised) → the Latin letters it spells (`facts_letters.txt`)."""
    out: dict[str, set[str]] = {}
    for line in _lines("facts_letters.txt"):
        letter, _, rest = line.partition(" ")
        for name in rest.split(","):
            if name.strip():
                out.setdefault(normalise(name.strip()), set()).add(letter)
    return {name: frozenset(letters) for name, letters in out.items()}


@cache
def _names_lists() -> dict[str, frozenset[str]]:
    return {k: frozenset(normalise(v) for v in vs) for k, vs in _sections("facts_names.txt").items()}


class WordSet:
    """Words held as their sorted 64-bit hashes (this process's `hash`): 8 bytes a word instead of
    a Python string and a set slot (Webster's 235,000 words: 2 MB instead of 27 MB). A word outside
    the set is taken for one in it only when the two hashes collide (about 1 in 10^14)."""

    def __init__(self, words: Iterable[str]) -> None:
        self._hashes = np.unique(np.fromiter(map(hash, words), dtype=np.int64))

    def __contains__(self, word: object) -> bool:
        h = hash(word)
        i = int(self._hashes.searchsorted(h))
        return i < len(self._hashes) and int(self._hashes[i]) == h

    def __len__(self) -> int:
        return len(self._hashes)


@once
def _webster() -> tuple[WordSet, WordSet]:
    from english_words import get_english_words_set  # imported lazily: a 3 MB word list

    words = get_english_words_set(["web2"])
    return WordSet(w for w in words if w.islower()), WordSet(w.lower() for w in words if w[:1].isupper())


def common_english(word: str, *, strict: bool = True, prefix: int = 5) -> bool:
    """A lower-case English dictionary word (Webster's 2nd, via `english-words`), inflected
    ("kings", "lasted") or prefixed ("macroeconomic") forms included. `strict`: and not also a
    proper noun there ("Kerry", "Geneva" are both). `prefix`: the longest prefix a compound may
    have ("immuno" + "deficiency" needs 6)."""
    common, proper = _webster()
    if strict and word in proper:
        return False
    forms = [word, *_unsuffixed(word)]
    # "macro" + "economic", "immuno" + "globulins"
    forms += [
        f
        for k in range(2, prefix + 1)
        if len(word) - k >= 6
        for f in (word[k:], *(u for u in _unsuffixed(word[k:]) if len(u) >= 6))
    ]
    return word in common or any(f in common for f in forms[1:] if len(f) >= 4)


def _unsuffixed(word: str) -> list[str]:
    return [word[: -len(end)] for end in ("s", "es", "ed", "d", "ing", "ly") if word.endswith(end)]


# -- extraction ----------------------------------------------------------------------------------
def _number_value(surface: str) -> float | None:
    digits = normalise(surface).replace("٫", ".")
    if "," in digits:
        head, *groups = digits.split(",")
        digits = head + "".join(groups) if all(len(g) == 3 for g in groups) else digits.replace(",", ".")
    try:
        return float(digits)
    except ValueError:
        return None


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def number_word(w: Word) -> bool:
    """Whether a word spells a number (or a multiplier, an ordinal, المائة), counting or not."""
    return _word_number(w) is not None


def _word_number(w: Word) -> tuple[float, bool] | None:
    """(value, is_multiplier) of a number word, or None."""
    values, multipliers = number_words()
    candidates = [w.key] if not w.arabic else arabic_variants(w.key)
    if not w.arabic:
        candidates = [w.key, *w.key.split("-")]
    for c in candidates:
        if c in values:
            return values[c], False
        if c in multipliers:
            return multipliers[c], True
    for c in candidates if w.arabic else []:  # a decade: السبعينيات, سبعينات (the 1970s)
        tens = next((values.get(c[: -len(end)]) for end in ("يات", "ات") if c.endswith(end)), None)
        if tens is not None and 20 <= tens <= 90 and tens % 10 == 0:
            return 1900 + tens, False
    return None


_COMPOUND_UNITS = {"first": (1.0, False), "second": (2.0, False), "one": (1.0, False)}


def _percent_hundred(ws: Sequence[Word], i: int) -> bool:
    """The hundred of a percentage ("10 في المئة", "بالمئة"): a number word that counts nothing."""
    w, prev = ws[i], ws[i - 1]
    after_fi, alone = _percent_words()
    return w.arabic and (w.key in alone or (prev.key == "في" and w.key in after_fi))


# (not "half", نصف: too idiomatic both ways — "a half-mile" نصف ميل, "the second half" النصف الثاني)
_EN_PARTS = {"quarter": 4, "quarters": 4}
_AR_PARTS = {"ثلث": (1, 3), "ربع": (1, 4), "ثلثا": (2, 3), "ثلثي": (2, 3)}
_AR_PLURAL_PARTS = {"اثلاث": 3, "ارباع": 4, "اخماس": 5}


def _fraction(ws: Sequence[Word], i: int) -> tuple[str, int] | None:
    """A fraction at word `i` — "a third of", "fell by a third", "one-third", "two thirds",
    "three-quarters of", ثلث, ثلثا, ثلاثة أرباع — as (key "1/3", words it takes); ("", 1) for a
    fraction too fine to say a number ("a sixteenth of"); None for none ("a third party" and "a
    tenth category" are ordinals, "two quarters" of a year, ربع النهائي a quarter-final; خمس, سبع,
    عشر are also "five", "seven", "ten" and are left alone)."""
    w = ws[i]
    after = ws[i + 1] if i + 1 < len(ws) else None
    if w.arabic:
        # without the article: الربع الخالي, الربع الأول (the first quarter), النصف الثاني are no fractions
        definite = "ال" in w.key[:4] or w.key.startswith("لل")
        compound = after is not None and after.key.startswith(("نهاي", "النهاي", "سنوي"))  # ربع النهائي, ربع سنوي
        clock = w.key.startswith("و") and i > 0 and (number_word(ws[i - 1]) or ws[i - 1].key[:1].isdigit())
        for v in arabic_variants(w.key) if not (definite or compound or clock) else ():
            if v in _AR_PARTS:
                top, den = _AR_PARTS[v]
                return f"{top}/{den}", 1
        plural = [_AR_PLURAL_PARTS[v] for v in arabic_variants(after.key) if v in _AR_PLURAL_PARTS] if after else []
        count = _count(w)
        if plural and 1 < count < plural[0]:  # ثلاثة أرباع
            return f"{count}/{plural[0]}", 2
        return None
    parts = w.key.split("-")
    if len(parts) == 2:  # one-third, two-thirds, three-quarters (one-sixteenth: too fine to count)
        top, den = _count(Word(parts[0], 0, parts[0], False)), _part(parts[1])
        if 0 < top < 20 and parts[1].endswith(("th", "ths", "rd", "rds", "quarter", "quarters")):
            return (f"{top}/{den}", 1) if den and top < den else ("", 1)
        return None
    prev = ws[i - 1].key if i > 0 else ""
    later = ws[i + 2].key if i + 2 < len(ws) else ""
    # "a third of", or said alone ("fell by a third", "a third, while"), not before the noun it
    # orders ("a third party") nor in "the Fourth of July"
    alone = (
        after is None or (is_stopword(after.surface) and after.key != "of") or (after.key == "of" and not _month(later))
    )
    if prev in ("a", "one") and w.key.endswith(("th", "rd")) and alone:
        den = _part(w.key)
        return (f"1/{den}", 1) if den else ("", 1)
    of = i + 2 < len(ws) and later == "of"
    den = _part(after.key) if after is not None and after.key.endswith("s") and (after.key != "quarters" or of) else 0
    top = _count(w)
    return (f"{top}/{den}", 2) if den and 1 < top < den else None  # "two thirds", "three quarters of"


def _month(key: str) -> bool:
    names, _ = calendar()
    return key in names and names[key].startswith("g")


def _count(w: Word) -> int:
    """A cardinal number word's value ("one" too; no ordinal, "third"), 0 for any other word."""
    if w.key == "one":
        return 1
    cardinals = _cardinals()
    found = next((cardinals[v] for v in (arabic_variants(w.key) if w.arabic else [w.key]) if v in cardinals), 0)
    return int(found) if found == int(found) else 0


@cache
def _cardinals() -> dict[str, float]:
    """Number words that count (no ordinals, no multipliers), normalised → value."""
    return {normalise(w): v for w, (v, multiplier) in number_spellings().items() if not multiplier}


def _part(key: str) -> int:
    """The denominator an English word names as a fraction (third(s) 3, quarter(s) 4), or 0."""
    if key in _EN_PARTS:
        return _EN_PARTS[key]
    single = key[:-1] if key.endswith("s") else key
    value = number_words()[0].get(single) if single.endswith(("th", "rd")) else None
    return int(value) if value and 3 <= value <= 10 else 0


@cache
def _percent_words() -> tuple[frozenset[str], frozenset[str]]:
    """(the hundred of "في المئة", a percentage's hundred with its preposition), normalised."""
    return frozenset(map(normalise, ("المئة", "المائة"))), frozenset(map(normalise, ("بالمئة", "بالمائة")))


_RANGE = re.compile(r"\s*[-–—/]\s*")
_SPACE = re.compile("[ \u00a0\u202f\u2009]")


def _numbers(ws: list[Word], text: str = "") -> list[Fact]:
    out: list[Fact] = []
    i = 0
    while i < len(ws):
        w = ws[i]
        if (fraction := _fraction(ws, i)) is not None:
            key, taken = fraction
            if key:
                out.append(Fact("number", " ".join(x.surface for x in ws[i : i + taken]), key, i))
            i += taken
            continue
        value: float | None = None
        multiplier = False
        if w.key[:1].isdigit():
            value = _number_value(w.surface)
        else:
            found = _word_number(w)
            if found is not None:
                value, multiplier = found
                if not w.arabic and "-" in w.key:  # twenty-four, twenty-first; one-third is a fraction
                    parts = [_COMPOUND_UNITS.get(p) or _word_number(Word(p, 0, p, False)) for p in w.key.split("-")]
                    value = sum(p[0] for p in parts if p) or value
        if value is not None and i > 0 and _percent_hundred(ws, i):
            value = None
        if value is None:
            i += 1
            continue
        j = i + 1
        if w.arabic and j < len(ws) and ws[j].key in ("عشر", "عشره") and 1 <= value < 10:
            value, j = value + 10, j + 1  # "خمسة عشر" 15, "السابع عشر" 17th
        # "أربعة وعشرون" = 4 + 20, "الحادي والعشرين" 21st
        if j < len(ws) and ws[j].arabic and ws[j].key.startswith("و"):
            nxt = _word_number(Word(ws[j].surface[1:], 0, ws[j].key[1:], True))
            if nxt and not nxt[1] and nxt[0] >= 20:
                value, j = value + nxt[0], j + 1
        if (decade := _decade_before(ws, i, out)) is not None and 1 < value <= 21:
            # the century of a decade (سبعينيات القرن التاسع عشر, السبعينيات من القرن العشرين) says
            # which decade: no number of its own
            out[-1] = Fact(
                "number", decade.surface, _format((value - 1) * 100 + int(decade.key) % 100), decade.position
            )
            i = j
            continue
        if out and len(w.key) == 2 and w.key.isdigit() and _year_range(text, ws[i - 1], w, out[-1]):
            value = float(int(out[-1].key) // 100 * 100 + int(w.key))  # "1998–99": 1999
        if w.key.isdigit() and len(w.key) <= 3:  # thousands set apart by a space: "162 584"
            while (
                j < len(ws)
                and len(ws[j].key) == 3
                and ws[j].key.isdigit()
                and _SPACE.fullmatch(text[ws[j - 1].start + len(ws[j - 1].surface) : ws[j].start])
            ):
                value, j = value * 1000 + int(ws[j].key), j + 1
        # "2 million" / "ثلاثة آلاف" multiply
        if j < len(ws):
            mult = _word_number(ws[j])
            if mult and mult[1] and not multiplier:
                value, j = value * mult[0], j + 1
        surface = " ".join(x.surface for x in ws[i:j])
        out.append(Fact("number", surface, _format(value), i))
        i = j
    return out


def _decade_before(ws: Sequence[Word], i: int, out: Sequence[Fact]) -> Fact | None:
    """The decade word (سبعينيات) the century word at `i` follows: "سبعينيات القرن", "السبعينيات من القرن"."""
    if not out or i < 2 or ws[i - 1].key != "القرن" or out[-1].surface[:1].isdigit() or len(out[-1].key) != 4:
        return None
    between = [w.key for w in ws[out[-1].position + 1 : i - 1]]
    return out[-1] if between in ([], ["من"]) else None


def number_readings(fact: Fact) -> set[str]:
    """Other values a source's number may be read as: a dot before three digits as a thousands
    separator ("281.754" is 281754 in many Arabic texts), a number before its multiplier on its own
    ("1.5 مليار طن" for "1.5 gigatons")."""
    parts = fact.surface.split()
    out = set()
    if re.fullmatch(r"\d{1,3}\.\d{3}", normalise(parts[0])):
        out.add(normalise(parts[0]).replace(".", ""))
    if len(parts) > 1 and not parts[-1][:1].isdigit() and (value := _number_value("".join(parts[:-1]))) is not None:
        out.add(_format(value))
    return out - {fact.key}


def _year_range(text: str, prev: Word, w: Word, fact: Fact) -> bool:
    """Whether two digits close a range of years begun by the word before ("1998–99")."""
    year = fact.key.isdigit() and len(fact.key) == 4 and prev.surface == fact.surface
    between = text[prev.start + len(prev.surface) : w.start]
    return year and bool(_RANGE.fullmatch(between)) and int(w.key) > int(fact.key) % 100


_EN_MAY = re.compile(r"\b(?:in|of|on|since|until|till|by|from|early|late|mid|last|next|this|\d+)\s+May\b|\bMay\s+\d")
# A weekday is part of a name only after an article or inside a run of capitalised words, and
# before a capitalised word: "the Sunday Times", "Black Friday Sale" (not "said Sunday Russia …",
# "Sunday Kerry met …", where it is the day).
_EN_ARTICLES = frozenset({"the", "a", "an"})


def _dates(text: str, ws: list[Word]) -> list[Fact]:
    names, longest = calendar()
    keys = [_calendar_key(w.surface) for w in ws]
    out: list[Fact] = []
    i = 0
    while i < len(ws):
        for n in range(min(longest, len(ws) - i), 0, -1):
            phrase = " ".join(keys[i : i + n])
            key = names.get(phrase)
            if key is None and ws[i].arabic:
                for clitic in ("و", "ف", "ب", "ل", "في"):
                    if phrase.startswith(clitic) and phrase[len(clitic) :] in names:
                        key = names[phrase[len(clitic) :]]
                        break
            if key is None:
                continue
            surface = " ".join(w.surface for w in ws[i : i + n])
            context = text[max(0, ws[i].start - 12) : ws[i].start + 8]
            lower_case = not ws[i].arabic and not surface[:1].isupper()  # "may", "march" as verbs
            may_the_verb = surface == "May" and not _EN_MAY.search(context)
            if lower_case or may_the_verb or (key.startswith("d") and _names_a_weekday(text, ws, i, n)):
                key = None
            if key is not None:
                out.append(Fact("date", surface, key, i))
                i += n - 1
            break
        i += 1
    return out


def _names_a_weekday(text: str, ws: list[Word], i: int, n: int) -> bool:
    """An English weekday (words i … i+n-1) that is part of a name: after an article or a
    capitalised word within the sentence, and before a capitalised word after a space."""
    if ws[i].arabic or i + n >= len(ws) or opens_sentence(text, ws, i):  # (a text's first word opens it)
        return False
    last, after, before = ws[i + n - 1], ws[i + n], ws[i - 1]
    if not text[last.start + len(last.surface) : after.start].isspace():
        return False
    if after.arabic or not after.surface[:1].isupper() or _calendar_key(after.surface) in calendar()[0]:
        return False
    named = before.surface[:1].isupper() and not opens_sentence(text, ws, i - 1) and not before.arabic
    return before.surface.lower() in _EN_ARTICLES or named


_CLAUSE_BREAK = re.compile(r"[،,؛;:.!?؟]")


def _is_arabic_name(ws: list[Word], i: int, text: str | None = None) -> bool:
    """A word right after a title or place noun ("الرئيس بوتين"), skipping adjectives with ال;
    not across a relative pronoun ("الولاية التي يدرّسون بها") nor, in `text` (the words' text, when
    given), a comma or other clause punctuation ("شركة، حسب"; quotes and brackets do not break it)."""
    triggers = _names_lists()["ar-triggers"]
    for back in range(1, 4):
        j = i - back
        if j < 0 or not ws[j].arabic:
            return False
        if text is not None and _CLAUSE_BREAK.search(text[ws[j].start + len(ws[j].surface) : ws[j + 1].start]):
            return False
        if any(v in triggers for v in arabic_variants(ws[j].key)):
            return not ws[i].key.startswith(("ال", "وال"))
        if not ws[j].key.startswith(("ال", "وال")) or is_stopword(ws[j].surface):
            return False
    return False


def _names(text: str, ws: list[Word], taken: set[int]) -> list[Fact]:
    """English: runs of capitalised words (not titles, openers or calendar names).
    Arabic: words right after a title or place noun. Other Arabic names are found by `verify`
    as words a claim adds that its source does not have."""
    stop = _names_lists()["not-names"]
    out: list[Fact] = []
    run: list[int] = []

    def close() -> None:
        if run:
            surface = " ".join(ws[k].surface for k in run)
            out.append(Fact("name", surface, " ".join(skeleton(ws[k].surface) for k in run), run[0]))
            run.clear()

    for i, w in enumerate(ws):
        if w.arabic:
            close()
            if i not in taken and _is_arabic_name(ws, i, text) and not is_stopword(w.surface):
                out.append(Fact("name", w.surface, skeleton(w.surface), i))
            continue
        first = i == 0 or _sentence_start(text, ws[i - 1], w)
        capital = w.surface[:1].isupper() and not w.key[:1].isdigit()
        bare = w.key.split("'")[0].split("’")[0]
        # a sentence opens with a capital: a dictionary word there is not a name, nor a compound of
        # one ("Immunodeficiency occurs when …")
        if not capital or i in taken or bare in stop or (first and common_english(bare, prefix=6)):
            close()
            continue
        if run and text[ws[run[-1]].start + len(ws[run[-1]].surface) : w.start].strip():
            close()  # "Brussels, Paris" are two names
        run.append(i)
    close()
    return out


def opens_sentence(text: str, ws: Sequence[Word], i: int) -> bool:
    """Whether word `i` of `text` starts a sentence (its capital says nothing)."""
    return i == 0 or _sentence_start(text, ws[i - 1], ws[i])


def _sentence_start(text: str, prev: Word, w: Word) -> bool:
    between = text[prev.start + len(prev.surface) : w.start]
    return any(mark in between for mark in (".", ":", "!", "?", "؟", '"', "“", "«", "(", "\n"))


@dataclass(frozen=True)
class Facts:
    """The facts of one text and its words."""

    words: tuple[Word, ...]
    numbers: tuple[Fact, ...]
    dates: tuple[Fact, ...]
    names: tuple[Fact, ...]

    @property
    def all(self) -> tuple[Fact, ...]:
        return self.numbers + self.dates + self.names


def facts(text: str) -> Facts:
    """Numbers, dates (months, weekdays) and names stated in `text`.

    >>> [f.key for f in facts("Kerry said by August, after four hours").all]
    ['4', 'g8', 'KR']
    """
    ws = words(text)
    dates = _dates(text, ws)
    in_dates = {k for f in dates for k in range(f.position, f.position + len(f.surface.split()))}
    numbers = [f for f in _numbers(ws, text) if f.position not in in_dates]  # not "كانون الثاني"
    taken = in_dates | {f.position for f in numbers}
    return Facts(tuple(ws), tuple(numbers), tuple(dates), tuple(_names(text, ws, taken)))


@lru_cache(maxsize=4096)
def facts_of(text: str) -> Facts:
    """`facts(text)`, cached: a question is read by the search and the selector, a source for every
    claim that cites it."""
    return facts(text)


# -- negation ------------------------------------------------------------------------------------
def negations(text: str, *, strong: bool = False) -> list[tuple[int, str]]:
    """(word index, cue) of every negation in `text`; idioms like "not only"/"لا يزال" excluded."""
    lists = negation()
    cues = lists["strong"] if strong else lists["en"] | lists["ar"]
    ws = words(text.replace("n't", " n't").replace("n’t", " n't"))
    keys = [w.key for w in ws]
    out = []
    for i, w in enumerate(ws):
        forms = arabic_variants(w.key) if w.arabic else [w.key]
        hit = next((f for f in forms if f in cues), None)
        if hit is None:
            continue
        pair = " ".join([hit, *keys[i + 1 : i + 2]])
        triple = " ".join([hit, *keys[i + 1 : i + 3]])
        before = " ".join([*keys[max(0, i - 1) : i], hit])
        if {pair, triple, before} & lists["not-negation"]:
            continue
        out.append((i, w.surface))
    return out


def stem(word: Word) -> str:
    """The search stem of one word."""
    if word.arabic:
        stemmed = light_stem_ar(word.key)
        return stemmed if len(stemmed) >= 3 else word.key  # "فيينا" is not "في"
    found = tokens(word.surface, drop_stopwords=False)
    return found[0] if found else word.key


def calendar_rows() -> dict[str, list[str]]:
    """Calendar key → its names in file order (the columns of `facts_calendar.txt`)."""
    rows = {}
    for line in _lines("facts_calendar.txt"):
        key, _, rest = line.partition(" ")
        rows[key] = [n.strip() for n in rest.split(",") if n.strip()]
    return rows


@lru_cache(maxsize=1 << 16)
def word_shapes(text: str) -> frozenset[str]:
    """Consonant skeletons of a text's words (Arabic words also without their clitics): what a name
    written in the other script is matched against."""
    out: set[str] = set()
    for w in words(text):
        for variant in arabic_variants(w.key) if w.arabic else [w.key]:
            shape = skeleton(variant)
            if len(shape) >= 2:
                out.add(shape)
    return frozenset(out)
