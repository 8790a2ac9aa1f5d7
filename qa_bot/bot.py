"""The Bot: validate → follow-up context → hybrid retrieval → answer, as a langchain-core runnable chain."""

from __future__ import annotations

import inspect
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.runnables import Runnable, RunnableConfig

from .answer import ExtractiveAnswerer, FollowUp
from .config import Settings
from .errors import IndexStoreError, InputError
from .health import noting
from .index import Index, RefreshReport
from .llm import LlmAnswerer, Turn, static_events
from .models import make_chat_model, make_embeddings, warm_up
from .retrieve import Candidate, HybridRetriever
from .text import detect_language, strip_invisible, tokens
from .types import Answer, Language, Message, coerce_history, ensure_text

log = logging.getLogger(__name__)

# Openings and words that make a question lean on the conversation ("And by when?", "وما المدن التي ذكرها؟").
_FOLLOW_UP = re.compile(
    r"^\s*(and|so|also|but|then|what about|how about|by when)\b"
    r"|\b(he|she|it|they|him|her|his|its|their|them|that|this|those|these|there|then)\b",
    re.I,
)
# "ما هي …؟" / "من هو …؟" ask "what is / who is": the pronoun there is a copula, not a reference back.
_FOLLOW_UP_AR = re.compile(
    r"^\s*(و|ف)\S|(?<!ما )(?<!من )(?<!ماذا )\b(هو|هي|هم)\b|\b(ذلك|تلك|هذا|هذه|هناك)\b|\S(ها|هم|ه)\s*[؟?]?\s*$"
)
# "What about X?" moves to a new topic: X must be something the article knows.
_TOPIC_SHIFT = re.compile(r"^\W*(and\s+)?(what|how)\s+about\b|^\W*و?(ماذا|ما)\s+عن\b|^\W*وعن\b", re.I)
_MAX_CONTEXT_TURNS = 2
_MAX_CONTEXT_CHARS = 1000  # of each earlier question: history is context, not a second document


def follow_up_context(
    question: str, history: list[Message], known: Callable[[str], bool] = lambda term: True
) -> str | None:
    """The earlier user questions a follow-up depends on, or None for a standalone question.

    A follow-up either has no words of its own ("By when?", "وأين؟") or leans on the conversation
    with a pronoun or an opening like "and"/"و". A topic shift ("What about China?") only counts
    when the article knows the new topic; otherwise the question stands alone (and is refused).
    """
    previous = [m.content.strip()[:_MAX_CONTEXT_CHARS] for m in history if m.role == "user" and m.content.strip()]
    if not previous:
        return None
    terms = tokens(question)
    if _TOPIC_SHIFT.search(question) and not all(known(t) for t in terms):
        return None
    leaning = bool(_FOLLOW_UP.search(question) or _FOLLOW_UP_AR.search(question))
    if terms and not leaning:
        return None
    return " ".join(previous[-_MAX_CONTEXT_TURNS:])


class _Gate:
    """Many readers (answers in flight) or one writer (swapping the store after a refresh elsewhere)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._writing = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class _Chain(Runnable[dict[str, Any], Answer]):
    """The bot as one langchain-core runnable (callbacks, tracing and config as any other), named
    "qa_bot". Not a `RunnableLambda`: that inspects its function's signature on every call, four
    `inspect.signature` calls, 0.2 ms of a 4 ms answer; this one's signature is read once."""

    name = "qa_bot"

    def __init__(self, run: Callable[[dict[str, Any]], Answer]) -> None:
        self._run = run

    def invoke(self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._step, input, config)

    def _step(self, inputs: dict[str, Any]) -> Answer:
        return self._run(inputs)

    _step.__signature__ = inspect.signature(_step)  # type: ignore[attr-defined]


class Bot:
    """Answers questions about the indexed articles, citing the passages it quotes.

    Example:
        >>> bot = Bot.from_settings(Settings.from_env())          # doctest: +SKIP
        >>> answer = bot.ask("What did Kerry say about a new constitution?")
        >>> answer.text, answer.citations[0].source
    """

    def __init__(self, settings: Settings, embeddings: Embeddings, index: Index) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.index = index
        self.retriever = HybridRetriever(index=index, embeddings=embeddings)
        self.answerer = ExtractiveAnswerer(
            settings.prompts_dir, self.retriever, settings.min_confidence, max_claims=settings.top_k
        )
        self.llm: LlmAnswerer | None = None
        # One step, not `prepare | respond`: a sequence doubles LangChain's per-call bookkeeping
        # (callback managers, a child run per step), about 0.7 ms of a 5 ms answer
        self.chain: Runnable[dict[str, Any], Answer] = _Chain(self._run)
        self._gate = _Gate()
        self._reloading = threading.Lock()
        self._seen_manifest = index.manifest_stamp()

    @classmethod
    def from_settings(cls, settings: Settings, *, refresh: bool = True, chat_model: Any = None) -> Bot:
        """Load the embeddings, build or refresh a stale index, and get ready to answer.

        `chat_model` (a LangChain chat model) overrides `QA_BOT_LLM`; tests pass a fake here.
        """
        chosen = (chat_model, "custom") if chat_model is not None else make_chat_model(settings)
        embeddings = make_embeddings(settings)
        # The model loads (a second or so) while the store opens and the lexical snapshot loads;
        # anything that embeds meanwhile waits for it under the model's lock.
        loading = ThreadPoolExecutor(1, thread_name_prefix="qa-bot-model")
        loaded = loading.submit(warm_up, embeddings)
        loading.shutdown(wait=False)
        index = Index(settings, embeddings)
        bot = cls(settings, embeddings, index)
        try:
            if refresh:
                bot.last_refresh = index.ensure()
            bot.retriever.load()
        except IndexStoreError as exc:
            # A replica of a Chroma server that is away starts from the lexical index saved last (in
            # QA_BOT_LEXICAL_DIR), answering degraded; it reloads when the server is back.
            generation = bot.retriever.load_saved() if settings.chroma_url else None
            if generation is None:
                raise
            index.health.failed(exc)
            log.warning("started without the vector store, from the lexical index of generation %s", generation)
        finally:
            loaded.result()  # the model's own error (a missing package) if it failed
        bot._seen_manifest = index.manifest_stamp()
        if chosen is not None:
            bot.llm = LlmAnswerer(chosen[0], chosen[1], bot.retriever, bot.answerer, settings.prompts_dir)
        return bot

    last_refresh: RefreshReport | None = None

    def reload(self) -> None:
        """Re-read the store (after `qa-bot index` ran elsewhere).

        The new lexical snapshot is built while answers keep flowing; only reopening the store and
        swapping the snapshot in waits for the answers in flight (milliseconds).
        """
        with self._reloading:
            stamp = self.index.manifest_stamp()
            fresh = self.retriever.build()
            with self._gate.write():
                self.index.reopen()
                self.index.store  # noqa: B018 - open it now, before answers resume
                self.retriever.swap(fresh)
            self._seen_manifest = stamp

    def reload_if_changed(self) -> bool:
        """Reload when another process finished refreshing the index since we last looked."""
        stamp = self.index.manifest_stamp()
        if stamp == self._seen_manifest or self._reloading.locked():
            return False
        manifest = self.index.manifest()
        if not self.settings.chroma_url and (not manifest or not manifest.get("complete")):
            return False  # a refresh is running: keep answering from what we have
        if not self.index.health.worth_trying():
            return False  # the store is away: keep answering from the snapshot we have
        log.info("the index changed on disk; reloading it")
        try:
            self.reload()
        except Exception as exc:  # noqa: BLE001 - the store went away mid-reload: keep the old snapshot
            self.index.health.failed(exc)
            return False
        self.index.health.succeeded()
        return True

    def store_answers(self) -> bool:
        """Whether the vector store answers now (a direct check, for health probes)."""
        return self.index.health.probe(self.index.heartbeat)

    # -- asking --------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Iterable[Message | Mapping[str, Any]] | None = None,
        articles: Iterable[str] | None = None,
    ) -> Answer:
        """Answer `question` (Arabic or English) given the earlier turns of the conversation.

        `articles` (ids) restricts the answer to those articles.

        Raises:
            InputError: the question is empty, too long, the history is malformed, or an article
                id is unknown.
        """
        self.reload_if_changed()
        with self._gate.read():
            return self.chain.invoke({"question": question, "history": history, "articles": articles})

    def article_filter(self, articles: Any) -> frozenset[str] | None:
        """Validated article ids (None = all); InputError names an unknown id and how to list them."""
        if articles is None:
            return None
        if isinstance(articles, str):
            articles = [articles]
        if not isinstance(articles, (list, tuple, set, frozenset)) or not all(isinstance(a, str) for a in articles):
            raise InputError("article must be an article id or a list of article ids")
        known = self.retriever.articles()
        unknown = sorted(set(articles) - known.keys())
        if unknown:
            sample = ", ".join(sorted(known)[:5]) + (", …" if len(known) > 5 else "")
            raise InputError(f"no article with id {unknown[0]!r} (known: {sample}; `qa-bot articles` lists them all)")
        return frozenset(articles) or None

    def validate(self, question: Any) -> str:
        """The question, stripped; InputError when it is not one the bot can take."""
        if not isinstance(question, str):
            raise InputError("question must be a string")
        ensure_text(question, "question")
        question = question.strip()
        if not strip_invisible(question).strip():
            raise InputError("question is empty: type a question about the article")
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"question is too long: {len(question)} characters, the limit is "
                f"{self.settings.max_question_chars} (QA_BOT_MAX_QUESTION_CHARS)"
            )
        return str(question)

    def _prepare(self, inputs: dict[str, Any]) -> dict[str, Any]:
        question = self.validate(inputs.get("question"))
        history = coerce_history(inputs.get("history"))
        articles = self.article_filter(inputs.get("articles"))
        language: Language = "ar" if detect_language(question) == "ar" else "en"
        context = follow_up_context(question, history, self.retriever.knows)
        query = f"{context} {question}" if context else question
        return {
            "question": question,
            "language": language,
            "context": context,
            "query": query,
            "history": history,
            "articles": articles,
        }

    def _retrieve(self, state: dict[str, Any]) -> tuple[list[Candidate], Answer, str | None]:
        """Candidates for the question, the extractive answer over them, and the query shown to users."""
        retriever = self.retriever
        question, query, context = state["question"], state["query"], state["context"]
        if self.llm is not None and context:  # a follow-up: let the model rewrite it, once
            try:
                query = self.llm.condense(question, state["history"])
            except Exception as exc:  # noqa: BLE001 - keep the heuristic query
                log.warning("condensing the follow-up failed (%s); using the conversation as is", type(exc).__name__)
        vector = retriever.embed(question)
        candidates = retriever.search(query, vector=None if context else vector, articles=state["articles"])
        primary = retriever.score_sentences(candidates, question, vector)
        follow_up = None
        if context:
            follow_up = FollowUp(
                context,
                retriever.score_sentences(candidates, context),
                # "By when?" leans on the earlier question; "And what about NATO?" only borrows its frame.
                terse=len(tokens(question)) < 2 and not _TOPIC_SHIFT.search(question),
                bare=not tokens(question) and not _TOPIC_SHIFT.search(question),
            )
        shown = query if context else None
        extractive = self.answerer.answer(question, state["language"], candidates, primary, follow_up, shown)
        return candidates, extractive, shown

    def _run(self, inputs: dict[str, Any]) -> Answer:
        return self._respond(self._prepare(inputs))

    def _respond(self, state: dict[str, Any]) -> Answer:
        with noting() as degraded:
            candidates, extractive, query = self._retrieve(state)
        if self.llm is not None:
            extractive = self.llm.answer(
                Turn(state["question"], state["language"], candidates, state["history"], extractive, query)
            )
        return _degraded(extractive, degraded)

    def stream(
        self,
        question: str,
        history: Iterable[Message | Mapping[str, Any]] | None = None,
        articles: Iterable[str] | None = None,
    ) -> Iterator[tuple[str, Any]]:
        """`ask`, as events: `("citations", [...])`, `("delta", text)`..., `("final", Answer)`.

        Input errors are raised here, before the first event, so a server can still answer them
        with a plain error response.
        """
        return self._stream(self._prepare({"question": question, "history": history, "articles": articles}))

    def _stream(self, state: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        self.reload_if_changed()  # here, in the thread that iterates, not the caller's (an event loop)
        with self._gate.read():
            yield from self._events(state)

    def _events(self, state: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        with noting() as degraded:  # all in one step: a server may resume this generator in another context
            candidates, extractive, query = self._retrieve(state)
        if self.llm is None:
            events = static_events(extractive)
        else:
            events = self.llm.stream(
                Turn(state["question"], state["language"], candidates, state["history"], extractive, query)
            )
        for name, data in events:
            yield name, _degraded(data, degraded) if name == "final" else data


def _degraded(answer: Answer, notes: list[str]) -> Answer:
    return replace(answer, degraded="; ".join(notes)) if notes else answer
