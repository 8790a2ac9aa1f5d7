"""LLM answers, verified: numbered sources → chat model → parse `[n]` → check each claim → Answer.

Each sentence of the reply is a claim checked fact by fact against what it cites (`verify`); the
answer's text keeps only the supported ones. The extractive answerer stays the safety net: an
error, a timeout, an open circuit breaker or a reply in the wrong language (after one retry) gives
the extractive answer with `fallback_reason`; a reply with no supported claim gives it with
`fallback="unsupported"`; never a stack trace. Core code only sees LangChain's `BaseChatModel`;
`models.make_chat_model` is where concrete backends are named.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from .answer import ExtractiveAnswerer, off_task
from .prompts import load_prompt
from .retrieve import Candidate, HybridRetriever
from .text import detect_language, normalise, sentence_spans
from .types import Answer, Citation, Claim, Language, Message
from .verify import Evidence, Verdict, check_claim, nearest_by, support_score

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"ar": "Arabic", "en": "English"}
MAX_SOURCES = 4
_MARKER = re.compile(r"\s*\[(\d{1,2})\]")


@dataclass
class CircuitBreaker:
    """After `failures` consecutive errors, skip the model for `cooldown` seconds."""

    failures: int = 3
    cooldown: float = 60.0
    _count: int = 0
    _opened: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self) -> bool:
        with self._lock:
            return self._count >= self.failures and time.monotonic() - self._opened < self.cooldown

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self._count = 0
            else:
                self._count += 1
                if self._count >= self.failures:
                    self._opened = time.monotonic()


def transient(exc: BaseException) -> bool:
    """429, 5xx and connection errors are worth one retry; anything else is not."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status == 429 or status >= 500
    # Client libraries name their own: APIConnectionError, APITimeoutError, ReadTimeout, ConnectError...
    return isinstance(exc, (ConnectionError, TimeoutError)) or any(
        "Timeout" in k.__name__ or "Connect" in k.__name__ for k in type(exc).__mro__
    )


@dataclass(frozen=True)
class Turn:
    """One question ready for the model: what retrieval found and the extractive answer to fall back on."""

    question: str
    language: Language
    candidates: list[Candidate]
    history: Sequence[Message]
    extractive: Answer
    query: str | None


class LlmAnswerer:
    """Answers with a chat model over the retrieved passages and verifies every claim."""

    def __init__(
        self,
        model: BaseChatModel,
        backend: str,
        retriever: HybridRetriever,
        fallback: ExtractiveAnswerer,
        prompts_dir: Path,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.model = model
        self.backend = backend
        self.retriever = retriever
        self.fallback = fallback
        self.prompts_dir = prompts_dir
        self.breaker = breaker or CircuitBreaker()
        for name in ("answer_system", "answer_user", "answer_language", "condense"):
            load_prompt(prompts_dir, name)  # fail at start-up, not on the first question

    # -- prompts ---------------------------------------------------------------------------------
    def messages(
        self, question: str, language: Language, sources: Sequence[Candidate], history: Sequence[Message]
    ) -> list[BaseMessage]:
        """The chat: system rules, the earlier turns, then the numbered sources and the question."""
        name = LANGUAGE_NAMES[language]
        system = load_prompt(self.prompts_dir, "answer_system").format(
            language=name, abstain=self.fallback.wording(language).abstain
        )
        numbered = "\n\n".join(_source_block(i, c) for i, c in enumerate(sources, start=1))
        user = load_prompt(self.prompts_dir, "answer_user").format(sources=numbered, question=question, language=name)
        turns: list[BaseMessage] = [
            HumanMessage(m.content) if m.role == "user" else AIMessage(m.content) for m in history[-6:]
        ]
        return [SystemMessage(system), *turns, HumanMessage(user)]

    def condense(self, question: str, history: Sequence[Message]) -> str:
        """A standalone version of a follow-up question (one model call)."""
        transcript = "\n".join(f"{m.role}: {m.content[:1000]}" for m in history[-6:])
        prompt = load_prompt(self.prompts_dir, "condense").format(history=transcript, question=question)
        reply = self._invoke([HumanMessage(prompt)])
        rewritten = str(reply.content).strip().splitlines()[0].strip() if str(reply.content).strip() else ""
        return rewritten or question

    # -- answering -------------------------------------------------------------------------------
    def answer(self, turn: Turn) -> Answer:
        """The model's answer, verified; the extractive answer when the model cannot be used."""
        unused = self._skip(turn)
        if unused is not None:
            return unused
        sources = turn.candidates[:MAX_SOURCES]
        messages = self.messages(turn.question, turn.language, sources, turn.history)
        try:
            reply = str(self._invoke(messages).content)
            return self._checked(reply, messages, turn, sources)
        except Exception as exc:  # noqa: BLE001 - any model failure: quote instead
            return self._failed(turn, exc)

    def _failed(self, turn: Turn, exc: BaseException) -> Answer:
        log.warning("LLM backend %s failed: %s", self.backend, _brief(exc))
        return replace(turn.extractive, fallback_reason=f"the language model failed ({_brief(exc)})")

    def _checked(self, reply: str, messages: list[BaseMessage], turn: Turn, sources: Sequence[Candidate]) -> Answer:
        """The verified answer; a reply in the wrong language is asked for once more, then quoted."""
        if self._wrong_language(reply, turn.language):
            log.info("LLM reply in the wrong language; asking once more in %s", LANGUAGE_NAMES[turn.language])
            again = load_prompt(self.prompts_dir, "answer_language").format(language=LANGUAGE_NAMES[turn.language])
            reply = str(self._invoke([*messages, AIMessage(reply), HumanMessage(again)]).content)
            if self._wrong_language(reply, turn.language):
                written = LANGUAGE_NAMES[detect_language(_MARKER.sub("", reply), turn.language)]  # type: ignore[index]
                return replace(
                    turn.extractive,
                    fallback_reason=f"the language model answered in {written}, not {LANGUAGE_NAMES[turn.language]}",
                )
        answer = self.verify(reply, turn.language, sources, turn.query)
        if answer.abstained or any(c.supported for c in answer.claims):
            return answer
        return replace(
            turn.extractive,
            backend=self.backend,
            claims=answer.claims,
            invalid_citations=answer.invalid_citations,
            fallback="unsupported",
            fallback_reason="no sentence of the language model's answer is supported by its sources",
        )

    @staticmethod
    def _wrong_language(reply: str, language: Language) -> bool:
        plain = _MARKER.sub("", reply).strip()
        return bool(plain) and detect_language(plain, language) != language

    def stream(self, turn: Turn) -> Iterator[tuple[str, Any]]:
        """Events for a streaming client: `citations` (the numbered sources given to the model), text
        `delta`s as the model writes, then `final` (the verified answer, or the extractive fallback)."""
        unused = self._skip(turn)
        if unused is not None:
            yield from static_events(unused)
            return
        sources = turn.candidates[:MAX_SOURCES]
        yield "citations", [_citation(n, c, c.fused).to_dict() for n, c in enumerate(sources, start=1)]
        pieces: list[str] = []
        try:
            for chunk in self.model.stream(self.messages(turn.question, turn.language, sources, turn.history)):
                piece = str(chunk.content)
                if piece:
                    pieces.append(piece)
                    yield "delta", piece
        except Exception as exc:  # noqa: BLE001 - the client replaces what it showed with `final`
            self.breaker.record(False)
            log.warning("LLM backend %s failed while streaming: %s", self.backend, _brief(exc))
            yield "final", replace(turn.extractive, fallback_reason=f"the language model failed ({_brief(exc)})")
            return
        self.breaker.record(True)
        messages = self.messages(turn.question, turn.language, sources, turn.history)
        try:  # the client replaces what it showed with this: only the supported claims
            final = self._checked("".join(pieces), messages, turn, sources)
        except Exception as exc:  # noqa: BLE001 - the language retry failed
            final = self._failed(turn, exc)
        yield "final", final

    def _skip(self, turn: Turn) -> Answer | None:
        """The answer to give without asking the model, or None: off-task, nothing found, evidence
        below the answer selector's gate (the model would only have guesses to work from), circuit open."""
        if off_task(turn.question) or not turn.candidates or turn.extractive.abstained:
            return turn.extractive
        if self.breaker.open():
            return replace(turn.extractive, fallback_reason="the language model is unavailable (circuit open)")
        return None

    def _invoke(self, messages: list[BaseMessage]) -> BaseMessage:
        for attempt in (1, 2):
            try:
                reply = self.model.invoke(messages)
            except Exception as exc:
                if attempt == 1 and transient(exc):
                    continue
                self.breaker.record(False)
                raise
            self.breaker.record(True)
            return reply
        raise AssertionError("unreachable")

    def verify(self, text: str, language: Language, sources: Sequence[Candidate], query: str | None) -> Answer:
        """Parse `[n]`, drop numbers that name no source, check each sentence against what it cites;
        the text keeps only the supported sentences, the claims keep all of them with their verdict."""
        text = text.strip()
        abstain = self.fallback.wording(language).abstain
        if not text or (normalise(abstain) in normalise(text) and len(text) < len(abstain) + 40):
            return Answer(abstain, language, True, (), query, (), self.backend)
        invalid: list[int] = []
        claims: list[Claim] = []
        for start, end in sentence_spans(text):
            sentence = text[start:end]
            cited = [int(n) for n in _MARKER.findall(sentence)]
            valid = [n for n in cited if 1 <= n <= len(sources)]
            invalid += [n for n in cited if n not in valid]
            plain = _MARKER.sub("", sentence).strip()
            if not plain or not any(ch.isalnum() for ch in plain):
                continue
            numbers = tuple(dict.fromkeys(valid))  # the sources' own numbers, as streamed to the client
            verdict = self.check(plain, language, [sources[n - 1] for n in numbers], numbers)
            claims.append(Claim(plain, numbers, verdict.supported, verdict.support, verdict.reason))
        shown = [c for c in claims if c.supported]
        cited_sources = sorted({n for c in shown for n in c.citations})
        citations = tuple(
            _citation(n, sources[n - 1], max(c.support for c in shown if n in c.citations)) for n in cited_sources
        )
        return Answer(
            " ".join(c.text + "".join(f" [{n}]" for n in c.citations) for c in shown),
            language,
            False,
            citations,
            query,
            tuple(claims),
            self.backend,
            tuple(dict.fromkeys(invalid)),
        )

    def check(self, sentence: str, language: Language, cited: Sequence[Candidate], numbers: Sequence[int]) -> Verdict:
        """The verdict on one sentence: in the question's language, and supported by what it cites."""
        written = detect_language(sentence, language)
        if written != language:
            return Verdict(False, 0.0, f"written in {LANGUAGE_NAMES[written]}, not {LANGUAGE_NAMES[language]}")
        evidence = [Evidence(n, c.chunk.text, c.chunk.translation) for n, c in zip(numbers, cited, strict=True)]
        support = max((self.support(sentence, c) for c in cited), default=0.0)
        return check_claim(sentence, evidence, support, nearest=nearest_by(self.retriever.embeddings))

    def support(self, sentence: str, source: Candidate) -> float:
        """How well a passage (original and translation) supports a sentence: word overlap and meaning."""
        chunk = source.chunk
        texts = [chunk.text, *([chunk.translation] if chunk.translation else [])]
        return support_score(sentence, texts, self.retriever.embeddings)


def static_events(answer: Answer) -> Iterator[tuple[str, Any]]:
    """A finished answer as stream events: its citations, its text in one piece, itself."""
    yield "citations", [c.to_dict() for c in answer.citations]
    yield "delta", answer.text
    yield "final", answer


def _source_block(n: int, c: Candidate) -> str:
    lines = [f"[{n}] {c.chunk.text}"]
    if c.chunk.translation:
        lines.append(f"    (English: {c.chunk.translation})")
    return "\n".join(lines)


def _citation(n: int, source: Candidate, score: float) -> Citation:
    return Citation.of(source.chunk, n, score)


def _brief(exc: BaseException) -> str:
    """A one-line reason with no secrets: the type and status, never the request or key."""
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" {status}" if status else "")


def translate_article(model: BaseChatModel, path: Path, prompts_dir: Path) -> list[str]:
    """One English line per segment of the article at `path` (its headings, sentences and promo
    lines, in order): the aligned sidecar `qa-bot translate` writes."""
    from .ingest import display, read_text, segments

    text = read_text(path)
    template = load_prompt(prompts_dir, "translate")
    lines = []
    for start, end in segments(text):
        reply = model.invoke([HumanMessage(template.format(text=display(text[start:end])))])
        line = " ".join(str(reply.content).split())
        lines.append(line or "…")  # an empty reply must not shift the alignment
    return lines
