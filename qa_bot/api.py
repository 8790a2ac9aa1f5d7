"""HTTP API: `POST /api/ask`, `POST /api/ask/stream` (Server-Sent Events), `GET /healthz`.

Plain FastAPI routes (not Gradio's queue) that return the same answer JSON as the CLI. Every error
is `{"error": "..."}` with a fitting status; origins, request rate and concurrent answers are
limited here, at the edge, so the core never sees abuse.
"""

# No `from __future__ import annotations` here: FastAPI must resolve the request models declared
# inside create_api() from real annotations.
import asyncio
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from .config import Settings
from .errors import InputError, QaBotError
from .health import UNREACHABLE
from .types import Answer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .bot import Bot

log = logging.getLogger(__name__)

NO_LEXICAL_ANSWER = "keyword search alone found no answer; try again shortly"
RETRY_AFTER = "2"  # seconds; the store is tried again every second while it is away
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def parse_origins(value: str) -> frozenset[str]:
    """`QA_BOT_ALLOWED_ORIGINS` ("https://a.example, http://b:8080") as normalised origins."""
    return frozenset(o.strip().rstrip("/").lower() for o in value.split(",") if o.strip())


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    """Same-origin is always allowed; other origins only when listed; with no list, localhost too."""
    if not origin:
        return True  # not a cross-origin browser request (curl, server-to-server, same-origin GET)
    origin = origin.rstrip("/").lower()
    parts = urlsplit(origin)
    if host and parts.netloc == host.lower():
        return True
    if allowed:
        return origin in allowed or "*" in allowed
    return (parts.hostname or "") in _LOCAL_HOSTS


class RateLimiter:
    """Sliding one-minute window per client; `check()` returns seconds to wait, or 0."""

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(self.window - (now - hits[0])))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window]:
                    del self._hits[key]
            return 0


def create_api(bot: "Bot", settings: Settings | None = None) -> "FastAPI":
    """The FastAPI app with the JSON routes (the chat page is mounted on it by `create_server`)."""
    from fastapi import FastAPI, Query, Request, Response
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse
    from pydantic import BaseModel, Field

    from .passages import find_articles

    settings = settings or bot.settings
    allowed = parse_origins(settings.allowed_origins)
    limiter = RateLimiter(settings.rate_limit)
    slots = asyncio.Semaphore(settings.max_concurrent)

    class HistoryItem(BaseModel):
        role: Literal["user", "assistant"]
        content: str

    class AskRequest(BaseModel):
        question: str = Field(description="The question, in Arabic or English.")
        history: list[HistoryItem] = Field(default_factory=list, description="Earlier turns, oldest first.")
        article: str | list[str] | None = Field(
            default=None, description="Answer from this article (id) or these articles only; see GET /api/articles."
        )

    class CitationOut(BaseModel):
        n: int
        passage: str = Field(description="The passage in the article's language (the source of truth).")
        translation: str | None
        source: str = Field(description="Path of the article, relative to the project.")
        start: int
        end: int
        score: float
        section: str | None = None
        article_id: str = Field(default="", description="The cited article's id.")
        title: str = Field(default="", description="The cited article's title.")
        date: str | None = None
        url: str | None = None
        highlights: list[list[int]] = Field(default_factory=list, description="Quoted sentences as [start, end].")

    class ClaimOut(BaseModel):
        text: str
        citations: list[int]
        supported: bool
        support: float
        reason: str | None = None

    class AnswerOut(BaseModel):
        model_config = {"json_schema_extra": {"description": "Optional fields appear only when they apply."}}

        text: str
        language: Literal["ar", "en"]
        abstained: bool
        citations: list[CitationOut]
        query: str | None = None
        backend: str | None = Field(default=None, description="The language model that wrote the answer.")
        claims: list[ClaimOut] | None = Field(default=None, description="The model's sentences, each verified.")
        invalid_citations: list[int] | None = None
        fallback: Literal["extractive", "unsupported"] | None = None
        fallback_reason: str | None = None
        degraded: str | None = Field(
            default=None, description='What the answer was formed without ("vector store unreachable").'
        )

    class ErrorOut(BaseModel):
        error: str

    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorOut, "description": text}
        for code, text in {
            400: "Malformed JSON body.",
            403: "Origin not allowed (QA_BOT_ALLOWED_ORIGINS).",
            413: "Question longer than QA_BOT_MAX_QUESTION_CHARS.",
            422: "Invalid request: empty question, unknown history role, wrong types.",
            429: "Too many requests from this client; see the Retry-After header.",
            503: "Too many answers in progress, or the vector store is unreachable and keyword search alone "
            "found no answer; see the Retry-After header.",
            504: "The answer took longer than QA_BOT_REQUEST_TIMEOUT seconds.",
        }.items()
    }

    app = FastAPI(
        title="qa-bot",
        version="0.1.0",
        description="Grounded answers about the indexed news articles, in Arabic or English, with citations.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )

    def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error(400, "request body is not valid JSON")
        first = problems[0] if problems else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body") or "body"
        return error(422, f"{where}: {first.get('msg', 'invalid value')}")

    @app.middleware("http")
    async def _edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not request.url.path.startswith("/api/"):
            return await call_next(request)
        origin = request.headers.get("origin")
        if not origin_allowed(origin, request.headers.get("host"), allowed):
            return error(403, f"origin {origin} is not allowed; the site owner can add it to QA_BOT_ALLOWED_ORIGINS")
        cors = {}
        if origin:  # Retry-After is exposed so a widget on another site can say how long to wait
            cors = {
                "Access-Control-Allow-Origin": origin,
                "Vary": "Origin",
                "Access-Control-Expose-Headers": "Retry-After",
            }
        if request.method == "OPTIONS":  # CORS preflight
            return JSONResponse(
                {},
                headers={
                    **cors,
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": "600",
                },
            )
        if request.method == "POST":
            client = request.client.host if request.client else "unknown"
            wait = limiter.check(client)
            if wait:
                return error(
                    429,
                    f"too many requests: the limit is {settings.rate_limit} per minute",
                    {"Retry-After": str(wait), **cors},
                )
        response = await call_next(request)
        response.headers.update(cors)
        return response

    def check_length(body: AskRequest) -> None:
        size = len(body.question.strip())
        if size > settings.max_question_chars:
            raise _HttpError(
                413, f"question is too long: {size} characters, the limit is {settings.max_question_chars}"
            )

    async def take_slot() -> None:
        try:
            await asyncio.wait_for(slots.acquire(), timeout=min(5.0, settings.request_timeout / 2))
        except TimeoutError:
            raise _HttpError(503, "too many answers in progress; try again in a moment", {"Retry-After": "1"}) from None

    async def answer(body: AskRequest) -> Answer:
        check_length(body)
        await take_slot()
        try:
            history = [h.model_dump() for h in body.history]
            call = asyncio.to_thread(bot.ask, body.question, history, body.article)
            return await asyncio.wait_for(call, timeout=settings.request_timeout)
        except TimeoutError:
            limit = f"{settings.request_timeout:g} s"
            raise _HttpError(504, f"no answer within the {limit} limit (QA_BOT_REQUEST_TIMEOUT)") from None
        except InputError as exc:
            raise _HttpError(422, str(exc)) from None
        except QaBotError as exc:
            raise _HttpError(500, str(exc)) from None
        except Exception:  # a bug: JSON for the client, the traceback for the operator's log
            log.exception("answering %r failed", body.question[:80])
            raise _HttpError(500, "internal error while answering; the server log has the details") from None
        finally:
            slots.release()

    def unanswerable(result: Answer) -> bool:
        """A refusal formed without the vector store may be the outage speaking, not the archive."""
        return result.degraded is not None and result.abstained

    @app.exception_handler(_HttpError)
    async def _http_error(request: Request, exc: _HttpError) -> JSONResponse:
        return error(exc.status, exc.message, exc.headers)

    @app.post(
        "/api/ask",
        response_model=AnswerOut,
        response_model_exclude_unset=True,
        responses=errors,
        summary="Answer a question",
    )
    async def ask(body: AskRequest) -> dict[str, Any]:
        """Answer a question about the articles; the answer cites the passages it quotes."""
        result = await answer(body)
        if unanswerable(result):
            raise _HttpError(503, f"{UNREACHABLE}: {NO_LEXICAL_ANSWER}", {"Retry-After": RETRY_AFTER})
        return result.to_dict()

    @app.post(
        "/api/ask/stream",
        responses={**errors, 200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
        summary="Answer a question as Server-Sent Events",
    )
    async def ask_stream(body: AskRequest) -> StreamingResponse:
        """Events: `citations` (the passages), then `delta` (text as it is written), then `final` (the answer JSON)."""
        check_length(body)
        await take_slot()
        try:
            events = bot.stream(body.question, [h.model_dump() for h in body.history], body.article)
        except InputError as exc:
            slots.release()
            raise _HttpError(422, str(exc)) from None

        loop = asyncio.get_running_loop()

        def sse() -> Iterator[str]:  # iterated in a worker thread by Starlette
            try:
                for name, data in events:
                    if isinstance(data, Answer):
                        if unanswerable(data):
                            yield _event("error", {"error": f"{UNREACHABLE}: {NO_LEXICAL_ANSWER}"})
                            return
                        data = data.to_dict()
                    yield _event(name, {"text": data} if name == "delta" else data)
            except QaBotError as exc:
                yield _event("error", {"error": str(exc)})
            except Exception:  # a bug: an error event for the client, the traceback for the log
                log.exception("streaming an answer to %r failed", body.question[:80])
                yield _event("error", {"error": "internal error while answering; the server log has the details"})
            finally:
                loop.call_soon_threadsafe(slots.release)

        return StreamingResponse(sse(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/api/articles", summary="The indexed articles")
    async def articles(
        q: str = Query(
            "",
            max_length=200,
            description="Only articles whose title or id holds these words "
            "(Arabic letter forms, diacritics, accents and case ignored), by title.",
        ),
        limit: int | None = Query(None, ge=1, description="At most this many (default: all)."),
        offset: int = Query(0, ge=0, description="Skip this many first (with `limit`, to page)."),
    ) -> list[dict[str, Any]]:
        """The indexed articles: id (for the `article` filter), title and number of passages; by id,
        or by title for a search `q`. A large archive is read a page at a time (`limit`, `offset`)."""
        titles = bot.retriever.articles()
        ids = find_articles(titles, q, offset + limit if limit else len(titles)) if q.strip() else sorted(titles)
        ids = ids[offset : offset + limit if limit else None]
        counts = bot.retriever.article_counts()
        return [{"id": article_id, "title": titles[article_id], "passages": counts[article_id]} for article_id in ids]

    probing = asyncio.Lock()

    @app.get(
        "/healthz",
        summary="Readiness: 200 while the vector store answers, 503 while it does not",
        responses={503: {"description": '{"status": "degraded", "store": "unreachable", "since": …}'}},
    )
    async def healthz() -> JSONResponse:
        health = bot.index.health
        if not probing.locked():  # one probe at a time; pollers meanwhile get the last known state
            async with probing:
                await asyncio.to_thread(bot.store_answers)
        chunks = bot.retriever.chunks
        body: dict[str, Any] = {
            "status": "degraded" if health.down else "ok" if chunks else "empty",
            "articles": len(bot.retriever.articles()),
            "passages": len(chunks),
            "embeddings": getattr(bot.embeddings, "model_id", type(bot.embeddings).__name__),
        }
        if health.down:
            body |= {"store": "unreachable", "since": health.since}
            return JSONResponse(body, status_code=503, headers={"Retry-After": RETRY_AFTER})
        return JSONResponse(body)

    return app


def create_server(bot: "Bot", settings: Settings | None = None) -> "FastAPI":
    """The JSON API with the Gradio chat page mounted at `/`."""
    import gradio as gr

    from .ui import CSS, HEAD_JS, FeedbackLog, create_app
    from .widget import add_widget_routes

    settings = settings or bot.settings
    feedback = FeedbackLog(settings.data_path / "feedback.jsonl")
    api = create_api(bot, settings)
    add_widget_routes(api, settings or bot.settings)  # before the mount at "/", which would shadow them
    app: FastAPI = gr.mount_gradio_app(
        api,
        create_app(bot, feedback),
        path="/",
        css=CSS,
        head=HEAD_JS,
        ssr_mode=False,
        mcp_server=False,
        show_error=False,
        footer_links=[],
    )
    return app


def serve(bot: "Bot", host: str, port: int) -> None:
    """Run the server until interrupted; a busy port is a QaBotError, not a traceback."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise QaBotError(
                f"cannot serve on {host}:{port} ({exc.strerror}). Choose another port with --port or QA_BOT_PORT."
            ) from None
    log.warning("chat on http://%s:%d  (API docs: /api/docs)", host, port)
    uvicorn.run(create_server(bot), host=host, port=port, log_level="warning")


class _HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
