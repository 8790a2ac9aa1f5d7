"""Extractive answerer: quote the evidence sentence(s) in the question's language, or abstain.

It never writes a word of its own beyond the lead-in and abstain wording from `prompts/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .prompts import Wording, load_wording
from .retrieve import Candidate, ScoredSentence
from .text import detect_language, normalise
from .types import Answer, Citation, Language

# Requests to leave the article behind are answered with the abstain message, whatever matches.
_OFF_TASK = [
    re.compile(p, re.I)
    for p in (
        r"\b(ignore|forget|disregard)\b.{0,40}\b(article|text|instructions?|above|previous|rules?|context)\b",
        r"\b(write|tell|compose|sing|generate)\b.{0,30}\b(poem|joke|story|song|essay|limerick|haiku|code)\b",
        r"(تجاهل|انس|انسي|انسى)\b.{0,40}(المقال|النص|التعليمات|السابق)",
        r"(اكتب|احك|احكي|قل|الف)\b.{0,30}(قصيده|نكته|قصه|شعر|اغنيه)",
        # Pleasantries are not questions about the article.
        r"^\W*(thanks?( you)?( very much| a lot)?|thx|ok(ay)?|hi|hello|hey|bye|goodbye|good|great|cool|nice|yes|no"
        r"|شكرا( لك| جزيلا)?|مرحبا|اهلا|السلام عليكم|حسنا|تمام|نعم|لا|مع السلامه)\W*$",
    )
]


# Answer types: a question asking for an age, a number or a time needs evidence that contains one.
_NEEDS = {
    "age": re.compile(r"\bhow old\b|\bage\b|\baged\b|كم عمر|\bعمره|\bعمرها|\bسن\b"),
    "number": re.compile(r"\bhow (many|much)\b|\bnumber of\b|\bpercentage\b|\bكم\b|\bعدد\b|\bنسبه\b"),
    "time": re.compile(
        r"^\W*when\b|\bby when\b|\bwhat (date|day|year|month|time)\b|\bhow long\b|\bمتي\b|\bفي اي (يوم|عام|شهر|تاريخ)"
    ),
}
_NUMBER_WORDS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "twenty",
    "hundred",
    "thousand",
    "million",
    "dozen",
    "واحد",
    "اثنين",
    "اثنان",
    "ثلاث",
    "اربع",
    "خمس",
    "ست",
    "سبع",
    "ثمان",
    "تسع",
    "عشر",
    "عشرين",
    "مئه",
    "مئات",
    "الف",
    "الاف",
    "مليون",
]
_TIME_WORDS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "year",
    "month",
    "week",
    "day",
    "hour",
    "today",
    "yesterday",
    "tomorrow",
    "ago",
    "since",
    "until",
    "يناير",
    "فبراير",
    "مارس",
    "ابريل",
    "مايو",
    "يونيو",
    "يوليو",
    "اغسطس",
    "سبتمبر",
    "اكتوبر",
    "نوفمبر",
    "ديسمبر",
    "كانون",
    "شباط",
    "اذار",
    "نيسان",
    "ايار",
    "حزيران",
    "تموز",
    "اب",
    "ايلول",
    "تشرين",
    "الاثنين",
    "الثلاثاء",
    "الاربعاء",
    "الخميس",
    "الجمعه",
    "السبت",
    "الاحد",
    "عام",
    "اعوام",
    "سنه",
    "سنوات",
    "شهر",
    "اشهر",
    "اسبوع",
    "يوم",
    "ساعه",
    "ساعات",
    "امس",
    "غدا",
    "منذ",
    "بحلول",
]
_EVIDENCE = {
    "age": re.compile(r"\byears? old\b|\baged \d|\bage of\b|من العمر|\bعمره|\bعمرها|البالغ"),
    "number": re.compile(r"\d|(?<!\w)(?:و|ب|ل|ف|ال|بال|وال)?(?:" + "|".join(_NUMBER_WORDS) + r")(?:s|ه|ين|ات)?(?!\w)"),
    "time": re.compile(r"\d|(?<!\w)(?:و|ب|ل|ف|ال|بال|وال)?(?:" + "|".join(_TIME_WORDS) + r")(?:s|ه|ين|ات)?(?!\w)"),
}


def answer_needs(question: str) -> list[str]:
    """The kinds of fact (age, number, time) a question asks for."""
    key = normalise(question)
    return [kind for kind, pattern in _NEEDS.items() if pattern.search(key)]


def _provides(s: ScoredSentence, needs: list[str]) -> bool:
    key = normalise(f"{s.sentence.text} {s.sentence.translation or ''}")
    return all(_EVIDENCE[kind].search(key) for kind in needs)


@dataclass(frozen=True)
class Weights:
    """How sentence evidence is scored; tuned on tests/eval_own.json and the dev set."""

    dense: float = 0.3
    coverage: float = 0.7
    rank: float = 0.08
    cross_lingual: float = 1.0  # dense-only score for a sentence not in the question's language
    phrase: float = 0.15  # bonus for question word pairs found side by side in the sentence
    context: float = 0.6  # weight of the conversation context for follow-up questions
    context_terse: float = 2.0  # ... when the follow-up has almost no words of its own ("By when?")
    follow_up_relax: float = 0.75  # follow-ups are scored against less text: a lower bar
    second_claim: float = 0.85  # a nearby second sentence is quoted when it scores within this ratio


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up question leans on: the sentences scored against the earlier question."""

    context: list[ScoredSentence]
    terse: bool = False


REGION_SPAN = 2  # passages either side that count as "the same part" of an article without headings


def _same_region(a: ScoredSentence, b: ScoredSentence) -> bool:
    """Same section of the same article (or, without headings, within a few passages)."""
    if a.chunk.source != b.chunk.source:
        return False
    if a.chunk.section or b.chunk.section:
        return a.chunk.section == b.chunk.section
    return abs(a.chunk.position - b.chunk.position) <= REGION_SPAN


def _readable_in(s: ScoredSentence, language: Language) -> bool:
    """True when the sentence or its translation is in `language` (so words can be matched)."""
    sentence = s.sentence
    return detect_language(sentence.text) == language or bool(
        sentence.translation and detect_language(sentence.translation) == language
    )


def off_task(question: str) -> bool:
    """True for requests to ignore the article or produce something other than an answer."""
    key = normalise(question)
    return any(p.search(key) for p in _OFF_TASK)


class ExtractiveAnswerer:
    """Picks the best-supported sentence(s) among the retrieved passages and cites them."""

    def __init__(
        self,
        prompts_dir: Path,
        min_confidence: float,
        max_claims: int = 2,
        weights: Weights | None = None,
    ) -> None:
        self.prompts_dir = prompts_dir
        self.min_confidence = min_confidence
        self.max_claims = max_claims
        self.weights = weights or Weights()
        for language in ("ar", "en"):
            load_wording(prompts_dir, language)  # fail at start-up, not on the first question

    def wording(self, language: Language) -> Wording:
        return load_wording(self.prompts_dir, language)

    def abstain(self, language: Language, query: str | None = None) -> Answer:
        return Answer(self.wording(language).abstain, language, True, (), query)

    def rank(
        self,
        candidates: list[Candidate],
        primary: list[ScoredSentence],
        follow_up: FollowUp | None = None,
        language: Language | None = None,
    ) -> list[tuple[float, ScoredSentence]]:
        """Sentences with their final score, best first.

        A sentence with no text in the question's `language` (an article without a translation)
        cannot match words, only meaning: it is scored on cross-lingual similarity alone.

        For a follow-up, the earlier question only says *where* in the article to look: every
        sentence of the region (section) its best evidence lies in gets the same pull, and the
        follow-up's own words choose among them ("By when?", "Which cities did he name?").
        """
        w = self.weights
        top_fused = max((c.fused for c in candidates), default=1.0) or 1.0
        prior = {c.chunk.id: c.fused / top_fused for c in candidates}

        def score(s: ScoredSentence) -> float:
            if language is not None and not _readable_in(s, language):
                return w.cross_lingual * s.dense
            return w.dense * s.dense + w.coverage * s.coverage + w.phrase * s.phrase

        lam, rank_weight = 0.0, w.rank
        context: list[tuple[float, ScoredSentence]] = []
        if follow_up is not None:
            # The retrieval rank reflects the earlier question as much as this one: not a prior here.
            lam, rank_weight = (w.context_terse if follow_up.terse else w.context), 0.0
            context = [(score(c), c) for c in follow_up.context]
        ranked = []
        for s in primary:
            pull = max((value for value, c in context if _same_region(s, c)), default=0.0)
            total = (score(s) + lam * pull) / (1 + lam) + rank_weight * prior[s.chunk.id]
            ranked.append((total, s))
        ranked.sort(key=lambda pair: -pair[0])
        return ranked

    def answer(
        self,
        question: str,
        language: Language,
        candidates: list[Candidate],
        primary: list[ScoredSentence],
        follow_up: FollowUp | None = None,
        query: str | None = None,
    ) -> Answer:
        if off_task(question):
            return self.abstain(language, query)
        ranked = self.rank(candidates, primary, follow_up, language)
        threshold = self.min_confidence * (self.weights.follow_up_relax if follow_up else 1.0)
        needs = answer_needs(question)
        if needs:
            ranked = [pair for pair in ranked if _provides(pair[1], needs)]
        if not ranked or ranked[0][0] < threshold:
            return self.abstain(language, query)
        best = ranked[0][0]
        chosen = [ranked[0]]
        for score, s in ranked[1:]:
            if len(chosen) >= self.max_claims or score < self.weights.second_claim * best:
                break
            # A second quote must come from the same part of the article: two strong sentences
            # far apart are more often a coincidence of words than one answer.
            if _same_region(s, chosen[0][1]) and all((s.chunk.id, s.idx) != (c.chunk.id, c.idx) for _, c in chosen):
                chosen.append((score, s))
        return self._compose(language, chosen, query)

    def _compose(self, language: Language, chosen: list[tuple[float, ScoredSentence]], query: str | None) -> Answer:
        """Citations numbered best first; claims in reading order, each followed by its `[n]`."""
        wording = self.wording(language)
        by_chunk: dict[str, list[tuple[float, ScoredSentence]]] = {}
        for score, s in chosen:
            by_chunk.setdefault(s.chunk.id, []).append((score, s))
        ranked = sorted(by_chunk.values(), key=lambda items: -max(score for score, _ in items))
        numbers = {items[0][1].chunk.id: n for n, items in enumerate(ranked, start=1)}
        citations = tuple(
            Citation.of(
                items[0][1].chunk,
                numbers[items[0][1].chunk.id],
                max(score for score, _ in items),
                tuple(sorted((s.sentence.start, s.sentence.end) for _, s in items)),
            )
            for items in ranked
        )
        in_order = sorted((s for _, s in chosen), key=lambda s: (s.chunk.source, s.sentence.start))
        claims = [
            wording.claim.format(quote=self._quote(s, language, wording), n=numbers[s.chunk.id]) for s in in_order
        ]
        return Answer(" ".join([wording.lead, *claims]).strip(), language, False, citations, query)

    @staticmethod
    def _quote(s: ScoredSentence, language: Language, wording: Wording) -> str:
        sentence = s.sentence
        if detect_language(sentence.text) == language:
            return str(sentence.text)
        if sentence.translation and detect_language(sentence.translation) == language:
            return str(sentence.translation)
        return f"{sentence.text} {wording.untranslated}".strip()
