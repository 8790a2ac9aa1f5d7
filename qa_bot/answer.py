"""Extractive answerer: quote the evidence sentence(s) in the question's language, or abstain.

It never writes a word of its own beyond the lead-in and abstain wording from `prompts/`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from .facts import arabic_variants
from .prompts import Wording, load_wording
from .retrieve import Candidate, HybridRetriever, ScoredSentence
from .selector import Selector, features, shipped_selector
from .text import detect_language, is_question, normalise, tokens
from .translit import skeleton, skeletons_match
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
    # asked for, not mentioned ("when he was sixteen", عندما كان عمره; "the average age of teachers")
    "age": re.compile(
        r"\bhow old\b|\b(?:at )?what age\b|\bwhat (?:is|was|were|are) (?:the |his |her |their |its )?age\b"
        r"|كم (?:كان |يبلغ |تبلغ )?(?:عمر(?:ه|ها|هم)?|سن)(?!\w)"
        r"|\b(?:ما|ماهو|ما هو|ماهي|ما هي|اي|باي) (?:عمر(?:ه|ها|هم)?|سن)(?!\w)"  # not "في أي سنة" (which year)
    ),
    "number": re.compile(r"\bhow (many|much)\b|\bnumber of\b|\bpercentage\b|\bكم\b|\bعدد\b|\bنسبه\b"),
    "time": re.compile(
        r"^\W*when\b|\bby when\b|\bwhat (date|day|year|month|time)\b|\bhow long\b"
        r"|\bمتي\b|\bفي اي (يوم|عام|سنه|شهر|تاريخ)"
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
    "twice",
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
    "ميه",  # مئة, as `normalise` writes it (ئ → ي)
    "ميات",
    "الف",
    "الاف",
    "مليون",
    "مايه",  # مائة
    "مايتين",
    "مايتان",
    "ميتين",
    "ميتان",
    # "twice" (فاز بالكأس مرتين)
    "مرتين",
    "مرتان",
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
    "century",
    "centuries",
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
    # a time told by what happens then ("occurs when the immune system is less active"; not في حين,
    # "whereas")
    "عندما",
    "حينما",
    "when",
]
_WORD_START = r"(?<!\w)(?:و|ب|ل|ف|ال|بال|وال)?"  # a word, with a clitic or the article before it
_ENDING = r"(?:s|ه|ين|ات)?(?!\w)"  # a plural or feminine ending, then the word's end
_EVIDENCE = {
    "age": re.compile(r"\byears? old\b|\byears of age\b|\baged \d|\bage of\b|من العمر|\bعمره|\bعمرها|البالغ"),
    "number": re.compile(
        rf"\d|{_WORD_START}(?:{'|'.join(_NUMBER_WORDS)}){_ENDING}"
        # the tens (ثمانون) and ثماني, with their own endings; fractions as they are (not "ربعي", "quarters")
        rf"|{_WORD_START}(?:(?:ثلاث|اربع|خمس|ست|سبع|ثمان|تسع|عشر)(?:ون|ين)|ثماني)(?!\w)"
        rf"|{_WORD_START}(?:نصف|ثلث|ربع|half|quarter)(?!\w)"
    ),
    "time": re.compile(
        rf"\d|{_WORD_START}(?:{'|'.join(_TIME_WORDS)}){_ENDING}"
        # a century with its number (القرن السادس عشر; not القرن الافريقي, "the Horn of Africa")
        r"|(?<!\w)(?:ال|بال|في )?قرن (?:ال)?(?:\d|اول|ثاني|ثالث|رابع|خامس|سادس|سابع|ثامن|تاسع|عاشر|حادي)"
    ),
}


def answer_needs(question: str) -> list[str]:
    """The kinds of fact (age, number, time) a question asks for."""
    key = normalise(question)
    return [kind for kind, pattern in _NEEDS.items() if pattern.search(key)]


# "What did Obama say?" is answered only by a sentence in which Obama is the one speaking, not one
# that mentions him ("the initiative approved by Presidents Putin and Obama").
_ASKS_SPEAKER_EN = re.compile(
    r"\b(?i:what) (?i:did|does|do|has|had|would) (?P<name>(?:[A-Z][\w'’-]+ ?){1,3}) ?"
    r"(?:say|said|tell|told|think|mean|call|state|announce|stress|add|admit|claim|argue|warn)\b"
)
_ASKS_SPEAKER_AR = re.compile(
    r"(?:ماذا|ما الذي|ما الذى|بماذا|بم) (?:قال|قالت|قاله|قالته|صرح|صرحت|اكد|اكدت|اكده|اعلن|اعلنت|ذكر|ذكرت|اضاف|اضافت"
    r"|اعتبر|راي|يري|تري|يقول|تقول)(?:ه|ها)? (?P<name>[\u0621-\u064a]{3,})"
)


@lru_cache(maxsize=1)
def _speech_verbs() -> frozenset[str]:
    text = files("qa_bot").joinpath("facts_speech.txt").read_text(encoding="utf-8")
    # normalised like the text they are looked for in (يؤكد, قائلا and مؤكدا were never found as written)
    return frozenset(normalise(w) for line in text.splitlines() if not line.startswith("#") for w in line.split())


# Where a speaker stands from the verb, in words: Arabic puts the subject after it ("واعتبر وزير
# الخارجية الروسي سيرغي لافروف"), English before ("Foreign Minister Sergei Lavrov said", "…, Kerry
# said") or just after ("said Kerry").
_SPEAKER_WINDOW = {"ar": (1, 6), "en": (6, 2)}
_SAYS = re.compile(r"\b(say|said|tell|told|think|thinks|mean)\b|(قال|قاله|قالت|يقول|تقول|صرح|ذكر)")
# "What did X say about Y?": Y, whose first word the archive must know for the article to say it.
_ABOUT = re.compile(r"\b(?:about|on|regarding|concerning)\s+(?P<topic>.+)$|(?:\bعن|\bحول|\bبشان)\s+(?P<ar>.+)$", re.I)


def asked_speaker(question: str) -> str | None:
    """The person whose words a question asks for ("What did Kerry say …?" → "Kerry"), or None."""
    match = _ASKS_SPEAKER_EN.search(question)
    if match:
        return match.group("name").strip()
    match = _ASKS_SPEAKER_AR.search(normalise(question))
    if match and not match.group("name").startswith("ال"):  # "ماذا قال الرئيس" names a title, not a person
        return match.group("name")
    return None


def asked_topic(question: str) -> str | None:
    """What a "What did X (or he) say about Y?" question asks about (Y), or None."""
    key = normalise(question)
    if asked_speaker(question) is None and not _SAYS.search(key):
        return None
    match = _ABOUT.search(key)
    return (match.group("topic") or match.group("ar")) if match else None


def _speech(text: str) -> list[tuple[int, list[str]]]:
    """Positions of the speech verbs in `text`, with its words."""
    words = re.findall(r"\w+", normalise(text))
    verbs = _speech_verbs()
    at = [i for i, w in enumerate(words) if w in verbs or (w[:1] in "وف" and w[1:] in verbs)]
    return [(i, words) for i in at]


@lru_cache(maxsize=4096)  # the same sentences are asked about, speaker by speaker, answer after answer
def _speaks(text: str, shape: str) -> bool | None:
    """True when the name with consonant `shape` is next to a speech verb of `text`; None when
    `text` reports speech without naming anyone there ("وأردف قائلا"); False otherwise."""
    found = _speech(text)
    if not found:
        return False
    before, after = _SPEAKER_WINDOW["en" if text.isascii() else "ar"]
    for i, words in found:
        if i and words[i - 1] == "so":  # "the so-called …"
            continue
        near = words[max(0, i - before) : i + after + 1]
        if any(skeletons_match(shape, skeleton(v)) for w in near for v in arabic_variants(w)):
            return True
    return None


def _voiced(s: ScoredSentence, speaker: str) -> bool:
    """The sentence reports what `speaker` said (in it, or continuing the sentence before)."""
    shape = skeleton(speaker.split()[-1])
    sentences = s.chunk.sentences
    verdicts = [_speaks(t, shape) for t in (sentences[s.idx].text, sentences[s.idx].translation or "") if t]
    if any(v is True for v in verdicts):
        return True
    if s.idx > 0 and any(v is None for v in verdicts):
        before = sentences[s.idx - 1]
        return any(_speaks(t, shape) is True for t in (before.text, before.translation or "") if t)
    return False


# the tens and teens the number words above leave out ("eighty years old", "in his forties")
_TENS = re.compile(
    r"\b(?:thir|four|fif|six|seven|eigh|nine)teen|\b(?:twen|thir|for|fif|six|seven|eigh|nine)t(?:y|ies)\b"
)


# A number of years is an age too ("515 million years", "بين 12 و14 عاما", "8 سنوات"), unless a word
# around it makes it a span of time ("منذ أكثر من خمسة أعوام", "for five years", "ten years ago").
_YEARS = re.compile(
    r"(?:(?<=\s)|^)((?:\S+ ){0,3})[وب]?(?:\d[\d.,]*|(?:" + "|".join(_NUMBER_WORDS) + r")\w*)"
    r"(?: (?:million|thousand|مليون|الف))? (?:years?|سنه|سنوات|عاما|عام|اعوام)\b( \S+)?"
)
_SPAN = frozenset({"منذ", "خلال", "لمده", "مده", "طوال", "طيله", "for", "within", "during", "past", "last", "next",
                   "every", "ago", "مضت", "الماضيه", "القادمه", "المقبله"})  # fmt: skip
_SPAN_RIGHT_BEFORE = frozenset({"بعد", "قبل", "after", "before", "over"})  # "after five years", not "after he lived 63"


def _says_an_age(key: str) -> bool:
    if _EVIDENCE["age"].search(key):
        return True
    for m in _YEARS.finditer(key):
        before = [w.strip(".,،:;()") for w in m.group(1).split()]
        after = (m.group(2) or "").strip(" .,،:;()")
        # a span marker up to three words before ("منذ أكثر من خمسة أعوام") or the word after ("ago")
        if not ({*before, after} & _SPAN or (before and before[-1] in _SPAN_RIGHT_BEFORE)):
            return True
    return False


def _provides(s: ScoredSentence, needs: list[str]) -> bool:
    key = normalise(f"{s.sentence.text} {s.sentence.translation or ''}")
    if "age" in needs and not (_EVIDENCE["number"].search(key) or _TENS.search(key)):
        return False  # an age is a number of years: "the old age of the Prophet", "طوال عمره" give none
    return all(_says_an_age(key) if kind == "age" else _EVIDENCE[kind].search(key) for kind in needs)


@dataclass(frozen=True)
class Weights:
    """How follow-ups and second quotes are handled (the sentence score itself is the selector's)."""

    context: float = 0.6  # weight of the conversation context for follow-up questions
    context_terse: float = 2.0  # ... when the follow-up has almost no words of its own ("By when?")
    follow_up_relax: float = 0.75  # follow-ups are scored against less text: a lower bar
    # a nearby second sentence is quoted when its score is within this many log-odds of the best's
    # (1.0: about what the hand-set answerer's "85% of the best score" allowed)
    second_claim: float = 1.0
    # ... and the sentence right after the best one, in the same passage, within this many, and
    # ranked this much higher among the second quotes: a sentence that names the subject is often
    # followed by the one that answers ("تأسست أول بورصة وارسو في 1817 …" then "تم إعادة تأسيسها في
    # أبريل 1991"; see the README's *Measured*)
    continuation: float = 2.0
    follow_bonus: float = 1.5


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up question leans on: the earlier question and its sentences' scores."""

    question: str
    context: list[ScoredSentence]
    terse: bool = False  # at most one word of its own ("By when?", "وما المدن التي ذكرها؟")
    bare: bool = False  # no word of its own ("وأين؟", "When?"): about the same statement


REGION_SPAN = 2  # passages either side that count as "the same part" of an article without headings


def _same_region(a: ScoredSentence, b: ScoredSentence) -> bool:
    """Same section of the same article (or, without headings, within a few passages)."""
    if a.chunk.source != b.chunk.source:
        return False
    if a.chunk.section or b.chunk.section:
        return a.chunk.section == b.chunk.section
    return abs(a.chunk.position - b.chunk.position) <= REGION_SPAN


def off_task(question: str) -> bool:
    """True for requests to ignore the article or produce something other than an answer."""
    key = normalise(question)
    return any(p.search(key) for p in _OFF_TASK)


class ExtractiveAnswerer:
    """Picks the best-supported sentence(s) among the retrieved passages and cites them.

    Each candidate sentence gets the selector's probability that it answers the question (a small
    model trained by `make train`, see `selector.py`); below the selector's threshold the bot
    abstains. `min_confidence` overrides that threshold.
    """

    def __init__(
        self,
        prompts_dir: Path,
        retriever: HybridRetriever,
        min_confidence: float | None = None,
        max_claims: int = 2,
        weights: Weights | None = None,
        selector: Selector | None = None,
    ) -> None:
        self.prompts_dir = prompts_dir
        self.retriever = retriever
        self._selector = selector  # the shipped one is loaded on first use (`make train` needs none)
        self._min_confidence = min_confidence
        self.max_claims = max_claims
        self.weights = weights or Weights()
        for language in ("ar", "en"):
            load_wording(prompts_dir, language)  # fail at start-up, not on the first question

    @property
    def selector(self) -> Selector:
        if self._selector is None:
            self._selector = shipped_selector()
        return self._selector

    @selector.setter
    def selector(self, selector: Selector) -> None:
        """Answer with another model from now on (`qa-bot eval --selector`)."""
        self._selector = selector

    @property
    def min_confidence(self) -> float:
        return self.selector.threshold if self._min_confidence is None else self._min_confidence

    def wording(self, language: Language) -> Wording:
        return load_wording(self.prompts_dir, language)

    def abstain(self, language: Language, query: str | None = None) -> Answer:
        return Answer(self.wording(language).abstain, language, True, (), query)

    def rank(
        self,
        question: str,
        language: Language,
        candidates: list[Candidate],
        primary: list[ScoredSentence],
        follow_up: FollowUp | None = None,
    ) -> tuple[list[tuple[float, ScoredSentence]], float]:
        """The sentences that can answer (best first, with their score) and the confidence that
        answering with the first is right.

        A sentence's score is the selector's ranker score (differences are log-odds). For a
        follow-up, the earlier question only says *where* in the article to look: every sentence
        of the region (section) its best evidence lies in gets the same pull, and the follow-up's
        own words choose among them ("By when?", "Which cities did he name?"). A follow-up without a
        word of its own ("وأين؟") asks about the same statement: each sentence keeps its own pull.
        """
        needs = answer_needs(question)
        rows = features(self.retriever, question, language, candidates, primary, needs, _provides)
        scores = self.selector.scores(rows)
        judged, judged_scores = rows, scores  # what the refusal gate looks at
        if follow_up is not None and len(rows):
            w = self.weights
            lam = w.context_terse if follow_up.terse else w.context
            earlier_needs = answer_needs(follow_up.question)
            earlier = features(
                self.retriever, follow_up.question, language, candidates, follow_up.context, earlier_needs, _provides
            )
            earlier_scores = self.selector.scores(earlier)
            context = list(zip(earlier_scores, follow_up.context, strict=True))
            floor = min((value for value, _ in context), default=0.0)
            if follow_up.bare:
                # "وأين؟", "When?": another detail of the same statement, so each sentence keeps its
                # own pull; a follow-up without a word of its own cannot choose within a region
                at = {(c.chunk.id, c.idx): value for value, c in context}
                pulls = [at.get((s.chunk.id, s.idx), floor) for s in primary]
            else:
                pulls = [max((value for value, c in context if _same_region(s, c)), default=floor) for s in primary]
            scores = (scores + lam * np.asarray(pulls)) / (1 + lam)
            # Whether to answer is judged on the earlier question, which chose the region ("وما المدن
            # التي ذكرها؟" after "ماذا قال كيري لقناة روسيا-24؟"): the follow-up's few words cannot
            # carry it. Its own words still have to fit: the answer type, the speaker, the topic.
            if len(earlier):
                judged, judged_scores = earlier, earlier_scores
        # A question asking for a number, a time or an age is answered only by a sentence that has
        # one; "What did X say?" only by a sentence in which X speaks.
        speaker = asked_speaker(question)
        topic = tokens(asked_topic(question) or "")
        # What X said about something the archive never mentions is not in it — when the passages
        # can be read in the question's language (a dictionary gap is not a missing topic).
        readable = any(c.chunk.translation or detect_language(c.chunk.text) == language for c in candidates[:3])
        if topic and readable and not self.retriever.knows(topic[0]):
            return [], 0.0
        keep = [
            i
            for i, s in enumerate(primary)
            if (not needs or _provides(s, needs))
            and (speaker is None or _voiced(s, speaker))
            and not is_question(s.sentence.text)  # "He asked: What is this?" answers nothing
        ]
        if not keep:
            return [], 0.0
        if judged is rows:
            confidence = self.selector.confidence([judged[i] for i in keep], judged_scores[keep])
        else:
            confidence = self.selector.confidence(judged, judged_scores)
        ranked = sorted(((float(scores[i]), primary[i]) for i in keep), key=lambda pair: -pair[0])
        return ranked, confidence

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
        ranked, confidence = self.rank(question, language, candidates, primary, follow_up)
        threshold = self.min_confidence * (self.weights.follow_up_relax if follow_up else 1.0)
        if not ranked or confidence < threshold:
            return self.abstain(language, query)
        # Each quote's support: the confidence, times its odds relative to the best sentence.
        best = ranked[0][0]
        supported = [(confidence * math.exp(score - best), s) for score, s in ranked]
        chosen = [supported[0]]
        head = supported[0][1]

        def follows(s: ScoredSentence) -> bool:
            return s.chunk.id == head.chunk.id and s.idx == head.idx + 1

        # the sentence right after the best one counts `follow_bonus` log-odds more when the second
        # quote is chosen: the answer goes on from its first quote rather than jumping to another
        # sentence of the passage, unless that one scores clearly better
        bonus = self.weights.follow_bonus
        for support, s in sorted(supported[1:], key=lambda r: -(math.log(r[0]) + bonus * follows(r[1]))):
            if len(chosen) >= self.max_claims:
                break
            bar = self.weights.continuation if follows(s) else self.weights.second_claim
            if support < math.exp(-bar) * confidence:
                continue
            # A second quote must come from the same part of the article: two strong sentences
            # far apart are more often a coincidence of words than one answer.
            if _same_region(s, chosen[0][1]) and all((s.chunk.id, s.idx) != (c.chunk.id, c.idx) for _, c in chosen):
                chosen.append((support, s))
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
