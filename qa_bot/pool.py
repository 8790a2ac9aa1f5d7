"""What cited sources state, in the forms a claim's facts and names are looked up by.

`build_pool(label, texts)` gathers a source's numbers, dates, words (keys, stems, Arabic cores) and
name skeletons in both scripts; `latin_found` and `arabic_found` say whether one word of a claim's
name is among them (`verify.check_claim` uses both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from .facts import (
    Word,
    _names_lists,
    arabic_variants,
    common_english,
    facts_of,
    letter_names,
    number_readings,
    number_words,
    section_lines,
    stem,
)
from .lexicon import arabic_to_english, english_to_arabic
from .text import detect_language, is_stopword, normalise, sentence_spans, synonym_lexicon, tokens
from .translit import _ascii, readings, said_without_ending, skeleton, skeletons_match, spelled_alike, writes_long_vowel
from .vocab import possessed

_DEMONYM = re.compile(r"(?:ese|ians?|ans?|ish|is?|s)$")
_GLIDES = frozenset("اأإآوؤيئىعء")
_ADJECTIVE = re.compile(r"(?<=\w{4})(?:ary|ical|ic|al|ian|an|ese|ish)$")


@dataclass
class Pool:
    """Everything the cited sources state, in forms a claim's facts are looked up by."""

    label: str
    values: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)  # normalised words and their clitic-free forms
    stems: set[str] = field(default_factory=set)
    cores: set[str] = field(default_factory=set)  # Arabic stems without verb affixes
    arabic_skeletons: set[str] = field(default_factory=set)
    # two consonants met only in words that open with a vowel or glide letter (ا و ي ع): the name of
    # a Latin one that opens the same way ("Wales" ويلز), not of one that opens with a consonant
    # ("Russia" is not فـ + يروس, "virus")
    glide_skeletons: set[str] = field(default_factory=set)
    latin_skeletons: set[str] = field(default_factory=set)
    latin_readings: set[str] = field(default_factory=set)  # other readings of their letters (Kraków KRKF)
    # lowercase words of four consonants or more that are no dictionary words: the loanwords Arabic
    # spells by their sound (methotrexate الميثوتركسات; not "operation", which بريطانيا would match)
    loan_skeletons: set[str] = field(default_factory=set)
    spelled_skeletons: set[str] = field(default_factory=set)  # of Arabic words with a long vowel written
    terms: set[str] = field(default_factory=set)  # search terms (`text.tokens`), as synonyms are kept
    roots: set[str] = field(default_factory=set)  # Arabic stems reduced to their consonants
    spelled: list[list[frozenset[str]]] = field(default_factory=list)  # Latin letters spelled out in Arabic
    initialisms: set[str] = field(default_factory=set)  # those of the Latin text, lower case ("us" for U.S.)
    has_arabic: bool = False
    has_latin: bool = False
    sentences: list[tuple[str, bool]] = field(default_factory=list)  # (sentence, is Arabic)


_INITIALISM = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z]{2,}\b")


def build_pool(label: str, texts: Iterable[str]) -> Pool:
    """The pool of the cited texts (passages and translations); `label` names them ("[1][2]")."""
    pool = Pool(label)
    for text in texts:
        found = facts_of(text)
        pool.values.update(f.key for f in found.numbers)
        pool.values.update(x for f in found.numbers for x in number_readings(f))
        pool.dates.update(f.key for f in found.dates)
        for w in found.words:
            pool.stems.add(stem(w))
            if w.arabic:
                variants = arabic_variants(w.key)
                pool.keys.update(variants)
                pool.stems.update(stem(Word(v, 0, v, True)) for v in variants)
                pool.cores.update(core(v) for v in variants)
                # a derived form's root (مصنوعات صنع), not a bare three-letter word (حسب "according to"),
                # nor a word read as a one-letter clitic and a verb's prefix (فيروس is not ف + ي + روس)
                stems = {stem(Word(v, 0, v, True)) for v in variants if len(w.key) - len(v) != 1 or v[0] not in "يتنا"}
                pool.roots.update(r for s in stems if len(r := root(s)) < len(s))
                if len(w.key) >= 3 and not is_stopword(w.surface):
                    # a two-consonant skeleton names only a word with a written vowel
                    # (كيري Kerry, not عبر): foreign names are spelled with them
                    shapes = {skeleton(v) for v in variants}
                    voweled = writes_long_vowel(w.key)
                    pool.arabic_skeletons.update(x for x in shapes if len(x) >= 3)
                    if voweled:
                        pool.spelled_skeletons.update(x for x in shapes if len(x) >= 3)
                        for v in variants:
                            if len(x := skeleton(v)) == 2:
                                opens = v.removeprefix("ال")[:1] if len(v) > 4 else v[:1]
                                (pool.glide_skeletons if opens in _GLIDES else pool.arabic_skeletons).add(x)
            else:
                pool.keys.add(bare(w.key))
                # and each part of a hyphenated word ("WABC-TV": WABC, TV)
                parts = w.surface.split("-") if "-" in w.surface else []
                pool.keys.update(bare(p.lower()) for p in parts)
                if w.surface.isalpha() and w.surface.islower() and not common_english(w.key, strict=False):
                    singular = w.surface[:-1] if w.surface.endswith("s") else w.surface
                    pool.loan_skeletons.update(x for x in {skeleton(w.surface), skeleton(singular)} if len(x) >= 4)
                for part in [w.surface, *parts]:
                    if part[:1].isupper():
                        pool.latin_skeletons.add(shape := skeleton(part))
                        pool.latin_readings.update(readings(part) - {shape})
        pool.spelled.extend(_spelled_runs(found.words))
        for m in _INITIALISM.finditer(text):  # "U.S." is أمريكا and الأمريكي to an Arabic claim
            pool.initialisms.add(letters := m.group().replace(".", "").lower())
            for name in initialism_names().get(letters, []):
                for forms in name:
                    pool.keys.update(forms)
                    pool.stems.update(forms)
        pool.terms.update(tokens(text))
        if detect_language(text) == "ar":
            pool.has_arabic = True
        else:
            pool.has_latin = True
        for start, end in sentence_spans(text):
            sentence = text[start:end]
            pool.sentences.append((sentence, detect_language(sentence) == "ar"))
    return pool


def bare(key: str) -> str:
    """An English key without a possessive or an "al-" prefix."""
    return key.split("'")[0].split("’")[0].removeprefix("al-")


def latin_found(word: str, pool: Pool, cross: bool) -> bool | None:
    """Is one capitalised word of a name in the sources? None when it cannot be checked."""
    key = bare(word.lower())
    word = bare(word)  # "Hashimoto's" is matched as "Hashimoto" (its skeleton has no s)
    if key in pool.keys or key in pool.stems or (tokens(key) and tokens(key)[0] in pool.stems):
        return True
    if cross and key in number_words()[0]:
        return None  # "Three's Company": the number word is translated (ثلاث), it names nothing
    if cross and exonym_found(key, pool):
        return True  # "the Levant" الشام
    letters = initialism(bare(word))
    if cross and letters is not None:
        # "NBC" is spelled out (إن بي سي), "TV" translated (تلفاز), "NATO" read as a word (الناتو);
        # a source that spells some initialisms out but not this one does not name it
        shape = skeleton(letters)
        if spelled_out(letters, pool) or translated(letters.lower(), pool):
            return True
        names = initialism_names().get(letters.lower())
        if names is not None:  # "FCC" لجنة الاتصالات الفيدرالية: every word of one of its names
            words = pool.stems | pool.keys
            return any(all(alike & words for alike in name) for name in names)
        if set(letters) & set("AEIOU") and any(skeletons_match(shape, s) for s in pool.arabic_skeletons):
            return True
        translated_ = letters.lower() in _names_lists()["translated-initialisms"]
        return False if pool.spelled and not translated_ else None
    shape = skeleton(word)
    if any(skeletons_match(shape, s) for s in pool.latin_skeletons):
        return True
    opening = _ascii(normalise(word))[:1]
    if opening and opening in "aeiouyw" and shape in pool.glide_skeletons:
        return True
    # across scripts also the adjective without its ending: "Chinese" صيني, "Syrian" سوري
    shapes = {shape}
    if len(adjective := _DEMONYM.sub("", word)) >= 4:  # not "Chris" → "Chr"
        shapes.add(skeleton(adjective))
    others = {*readings(word), *(readings(adjective) if len(adjective) >= 4 else ())} - shapes
    # a dictionary word is translated more often than spelled: as written only, not one letter off
    # ("Medicine" MDSN is not مدرسين MDRSN "teachers")
    edits = not (common_english(key, strict=False) and renderings(key))
    if any(skeletons_match(shape, s, prefix=True, edits=edits) for s in pool.arabic_skeletons):
        return True
    # the adjective without its ending only as it is: "Portugu(ese)" BRTG is not بريطانيا BRTN
    if any(skeletons_match(a, s, prefix=True, edits=False) for a in shapes - {shape} for s in pool.arabic_skeletons):
        return True
    # another reading of its letters only as it is, not one edit away (French is not فانتاسي)
    if any(skeletons_match(a, s, prefix=True, edits=False) for a in others for s in pool.arabic_skeletons):
        return True
    # said without a final s or x, from three consonants ("Chris" without its s is not سوريا)
    silent = said_without_ending(word)
    if silent and len(silent) >= 3 and any(skeletons_match(silent, s, edits=False) for s in pool.arabic_skeletons):
        return True
    # from two consonants, spelled alike with its vowels (Lévis ليفي, not "Chris" سوريا), by a word
    # written as foreign names are: no article or clitic, two long vowels (not الدوري for "Doris", سري)
    two = silent is not None and len(silent) == 2 and silent in pool.arabic_skeletons
    if two and any(spelled_alike(word, k) for k in _bare_foreign_words(pool) if skeleton(k) == silent):
        return True
    # a letter a language does not say, dropped in Arabic (Duquesne دوكان, Semper زيمبا): only from
    # four letters on, only against a word spelled with a long vowel the way foreign names are
    if any(_dropped(shape, s) for s in pool.spelled_skeletons):
        return True
    # a name with an established Arabic form, or a word translated rather than transliterated
    # ("India" الهند, "Empire" إمبراطورية, "Market" سوق): through the bilingual dictionary
    if cross and key in exonyms():
        return False  # its Arabic names are listed: not one of the dictionary's renderings (متوسط "average")
    if cross and translated(key, pool):
        return True
    if cross and common_english(key, strict=False) and renderings(key):
        return None  # "League", "National": translated, not transliterated (and not found so)
    if len(shape) < 2 or (cross and silent is not None and len(silent) < 2):
        return None  # too few consonants to tell names apart, as written or as said (Louis لوي: L)
    return False


def _bare_foreign_words(pool: Pool) -> set[str]:
    """The sources' Arabic words as written that could be a foreign name said in Arabic: no article or
    clitic in front, at least two long vowels (ليفي)."""
    out = set()
    for sentence, is_arabic in pool.sentences:
        if is_arabic:
            for w in facts_of(sentence).words:
                article = w.key.startswith(("ال", "وال", "بال", "فال", "لل"))
                if w.arabic and not article and sum(c in "اوي" for c in w.key) >= 2:
                    out.add(w.key)
    return out


def translated(key: str, pool: Pool) -> bool:
    """Whether the sources have a dictionary rendering of an English word, as written or in another
    form of its root ("Manufactures": مصنوعات for صناعة)."""
    rendered = renderings(key) or renderings(_ADJECTIVE.sub("", key))  # "parliamentary": parliament
    return bool(rendered & (pool.stems | pool.keys) or {root(r) for r in rendered} & pool.roots)


def renderings(key: str) -> frozenset[str]:
    """The Arabic search terms the bilingual dictionary gives for an English word."""
    terms = tokens(key)
    return english_to_arabic().get(terms[0], frozenset()) if len(terms) == 1 else frozenset()


def arabic_found(w: Word, pool: Pool) -> bool:
    """Is an Arabic word of a claim in the sources: as written, by stem, core or synonym, or as a
    name of the translation ("كيري" Kerry)?"""
    variants = arabic_variants(w.key)
    if any(v in pool.keys for v in variants):
        return True
    stems = {s for v in variants if len(s := stem(Word(v, 0, v, True))) >= 3}
    if stems & pool.stems or ({core(v) for v in variants} - {""}) & pool.cores:
        return True
    if {stem(Word(x, 0, x, True)) for v in variants for x in possessed(v)} & pool.stems:
        return True  # مرحلتهم "their stage" for المرحلة, مدرسوهم for المدرسون
    lexicon = synonym_lexicon()  # stemmed as search terms are ("غاية" غا), not as `stem` does (غايه)
    if any(lexicon.get(s, frozenset()) & (pool.stems | pool.terms) for s in {*stems, *tokens(w.surface)}):
        return True
    # an Arabic name of an English exonym, as written (قزوين "Caspian")
    if _exonym_words().get(w.key, frozenset()) & pool.keys:
        return True
    # without a clitic only by a longer skeleton and as it is: "بشار" is not ب + "شار" (SR, Syria),
    # "لابوراتوريز" not ل + BRTRS one edit from "Börte's"; another reading of Latin letters also as it is
    shape = skeleton(w.key)
    stripped = {x for v in variants[1:] if len(x := skeleton(v)) >= 3}
    return (
        any(skeletons_match(shape, b, prefix=True) for b in pool.latin_skeletons)
        or any(skeletons_match(a, b, prefix=True, edits=False) for a in stripped for b in pool.latin_skeletons)
        or any(skeletons_match(a, b, prefix=True, edits=False) for a in {shape, *stripped} for b in pool.latin_readings)
        or bool({shape, *stripped} & pool.loan_skeletons)
    )


def glossed(w: Word) -> frozenset[str] | None:
    """The English search terms the bilingual dictionary renders an Arabic word by, or None when it
    does not know the word (a name spelled in Arabic, as a rule)."""
    glosses = arabic_to_english()
    for term in tokens(w.surface):
        if term in glosses:
            return glosses[term]
    return None


def core(key: str) -> str:
    """An Arabic word without its light-stem affixes and a verb's person prefix and suffix, so
    "توصلتا" and "تتوصلا" (they reached / did not reach) compare equal."""
    out = stem(Word(key, 0, key, True))
    if len(out) > 4 and out[0] in "يتنا":
        out = out[1:]
    for end in ("تا", "وا", "ت", "ا", "ن"):
        if len(out) > 3 and out.endswith(end):
            out = out[: -len(end)]
            break
    return out if len(out) >= 3 else ""


def root(stemmed: str) -> str:
    """An Arabic stem's consonants without a derivational prefix (م ت ي ن ا) or long vowels, so a
    dictionary's rendering finds the source's form of the word: مصنوع, صناع and تصنيع → صنع."""
    out = stemmed[1:] if len(stemmed) > 3 and stemmed[0] in "متينا" else stemmed
    bare_ = out[:1] + "".join(c for c in out[1:] if c not in "اوي")
    return bare_ if len(bare_) >= 3 else out


def _spelled_runs(ws: Iterable[Word]) -> list[list[frozenset[str]]]:
    """Runs of Arabic words that spell Latin letters ("إن بي سي"), each as the letters each word can
    be; only runs of two words or more, two of them not also common words (إن, في, أو). A word
    with a clitic ("وإن", "لأيه") starts a run."""
    names = letter_names()
    runs: list[list[tuple[Word, frozenset[str]]]] = [[]]
    for w in ws:
        if not w.arabic:
            runs.append([])
        elif w.key in names:
            runs[-1].append((w, names[w.key]))
        elif letters := next((names[x] for x in arabic_variants(w.key)[1:] if x in names), None):
            runs.append([(w, letters)])
        else:
            runs.append([])
    return [
        [letters for _, letters in run]
        for run in runs
        if len(run) >= 2 and sum(not is_stopword(w.surface) for w, _ in run) >= 2
    ]


@cache
def initialism_names() -> dict[str, list[list[frozenset[str]]]]:
    """An initialism (lower case) → its Arabic names, each as the forms of each of its words, stop
    words aside (`facts_names.txt`, [initialism-names]; a line per name)."""
    out: dict[str, list[list[frozenset[str]]]] = {}
    for line in section_lines("facts_names.txt", "initialism-names"):
        letters, *name = line.split()
        out.setdefault(letters, []).append([arabic_forms(normalise(w)) for w in name if not is_stopword(w)])
    return out


@cache
def exonyms() -> dict[str, list[list[frozenset[str]]]]:
    """An English place, people or language (lower case) → the Arabic names Arabic calls it by, each
    as the written forms of each of its words (`facts_names.txt`, [exonyms]: Levant الشام, Hungary
    المجر, the Mediterranean البحر الأبيض المتوسط). A word is matched as written, after a conjunction
    and, when it has the article, after a preposition (بالشام): never by its stem or without its
    article, where the name is a word of the language (صيدا is no صيد "fishing", المجر no المجرة)."""
    out: dict[str, list[list[frozenset[str]]]] = {}
    for line in section_lines("facts_names.txt", "exonyms"):
        english, *name = line.split()
        out.setdefault(english, []).append([_written_forms(normalise(w)) for w in name])
    return out


def _written_forms(key: str) -> frozenset[str]:
    forms = {key, "و" + key, "ف" + key}
    if key.startswith("ال"):
        forms |= {c + key for c in ("ب", "وب", "فب", "ك")} | {c + key[1:] for c in ("ل", "ول", "فل")}
    return frozenset(forms)


@cache
def _exonym_words() -> dict[str, frozenset[str]]:
    """A written form of a one-word Arabic exonym → the English words it names ("الشام" → levant)."""
    out: dict[str, set[str]] = {}
    for english, names in exonyms().items():
        for name in names:
            if len(name) == 1:
                for form in name[0]:
                    out.setdefault(form, set()).add(english)
    return {k: frozenset(v) for k, v in out.items()}


def exonym(key: str) -> bool:
    """Whether a normalised Arabic word is a one-word exonym as written (المجر, بالشام)."""
    return key in _exonym_words()


def exonym_found(english: str, pool: Pool) -> bool:
    """Whether an Arabic sentence of the sources says an Arabic name of an English exonym: its words
    one after the other, as written (البحر الأبيض المتوسط; not المتوسط "average" and a بحر elsewhere)."""
    names = exonyms().get(english)
    if not names:
        return False
    for sentence, is_arabic in pool.sentences:
        if is_arabic:
            keys = [frozenset({w.key}) for w in facts_of(sentence).words if w.arabic]
            if any(said_at(keys, name) is not None for name in names):
                return True
    return False


def said_at(forms: Sequence[frozenset[str]], name: Sequence[frozenset[str]]) -> int | None:
    """Where words (each as a set of its forms: `arabic_forms`, or as written) say a name's words
    (each as the set of forms it may take) one after the other, or None."""
    runs = range(len(forms) - len(name) + 1)
    return next((k for k in runs if all(forms[k + j] & part for j, part in enumerate(name))), None)


def said_together(name: Sequence[frozenset[str]], pool: Pool) -> bool:
    """Whether an Arabic sentence of the source says a name's words one after the other, stop words
    aside (not المملكة … المتحدة of "الولايات المتحدة والمملكة العربية")."""
    for sentence, is_arabic in pool.sentences:
        if not is_arabic:
            continue
        ws = [w for w in facts_of(sentence).words if w.arabic and not is_stopword(w.surface)]
        if said_at([arabic_forms(w.key) for w in ws], name) is not None:
            return True
    return False


@lru_cache(maxsize=1 << 14)
def arabic_forms(key: str) -> frozenset[str]:
    """A normalised Arabic word with its clitics off one way or another, and the stem of each."""
    return frozenset(f for v in arabic_variants(key) for f in (v, stem(Word(v, 0, v, True))))


def initialism(word: str) -> str | None:
    """The letters of an initialism ("ABC's" → ABC, "VLRs" → VLR), or None."""
    letters = re.sub(r"(?:['’]s|s)$", "", word)
    return letters if len(letters) >= 2 and letters.isupper() and letters.isalpha() else None


def spelled_out(letters: str, pool: Pool) -> bool:
    """Whether the sources spell the initialism out in Arabic letter names."""
    n = len(letters)
    return any(
        all(letters[k] in run[start + k] for k in range(n)) for run in pool.spelled for start in range(len(run) - n + 1)
    )


def best_sentence(claim: str, pool: Pool, arabic: bool) -> tuple[str, float] | None:
    """The cited sentence in the claim's script that shares most words with the claim."""
    wanted = set(tokens(claim))
    if not wanted:
        return None
    scored = [(len(wanted & set(tokens(s))) / len(wanted), s) for s, is_ar in pool.sentences if is_ar == arabic]
    if not scored:
        return None
    score, sentence = max(scored)
    return sentence, score


def _dropped(longer: str, shorter: str) -> bool:
    """`longer` is `shorter` with one weak consonant (r, n, s, h) more, and four letters or more."""
    return (
        len(longer) >= 4
        and len(longer) == len(shorter) + 1
        and any(longer[:k] + longer[k + 1 :] == shorter for k in range(len(longer)) if longer[k] in "RNSH")
    )
