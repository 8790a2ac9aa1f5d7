"""Shared fixtures: a project copy in a temp folder, a real index built with the real default model."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
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
# qa-bot's own cache (the parsed dictionary) goes to a throw-away folder, not the user's ~/.cache
os.environ["QA_BOT_CACHE_DIR"] = tempfile.mkdtemp(prefix="qa-bot-test-cache-")


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


def mapped_kb(path: Path) -> int:
    """Resident kB of this process's mappings of `path` (from /proc/self/smaps)."""
    total, inside, mappings = 0, False, 0
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):  # a mapping's first line: address, perms, ..., path
            inside = len(head) >= 6 and head[5] == str(path)
            mappings += inside
        elif inside and line.startswith("Rss:"):
            total += int(head[1])
    assert mappings, f"{path} is not mapped"
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Waits are for a state, never for a time: the timeouts are generous and only fail a test when the
# state never comes (a loaded CI machine may be many times slower than a quiet one).
WAIT_SECONDS = 300.0
BROWSER_TIMEOUT_MS = 120_000  # Playwright's own waits (its default of 5 s is a guess at the machine's speed)


def wait_for(condition: Callable[[], object], seconds: float = WAIT_SECONDS, what: str = "the condition") -> None:
    """Poll `condition` until it is true; fail when it has not become true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.02)  # polling interval, not a guess at how long anything takes


def wait_until_up(url: str, seconds: float = WAIT_SECONDS) -> None:
    """Poll `url` until it answers 200 (a server started in the background)."""
    import httpx

    def up() -> bool:
        try:
            return httpx.get(url).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, seconds, f"{url} to come up")


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] in ("T", "t", "Z", "X")


def stopped_when(proc: subprocess.Popen[str], condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
    """Run `proc` in short steps (SIGCONT … SIGSTOP) until `condition()` holds while it is stopped.

    Returns with `proc` stopped in that state, whatever the machine's speed: the condition is read
    while the process cannot move on, so a test can kill it exactly there. Fails if the process
    exits first (the state was stepped over) or the state does not come within `seconds`.
    """
    deadline = time.monotonic() + seconds
    while True:
        os.kill(proc.pid, signal.SIGSTOP)
        while not _stopped(proc.pid):  # the signal is delivered asynchronously
            pass
        if proc.poll() is not None:
            pytest.fail(f"the process ended before the awaited state: {proc.communicate()}")
        if condition():
            return
        if time.monotonic() > deadline:
            os.kill(proc.pid, signal.SIGCONT)
            pytest.fail(f"the awaited state did not come within {seconds:g} s")
        os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.005)  # let it take a step


@contextlib.contextmanager
def chromium_page(profile: Path, height: int = 1000) -> Iterator[Any]:
    """A page in Debian's Chromium (a persistent profile in `profile`), Playwright's waits generous."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport={"width": 1200, "height": height}
        )
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        expect.set_options(timeout=BROWSER_TIMEOUT_MS)
        yield context.new_page()
        context.close()


@contextlib.contextmanager
def serve(bot: Any, **overrides: Any) -> Iterator[str]:
    """The full app (API + widget + chat page) under uvicorn in a thread, as `qa-bot serve` runs it."""
    import uvicorn

    from qa_bot.api import create_server

    port = free_port()
    # No limit of the server's may stand in for the machine's speed: generous unless a test sets one.
    settings = dataclasses.replace(bot.settings, **{"rate_limit": 1000, "request_timeout": 600.0, **overrides})
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
