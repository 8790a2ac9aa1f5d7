"""Shared fixtures: a project copy in a temp folder, a real index built with the real default model."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa_bot.config import Settings

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_b7f32638cd3eede3.txt"
SIDECAR = REPO / "seeds" / "000_b7f32638cd3eede3.en.txt"
DEV_SET = REPO.parent / "shared" / "eval" / "dev.json"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may talk to loopback only: anything else is a bug (no model hub at run time)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None
        if isinstance(host, str):
            try:
                allowed = ipaddress.ip_address(host).is_loopback
            except ValueError:
                allowed = host == "localhost"
            if not allowed:
                raise OSError(f"network access in tests is not allowed: {host}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


def make_project(root: Path, *, sidecar: bool = True) -> Path:
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, root / "seeds" / SEED.name)
    if sidecar:
        shutil.copy(SIDECAR, root / "seeds" / SIDECAR.name)
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def settings(project: Path) -> Settings:
    return Settings(root=project, prompts_dir=REPO / "prompts")


@pytest.fixture(scope="session")
def bot(settings: Settings) -> Iterator[object]:
    from qa_bot.bot import Bot

    yield Bot.from_settings(settings)


# -- real servers and a real browser, shared by the HTTP and browser tests -------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, seconds: float = 30.0) -> None:
    """Poll `url` until it answers 200 (a server started in the background)."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"{url} did not come up within {seconds:g} s")


@contextlib.contextmanager
def serve(bot: Any, **overrides: Any) -> Iterator[str]:
    """The full app (API + widget + chat page) under uvicorn in a thread, as `qa-bot serve` runs it."""
    import uvicorn

    from qa_bot.api import create_server

    port = free_port()
    settings = dataclasses.replace(bot.settings, **{"rate_limit": 1000, **overrides})
    config = uvicorn.Config(create_server(bot, settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/healthz")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
