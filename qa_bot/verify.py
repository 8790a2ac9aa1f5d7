"""Is a claim supported by the sources it cites? Fact by fact, in either language and across them.

`check_claim` requires every number, date and name of the claim to be in a cited source (its
passage or translation; across scripts numbers by value, months by calendar key, names by
consonant skeleton, Arabic letter names for initialisms and the bilingual dictionary for names
made of words: see `pool`), the claim's polarity to match the source sentence it restates (see
`polarity`), no name or number swapped for another one of the source's, and the similarity score
(word overlap and embedding similarity) to reach `SUPPORTED`. An unsupported verdict always
names why.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from importlib.resources import files
from itertools import pairwise

import numpy as np
from langchain_core.embeddings import Embeddings

from .facts import (
    Fact,
    Facts,
    Word,
    _is_arabic_name,
    _names_lists,
    arabic_variants,
    common_english,
    facts_of,
    number_word,
    opens_sentence,
    stem,
)
from .polarity import Nearest, polarity
from .pool import (
    Pool,
    arabic_forms,
    arabic_found,
    bare,
    best_sentence,
    build_pool,
    exonym,
    exonyms,
    glossed,
    initialism,
    initialism_names,
    latin_found,
    renderings,
    said_at,
    said_together,
)
from .text import detect_language, is_stopword, sentence_spans, synonym_lexicon, tokens
from .translit import foreign_spelling, skeleton, skeletons_match, writes_long_vowel
from .vocab import reading

SUPPORTED = 0.45  # similarity score a claim needs besides its facts (overlap and embedding similarity)
CROSS_SUPPORTED = 0.2  # the same across scripts, where it is embedding similarity alone


@dataclass(frozen=True)
class Evidence:
    """A cited source: its number in the answer, the passage and its translation."""

    n: int
    text: str
    translation: str | None = None

    @property
    def texts(self) -> list[str]:
        return [self.text, *([self.translation] if self.translation else [])]


@dataclass(frozen=True)
class Verdict:
    """Whether a claim is supported, its similarity score and, when it is not, why."""

    supported: bool
    support: float
    reason: str | None = None


def check_claim(
    claim: str,
    sources: Sequence[Evidence],
    support: float,
    threshold: float = SUPPORTED,
    nearest: Nearest | None = None,
) -> Verdict:
    """The verdict on one claim against the sources it cites (none: "no citation").

    `nearest(claim, sentences)` picks the sentence a claim restates when they share no script (an
    English claim over an Arabic passage without translation), to compare their polarity;
    `nearest_by(embeddings)` makes one. Without it the whole passage is compared.

    Example: `check_claim("Kerry wants a constitution by June", [Evidence(1, passage, translation)], 0.8)`
    → `Verdict(False, 0.8, "date 'June' not in source [1]")`.
    """
    if not sources:
        return Verdict(False, support, "no citation")
    pool = build_pool("".join(f"[{s.n}]" for s in sources), [t for s in sources for t in s.texts])
    claimed = facts_of(claim)
    if not claimed.words:
        return Verdict(False, support, "the claim states nothing")
    arabic = detect_language(claim) == "ar"
    cross = not (pool.has_arabic if arabic else pool.has_latin)  # no cited text in the claim's script
    reason = (
        _missing_facts(claimed, pool, cross)
        or _missing_names(claim, claimed, pool, arabic, cross)
        or polarity(claim, pool, arabic, cross, nearest)
        or _swapped(claim, claimed, pool, arabic, cross)
    )
    if cross:
        threshold = min(threshold, CROSS_SUPPORTED)
    if reason is None and support < threshold:
        reason = f"too little in common with source {pool.label} (support {support:.2f} < {threshold})"
    return Verdict(reason is None, support, reason)


def _missing_facts(claimed: Facts, pool: Pool, cross: bool) -> str | None:
    for f in claimed.numbers:
        if f.key not in pool.values and not (cross and f.key in ("1", "2")):  # duals have no number word
            return f"number '{f.surface}' not in source {pool.label}"
    for f in claimed.dates:
        spelled = cross and (_transliterated_weekday(f, claimed, pool) or _month_name(f, claimed, pool))
        if f.key not in pool.dates and not spelled:
            return f"date '{f.surface}' not in source {pool.label}"
    return None


def _month_name(f: Fact, claimed: Facts, pool: Pool) -> bool:
    """An Arabic month word that is a name of the English source, spelled by its sound: نيسان
    Nissan (April), تموز Tammuz; a month alone, without a day or a year beside it."""
    ws = claimed.words
    w = ws[f.position]
    beside = [ws[k] for k in (f.position - 1, f.position + 1) if 0 <= k < len(ws)]
    if not w.arabic or " " in f.surface or any(x.key[:1].isdigit() for x in beside):
        return False
    # not where a date stands (في نيسان, منذ تموز, شهر آب), nor over a source that gives a month
    if f.position > 0 and set(arabic_variants(ws[f.position - 1].key)) & _names_lists()["before-dates"]:
        return False
    if any(d.startswith("g") for d in pool.dates):
        return False
    shapes = {skeleton(v) for v in arabic_variants(w.key)}
    return any(skeletons_match(a, b, edits=False) for a in shapes for b in pool.latin_skeletons)


def _transliterated_weekday(f: Fact, claimed: Facts, pool: Pool) -> bool:
    """A weekday that opens a name ("the coveted Sunday Times"): the Arabic spells the weekday and
    the capitalised word after it by their sound, side by side (صانداي تايمز), where a date would be
    translated."""
    ws = claimed.words
    after = ws[f.position + 1] if f.position + 1 < len(ws) else None
    if not f.key.startswith("d") or after is None or after.arabic or not after.surface[:1].isupper():
        return False
    day, name = skeleton(ws[f.position].surface), skeleton(after.surface)
    pairs = (pair for sentence, is_arabic in pool.sentences if is_arabic for pair in pairwise(facts_of(sentence).words))
    return any(
        a.arabic
        and b.arabic
        and writes_long_vowel(a.key)
        and skeletons_match(day, skeleton(a.key), edits=False)
        and skeletons_match(name, skeleton(b.key), edits=False)
        for a, b in pairs
    )


def _missing_names(claim: str, claimed: Facts, pool: Pool, arabic: bool, cross: bool) -> str | None:
    if not arabic:
        for f in claimed.names:
            # a lowercase part of a hyphenated word names nothing ("French-speaking", "al-Assad")
            parts = [p for p in re.split(r"[\s-]+", f.surface) if p[:1].isupper()]
            found = [latin_found(word, pool, cross) for word in parts]
            # "the Arctic" القطب الشمالي: a dictionary word after "the" the dictionary cannot render
            # is translated, not a person's name ("met Macron", "Kissinger")
            the = f.position > 0 and claimed.words[f.position - 1].key == "the"
            if cross and the and found == [False] and initialism(bare(parts[0])) is None:
                key = bare(parts[0].lower())
                found = [None] if common_english(key) and not renderings(key) and key not in exonyms() else found
            if cross and True in found:
                # a dictionary word the dictionary cannot render, beside a part found by its sound
                # ("Southwest Fresno", "Kings Canyon Freeway"): translated, so it cannot be checked;
                # alone ("Medieval of the Keraite tribe") it must be found like any name
                found = [
                    None if hit is False and common_english(bare(w.lower()), strict=False) else hit
                    for hit, w in zip(found, parts, strict=True)
                ]
            # across scripts a name of dictionary words ("Butcher Market") is translated: one of them
            # at least must be in the source, through the dictionary if not by its sound; a word of
            # one consonant ("Wear" ووير, "Way") can be told by neither, so it is not asked for
            words = [w for w in parts if initialism(bare(w)) is None and len(skeleton(bare(w))) >= 2]
            if len(parts) == 1 and opens_sentence(claim, claimed.words, f.position):
                words = []  # "Major changes …": a capital that opens the sentence
            if False in found or (cross and True not in found and any(renderings(bare(w.lower())) for w in words)):
                return f"name '{f.surface}' not in source {pool.label}"
        return None
    if (named := _missing_country(claimed, pool, cross)) is not None:
        return f"name '{named}' not in source {pool.label}"
    taken = {f.position for f in claimed.numbers + claimed.dates}
    ws = list(claimed.words)
    for i, w in enumerate(ws):
        if not w.arabic or i in taken or is_stopword(w.surface) or number_word(w):
            continue  # (a number word that counts nothing names nothing either: في المائة)
        if len(skeleton(w.key)) < 2 and not _is_arabic_name(ws, i, claim):
            continue  # one consonant tells no names apart (ثيو Theo, as in English), but after a title
        if (_name_like(ws, i, claim) or any(f.position == i for f in claimed.names)) and not arabic_found(w, pool):
            # across scripts a word spelled like a foreign name may be a word of the language
            # (أوائل "early", حوالي "about"): found when the source has one of its renderings
            if cross and (glossed(w) or frozenset()) & (pool.stems | pool.terms):
                continue
            return f"name '{w.surface}' not in source {pool.label}"
    return None


def _missing_country(claimed: Facts, pool: Pool, cross: bool) -> str | None:
    """A country or organisation an Arabic claim names in words of the language (المملكة المتحدة,
    الأمم المتحدة: `facts_names.txt` [initialism-names], two words or more) that the source does
    not name: by none of its listed names (الاتحاد الأوروبي or الأوربي, بريطانيا), nor its initialism
    (UK), nor, across scripts, the dictionary's renderings of its words ("United Kingdom",
    "International Criminal Court") or of another of its names ("Britain")."""
    ws = claimed.words
    forms = [arabic_forms(w.key) if w.arabic else frozenset() for w in ws]
    groups = initialism_names()
    for names in groups.values():
        for name in (n for n in names if len(n) >= 2):
            if (k := said_at(forms, name)) is None:
                continue
            # the initialisms that list this name (us and usa), and every name they list
            letters = [x for x, other in groups.items() if name in other]
            kin = [n for x in letters for n in groups[x]]
            if set(letters) & pool.initialisms or any(said_together(n, pool) for n in kin):
                continue
            said = ws[k : k + len(name)]
            if cross and (_rendered_name(said, pool) or any(len(n) == 1 and _glossed_in(n[0], pool) for n in kin)):
                continue
            return " ".join(w.surface for w in said)
    return None


def _rendered_name(said: Sequence[Word], pool: Pool) -> bool:
    """Whether the English source renders every word of an Arabic name the dictionary knows (all
    but one of three or more: المحكمة الجنائية الدولية, "International Criminal Court")."""
    known = [w for w in said if any(glossed(Word(v, 0, v, True)) for v in arabic_variants(w.key))]
    found = sum(_rendered(w, pool) for w in known)
    return bool(known) and found >= len(known) - (1 if len(said) >= 3 else 0)


def _rendered(w: Word, pool: Pool) -> bool:
    """Whether the English source has one of the dictionary's renderings of an Arabic word (its
    clitics off one way or another)."""
    return any((glossed(Word(v, 0, v, True)) or frozenset()) & pool.terms for v in arabic_variants(w.key))


def _glossed_in(forms: frozenset[str], pool: Pool) -> bool:
    """Whether the English source has a rendering of any of an Arabic word's listed forms (بريطانيا: Britain)."""
    return any(_rendered(Word(f, 0, f, True), pool) for f in forms)


def _name_like(ws: Sequence[Word], i: int, text: str | None = None) -> bool:
    """A word that reads as a name: in English a capital past the first word; in Arabic, right
    after a title or place noun, a proper noun of the Arabic lexicon or a word it does not list,
    or (without the lexicon) spelled the way foreign names are transliterated."""
    w = ws[i]
    if not w.arabic:
        return w.surface[:1].isupper() and i > 0 and bare(w.key) not in _names_lists()["not-names"]
    if _is_arabic_name(list(ws), i, text) or exonym(w.key):
        return True  # (a place Arabic calls by a name of its own is one: المجر, الشام)
    # a proper noun or a word no Arabic lexicon lists (يوسيمايت, أندرسون) names something; an
    # inflected word is read as one only when spelled like a foreign name (كيري is not كير + ي)
    kind = reading(w)
    if kind is None:
        return foreign_spelling(w.surface)
    return kind in ("name", "unknown") or (kind == "stem" and foreign_spelling(w.surface))


def _swapped(claim: str, claimed: Facts, pool: Pool, arabic: bool, cross: bool) -> str | None:
    """A name, number or date put in the place of another one of the restated source sentence
    (which the presence check misses when the new one occurs elsewhere in the passage)."""
    if cross:
        return None
    best = best_sentence(claim, pool, arabic)
    if best is None or best[1] < 0.5:
        return None
    source = facts_of(best[0])
    a = [w for w in source.words if not is_stopword(w.surface)]
    b = [w for w in claimed.words if not is_stopword(w.surface)]
    matcher = SequenceMatcher(None, [stem(w) for w in a], [stem(w) for w in b], autojunk=False)
    # English by the word as written ("Syrian" is not "Syria") and counted: a name of the sentence
    # put in the place of another is one more of it ("Putin's secretary" … "with Putin")
    claim_count, source_count = Counter(_swap_key(w) for w in b), Counter(_swap_key(w) for w in a)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace" or i2 - i1 > 3 or j2 - j1 > 3:
            continue
        old, new = a[i1:i2], b[j1:j2]
        old_text, new_text = " ".join(w.surface for w in old), " ".join(w.surface for w in new)
        kinds = _kinds(old, source) & _kinds(new, claimed)
        if "number" in kinds or "date" in kinds:
            return f"'{new_text}' where source {pool.label} has '{old_text}'"
        if arabic and len(old) <= 2 and len(new) <= 2 and best[1] >= 0.6:
            # Arabic writes no capitals: in a restated sentence, a word put in the place of another
            # that neither the source nor the synonym list has is read as a changed fact
            novel = [w for w in new if not arabic_found(w, pool)]
            if novel and not any(_same_name(x, y) for x in old for y in novel):
                return f"'{novel[0].surface}' where source {pool.label} has '{old_text}'"
        gone = [w for w in old if source_count[_swap_key(w)] > claim_count[_swap_key(w)]]  # removed, not moved
        came = [w for w in new if claim_count[_swap_key(w)] > source_count[_swap_key(w)]]  # new, not moved
        if not gone or not came or any(_same_name(x, y) for x in gone for y in came):
            continue
        if _is_name(gone, source) and (arabic or _is_name(came, claimed)):
            return f"name '{new_text}' where source {pool.label} has '{old_text}'"
        if arabic and len(old) == len(new) == 1 and best[1] >= 0.6 and stem(came[0]) in pool.stems:
            return f"'{new_text}' where source {pool.label} has '{old_text}'"  # another word of the passage
        # a sentence's first word, where a capital says nothing: a word no cited text has ("Tibet are
        # secondary schools" for "Private schools are …") is a name put in another's place
        opener = not arabic and len(new) == 1 and best[1] >= 0.6 and _opens(claim, claimed, new[0])
        if opener and new[0].surface[:1].isupper() and latin_found(new[0].surface, pool, cross=False) is False:
            return f"name '{new_text}' where source {pool.label} has '{old_text}'"
    return None


def _opens(text: str, found: Facts, w: Word) -> bool:
    ws = list(found.words)
    return opens_sentence(text, ws, next(i for i, x in enumerate(ws) if x.start == w.start))


def _swap_key(w: Word) -> str:
    return stem(w) if w.arabic else bare(w.key)


def _kinds(segment: Sequence[Word], found: Facts) -> set[str]:
    starts = {w.start for w in segment}
    out: set[str] = set()
    for f in found.numbers + found.dates:
        if found.words[f.position].start in starts:
            out.add(f.kind)
    return out


def _is_name(segment: Sequence[Word], found: Facts) -> bool:
    ws = list(found.words)
    index = {w.start: i for i, w in enumerate(ws)}
    return any(_name_like(ws, index[w.start]) for w in segment)


def _same_name(x: Word, y: Word) -> bool:
    lexicon = synonym_lexicon()
    sx, sy = stem(x), stem(y)
    synonyms = {t for term in tokens(x.surface) for t in lexicon.get(term, frozenset())}
    return (
        sx == sy
        or sy in lexicon.get(sx, frozenset())
        or bool(synonyms & set(tokens(y.surface)))
        or skeletons_match(skeleton(x.surface), skeleton(y.surface))
    )


def nearest_by(embeddings: Embeddings) -> Nearest:
    """A `nearest` for `check_claim`: the sentence most similar in meaning, in any language."""

    def nearest(claim: str, sentences: Sequence[str]) -> int:
        vectors = np.asarray(embeddings.embed_documents([claim, *sentences]), dtype=np.float32)
        return int(np.argmax(vectors[1:] @ vectors[0]))

    return nearest


@cache
def _attribution() -> frozenset[str]:
    text = files("qa_bot").joinpath("facts_attribution.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return frozenset(t for line in lines for t in tokens(line))


def support_score(sentence: str, texts: Sequence[str], embeddings: Embeddings) -> float:
    """How well texts (a passage and its translation) support a sentence: word overlap and meaning.

    Per text: half word overlap, half embedding similarity; a text in the other script than the
    sentence shares no words with it, so there the similarity counts alone. When no text is in the
    sentence's script, also its similarity to each sentence of the passage (a one-line claim is
    less like a whole paragraph than like the sentence it restates).
    """
    vectors = np.asarray(embeddings.embed_documents([sentence, *texts]), dtype=np.float32)
    words = set(tokens(sentence)) - _attribution()  # "According to the article, …" states no fact
    arabic = detect_language(sentence) == "ar"
    best = 0.0
    same_script = [(detect_language(text) == "ar") == arabic for text in texts]
    for text, vector, same in zip(texts, vectors[1:], same_script, strict=True):
        similarity = max(0.0, float(vector @ vectors[0]))
        if same:
            overlap = len(words & set(tokens(text))) / len(words) if words else 0.0
            best = max(best, 0.5 * overlap + 0.5 * similarity)
        else:
            best = max(best, similarity)
    if not any(same_script):
        parts = [text[a:b] for text in texts for a, b in sentence_spans(text)]
        if len(parts) > len(texts):
            found = np.asarray(embeddings.embed_documents(parts), dtype=np.float32)
            best = max(best, float(np.max(found @ vectors[0])))
    return best


__all__ = ["SUPPORTED", "Evidence", "Fact", "Verdict", "check_claim", "nearest_by", "support_score"]
