"""Hybrid retrieval: dense (Chroma, both languages) + Arabic-normalised, stemmed BM25, fused by RRF.

Besides ranking passages, the retriever scores every sentence of the candidate passages against the
question (embedding similarity and idf-weighted term coverage), which is what the extractive
answerer and the abstention decision work from.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice, pairwise
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from .facts import facts_of, word_shapes, words
from .index import Index
from .lexical import LexicalIndex, newest, saved_lookups
from .lexicon import arabic_to_english, english_to_arabic
from .models import embeddings_id
from .passages import Passages, Titles
from .text import detect_language, synonym_lexicon, tokens
from .translit import skeleton, skeletons_match, writes_long_vowel
from .types import Chunk
from .vectors import Pending, passage_vector, passage_vectors, row_maker

log = logging.getLogger(__name__)

RRF_K = 60
PARTIAL_MATCH = 0.7
NEARBY_MATCH = 0.4
SYNONYM_MATCH = 0.8
_ARABIC = re.compile("[\u0621-\u064a]")


@dataclass
class ScoredSentence:
    """A sentence of a candidate passage with its match scores against the question."""

    chunk: Chunk
    idx: int
    dense: float
    coverage: float
    phrase: float = 0.0  # share of the question's word pairs found side by side
    # the median best-sentence similarity, to the same vector, of every passage the search looked at
    background: float = 0.0

    @property
    def sentence(self) -> Any:
        return self.chunk.sentences[self.idx]


@dataclass
class Candidate:
    """A passage found for a question."""

    chunk: Chunk
    fused: float
    dense: float = 0.0
    lexical: float = 0.0
    coverage: float = 0.0
    # the median, over every passage the search looked at (`pool`), of its best sentence's similarity
    # to the search's vector: how close this archive's passages come to it anyway
    background: float = 0.0
    pool: tuple[str, ...] = field(default=(), repr=False, compare=False)
    # each sentence's similarity to the vector the search was made with (`searched`), when at hand
    sentence_sims: np.ndarray | None = field(default=None, repr=False, compare=False)
    searched: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class QueryTerms:
    """Weighted search terms of a question (idf from the corpus; unseen terms weigh the most)."""

    weights: dict[str, float]
    synonyms: dict[str, frozenset[str]] = field(default_factory=dict)
    renderings: dict[str, frozenset[str]] = field(default_factory=dict)  # English term → Arabic terms
    # A Latin-script name the dictionary cannot render → its consonant skeleton ("lavrov" → "LFRF",
    # found in لافروف): how a name is matched in an untranslated Arabic text
    names: dict[str, str] = field(default_factory=dict)
    # An Arabic term → the English words it renders: how it is found in an English text without an
    # Arabic translation (an Arabic question over an English article)
    english: dict[str, frozenset[str]] = field(default_factory=dict)
    # An Arabic word the dictionary cannot render (a name, most often) → its consonant skeleton
    # ("لافروف" → "LFRF", found in "Lavrov"): how it is matched in an untranslated English text
    arabic_names: dict[str, str] = field(default_factory=dict)

    def alternatives(self, term: str, crosslingual: bool) -> frozenset[str]:
        """What may stand for `term`: its synonyms, and its Arabic renderings when the text is not
        in the question's language (an untranslated Arabic passage for an English question)."""
        alts = self.synonyms.get(term, frozenset())
        return alts | self.renderings.get(term, frozenset()) if crosslingual else alts

    def named(self, term: str, shapes: AbstractSet[str]) -> bool:
        """`term` is a Latin-script name written, in the other script, as one of the words with `shapes`."""
        shape = self.names.get(term)
        return shape is not None and any(skeletons_match(shape, s) for s in shapes)

    def in_english(self, text: str, translation: str | None) -> dict[str, Any]:
        """`coverage`'s arguments for an Arabic question's terms over `text`: whether it is an
        untranslated English text, and then the skeletons of its capitalised words."""
        if not (self.english or self.arabic_names) or translation or detect_language(text) != "en":
            return {}
        return {"english_text": True, "found_names": name_shapes(text) if self.arabic_names else frozenset()}

    def spelled(self, term: str, shapes: AbstractSet[str]) -> bool:
        """`term` is an Arabic name written, in Latin script, as one of the words with `shapes`."""
        shape = self.arabic_names.get(term)
        return shape is not None and any(skeletons_match(shape, s) for s in shapes)

    def coverage(
        self,
        found: AbstractSet[str],
        nearby: AbstractSet[str] | None = None,
        crosslingual: bool = False,
        shapes: AbstractSet[str] = frozenset(),
        english_text: bool = False,
        found_names: AbstractSet[str] = frozenset(),
    ) -> float:
        """Weighted share of the terms in `found`.

        Partial credit: a term only in `nearby` (the rest of the passage and the passage before:
        "He continued …" after a sentence naming Kerry), and a term that only matches part of a
        word (Arabic شارك in بمشاركة, which light stemming cannot reach; English syria/syrian).
        Across scripts (`crosslingual`), a name counts when one of the text's word `shapes` spells it;
        in an untranslated English text (`english_text`), an Arabic term counts by its English renderings,
        and an Arabic name when one of the text's capitalised words (`found_names`, their skeletons) spells it.
        """
        total = sum(self.weights.values())
        if total == 0:
            return 0.0
        got = 0.0
        joined: list[str] = []  # `found` as one string, made when a partial match is first looked for
        for term, weight in self.weights.items():
            if term in found:
                got += weight
            elif (
                self.alternatives(term, crosslingual) & found
                or (crosslingual and self.named(term, shapes))
                or (english_text and not self.english.get(term, frozenset()).isdisjoint(found))
                or (english_text and self.spelled(term, found_names))
            ):
                got += SYNONYM_MATCH * weight
            elif _partial(term, found, joined):
                got += PARTIAL_MATCH * weight
            elif nearby and term in nearby:
                got += NEARBY_MATCH * weight
        return got / total


@lru_cache(maxsize=4096)
def latin_names(text: str) -> dict[str, str]:
    """Each search term of the Latin-script names in `text` ("Sergei Lavrov") → its skeleton."""
    out = {}
    for name in facts_of(text).names:
        if name.surface.isascii():
            for part in name.surface.split():
                shape = skeleton(part)
                for term in tokens(part):
                    if len(shape) >= 2:
                        out[term] = shape
    return out


@lru_cache(maxsize=4096)
def arabic_names(text: str) -> dict[str, str]:
    """Each search term of the Arabic words in `text` → its consonant skeleton: three letters or
    more, or two in a word that writes a long vowel the way foreign names are spelled (كيري Kerry,
    not عبر)."""
    out = {}
    for w in words(text):
        if w.arabic:
            shape = skeleton(w.key)
            voweled = writes_long_vowel(w.key)
            for term in tokens(w.surface):
                if len(shape) >= 3 or (len(shape) == 2 and voweled):
                    out[term] = shape
    return out


@lru_cache(maxsize=4096)
def name_shapes(text: str) -> frozenset[str]:
    """The consonant skeletons of the capitalised Latin-script words of `text` (its names, most often)."""
    return frozenset(skeleton(w.surface) for w in words(text) if not w.arabic and w.surface[:1].isupper())


def _best_first(scores: np.ndarray, first: int) -> Iterator[int]:
    """The indices of the positive `scores`, highest first (ties in index order), sorting only the
    `first` best (and their ties) unless more are asked for: a common word can match half of a large
    archive, and a ranking keeps its first few dozen."""
    hit = np.flatnonzero(scores > 0)
    if len(hit) > first:
        cut = -np.partition(-scores[hit], first - 1)[first - 1]  # the `first`-th best score
        top = hit[scores[hit] >= cut]
        yield from top[np.argsort(-scores[top], kind="stable")].tolist()
        hit = hit[scores[hit] < cut]
    yield from hit[np.argsort(-scores[hit], kind="stable")].tolist()


def _pairs(terms: list[str]) -> set[tuple[str, str]]:
    """Adjacent search terms: "most important thing" → (most, import), (import, thing)."""
    return set(pairwise(terms))


def _partial(term: str, words: AbstractSet[str], joined: list[str] | None = None) -> bool:
    """`term` matches part of one of `words`: inside an Arabic word, or as the start of an English
    word of five letters or more (or it starts with one). `joined` keeps `words` as one string
    between calls for the same words (a substring search instead of a loop over every word)."""
    if len(term) < 3:
        return False
    english = not _ARABIC.match(term)
    if english and len(term) < 5:
        return False
    if english and any(term[:end] in words for end in range(5, len(term) + 1)):
        return True
    if joined is None:
        joined = []
    if not joined:
        joined.append("\0" + "\0".join(words))
    # a word holds the term (Arabic) or starts with it (English): no word holds the separator
    return (term if not english else "\0" + term) in joined[0]


class HybridRetriever(BaseRetriever):
    """LangChain retriever over an `Index`; `search()` returns scored candidates for the answerer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    embeddings: Embeddings
    k: int = 8
    dense_k: int = 40
    # Share of a once-used term's idf that an unseen term weighs: 0.53 gives the 1.5 that was
    # calibrated on the single 23-passage article.
    unseen_share: float = 0.53

    _lex: LexicalIndex = PrivateAttr(default_factory=LexicalIndex)

    def load(self) -> None:
        """(Re)build the lexical index from what the store holds, then swap it in at once."""
        arabic_to_english()  # read the bilingual dictionary (both ways) now, not on the first question
        self.swap(self.build())

    def build(self) -> LexicalIndex:
        """A lexical snapshot of what the store holds now (not yet in use).

        Loaded from the folder the writer saved for the store's current generation; rebuilt from
        the store's passages only when that folder is missing or unreadable, and then saved there
        (when the folder is writable) so that the next start loads it.
        """
        folder = self.index.settings.lexical_path
        generation = self.index.generation()
        lexical = LexicalIndex.load(folder, generation) if generation else None
        if lexical is None:
            log.info("Building the lexical index from the store (%s)", "no generation recorded" if not generation
                     else f"nothing saved for generation {generation} in {folder}")  # fmt: skip
            lexical = LexicalIndex.build(self.index.chunks(), generation)
            # sentence rows from a run that did not finish or an earlier generation; the rest embedded here
            model = embeddings_id(self.embeddings)
            known = [Pending(self.index.pending_path, model).lookup(), *saved_lookups(folder, model)]
            if generation:
                try:
                    lexical.save(folder, known, row_maker(self.embeddings), model)
                except OSError as exc:
                    log.info("Could not save the lexical index in %s (%s); it is rebuilt at each start", folder, exc)
            if lexical.vectors is None:
                lexical.attach_vectors(known, row_maker(self.embeddings))
        lexical.records = self.index.count()
        return lexical

    def load_saved(self) -> str | None:
        """Swap in the newest saved lexical index without asking the store (which is away);
        returns its generation, or None when nothing usable is saved."""
        lexical = newest(self.index.settings.lexical_path)
        if lexical is None:
            return None
        arabic_to_english()
        # the store would say how many vectors it holds; as many as a dense search asks for gives the same results
        lexical.records = max(len(lexical.chunks), self.dense_k)
        self.swap(lexical)
        return lexical.generation

    def swap(self, lexical: LexicalIndex) -> None:
        self._lex = lexical

    def articles(self) -> Titles:
        """Article id → title, for every indexed article (the snapshot's own read-only mapping, with
        its search: no copy per question)."""
        return self._lex.titles

    @property
    def chunks(self) -> Passages:
        """Every passage by id, in article order (read from the snapshot as they are asked for)."""
        return self._lex.chunks

    def article_counts(self) -> Counter[str]:
        """Passages per article id."""
        return self._lex.chunks.article_counts()

    def document_frequency(self, term: str) -> int:
        """How many passages use `term`."""
        return self._lex.df(term)

    def sentence_terms(self, chunk_id: str, idx: int) -> set[str] | frozenset[str]:
        """The search terms of one sentence (and its translation)."""
        return self._lex.sentence_terms(chunk_id, idx)

    def article_terms(self, article_id: str) -> frozenset[str]:
        """Every search term an article uses (empty for an unknown id); built on first use."""
        return self._lex.article_terms(article_id)

    def article_shapes(self, article_id: str) -> frozenset[str]:
        """The consonant skeletons of an article's words (where a name in the other script is found)."""
        return self._lex.article_shapes(article_id)

    def knows(self, term: str) -> bool:
        """True when a search term (or one of its synonyms) occurs in the corpus."""
        lex = self._lex
        alts = synonym_lexicon().get(term, frozenset()) | english_to_arabic().get(term, frozenset())
        return term in lex or any(alt in lex for alt in alts)

    def query_terms(self, text: str, lex: LexicalIndex | None = None) -> QueryTerms:
        """Question terms weighted by idf.

        A term the corpus never uses gets a modest weight, about half the idf of a term used once:
        it is as often a paraphrase ("stance" for "position") as a sign the article is silent. The
        weight grows with the corpus like idf does; a fixed one would let an archive's chance
        matches on the other terms outweigh a missing name ("capital of France" → a narrator named
        Abu Asim, عاصم, in a corpus of hadith).
        """
        lex = lex or self._lex
        return lex.asked(text, lambda t: self._weigh(t, lex))

    def _weigh(self, text: str, lex: LexicalIndex) -> QueryTerms:
        n = max(1, len(lex.chunks))
        unseen = self.unseen_share * math.log(1 + (n + 1) / 1.5)
        weights: dict[str, float] = {}
        lexicon, renderings, english = synonym_lexicon(), english_to_arabic(), arabic_to_english()
        for term in tokens(text):
            # an English term over Arabic text weighs what its most common Arabic rendering does
            df = lex.df(term) or max((lex.df(alt) for alt in renderings.get(term, ())), default=0)
            weights[term] = math.log(1 + (n + 1) / (df + 0.5)) if df else unseen
        return QueryTerms(
            weights,
            {t: lexicon[t] for t in weights if t in lexicon},
            {t: renderings[t] for t in weights if t in renderings},
            {t: shape for t, shape in latin_names(text).items() if t in weights and t not in renderings},
            {t: english[t] for t in weights if t in english},
            {t: shape for t, shape in arabic_names(text).items() if t in weights and t not in english},
        )

    def embed(self, text: str) -> np.ndarray:
        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

    # -- search --------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        vector: np.ndarray | None = None,
        k: int | None = None,
        articles: frozenset[str] | None = None,
    ) -> list[Candidate]:
        """Passages for `query`, best first; only from `articles` (ids) when given."""
        lex = self._lex
        if not lex.chunks:
            return []
        k = k or self.k
        vector = self.embed(query) if vector is None else vector
        rankings: list[list[str]] = []
        dense_best: dict[str, float] = {}
        # ids and distances only: a record's id is its passage's, and the passages' text and metadata
        # are at hand already
        found = self.index.health.call(
            lambda: self.index.store._collection.query(
                query_embeddings=[vector],
                n_results=min(self.dense_k, max(1, lex.records)),
                where={"article_id": {"$in": sorted(articles)}} if articles else None,
                include=["distances"],
            ),
            fallback=lambda: None,  # the store is away: the lexical rankings alone choose the passages
        )
        dense_rank: list[str] = []
        hits = zip(found["ids"][0], found["distances"][0], strict=True) if found is not None else ()
        for cid, distance in hits:
            if cid in lex.chunks:  # (a passage written after the snapshot was taken waits for the next)
                dense_rank.append(cid)
                dense_best[cid] = 1.0 - float(distance)
        rankings.append(dense_rank)
        terms = tokens(query)
        lexicon = synonym_lexicon()
        renderings = english_to_arabic()
        rendered = sorted({alt for t in terms for alt in renderings.get(t, ())} - set(terms))
        terms += sorted({alt for t in terms for alt in lexicon.get(t, ())} - set(terms))
        lexical: dict[str, float] = {}
        # The written text, the translations, and — for an English question — the untranslated
        # passages through the dictionary's Arabic renderings of its words.
        searches = [(bm25, rows, terms, False) for bm25, rows in lex.bm25.values()]
        if rendered and True in lex.bm25:
            searches.append((*lex.bm25[True], rendered, True))
        for bm25, rows, asked, untranslated_only in searches:
            known = [t for t in asked if t in bm25.vocab_dict]
            if not known:
                continue
            scores = bm25.get_scores(known)
            ranked = _best_first(scores, self.dense_k)
            if untranslated_only:
                ranked = (i for i in ranked if not lex.chunks.has_translation(rows[i]))
            if articles:
                ranked = (i for i in ranked if lex.chunks.article_of(rows[i]) in articles)
            order = list(islice(ranked, self.dense_k))
            rankings.append([rows[i] for i in order])
            for i in order:
                lexical[rows[i]] = max(lexical.get(rows[i], 0.0), float(scores[i]))
        # Every passage any list found is also ranked by its best sentence's similarity (the sentence
        # vectors are at hand): a question about one sentence of a long passage matches that sentence
        # better than the passage as a whole. While the store is away this stands in for the dense list.
        pool = list(dict.fromkeys(cid for ranking in rankings for cid in ranking))
        sentence_sims, pool_best = lex.passage_sentences(pool, vector)
        pool_sims = dict(zip(pool, sentence_sims, strict=True))
        best = dict(zip(pool, pool_best.tolist(), strict=True))
        rankings.append([pool[i] for i in np.argsort(-pool_best, kind="stable").tolist()])
        fused: dict[str, float] = {}
        for ranking in rankings:
            for rank, cid in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        top = sorted(fused, key=lambda c: -fused[c])[:k]
        # Each list's first passage is a candidate whatever its fused rank: in a large archive the
        # passage that alone holds the question's rare words (BM25's clear first) can be outvoted by
        # passages that two similarity lists both like; the answer selector then reads it.
        firsts = list(dict.fromkeys(r[0] for r in rankings if r and r[0] not in top))[: max(0, k - 1)]
        if firsts:
            top = sorted(top[: k - len(firsts)] + firsts, key=lambda c: -fused[c])
        # The store is away: the chosen passages' vectors, made from their sentences' rows (a free
        # translation of a whole passage has no row: its passage's vector is then its own alone).
        if found is None:
            for cid in top:
                own, translated = passage_vectors(lex.chunks[cid], lex.passage_rows(cid))
                dense_best[cid] = float(passage_vector(own, translated) @ vector)
        for cid in top:  # a passage is as close to the question as its closest sentence
            dense_best[cid] = max(dense_best.get(cid, -1.0), best[cid])
        qterms = self.query_terms(query, lex)
        background = float(np.median(pool_best)) if pool else 0.0
        looked_at = tuple(pool)
        return [
            Candidate(
                lex.chunks[cid],
                fused[cid],
                dense_best.get(cid, 0.0),
                lexical.get(cid, 0.0),
                qterms.coverage(
                    lex.chunk_terms(cid),
                    crosslingual=not lex.chunks[cid].translation,
                    shapes=word_shapes(lex.chunks[cid].text) if qterms.names else frozenset(),
                    **qterms.in_english(lex.chunks[cid].text, lex.chunks[cid].translation),
                ),
                background,
                looked_at,
                pool_sims[cid],
                vector,
            )
            for cid in top
        ]

    def score_sentences(
        self, candidates: list[Candidate], text: str, vector: np.ndarray | None = None
    ) -> list[ScoredSentence]:
        """Every sentence of `candidates` scored against `text` (similarity and term coverage)."""
        lex = self._lex
        vector = self.embed(text) if vector is None else vector
        qterms = self.query_terms(text, lex)
        pairs = _pairs(tokens(text))
        sims = self._sentence_similarities(vector, candidates)
        background = self._background(vector, candidates)
        nearby = {c.chunk.id: lex.nearby_terms(c.chunk.id) for c in candidates}
        return [
            ScoredSentence(
                c.chunk,
                i,
                sims.get((c.chunk.id, i), 0.0),
                qterms.coverage(
                    lex.sentence_terms(c.chunk.id, i),
                    nearby[c.chunk.id],
                    crosslingual=not c.chunk.sentences[i].translation,
                    shapes=word_shapes(c.chunk.sentences[i].text) if qterms.names else frozenset(),
                    **qterms.in_english(c.chunk.sentences[i].text, c.chunk.sentences[i].translation),
                ),
                len(pairs & lex.sentence_pairs(c.chunk.id, i)) / len(pairs) if pairs else 0.0,
                background,
            )
            for c in candidates
            for i in range(len(c.chunk.sentences))
        ]

    def _background(self, vector: np.ndarray, candidates: list[Candidate]) -> float:
        """The search's background similarity, for `vector`: the search's own figure when it was made
        with this vector, else worked out again over the passages it looked at (a follow-up is
        searched with the conversation, and its sentences are scored against the question alone)."""
        if not candidates:
            return 0.0
        first = candidates[0]
        if first.searched is vector or not first.pool:
            return first.background
        return float(np.median(self._lex.passage_sentences(first.pool, vector)[1]))

    def _sentence_similarities(self, vector: np.ndarray, candidates: list[Candidate]) -> dict[tuple[str, int], float]:
        """Best similarity of each sentence (as written or translated) to `vector` (the search's
        figures when it was made with this vector)."""
        known = {
            c.chunk.id: c.sentence_sims for c in candidates if c.searched is vector and c.sentence_sims is not None
        }
        rest = [c.chunk.id for c in candidates if c.chunk.id not in known]
        found = {**known, **self._lex.best_sentences(rest, vector)} if rest else known
        return {(cid, i): float(sim) for cid, sims in found.items() for i, sim in enumerate(sims.tolist())}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=c.chunk.text,
                metadata={
                    "chunk_id": c.chunk.id,
                    "article_id": c.chunk.article_id,
                    "title": c.chunk.title,
                    "source": c.chunk.source,
                    "start": c.chunk.start,
                    "end": c.chunk.end,
                    "translation": c.chunk.translation,
                    "section": c.chunk.section,
                    "score": c.fused,
                },
            )
            for c in self.search(query)
        ]
