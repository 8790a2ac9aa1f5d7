"""`qa-bot eval` on a faithfulness set (made by `qa_bot.faithset`): is every altered claim caught
and every faithful one kept?

Each claim is checked as an answer's claim would be (`verify.check_claim` against its source,
with the embedding similarity), and counted per split, language and kind: for an altered kind the
rate is the share rejected ("caught"), for a faithful kind the share accepted ("kept").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from .errors import InputError
from .verify import Evidence, check_claim, nearest_by, support_score

FORMAT = "qa-bot-faithfulness"


def is_faithfulness(data: Any) -> bool:
    """Whether a parsed JSON document is a faithfulness set."""
    return isinstance(data, dict) and data.get("format") == FORMAT


def load(path: Path, data: Any = None) -> dict[str, Any]:
    """The set read from `path` (or given as `data`), validated: every claim has text, language,
    kind, label and a known source."""
    if data is None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the faithfulness set {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f'{path}: a faithfulness set needs "format": "{FORMAT}", "sources" and "claims"')
    sources = data.get("sources")
    claims = data.get("claims")
    if data.get("format") != FORMAT or not isinstance(sources, dict) or not isinstance(claims, list):
        raise InputError(f'{path}: a faithfulness set needs "format": "{FORMAT}", "sources" and "claims"')
    for i, c in enumerate(claims):
        ok = isinstance(c, dict) and isinstance(c.get("claim"), str) and c.get("lang") in ("ar", "en")
        if not ok or not isinstance(c.get("altered"), bool) or c.get("source") not in sources:
            raise InputError(f'{path}: claims[{i}] needs "claim", "lang" (ar/en), "altered" and a known "source"')
    return data


class _Cached(Embeddings):
    """Embeds each distinct text once: a source is shared by many claims."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.seen: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if missing:
            self.seen.update(zip(missing, self.inner.embed_documents(missing), strict=True))
        return [self.seen[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def run(
    data: dict[str, Any], embeddings: Embeddings, only: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    """Check every claim; figures per split × language × kind, and each verdict."""
    embeddings = _Cached(embeddings)
    nearest = nearest_by(embeddings)
    tally: dict[tuple[str, str, str], list[int]] = {}
    details = []
    for c in data["claims"]:
        if only is not None and not only(c):
            continue
        src = data["sources"][c["source"]]
        evidence = [Evidence(1, src["text"], src.get("translation"))]
        support = support_score(c["claim"], evidence[0].texts, embeddings)
        verdict = check_claim(c["claim"], evidence, support, nearest=nearest)
        right = verdict.supported != c["altered"]
        kind = c.get("kind", "altered" if c["altered"] else "faithful")
        kind = "negation" if kind.startswith("negation") else kind
        # "en>ar": an English claim over an Arabic passage without translation (checked across
        # scripts); "ar>en": an Arabic claim over an English one
        lang = ("en>ar" if c["lang"] == "en" else "ar>en") if c.get("cross") else c["lang"]
        rows = [(split, lng, k) for split in (c.get("split", "all"), "all") for lng in (lang, "all")
                for k in (kind, "ALTERED" if c["altered"] else "FAITHFUL")]  # fmt: skip
        for row in set(rows):
            t = tally.setdefault(row, [0, 0])
            t[0] += right
            t[1] += 1
        details.append({"id": c.get("id"), "kind": kind, "lang": c["lang"], "altered": c["altered"], "right": right,
                        "supported": verdict.supported, "support": round(support, 3), "reason": verdict.reason,
                        "claim": c["claim"]})  # fmt: skip
    figures = {"/".join(k): {"n": n, "rate": round(r / n, 3)} for k, (r, n) in sorted(tally.items())}
    return {"figures": figures, "details": details}


def format_figures(figures: dict[str, dict[str, Any]], splits: Sequence[str] = ("tune", "heldout", "all")) -> str:
    """One table per split: rows are kinds, columns languages (en: English claims over a passage
    with its translation; en>ar: over the Arabic alone; ar>en: Arabic claims over the English
    alone); a cell is the rate (caught for an altered kind, kept for a faithful one) and how many
    claims it counts."""
    langs = ["en", "ar", "en>ar", "ar>en", "all"]
    lines = []
    for split in splits:
        keys = [k.split("/") for k in figures if k.startswith(f"{split}/")]
        if not keys:
            continue
        kinds = sorted({k[2] for k in keys}, key=lambda k: (k.isupper(), k.startswith("faithful"), k))
        lines.append(f"{split}: caught (altered) / kept (faithful)")
        lines.append(f"{'kind':<20}" + "".join(f"{lang:>14}" for lang in langs))
        for kind in kinds:
            cells = []
            for lang in langs:
                fig = figures.get(f"{split}/{lang}/{kind}")
                cells.append(f"{fig['rate']:.3f} ({fig['n']})" if fig else "-")
            lines.append(f"{kind:<20}" + "".join(f"{c:>14}" for c in cells))
        lines.append("")
    return "\n".join(lines).rstrip()
