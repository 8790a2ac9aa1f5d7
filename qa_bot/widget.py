"""Embeddable chat: a one-line `<script>` for any site and a full-page chat for an `<iframe>`.

Routes (registered by `add_widget_routes`, before the Gradio page is mounted at `/`):

* `GET /widget.js` — the embed script (`static/widget.js`, vanilla JS, no build step). On a page:
  `<script src="https://HOST/widget.js" data-lang="ar|en" data-title="…" async></script>`.
* `GET /embed` — a page holding nothing but the widget in full-size mode, for
  `<iframe src="https://HOST/embed">` (`?lang=ar|en`, `?title=…`, `?article=ID`). Its `Content-Security-Policy`
  lets only the allowed origins frame it (`frame_ancestors`).
* `GET /widget/origin` — `{"origin", "allowed"}` readable from any origin. A refused origin gets a
  403 from `/api/*` without CORS headers (even its preflight fails), so the browser hides that
  answer from the script; this lets the widget tell "this site is not allowed" from "server down".

The origin policy itself stays in `api.py` (`origin_allowed`, `parse_origins`): the widget only
reads it. Nothing here reveals a setting other than the public origin list in the CSP header.
fastapi is imported inside functions, like in `api.py`: importing this module costs nothing.
"""

import hashlib
import html
import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from .api import origin_allowed, parse_origins
from .config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
_DEFAULT_ANCESTORS = "'self' http://localhost:* http://127.0.0.1:*"
# A CSP source expression: scheme://host[:port] with an optional `*.` host prefix or `*` port, or `*`.
_SOURCE = re.compile(r"^(\*|[a-z][a-z0-9+.-]*://((\*\.)?[a-z0-9.-]+|\[[0-9a-f:.]+\])(:(\d{1,5}|\*))?)$")
_TITLE_MAX = 80


def frame_ancestors(settings: Settings) -> str:
    """The CSP `frame-ancestors` sources: `'self'` plus each allowed origin (default: localhost only).

    Example:
        >>> frame_ancestors(Settings(allowed_origins="https://news.example, http://b.example:8080/"))
        "'self' http://b.example:8080 https://news.example"
        >>> frame_ancestors(Settings())
        "'self' http://localhost:* http://127.0.0.1:*"
    """
    origins = parse_origins(settings.allowed_origins)
    if not origins:
        return _DEFAULT_ANCESTORS
    sources = []
    for origin in sorted(origins):
        if _SOURCE.match(origin):
            sources.append(origin)
        else:  # a stray `;` or quote would inject another CSP directive: leave it out, say so
            log.warning("QA_BOT_ALLOWED_ORIGINS: %r is not an origin; it cannot frame /embed", origin)
    return " ".join(["'self'", *sources])


def embed_csp(settings: Settings) -> str:
    """The whole policy of `/embed`: own script and API only, framed by the allowed origins."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",  # the widget's stylesheet lives in its shadow root
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {frame_ancestors(settings)}",
        ]
    )


@cache
def _asset(name: str) -> tuple[bytes, str]:
    """A static file's bytes and a strong ETag (read once per process)."""
    data = (STATIC / name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


def embed_page(lang: str | None = None, title: str | None = None, article: str | None = None) -> str:
    """`static/embed.html` with the (validated / escaped) language, title and article filter filled in."""
    lang = lang if lang in ("ar", "en") else "en"
    attrs = f' data-lang="{lang}"'
    if title and title.strip():
        attrs += f' data-title="{html.escape(title.strip()[:_TITLE_MAX], quote=True)}"'
    if article and article.strip():
        attrs += f' data-article="{html.escape(article.strip()[:_TITLE_MAX], quote=True)}"'
    page = _asset("embed.html")[0].decode("utf-8")
    return (
        page.replace("{{lang}}", lang).replace("{{dir}}", "rtl" if lang == "ar" else "ltr").replace("{{attrs}}", attrs)
    )


def add_widget_routes(app: "FastAPI", settings: Settings) -> None:
    """Register `/widget.js`, `/embed` and `/widget/origin` on `app` (call before mounting at `/`)."""
    from fastapi import Request, Response
    from fastapi.responses import HTMLResponse, JSONResponse

    allowed = parse_origins(settings.allowed_origins)
    csp = embed_csp(settings)

    @app.get("/widget.js", include_in_schema=False)
    async def widget_js(request: Request) -> Response:
        body, etag = _asset("widget.js")
        headers = {
            "Cache-Control": "public, max-age=300",
            "ETag": etag,
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",  # loadable from pages that set COEP
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)

    @app.get("/embed", include_in_schema=False)
    async def embed(lang: str | None = None, title: str | None = None, article: str | None = None) -> HTMLResponse:
        return HTMLResponse(
            embed_page(lang, title, article),
            headers={
                "Content-Security-Policy": csp,
                "X-Content-Type-Options": "nosniff",
                # No "Referrer-Policy: no-referrer": it would make the widget's same-origin POSTs
                # carry `Origin: null`, which the API refuses.
                "Cache-Control": "no-cache",
            },
        )

    @app.get("/widget/origin", include_in_schema=False)
    async def widget_origin(request: Request) -> JSONResponse:
        origin = request.headers.get("origin")
        ok = origin_allowed(origin, request.headers.get("host"), allowed)
        return JSONResponse(
            {"origin": origin, "allowed": ok},
            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store", "Vary": "Origin"},
        )
