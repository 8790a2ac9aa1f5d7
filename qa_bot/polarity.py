"""Does a claim keep the polarity of the source sentence it restates? A negation added or dropped.

In one script the claim and the sentence it restates are aligned word by word and each negation's
scope (the words after it) compared; across scripts (an English claim over Arabic alone) the
sentence nearest in meaning is compared, through the bilingual dictionary where it can be.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher

from .facts import Word, arabic_variants, common_english, facts_of, negation, negations, stem
from .pool import Pool, bare, best_sentence, renderings, root
from .text import is_stopword, normalise

Nearest = Callable[[str, Sequence[str]], int]
# a word undone by an affix ("unaided" دون, "useless" غير مفيد); its base must be a word (not "un|der")
_UNDONE = re.compile(r"\b(?:un(?!less\b)|non-?)(?P<base>[a-z]{4,})|\b(?P<base2>[a-z]{3,})less\b", re.I)


def polarity(claim: str, pool: Pool, arabic: bool, cross: bool, nearest: Nearest | None) -> str | None:
    """Negation added or dropped relative to the source sentence the claim restates."""
    mine = negations(claim, strong=cross)
    if cross:
        sentences = [s for s, _ in pool.sentences]
        if nearest is not None and sentences:
            nearest_sentence = sentences[nearest(claim, sentences)]
            theirs = negations(nearest_sentence)
            if arabic:  # an English sentence says some negations without a cue
                theirs = sorted([*theirs, *_other_cues(nearest_sentence, claim, mine)])
            if mine and (not theirs or _restated_unnegated(claim, mine[0][0], nearest_sentence, theirs)):
                return f"negation '{mine[0][1]}' not in source {pool.label}"
            strong = [
                (i, cue)
                for i, cue in negations(nearest_sentence, strong=True)
                if not _restriction(nearest_sentence, i, claim)
            ]
            if strong and not _negatives(claim):
                said = f"'{strong[0][1]}' ({_quote(nearest_sentence, strong[0][0])})"
                return f"source {pool.label} says {said}; the claim drops the negation"
            if arabic:
                # "unaided" is غير مدعومة: an Arabic claim that states the word with fewer negations
                # than the English sentence has drops one
                claim_words = _negation_words(claim)
                undone = [w for b, w in _undone_pairs(nearest_sentence) if _rendered_at(claim_words, renderings(b))]
                if undone and len(negations(claim)) < len(negations(nearest_sentence)) + len(undone):
                    return f"source {pool.label} says '{undone[0]}'; the claim drops the negation"
            return None
        if mine and not any(negations(s) or (arabic and _other_cues(s, claim, mine)) for s in sentences):
            return f"negation '{mine[0][1]}' not in source {pool.label}"
        return None
    best = best_sentence(claim, pool, arabic)
    if best is None or best[1] < 0.4:
        if mine and not any(negations(s) for s, is_ar in pool.sentences if is_ar == arabic):
            return f"negation '{mine[0][1]}' not in source {pool.label}"
        return None
    source = best[0]
    theirs = negations(source)
    for i, cue in theirs:  # a negation of the source whose words the claim states unnegated
        there = _aligned_negated(source, i, claim, mine)
        if not (_negated_there(_scope(source, i), claim, mine) if there is None else there):
            return f"source {pool.label} says '{cue}' ({_quote(source, i)}); the claim drops the negation"
    for j, cue in mine:  # a negation of the claim over words the source states unnegated
        there = _aligned_negated(claim, j, source, theirs)
        if not theirs or not (_negated_there(_scope(claim, j), source, theirs) if there is None else there):
            return f"negation '{cue}' not in source {pool.label}"
    return None


def _aligned_negated(text: str, i: int, other: str, cues: Sequence[tuple[int, str]]) -> bool | None:
    """Whether the word a negation of `text` (at word `i`) governs is negated where `other` states
    it, the two sentences aligned word by word (so a second "زوجة" negated further on does not
    count for the first); None when that word has no counterpart in `other`."""
    ws, os_ = _negation_words(text), _negation_words(other)
    head = next((k for k in range(i + 1, len(ws)) if not is_stopword(ws[k].surface)), None)
    if head is None:
        return None
    matcher = SequenceMatcher(None, [stem(w) for w in ws], [stem(w) for w in os_], autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        if a <= head < a + size and size >= 2:
            j = b + head - a
            return any(j - 4 <= c < j for c, _ in cues)
    return None


def _negated_there(scope: list[frozenset[str]], text: str, cues: Sequence[tuple[int, str]]) -> bool:
    """Whether the words after a negation (`scope`) are negated in `text` too: True when `text` does
    not state most of them (nothing to compare) or a cue of `text` stands just before them."""
    ws = _negation_words(text)
    found = [k for k, w in enumerate(ws) if any(_match_keys(w) & s for s in scope)]
    if not scope or len({s for s in scope if any(_match_keys(ws[k]) & s for k in found)}) * 2 < len(scope):
        return True
    return any(k - 4 <= i < k for k in found for i, _ in cues)


def _negation_words(text: str) -> tuple[Word, ...]:
    return facts_of(text.replace("n't", " n't").replace("n’t", " n't")).words


def _scope(sentence: str, i: int, width: int = 3) -> list[frozenset[str]]:
    following = [w for w in _negation_words(sentence)[i + 1 :] if not is_stopword(w.surface)][:width]
    return [_match_keys(w) for w in following]


def _match_keys(w: Word) -> frozenset[str]:
    """A word's forms for comparing a claim with its source: its stem and, in Arabic, the stem
    without a verb's person prefix or suffix ("توصلتا", "تتوصلا", "توصلت" share one)."""
    if not w.arabic:
        return frozenset({stem(w)})
    base = stem(w)
    forms = {base, base[1:] if base[:1] in "يتنا" else base}
    forms |= {f[: -len(e)] for f in list(forms) for e in ("تا", "وا", "ت", "ا", "ن") if f.endswith(e)}
    return frozenset(f for f in forms if len(f) >= 3)


def _quote(sentence: str, i: int) -> str:
    return " ".join(w.surface for w in _negation_words(sentence)[i : i + 4]) + " …"


def _negatives(claim: str) -> int:
    """How many negations an English claim says: cues ("not", "never"), words that say one of their
    own ("lacked", "discouraged") and words undone by an affix ("unaided", "nonprofit", "useless",
    not "under", "unless", "unveiled" or "wireless")."""
    lists = negation()
    implicit = sum(w.key in lists["implicit-en"] for w in _negation_words(claim))
    return len(negations(claim)) + implicit + len(_undone(claim))


def _other_cues(english: str, claim: str, cues: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """Where an English sentence says an Arabic claim's negation (`cues`) without a cue word, over
    the words the claim negates: a word undone by an affix whose base renders one of them
    ("unaided" دون دعم, "unobserved" لم يلاحظ), a word that negates the word after it ("lacked
    funding" لم تمتلك تمويلا), or, for دون before a number or an age, "under" before one ("under
    the age of 18" دون سن 18)."""
    lists = negation()
    claim_words, ws = _negation_words(claim), _negation_words(english)
    scopes = [(normalise(cue), _clause(claim, claim_words, j)) for j, cue in cues]
    undone = {word.lower(): base for base, word in _undone_pairs(english)}
    out = []
    for k, w in enumerate(ws):
        for cue, scope in scopes:
            if w.key in undone:
                hit = bool(_rendered_at(scope, renderings(undone[w.key])))
            elif w.key in lists["implicit-en"]:
                after = _clause(english, ws, k)
                hit = any(_rendered_at(scope, renderings(bare(x.key))) for x in after)
            elif w.key in lists["below-en"] and cue in ("دون", "بدون"):
                hit = _counted(ws[k + 1 : k + 5]) and _counted(scope)
            else:
                continue
            if hit:
                out.append((k, w.surface))
                break
    return out


def _counted(ws: Sequence[Word]) -> bool:
    """A number or an age among the words (what "under" and دون share: "under the age of 18")."""
    return any(w.key[:1].isdigit() or w.key in ("age", "سن", "عمر") for w in ws)


def _undone(claim: str) -> list[str]:
    """The bases of the words of an English claim an affix undoes ("unaided": aided), lower case."""
    return [base for base, _ in _undone_pairs(claim)]


def _undone_pairs(claim: str) -> list[tuple[str, str]]:
    """(base, word as written) of each word of an English claim an affix undoes."""
    kept = tuple(negation()["not-undone"])
    bases = [((m["base"] or m["base2"]).lower(), m[0]) for m in _UNDONE.finditer(claim)]
    return [(b, w) for b, w in bases if common_english(b, strict=False) and not w.lower().startswith(kept)]


def _restriction(sentence: str, i: int, claim: str) -> bool:
    """A negation with an exception after it (لم … إلا: "only") that the claim says with "only"."""
    lists = negation()
    after = _negation_words(sentence)[i + 1 : i + 10]
    excepted = any(set(arabic_variants(w.key)) & lists["exception-ar"] for w in after if w.arabic)
    return excepted and any(w.key in lists["only-en"] for w in _negation_words(claim))


def _restated_unnegated(claim: str, j: int, sentence: str, cues: Sequence[tuple[int, str]]) -> bool:
    """Whether the first word an English claim negates (after word `j`, within its clause) that the
    Arabic sentence has, found through the bilingual dictionary or as a number, stands there with
    no negation a few words before it."""
    claim_words = _negation_words(claim)
    ws = _negation_words(sentence)
    for w in _clause(claim, claim_words, j):
        terms = renderings(bare(w.key))
        roots = {root(t) for t in terms}
        value = _digits(w.surface)
        found = _rendered_at(ws, terms)
        found += [k for k, x in enumerate(ws) if not x.arabic and value is not None and _digits(x.surface) == value]
        if found:
            negated = sum(any(k - 6 <= c < k for c, _ in cues) for k in found)
            if negated in (0, len(found)):
                return negated == 0
            # stated both ways ("بعدم التدخل … إلى التدخل"): unnegated when the claim negates it more
            # often than the source does ("non-interference … had not to intervene")
            return 1 + _undone_mentions(claim, terms, roots) > negated
    return False


def _rendered_at(ws: Sequence[Word], terms: frozenset[str]) -> list[int]:
    """The positions of the Arabic words that render one of an English word's dictionary `terms`,
    by stem or by root (مدعومة for "aided")."""
    roots = {root(t) for t in terms}
    found = []
    for k, x in enumerate(ws):
        stems = {stem(Word(v, 0, v, True)) for v in arabic_variants(x.key)} if x.arabic else set()
        if stems & terms or {root(s) for s in stems} & roots:
            found.append(k)
    return found


def _undone_mentions(claim: str, terms: frozenset[str], roots: set[str]) -> int:
    """How many words of an English claim undo, by an affix, a word rendered by `terms` ("non-interference")."""
    rendered = [renderings(base) for base in _undone(claim)]
    return sum(bool(r & terms or {root(t) for t in r} & roots) for r in rendered)


def _clause(text: str, ws: Sequence[Word], j: int, width: int = 3) -> list[Word]:
    """Up to `width` words after word `j` that are not stop words, up to the end of its clause."""
    out: list[Word] = []
    for k in range(j + 1, len(ws)):
        if k > j + 1 and any(p in text[ws[k - 1].start + len(ws[k - 1].surface) : ws[k].start] for p in ",;:.()"):
            break
        if not is_stopword(ws[k].surface):
            out.append(ws[k])
        if len(out) == width:
            break
    return out


def _digits(surface: str) -> str | None:
    digits = re.sub(r"[,.٬٫]", "", normalise(surface))
    return digits if digits.isdigit() else None
