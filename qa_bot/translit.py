"""Names across scripts: an Arabic↔Latin consonant skeleton, and how foreign names look in Arabic.

Transliteration is lossy both ways (Kerry كيري, Geneva جنيف, Lavrov لافروف), so names are compared
by their consonants folded into classes, with a small edit tolerance for longer names.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .text import normalise

_ARABIC = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")

_AR_SKELETON = str.maketrans(
    {
        **dict.fromkeys("اأإآٱءؤئىعةوي", ""),
        "ب": "B", "پ": "B", "ت": "T", "ث": "T", "ج": "G", "ح": "H", "خ": "K", "د": "D", "ذ": "D",
        "ر": "R", "ز": "S", "س": "S", "ش": "S", "ص": "S", "ض": "D", "ط": "T", "ظ": "D", "غ": "G",
        "ف": "F", "ڤ": "F", "ق": "K", "ك": "K", "گ": "G", "ل": "L", "م": "M", "ن": "N", "ه": "H",
    }
)  # fmt: skip
_LATIN_DIGRAPHS = (("sch", "S"), ("sh", "S"), ("ch", "S"), ("th", "T"), ("kh", "K"), ("gh", "G"), ("dh", "D"),
                   ("ph", "F"), ("ck", "K"), ("qu", "K"), ("x", "KS"))  # fmt: skip
_LATIN_SKELETON = str.maketrans(
    {
        **dict.fromkeys("aeiouyw'’-", ""),
        "b": "B", "p": "B", "t": "T", "d": "D", "j": "G", "g": "G", "k": "K", "q": "K", "c": "K",
        "s": "S", "z": "S", "f": "F", "v": "F", "l": "L", "m": "M", "n": "N", "r": "R", "h": "H",
    }
)  # fmt: skip


# Letters NFKD does not fold to ASCII (Bogusławski is بوغوسلافسكي, not Bogusawski).
_FOLD = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "þ": "th", "ð": "d", "ı": "i"})
# Other ways a Latin spelling is read into Arabic: Polish/German w (Kraków كراكوف), pinyin q and x
# (Qing تشينغ, Xining شينينغ), ch as تش, ك or (Turkic and Persian names, Arabic having no چ) ج
# (Chad تشاد, Chris كريس, Chinggis جنكيز), th as ذ, n before g unwritten (Mongol مغول), g as ق (the
# Gulf's spelling of it: Urgench أورقنج). `readings` tries each one on its own and two at once;
# `said_without_ending` a French final s or x.
_SILENT_ENDINGS = ("is", "ux")  # endings French does not say the last letter of (-is, -ais, -ois, -eaux)
_READINGS = (("w", "v"), ("q", "tsh"), ("x", "sh"), ("ch", "tsh"), ("ch", "k"), ("ch", "j"), ("th", "dh"),
             ("ng", "g"), ("g", "q"))  # fmt: skip
# readings that turn a letter into a very common Arabic one (ج, ق): only where three consonants remain
# ("Gary" is not قرار, "Chad" not جيد)
_LOOSE = frozenset({("ch", "j"), ("g", "q")})


@lru_cache(maxsize=1 << 15)
def skeleton(word: str) -> str:
    """The consonant skeleton of a name in either script, so that "Obama"/"أوباما" → "BM",
    "Geneva"/"جنيف" → "GNF", "Lavrov"/"لافروف" → "LFRF": vowels, w/y and glottal stops dropped,
    letters that transliterate into each other folded into one class, doubled letters collapsed."""
    text = normalise(word)
    if _ARABIC.search(text):
        text = text.removeprefix("ال") if len(text) > 4 else text
        return _collapse(text.translate(_AR_SKELETON))
    return _latin_skeleton(_ascii(text))


def readings(word: str) -> frozenset[str]:
    """The skeletons a Latin-script name may have in Arabic: `skeleton(word)` and the one of each
    other reading of its letters ("Kraków" KRK and KRKF, "Qing" KNG and TSNG)."""
    text = normalise(word)
    if _ARABIC.search(text):
        return frozenset({skeleton(word)})
    base = _ascii(text)
    once = [(a, b) for a, b in _READINGS if a in base]
    shapes = {_latin_skeleton(base)} | {_latin_skeleton(base.replace(a, b)) for a, b in once if (a, b) not in _LOOSE}
    loose = {_latin_skeleton(base.replace(a, b)) for a, b in once if (a, b) in _LOOSE}
    # two readings at once (Urgench أورقنج: g as ق and ch as ج), also only where three consonants remain
    pairs = [(x, y) for i, x in enumerate(once) for y in once[i + 1 :]]
    twice = {_latin_skeleton(base.replace(a, b).replace(c, d)) for (a, b), (c, d) in pairs}
    return frozenset(shapes | {x for x in loose | twice if len(x) >= 3})


def said_without_ending(word: str) -> str | None:
    """The skeleton of a Latin-script name said the French way, without its final s or x
    (Bordeaux بوردو, Louis لوي, François فرانسوا), or None when it does not end like that."""
    base = _ascii(normalise(word))
    if len(base) < 4 or not base.endswith(_SILENT_ENDINGS):  # (an Arabic word has no ASCII letters)
        return None
    return _latin_skeleton(base[:-1])


def spelled_alike(word: str, arabic: str) -> bool:
    """A Latin-script name said without its French ending and an Arabic word that spell the same
    consonants with long vowels (ا و ي) only where the name has a vowel of that sound (Lévis ليفي).
    Two consonants are too few to tell names apart by themselves; "Chris" said the French way is not
    سوريا (its و stands where "Chr" has no vowel)."""
    base = _ascii(normalise(word))
    if not base.endswith(_SILENT_ENDINGS) or not _ARABIC.search(arabic):
        return False
    return _voweled(_latin_skeleton_voweled(base[:-1])) == _voweled(_arabic_voweled(normalise(arabic)))


def _latin_skeleton_voweled(text: str) -> list[str]:
    """A Latin name as consonant classes and vowel sounds (A, I, U; silent final e dropped)."""
    text = re.sub(r"ou|oo", "u", _digraphs(text.removesuffix("e")))
    out: list[str] = []
    for ch in text:
        sound = "A" if ch == "a" else "I" if ch in "eiy" else "U" if ch in "ou" else None
        out.append(sound.lower() if sound else ch.translate(_LATIN_SKELETON).upper())
    return out


def _arabic_voweled(text: str) -> list[str]:
    text = text.removeprefix("ال") if len(text) > 4 else text
    vowels = {"ا": "a", "ى": "a", "ي": "i", "و": "u"}
    return [vowels.get(ch) or ch.translate(_AR_SKELETON) for ch in text]


def _voweled(letters: list[str]) -> str:
    """Consonants and the vowels written in Arabic, each run collapsed: "LiFi"."""
    return re.sub(r"(.)\1+", r"\1", "".join(letters))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()


def _latin_skeleton(text: str) -> str:
    return _collapse(_digraphs(re.sub(r"^(?:al|el)-", "", text)).translate(_LATIN_SKELETON).upper())


def _digraphs(text: str) -> str:
    """A soft c as s, and letter pairs as the one sound they spell (sh, kh, ph …)."""
    text = re.sub(r"c(?=[eiy])", "s", text)
    for digraph, mapped in _LATIN_DIGRAPHS:
        text = text.replace(digraph, mapped)
    return text


def _collapse(shape: str) -> str:
    out = re.sub(r"[^A-Z]", "", shape)
    out = re.sub(r"(.)\1+", r"\1", out)
    return out[:-1] if len(out) > 2 and out.endswith("H") else out


@lru_cache(maxsize=1 << 17)
def skeletons_match(a: str, b: str, *, prefix: bool = False, edits: bool = True) -> bool:
    """Two skeletons are the same name: equal, or (`edits`) one edit apart from 4 letters on (two
    from 7). `prefix`: one may also be the other and an adjective's ending (-an, -ese, -ish:
    "أمريكي" for "American"), not any longer word ("مناسب" does not name "Immunosuppressive")."""
    if not a or not b:
        return False
    if a == b:
        return len(a) >= 2
    short, long_ = sorted((a, b), key=len)
    if prefix and len(short) >= 3 and long_.startswith(short) and long_[len(short) :] in ("N", "S"):
        return True
    if not edits or min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 2:
        return False
    return _edits(a, b) <= (2 if min(len(a), len(b)) >= 7 else 1)


def _edits(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def writes_long_vowel(key: str) -> bool:
    """A normalised Arabic word writes a long vowel (ا و ي) after its first letter, the article
    aside: how foreign names are spelled (كيري Kerry), unlike most two-consonant words (عبر)."""
    return any(c in "اوي" for c in key.removeprefix("ال")[1:])


def foreign_spelling(surface: str) -> bool:
    """Spelled like a transliterated foreign name: long vowels (ا و ي) inside the word where Arabic
    patterns have at most one, or a letter only loanwords use."""
    core = _DIACRITICS.sub("", surface)
    for clitic in ("وال", "بال", "فال", "لل", "ال", "و"):
        if core.startswith(clitic) and len(core) - len(clitic) >= 4:
            core = core[len(clitic) :]
            break
    if any(c in core for c in "پچژڤگ"):
        return True
    # Arabic endings: plurals, the feminine ة (also before a pronoun: هويتها), adjectives, فعلاء
    endings = ("ات", "ون", "ين", "ية", "يا", "ان", "ة", "وا", "اء", "تها", "ته", "تهم", "تنا")
    if len(core) < 4 or core.endswith(endings) or core[0] in "متين":
        return False
    # the Arabic patterns that do write two long vowels: broken plurals مفاعيل (معايير, تقارير) and
    # أفاعل (أوائل, أواخر), the verbal noun افتعال (اجتياز), also after a one-letter clitic; and,
    # before a pronoun, the verbal noun إيفعال of a verb whose first letter is a hamza or و
    # (لإيلامه, لإيوائها: not إيران, which takes no pronoun)
    for stem in (core, core[1:] if core[0] in "لبكف" else ""):
        plural = len(stem) == 6 and stem[2] == "ا" and stem[4] == "ي"
        masdar = len(stem) == 6 and stem[0] in "اإ" and stem[2] == "ت" and stem[4] == "ا"
        if plural or masdar or (len(stem) == 5 and stem[0] in "أا" and stem[2] == "ا"):
            return False
        bare = next((stem[: -len(p)] for p in ("ها", "هم", "ه") if stem.endswith(p)), "")
        if len(bare) == 5 and bare[0] in "اإ" and bare[1] == "ي" and bare[3] == "ا":
            return False
    inner = core[1:-1]
    return sum(c in "اوي" for c in inner) >= 2
