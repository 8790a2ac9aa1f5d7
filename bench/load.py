"""HTTP load: a real `qa-bot serve` on 127.0.0.1 and a headless locust run against POST /api/ask;
and `serve_once`, the serving memory of a real server at each size.

The server runs with QA_BOT_RATE_LIMIT=100000 so the per-client rate limiter (default 30/min) does
not turn the load into 429s; every other setting is the default (QA_BOT_MAX_CONCURRENT=4 answers at
once, the rest wait). The server's resident memory is sampled every 0.25 s during the run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import BENCH_DIR, VENV_BIN, CpuWatch, cpu_count, free_port, git_state, log, machine, now_iso, quiet_env

USERS = 20
SPAWN_RATE = 20
DURATION_S = 60
RATE_LIMIT = 100_000
_STARTUP_TIMEOUT_S = 600


def _healthz(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
            data = json.loads(r.read())
            return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


class _RssSampler(threading.Thread):
    """Resident memory of a process and its children, sampled until stopped."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[float] = []
        self.times: list[float] = []  # time.time() of each sample
        # the server's own pages apart: its memory (RssAnon) and the files it maps (RssFile), MB
        self.anon: list[float] = []
        self.file: list[float] = []
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._halt.is_set():
            try:
                proc = psutil.Process(self.pid)
                total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
                self.samples.append(total / 1024 / 1024)
                self.times.append(time.time())
                status = _status_mb(self.pid)
                if "RssAnon" in status and "RssFile" in status:
                    self.anon.append(status["RssAnon"])
                    self.file.append(status["RssFile"])
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _status_mb(pid: int) -> dict[str, float]:
    """The memory lines (kB) of /proc/<pid>/status, in MB ({} when the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {
        k: int(v.split()[0]) / 1024 for k, _, v in (line.partition(":") for line in lines) if v.strip().endswith("kB")
    }


def _vm_hwm_mb(pid: int) -> float | None:
    peak = _status_mb(pid).get("VmHWM")
    return round(peak, 1) if peak is not None else None


def _locust_stats(prefix: Path) -> dict[str, Any]:
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open(encoding="utf-8")))
    agg = next(r for r in rows if r["Name"] == "Aggregated")

    def num(key: str) -> float | None:
        value = agg.get(key, "")
        return None if value in ("", "N/A") else float(value)

    failures: list[dict[str, str]] = []
    path = prefix.parent / f"{prefix.name}_failures.csv"
    if path.exists():
        failures = list(csv.DictReader(path.open(encoding="utf-8")))
    return {
        "requests": int(num("Request Count") or 0),
        "failures": int(num("Failure Count") or 0),
        "req_per_s": num("Requests/s"),
        "p50_ms": num("50%"),
        "p95_ms": num("95%"),
        "p99_ms": num("99%"),
        "max_ms": num("Max Response Time"),
        "mean_ms": num("Average Response Time"),
        "failure_kinds": [{"error": f.get("Error", ""), "count": f.get("Occurrences", "")} for f in failures][:5],
    }


@dataclass
class Served:
    """A running `qa-bot serve` on loopback, its log folder and its memory sampler."""

    server: subprocess.Popen[bytes]
    url: str
    work: Path
    sampler: _RssSampler
    startup_s: float
    health: dict[str, Any]


@contextmanager
def serving(project: Path, *, every: float = 0.25, **settings: str) -> Iterator[Served]:
    """`qa-bot serve` on the built project (rate limit raised) until the block ends, then SIGINT."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = quiet_env(
        QA_BOT_ROOT=str(project),
        QA_BOT_HOST="127.0.0.1",
        QA_BOT_PORT=str(port),
        QA_BOT_RATE_LIMIT=str(RATE_LIMIT),
        QA_BOT_THREADS=str(cpu_count()),
        **settings,
    )
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    server_log = (work / "server.log").open("wb")
    log(f"serve: starting qa-bot serve on {url} (QA_BOT_RATE_LIMIT={RATE_LIMIT})")
    began = time.perf_counter()
    server = subprocess.Popen([str(VENV_BIN / "qa-bot"), "serve"], env=env, stdout=server_log, stderr=subprocess.STDOUT)
    sampler = _RssSampler(server.pid, every)
    sampler.start()
    try:
        health = None
        while health is None or health.get("status") != "ok":
            if server.poll() is not None:
                raise RuntimeError(f"qa-bot serve exited with {server.returncode}: see {work / 'server.log'}")
            if time.perf_counter() - began > _STARTUP_TIMEOUT_S:
                raise RuntimeError(f"qa-bot serve not ready after {_STARTUP_TIMEOUT_S}s")
            time.sleep(0.25)
            health = _healthz(url)
        startup = time.perf_counter() - began
        log(f"serve: ready after {startup:.1f}s: {health}")
        yield Served(server, url, work, sampler, startup, health)
    finally:
        sampler.stop()
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        server_log.close()
    shutil.rmtree(work, ignore_errors=True)  # kept only when the run failed (the error names it)


def _post(url: str, question: str) -> bool:
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(f"{url}/api/ask", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            answer = json.loads(r.read())
    except (OSError, ValueError):
        return False
    return isinstance(answer, dict) and "text" in answer and "citations" in answer


def serve_once(project: Path, questions: Sequence[str]) -> dict[str, Any]:
    """A real `qa-bot serve` on the built project: start-up time, RSS when ready, then every question
    asked once over HTTP (one at a time) and the RSS peak (sampled, and the kernel's VmHWM)."""
    with serving(project, every=0.1) as served:
        ready = served.sampler.samples[-1] if served.sampler.samples else None
        began = time.perf_counter()
        answered = sum(_post(served.url, q) for q in questions)
        seconds = time.perf_counter() - began
        hwm = _vm_hwm_mb(served.server.pid)
        samples = list(served.sampler.samples)
    return {
        "startup_s": round(served.startup_s, 1),
        "rss_ready_mb": round(ready, 1) if ready is not None else None,
        "rss_peak_mb": round(max(samples), 1) if samples else None,
        "vm_hwm_mb": hwm,
        "questions": len(questions),
        "answered": answered,
        "seconds": round(seconds, 1),
    }


def run_load(project: Path, eval_path: Path, passages: int | None, command: str) -> dict[str, Any]:
    """Start `qa-bot serve` on the built project, load it with locust, stop it; return the figures."""
    with serving(project) as served:
        server, url, work, sampler = served.server, served.url, served.work, served.sampler
        startup, health = served.startup_s, served.health
        idle_rss = sampler.samples[-1] if sampler.samples else None
        idle_anon = sampler.anon[-1] if sampler.anon else None
        idle_file = sampler.file[-1] if sampler.file else None
        prefix = work / "locust"
        locust_log = (work / "locust.log").open("wb")
        watch = CpuWatch(pids=(server.pid,))
        server_ticks = CpuWatch._ticks(server.pid)
        locust = subprocess.Popen(
            [
                str(VENV_BIN / "locust"), "-f", str(BENCH_DIR / "locustfile.py"), "--headless",
                "-u", str(USERS), "-r", str(SPAWN_RATE), "-t", f"{DURATION_S}s", "--host", url,
                "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
            ],
            env=quiet_env(BENCH_EVAL=str(eval_path)),
            stdout=subprocess.DEVNULL,
            stderr=locust_log,
        )  # fmt: skip
        _, status, usage = os.wait4(locust.pid, 0)
        locust.returncode = os.waitstatus_to_exitcode(status)
        locust_log.close()
        cpu = watch.stop()
        server_busy = (CpuWatch._ticks(server.pid) - server_ticks) / os.sysconf("SC_CLK_TCK")
        stats = _locust_stats(prefix)
        serving_hwm = _vm_hwm_mb(server.pid)
    log(
        f"load: {stats['requests']} requests, {stats['req_per_s']} req/s, p50 {stats['p50_ms']} ms, "
        f"p95 {stats['p95_ms']} ms, p99 {stats['p99_ms']} ms, {stats['failures']} failures"
    )
    return {
        "kind": "load",
        "measured_at": now_iso(),
        "machine": machine(),
        "git": git_state(),
        "command": command,
        "passages": passages,
        "health": health,
        "users": USERS,
        "spawn_rate": SPAWN_RATE,
        "duration_s": DURATION_S,
        "think_time_s": 0,
        "rate_limit": RATE_LIMIT,
        "max_concurrent": "default (4)",
        "server_startup_s": round(startup, 1),
        "locust_exit": locust.returncode,
        "locust_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "server_cpu_during_load_s": round(server_busy, 1),
        **stats,
        "serving_rss_mb": {
            "idle": round(idle_rss, 1) if idle_rss is not None else None,
            "max_sampled": round(max(sampler.samples), 1) if sampler.samples else None,
            "vm_hwm": serving_hwm,
            "samples": len(sampler.samples),
            "anon_idle": round(idle_anon, 1) if idle_anon is not None else None,
            "anon_max": round(max(sampler.anon), 1) if sampler.anon else None,
            "file_idle": round(idle_file, 1) if idle_file is not None else None,
            "file_max": round(max(sampler.file), 1) if sampler.file else None,
        },
        "cpu": cpu,
    }
