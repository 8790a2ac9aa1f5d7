"""Text handling for Arabic and English: search normalisation, language, sentences, tokens.

Display text is never normalised; only the keys used for search are.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache, lru_cache

_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_CHAR_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Eastern Arabic-Indic digits
    }
)
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
# runs, to count letters without a string per letter
_ARABIC_LETTERS = re.compile("[\u0621-\u064a\u0671-\u06d3]+")
_LATIN_LETTERS = re.compile("[A-Za-z]+")
# Every character whose search key (`normalise`) holds a digit: the decimal digits of any script,
# and the compatibility forms NFKC turns into digits (² ½ ① ⒈ ㋀ ㎟ 🄁); tests/test_text.py checks
# the list against every code point. A text with none of them has no numbers, normalised or not.
_MAY_HOLD_DIGIT = re.compile(
    "[\\d\u00b2\u00b3\u00b9\u00bc-\u00be\u2070\u2074-\u2079\u2080-\u2089\u2150-\u215f\u2189"
    "\u2460-\u249b\u24ea\u3251-\u325f\u32b1-\u32cb\u3358-\u3370\u3378\u3379\u339f-\u33a6\u33a8"
    "\u33af\u33e0-\u33fe\U0001f100-\U0001f10a]"
)
_TOKEN = re.compile(r"[\w\u0621-\u064a\u0671-\u06d3]+", re.UNICODE)

# A sentence ends at . ! ? ؟ … (closing quotes and brackets stay with it) followed by space or end.
_SENTENCE_END = re.compile(r"[.!?؟…]+[\"'”’»)\]]*(?=\s|$)")
_FINAL_MARK = re.compile(r"[.!?؟…]+[\"'”’»)\]]*$")

_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")

# Function words that carry no topic; kept short on purpose: content words must survive.
_STOP_AR_WORDS = """
في من على الى إلى عن مع ان أن إن او أو ما ماذا لماذا متى كيف كم اين أين هل هو هي هم هذا هذه ذلك تلك
التي الذي الذين لا لم لن قد كان كانت يكون تم به بها له لها وما وهل ثم كل بين عند حول بعد قبل اي أي
قال قالت يقول ذكر المقال المقاله عدد
"""
_STOP_EN_WORDS = """
a an the of to in on at for from by with about as and or but is are was were be been being do does
did what which who whom whose when where why how that this these those it its he she they them his
her their there here has have had will would can could should may might must not no any some than
then so such into over after before during between according article say said says tell told mention
mentioned number doesn don didn isn aren wasn weren hasn haven hadn wouldn couldn shouldn can't
t s ll re ve d m
"""
_STOP_EN = frozenset(_STOP_EN_WORDS.split())
_EN_IRREGULAR = {
    "met": "meet",
    "said": "say",
    "says": "say",
    "told": "tell",
    "held": "hold",
    "brought": "bring",
    "took": "take",
    "made": "make",
    "went": "go",
    "came": "come",
    "sought": "seek",
    "agreed": "agree",
    "began": "begin",
    "begun": "begin",
    "lasted": "last",
    "fought": "fight",
}


# Adjectives of place read as the place: "Syrian regime" matches "Syria".
_EN_DEMONYMS = {
    "syrian": "syria",
    "syrians": "syria",
    "russian": "russia",
    "russians": "russia",
    "american": "america",
    "americans": "america",
    "ukrainian": "ukraine",
    "european": "europe",
    "egyptian": "egypt",
    "iranian": "iran",
    "turkish": "turkey",
    "israeli": "israel",
    "soviet": "russia",
}


@cache
def _invisible_chars() -> str:
    """Every format character (Unicode category Cf)."""
    return "".join(chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf")


@cache
def _invisible() -> re.Pattern[str]:
    return re.compile(f"[{re.escape(_invisible_chars())}]")


@cache
def _search_map() -> dict[int, str | None]:
    """Letter-form unification and invisible-mark removal in one table (one pass over the text)."""
    table: dict[int, str | None] = dict(_CHAR_MAP)
    table.update(dict.fromkeys(map(ord, _invisible_chars() + _TATWEEL)))
    return table


def strip_invisible(text: str) -> str:
    """Drop format characters (zero-width joiners and spaces, bidi marks, soft hyphens, BOM)."""
    return _invisible().sub("", text)


def normalise(text: str) -> str:
    """Search key for text in any language: NFKC, invisible marks dropped, Arabic letter forms
    unified, lower-cased."""
    text = _DIACRITICS.sub("", unicodedata.normalize("NFKC", text))
    return text.translate(_search_map()).casefold()


TITLE_KEY_VERSION = 1  # bump when `title_key` (or `normalise`) changes what it returns: saved keys are redone


def title_key(text: str) -> str:
    """Search and sort key of a title or an id: `normalise` (Arabic letter forms, case) with Latin
    accents dropped too."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", normalise(text)) if not unicodedata.combining(ch))


@lru_cache(maxsize=1 << 12)  # a sentence's length is read for every question about it
def word_count(text: str) -> int:
    """How many words `normalise(text)` has (an ASCII text's are its own: no need to normalise it)."""
    return len((text if text.isascii() else normalise(text)).split())


@lru_cache(maxsize=1 << 12)  # the same sentences are read again for every question about them (a few MB)
def detect_language(text: str, default: str = "en") -> str:
    """`"ar"` or `"en"` by which script has more letters; `default` when there are none."""
    arabic = sum(map(len, _ARABIC_LETTERS.findall(text)))
    latin = sum(map(len, _LATIN_LETTERS.findall(text)))
    if arabic == latin == 0:
        return default
    return "ar" if arabic >= latin else "en"


@lru_cache(maxsize=1 << 18)  # words repeat: an archive has far fewer distinct words than tokens
def light_stem_ar(word: str) -> str:
    """Light Arabic stemming (Larkey's light10) on a normalised word.

    Two changes: a final alef is dropped from longer words, which unifies the accusative
    (خطرا/خطر) and country names with their adjectives (سوريا/السوري, روسيا/الروسي); and a suffix
    must leave three letters, so a word whose last letters are its own is kept whole (مكان is not
    مك). The dual "ان" leaves three letters only after the article (الطرفان/الطرفين → طرف), four
    otherwise: a name without it keeps its ending (لبنان is not لبن "milk", and matches اللبناني).
    """
    if len(word) > 3 and word.startswith("و"):
        word = word[1:]
    definite = False
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            definite = True
            break
    if len(word) >= 4 and word.endswith("ا"):
        word = word[:-1]
    for suffix in _AR_SUFFIXES:
        keeps = 4 if suffix == "ان" and not definite else 3
        if word.endswith(suffix) and len(word) - len(suffix) >= keeps:
            word = word[: -len(suffix)]
    return word


@cache
def synonym_lexicon() -> dict[str, frozenset[str]]:
    """Search term → the terms of its synonym group (from `synonyms.txt`, stemmed like the text)."""
    from importlib.resources import files

    lexicon: dict[str, set[str]] = {}
    for line in files("qa_bot").joinpath("synonyms.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        group = {t for entry in line.split(",") for t in tokens(entry)}
        for term in group:
            lexicon.setdefault(term, set()).update(group - {term})
    return {term: frozenset(alts) for term, alts in lexicon.items() if alts}


@cache
def _stop_ar() -> frozenset[str]:
    return frozenset(normalise(w) for w in _STOP_AR_WORDS.split())


@cache
def _english_stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: C Snowball; imported lazily to keep `import qa_bot` fast

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1 << 18)
def _stem_en(word: str) -> str:
    return _EN_IRREGULAR.get(word) or str(_english_stemmer().stemWord(_EN_DEMONYMS.get(word, word)))


def tokens(text: str, *, stem: bool = True, drop_stopwords: bool = True) -> list[str]:
    """Search tokens of `text`: normalised, stop words dropped, lightly stemmed.

    Arabic and Latin words are handled each by their own rules, so mixed text works.
    """
    out: list[str] = []
    for raw in _TOKEN.findall(normalise(text)):
        if _ARABIC_LETTER.search(raw):
            stop = _stop_ar()
            if drop_stopwords and (raw in stop or (raw.startswith("و") and raw[1:] in stop)):
                continue
            stemmed = light_stem_ar(raw)
            if drop_stopwords and stemmed in stop:
                continue
            out.append(stemmed if stem else raw)
        else:
            if drop_stopwords and raw in _STOP_EN:
                continue
            out.append(_stem_en(raw) if stem else raw)
    return [t for t in out if t]


def is_stopword(word: str) -> bool:
    """A function word (before stemming: "فيينا" is not "في")."""
    key = normalise(word)
    if _ARABIC_LETTER.search(key):
        stop = _stop_ar()
        return key in stop or (key.startswith("و") and key[1:] in stop)
    return key in _STOP_EN


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield `(start, end)` of each sentence in `text`, whitespace trimmed.

    Sentences end at `.`, `!`, `?`, `؟` or `…` (with any closing quote); `،` and `؛` are clause
    marks. Text after the last terminal mark is a sentence of its own.
    """
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        yield from _trimmed(text, pos, match.end())
        pos = match.end()
    yield from _trimmed(text, pos, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def ends_sentence(line: str) -> bool:
    """True when a line ends with a sentence-final mark (ignoring closing quotes)."""
    return bool(_FINAL_MARK.search(line.rstrip()))


_ASKS = re.compile(r"[?؟][?؟!]*[\"'”’»)\]]*$")


def is_question(sentence: str) -> bool:
    """The sentence asks rather than tells (it ends with `?` or `؟`, before any closing quote):
    quoted or rhetorical, a question in the text does not answer one about it."""
    return bool(_ASKS.search(sentence.rstrip()))


def numbers(text: str) -> list[str]:
    """The digit runs in `text` (Arabic-Indic digits read as 0-9), in order."""
    if not _MAY_HOLD_DIGIT.search(text):
        return []  # most sentences: no need to normalise them
    return re.findall(r"\d+", normalise(text))


_CLAUSE_BREAK = re.compile(r"(?<=[،,؛;:])\s+")
MIN_CLAUSE_WORDS = 6


def clauses(sentence: str) -> list[str]:
    """A long sentence's clauses (split at commas, semicolons, colons; short pieces merged).

    Returns [] when the sentence is a single clause.
    """
    pieces = [p for p in _CLAUSE_BREAK.split(sentence) if p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and (len(merged[-1].split()) < MIN_CLAUSE_WORDS or len(piece.split()) < MIN_CLAUSE_WORDS // 2):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged if len(merged) > 1 else []
