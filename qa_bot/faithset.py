"""Generates the faithfulness set: claims over real sources, faithful or altered one fact at a time.

    python -m qa_bot.faithset ../shared/eval/public eval/faithfulness.json

Sources: the seed article (Arabic passages with their aligned English), XQuAD's parallel
paragraphs (English claims over the Arabic paragraph, with and without the English as its
translation) and ARCD's Arabic paragraphs. From each chosen sentence: the sentence itself
(`faithful-verbatim`), a paraphrase (`faithful-paraphrase`: a lead-in, swapped clauses or a
synonym), and alterations (`number`, `date`, `month`, `name`, `place`, `negation-added`,
`negation-dropped`) that change one fact. Deterministic (seeded); split by article into `tune`
and `heldout`. English sentences whose fact XQuAD's Arabic lacks (`NOT_IN_TRANSLATION`) are not
faithful claims over the Arabic alone.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .facts import Fact, calendar_rows, common_english, facts, negations, number_spellings
from .text import detect_language, sentence_spans
from .translit import skeleton, skeletons_match

FORMAT = "qa-bot-faithfulness"
SEED_ARTICLE = "000_b7f32638cd3eede3.txt"
PUBLIC_FILES = ("xquad-dev.ar.json", "xquad-dev.en.json", "arcd-train.json")
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|can|could|would|should|must|did|does|do)\b")
_PLACE_PREP = re.compile(r"\b(?:in|at|from|to|near|into|across|of)\s+(?:the\s+)?$")
_AR_LEADS = ("وفقا للمقال، ", "بحسب المصدر، ")
_EN_LEADS = ("According to the article, ", "The source says that ")
_MARKS = "\u064b-\u065f\u0670\u0640"  # Arabic vowel marks and tatweel: inside a word, not word characters to `re`
# English sentences with a fact XQuAD's Arabic translation does not have, found by reading the
# claims the checks refused: restated over the Arabic alone they are not faithful to their source,
# so they are not asked as faithful claims there (their alterations still are).
NOT_IN_TRANSLATION = {
    "Hashimoto's thyroiditis": "the Arabic has التهاب الغدة الدرقية الحاد, acute thyroiditis",
    "(2,700,000 sq mi)": "the Arabic has 2.70 ميلا مربعا, 2.70 square miles",
    "household size was 3.07": "the Arabic has 3.7",
}


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text) if 6 <= len(text[a:b].split()) <= 60]


def _replace(sentence: str, fact: Fact, new: str) -> str:
    ws = facts(sentence).words
    start = ws[fact.position].start
    return sentence[:start] + new + sentence[start + len(fact.surface) :]


def _number_swap(sentence: str, rng: random.Random, source: str, arabic: bool) -> tuple[str, str] | None:
    found = facts(sentence)
    month_near = {f.position for f in found.dates}
    present = {f.key for f in facts(source).numbers}
    candidates = [f for f in found.numbers if " " not in f.surface and "/" not in f.key]  # (not fractions)
    rng.shuffle(candidates)
    values = {w: v for w, (v, multiplier) in number_spellings().items() if not multiplier}
    ordinals = set(number_spellings(ordinals=True)) - set(number_spellings())
    for f in candidates:
        kind = "date" if any(abs(f.position - p) <= 1 for p in month_near) else "number"
        if f.surface[:1].isdigit() or f.surface[:1] in "٠١٢٣٤٥٦٧٨٩":
            value = float(f.key)
            if value != int(value):
                continue
            v = int(value)
            options = (
                [v + d for d in (1, 2, 3, 5, 10, -1, -2) if v + d > 0]
                if v < 1000
                else [v + d for d in (-3, -1, 1, 2, 4)]
            )
            options = [o for o in options if str(o) not in present]
            if options:
                return _replace(sentence, f, str(rng.choice(options))), kind
        elif arabic or f.surface.lower() not in ordinals:  # an English ordinal ("a tenth category") is not swapped
            script = "ar" if arabic else "en"
            words = [w for w, val in values.items() if str(int(val)) not in present and val != float(f.key)]
            words = [w for w in words if (detect_language(w) == "ar") == (script == "ar") and 2 < values[w] <= 12]
            if words:
                return _replace(sentence, f, rng.choice(sorted(words))), kind
    return None


def _month_swap(sentence: str, rng: random.Random, source: str) -> tuple[str, str] | None:
    found = facts(sentence)
    rows = calendar_rows()
    present = {f.key for f in facts(source).dates}
    for f in found.dates:
        row = rows[f.key]
        column = next((i for i, name in enumerate(row) if facts(name).dates and name.split()[0] in f.surface), 0)
        family = f.key[0]
        others = [k for k in rows if k[0] == family and k != f.key and k not in present]
        if not others:
            continue
        other = rows[rng.choice(others)]
        new = other[min(column, len(other) - 1)]
        out = _replace(sentence, f, new)
        # the paired spelling "آب/أغسطس" → both halves change
        for g in facts(out).dates:
            if g.key == f.key:
                out = _replace(out, g, other[3] if len(other) > 3 and column == 2 else new)
        return out, "month" if family in "gh" else "date"
    return None


def _name_swap(
    sentence: str, rng: random.Random, source: str, names: list[str], arabic: bool, mine: list[str]
) -> tuple[str, str] | None:
    """Swap one name of the sentence (`mine`) for another from `names` that the source lacks."""
    if not mine:
        return None
    target = rng.choice(sorted(mine))
    at = sentence.find(target)
    place = bool(_PLACE_PREP.search(sentence[:at])) or (
        arabic and sentence[max(0, at - 3) : at].endswith(("في ", "إلى ", "من "))
    )
    text_skeletons = {skeleton(w) for w in re.findall(r"\w+", source)}
    pool = [
        n
        for n in names
        if n != target and not any(skeletons_match(skeleton(p), s) for p in n.split() for s in text_skeletons)
    ]
    if not pool:
        return None
    return sentence.replace(target, rng.choice(sorted(pool)), 1), "place" if place else "name"


def _negate(sentence: str, rng: random.Random, arabic: bool) -> str | None:
    if negations(sentence):
        return None
    if not arabic:
        m = _AUX.search(sentence)
        if m:
            return sentence[: m.end()] + " not" + sentence[m.end() :]
        return "It is not true that " + sentence[0].lower() + sentence[1:]
    verb = re.search(r"(?:^|\s)(ي|ت)[\u0621-\u064a]{3,}", sentence)
    if verb and rng.random() < 0.5:
        return (
            sentence[: verb.start() + (1 if verb.group().startswith(" ") else 0)]
            + "لا "
            + sentence[verb.start() :].lstrip()
        )
    return "ليس صحيحا أن " + sentence


def _drop_negation(sentence: str) -> str | None:
    cues = negations(sentence)
    if not cues:
        return None
    i, cue = cues[0]
    ws = facts(sentence.replace("n't", " n't")).words
    start = ws[i].start
    text = sentence.replace("n't", " n't")
    out = text[:start] + text[start + len(cue) :]
    if cue.startswith(("و", "ف")) and len(cue) > 2:
        out = text[:start] + cue[0] + text[start + len(cue) :]
    return re.sub(r"\s{2,}", " ", out.replace(" n't", "")).strip()


def _paraphrase(sentence: str, rng: random.Random, arabic: bool, synonyms: list[list[str]]) -> str:
    parts = re.split(r"(?<=[،,])\s+", sentence.rstrip(".؟?!"))
    choice = rng.random()
    if len(parts) == 2 and all(len(p.split()) >= 4 for p in parts) and choice < 0.4:
        a, b = (p.rstrip("،,") for p in parts)
        if not arabic and common_english(a.split()[0].lower(), prefix=6):  # as `facts` reads an opener
            a = a[0].lower() + a[1:]
        return f"{b[0].upper() + b[1:] if not arabic else b}، {a}".replace("، ", ", " if not arabic else "، ") + "."
    for group in synonyms:
        for word in group:
            whole = rf"(?<![\w{_MARKS}]){re.escape(word)}(?![\w{_MARKS}])"  # not inside a word with vowel marks
            if re.search(whole, sentence) and choice < 0.8:
                other = rng.choice([w for w in group if w != word])
                return re.sub(whole, other, sentence, count=1)
    lead = rng.choice(_AR_LEADS if arabic else _EN_LEADS)
    return lead + (sentence if arabic or sentence[:2].isupper() else sentence[0].lower() + sentence[1:])


def _synonyms() -> list[list[str]]:
    from importlib.resources import files

    lines = files("qa_bot").joinpath("synonyms.txt").read_text(encoding="utf-8").splitlines()
    return [
        [w.strip() for w in ln.split(",") if w.strip() and " " not in w.strip()]
        for ln in lines
        if ln and not ln.startswith("#")
    ]


def _english_names(text: str) -> list[str]:
    return [f.surface for f in facts(text).names if len(skeleton(f.surface.split()[-1])) >= 2]


def _arabic_names(arabic: str, english: str) -> list[str]:
    """Words of the Arabic text that transliterate a name of its English parallel text."""
    latin = {skeleton(p) for n in _english_names(english) for p in n.split() if len(skeleton(p)) >= 3}
    out = []
    for w in facts(arabic).words:
        if w.arabic and len(w.surface) >= 4 and any(skeletons_match(skeleton(w.surface), s) for s in latin):
            out.append(w.surface)
    return sorted(set(out))


def _items(
    rng: random.Random, sentence: str, source_id: str, source: dict[str, Any], base: dict[str, Any],
    names: list[str], mine: list[str],
) -> Iterator[dict[str, Any]]:  # fmt: skip
    arabic = detect_language(sentence) == "ar"
    text = source["text"] + " " + (source.get("translation") or "")
    out: list[tuple[str, str]] = [
        (sentence, "faithful-verbatim"),
        (_paraphrase(sentence, rng, arabic, _SYN), "faithful-paraphrase"),
    ]
    for made in (
        _number_swap(sentence, rng, text, arabic),
        _month_swap(sentence, rng, text),
        _name_swap(sentence, rng, text, names, arabic, mine),
    ):
        if made:
            out.append(made)
    negated = _negate(sentence, rng, arabic)
    if negated and rng.random() < 0.35:
        out.append((negated, "negation-added"))
    dropped = _drop_negation(sentence)
    if dropped:
        out.append((dropped, "negation-dropped"))
    for claim, kind in out:
        if kind != "faithful-verbatim" and claim.strip() == sentence.strip():
            continue  # an alteration that did not apply
        yield {**base, "source": source_id, "lang": "ar" if arabic else "en", "kind": kind,
               "altered": not kind.startswith("faithful"), "claim": claim, "sentence": sentence}  # fmt: skip


_SYN: list[list[str]] = []


def _pick(rng: random.Random, sentences: list[str], k: int) -> list[str]:
    """`k` sentences, those with a date first (dates are rarer than numbers and names)."""
    dated = [s for s in sentences if facts(s).dates]
    rest = [s for s in sentences if s not in dated]
    rng.shuffle(dated)
    rng.shuffle(rest)
    return (dated + rest)[:k]


def generate(public: Path, seed_article: Path, root: Path, seed: int = 11) -> dict[str, Any]:
    """The whole set: {"format", "sources": {id: {text, translation}}, "claims": [...]}."""
    from .ingest import chunk_article

    _SYN[:] = _synonyms()
    rng = random.Random(seed)
    sources: dict[str, dict[str, Any]] = {}
    claims: list[dict[str, Any]] = []
    deferred: list[dict[str, Any]] = []
    # the seed article: each passage with its translation; Arabic and English claims
    chunks = chunk_article(seed_article, root)
    seed_en = sorted({n for c in chunks for n in _english_names(c.translation or "")})
    seed_ar = sorted({n for c in chunks for n in _arabic_names(c.text, c.translation or "")})
    for c in chunks:
        sid = f"seed/{c.position}"
        sources[sid] = {"text": c.text, "translation": c.translation}
        base = {"origin": "seed", "article": "seed", "split": "tune", "cross": False}
        for sent in c.sentences:
            en_text, ar_text = sent.translation, sent.text
            if en_text and len(en_text.split()) >= 6:
                claims += _items(rng, en_text, sid, sources[sid], base, seed_en, _english_names(en_text))
            if len(ar_text.split()) >= 6:
                claims += _items(rng, ar_text, sid, sources[sid], base, seed_ar, [n for n in seed_ar if n in ar_text])
    # XQuAD: the same paragraphs in Arabic and English
    ar = json.loads((public / "xquad-dev.ar.json").read_text(encoding="utf-8"))["data"]
    en = json.loads((public / "xquad-dev.en.json").read_text(encoding="utf-8"))["data"]
    titles = sorted(a["title"] for a in en)
    pairs = [(a_en["title"], p_ar["context"], p_en["context"]) for a_ar, a_en in zip(ar, en, strict=True)
             for p_ar, p_en in zip(a_ar["paragraphs"], a_en["paragraphs"], strict=True)]  # fmt: skip
    en_pool = sorted({n for _, _, e in pairs for n in _english_names(e)})
    pair_names = [_arabic_names(a, e) for _, a, e in pairs]
    ar_pool = sorted({n for names in pair_names for n in names})
    for k, (title, p_ar, p_en) in enumerate(pairs):
        split = "tune" if titles.index(title) % 2 == 0 else "heldout"
        sid, sid_cross = f"xquad/{k}", f"xquad/{k}/ar-only"
        sources[sid] = {"text": p_ar, "translation": p_en}
        sources[sid_cross] = {"text": p_ar, "translation": None}
        base = {"origin": "xquad", "article": title, "split": split}
        for s in _pick(rng, _sentences(p_en), 2):
            cross = rng.random() < 0.5
            made = _items(
                rng, s, sid_cross if cross else sid, sources[sid], {**base, "cross": cross}, en_pool, _english_names(s)
            )
            gap = cross and any(fact in s for fact in NOT_IN_TRANSLATION)
            claims += [c for c in made if not (gap and not c["altered"])]
        names_here = pair_names[k]
        for s in _pick(rng, _sentences(p_ar), 2):
            claims += _items(
                rng, s, sid, sources[sid], {**base, "cross": False}, ar_pool, [n for n in names_here if n in s]
            )
    # XQuAD the other way: Arabic claims over the English paragraph alone (an English archive asked in
    # Arabic), from a random stream of their own so the claims above stay as they were
    rng_ar_en = random.Random(seed + 1)
    for k, (title, p_ar, p_en) in enumerate(pairs):
        split = "tune" if titles.index(title) % 2 == 0 else "heldout"
        sid = f"xquad/{k}/en-only"
        sources[sid] = {"text": p_en, "translation": None}
        base = {"origin": "xquad", "article": title, "split": split, "cross": True}
        for s in _pick(rng_ar_en, _sentences(p_ar), 1):
            deferred += _items(rng_ar_en, s, sid, sources[sid], base, ar_pool, [n for n in pair_names[k] if n in s])
    # ARCD: Arabic paragraphs without translation (numbers, dates, negation; names need a parallel text)
    arcd = json.loads((public / "arcd-train.json").read_text(encoding="utf-8"))["data"]
    arcd_titles = sorted(a["title"] for a in arcd)
    for a in arcd:
        split = "tune" if arcd_titles.index(a["title"]) % 2 == 0 else "heldout"
        for j, p in enumerate(a["paragraphs"][:2]):
            sid = f"arcd/{a['title']}/{j}"
            sources[sid] = {"text": p["context"], "translation": None}
            base = {"origin": "arcd", "article": a["title"], "split": split, "cross": False}
            for s in _pick(rng, _sentences(p["context"]), 1):
                claims += _items(rng, s, sid, sources[sid], base, [], [])
    claims += deferred  # after ARCD's, so that every earlier claim keeps its number
    for i, claim in enumerate(claims):
        claim["id"] = i
    used = {c["source"] for c in claims}
    return {
        "format": FORMAT,
        "about": "Claims over real sources, faithful or with one fact altered; made by `python -m qa_bot.faithset`. "
        "Sources: the seed article; XQuAD (CC BY-SA 4.0, google-deepmind/xquad); ARCD (MIT, husseinmozannar/SOQAL).",
        "sources": {k: v for k, v in sources.items() if k in used},
        "claims": claims,
    }


def _merge(sets: list[dict[str, Any]], seen: set[str]) -> dict[str, Any]:
    """The claims of several sets, each once, leaving out those made from a sentence in `seen`;
    numbered anew."""
    if len(sets) == 1 and not seen:
        return sets[0]
    claims: list[dict[str, Any]] = []
    sources: dict[str, Any] = {}
    taken: set[tuple[str, str]] = set()
    for data in sets:
        for c in data["claims"]:
            if c["sentence"] in seen or (c["source"], c["claim"]) in taken:
                continue
            taken.add((c["source"], c["claim"]))
            claims.append({**c, "id": len(claims)})
            sources[c["source"]] = data["sources"][c["source"]]
    return {**sets[0], "sources": sources, "claims": claims}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa_bot.faithset", description="Write the faithfulness set (deterministic, seeded)."
    )
    parser.add_argument(
        "public",
        nargs="?",
        type=Path,
        default=Path("../shared/eval/public"),
        help="folder with xquad-dev.ar.json, xquad-dev.en.json and arcd-train.json",
    )
    parser.add_argument("target", nargs="?", type=Path, default=Path("eval/faithfulness.json"))
    parser.add_argument(
        "--seed", type=int, nargs="+", default=[11], help="another seed makes a throw-away set of other claims"
    )
    parser.add_argument(
        "--unseen-from",
        type=Path,
        action="append",
        default=[],
        metavar="SET",
        help="keep only the claims made from sentences SET has no claim from (a check on sentences never looked at)",
    )
    args = parser.parse_args(argv)
    root = Path.cwd()
    seed_article = root / "seeds" / SEED_ARTICLE
    wanted = [args.public / name for name in PUBLIC_FILES] + [seed_article]
    if missing := [str(p) for p in wanted if not p.is_file()]:
        parser.exit(
            2,
            f"python -m qa_bot.faithset: error: {missing[0]} not found (run it from the project folder; "
            "the first argument is the folder of the public sets)\n",
        )
    seen: set[str] = set()
    for path in args.unseen_from:
        try:
            seen |= {c["sentence"] for c in json.loads(path.read_text(encoding="utf-8"))["claims"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            parser.exit(
                2, f"python -m qa_bot.faithset: error: {path} is not a faithfulness set of this version ({exc})\n"
            )
    data = _merge([generate(args.public, seed_article, root, seed=seed) for seed in args.seed], seen)
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    kinds: dict[str, int] = {}
    for c in data["claims"]:
        kinds[f"{c['lang']} {c['kind']}"] = kinds.get(f"{c['lang']} {c['kind']}", 0) + 1
    sys.stdout.write(f"{len(data['claims'])} claims → {args.target}: {json.dumps(kinds, sort_keys=True)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
