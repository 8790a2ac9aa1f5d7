"""A free English translation of an article, aligned to the article's segments without a model.

Newsrooms keep translations as running text, not one line per Arabic sentence. To use one sentence
by sentence (an English question matched to English text, the English shown beside the quoted
Arabic), its sentences are aligned to the article's segments with Gale & Church's length-based
method (1993): a translated sentence is about as long as its source, times a ratio this article's
own texts give, so a dynamic programme over "beads" (one sentence to one, one to two, two to one,
one to none …) finds the likeliest pairing. Numbers anchor it: a bead whose two sides write the same
digits is likelier, one whose digits differ less likely. When the translation has as many
paragraphs as the article, sentences are aligned within each paragraph; otherwise over the whole.

An alignment that is mostly not one to one is not a translation of this text (or a loose one):
`align` returns None and the caller keeps the translation whole, as before.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from .text import numbers, sentence_spans

# Bead kinds (source sentences, target sentences) and their prior probabilities (Gale & Church).
_BEADS = {(1, 1): 0.89, (1, 0): 0.005, (0, 1): 0.005, (2, 1): 0.0445, (1, 2): 0.0445, (2, 2): 0.011}
_VARIANCE = 6.8  # Gale & Church's variance of the length difference per source character
_SAME_NUMBERS = 3.0  # cost taken off a bead whose sides write the same digits
_OTHER_NUMBERS = 4.0  # cost added per digit run one side has and the other lacks
_MAX_BAND = 64  # cells either side of the diagonal the programme explores
_UNTRANSLATED_END = 1.0  # cost of each source sentence after the translation's last one
MIN_ONE_TO_ONE = 0.6  # below this share of one-to-one beads, the translation is not aligned


def sentences(translation: str) -> list[list[str]]:
    """The translation's paragraphs (its non-empty lines), each as its sentences."""
    lines = [line.strip() for line in translation.splitlines() if line.strip()]
    return [[line[a:b] for a, b in sentence_spans(line)] for line in lines]


def _bead_cost(source: Sequence[str], target: Sequence[str], ratio: float) -> float:
    """The cost of pairing `source` sentences with `target` ones (lower: likelier)."""
    return _cost(
        sum(len(s) for s in source),
        sum(len(t) for t in target),
        (len(source), len(target)),
        [n for s in source for n in numbers(s)],
        [n for t in target for n in numbers(t)],
        ratio,
    )


def _cost(ls: int, lt: int, bead: tuple[int, int], a: list[str], b: list[str], ratio: float) -> float:
    mean = (ls + lt / ratio) / 2 or 1.0
    delta = (lt - ls * ratio) / math.sqrt(mean * _VARIANCE * ratio)
    p = max(math.erfc(abs(delta) / math.sqrt(2)), 1e-12)
    cost = -math.log(_BEADS[bead]) - math.log(p)
    if a or b:
        ca, cb = Counter(a), Counter(b)
        if ca == cb:
            cost -= _SAME_NUMBERS
        else:
            cost += _OTHER_NUMBERS * sum(((ca - cb) + (cb - ca)).values())
    return cost


def _align(source: Sequence[str], target: Sequence[str], ratio: float) -> list[tuple[int, int, int, int]]:
    """The cheapest beads (i, k, j, l: source[i:i+k] with target[j:j+l]) covering both, in order."""
    n, m = len(source), len(target)
    # each sentence's length and digits, worked out once (the programme reads them for every bead)
    ls, lt = [len(s) for s in source], [len(t) for t in target]
    ns, nt = [numbers(s) for s in source], [numbers(t) for t in target]
    # wide enough for lopsided counts (each row moves at most 2 columns), never so wide that a long
    # text costs quadratic time
    band = max(8, min(_MAX_BAND, (max(n, m) + 4) // 5), -(-m // max(n, 1)) // 2 + 2)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        centre = i * m / n if n else 0
        for j in range(max(0, int(centre) - band), min(m, int(centre) + band) + 1):
            here = cost[i][j]
            if here == inf:
                continue
            for bead in _BEADS:
                k, step = bead
                a, b = i + k, j + step
                if a > n or b > m:
                    continue
                digits = [x for y in ns[i:a] for x in y], [x for y in nt[j:b] for x in y]
                c = here + _cost(sum(ls[i:a]), sum(lt[j:b]), bead, *digits, ratio)
                if c < cost[a][b]:
                    cost[a][b] = c
                    back[a][b] = bead
    # an untranslated end of the article (a translation cut short) is cheap: the rest of the
    # source goes unpaired rather than spread over the last English sentences
    end = min(range(n + 1), key=lambda e: (cost[e][m] + _UNTRANSLATED_END * (n - e), -e))
    if cost[end][m] == inf:
        return []
    beads = [(e, 1, m, 0) for e in range(n - 1, end - 1, -1)]
    i, j = end, m
    while i or j:
        move = back[i][j]
        assert move is not None
        k, step = move
        i, j = i - k, j - step
        beads.append((i, k, j, step))
    return beads[::-1]


def align(source: Sequence[Sequence[str]], translation: str) -> list[str | None] | None:
    """Each source segment's English (or None), in order, or None when the translation does not align.

    `source` is the article's segments grouped by paragraph (a heading is a paragraph of one)."""
    target = sentences(translation)
    flat_source = [s for p in source for s in p]
    flat_target = [t for p in target for t in p]
    if not flat_source or not flat_target:
        return None
    ratio = sum(len(t) for t in flat_target) / max(1, sum(len(s) for s in flat_source))
    pairs: list[tuple[Sequence[str], Sequence[str]]] = [(flat_source, flat_target)]
    if len(source) == len(target):  # as many paragraphs: by paragraph, if they do correspond one to one
        by_paragraph = _align([" ".join(p) for p in source], [" ".join(p) for p in target], ratio)
        if by_paragraph and all(k == step == 1 for _, k, _, step in by_paragraph):
            pairs = list(zip(source, target, strict=True))
    out: list[str | None] = []
    one_to_one = 0
    for src, tgt in pairs:
        english: list[str | None] = [None] * len(src)
        before: list[str] = []  # English that comes before the paragraph's first aligned sentence
        for i, k, j, step in _align(src, tgt, ratio):
            one_to_one += k == step == 1
            if k == step == 2:  # two and two: in order
                english[i], english[i + 1] = " ".join([*before, tgt[j]]), tgt[j + 1]
                before = []
            elif step and k:  # of two sentences made one, the English goes with the one closer in length
                length = sum(len(t) for t in tgt[j : j + step])
                off = [abs(len(s) * ratio - length) for s in src[i : i + k]]
                at = i + off.index(min(off))
                english[at] = " ".join([*before, *tgt[j : j + step]])
                before = []
            elif step and i:  # English without Arabic: it belongs with the sentence before
                english[i - 1] = " ".join(x for x in (english[i - 1], *tgt[j : j + step]) if x)
            elif step:
                before += tgt[j : j + step]
        if before:  # English before a paragraph's only unpaired sentences: keep it with the paragraph
            english[0] = " ".join(x for x in (*before, english[0]) if x)
        out += english
    if one_to_one < MIN_ONE_TO_ONE * len(flat_source):
        return None
    return out
