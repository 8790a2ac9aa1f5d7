"""Shared helpers: progress logging, percentiles, machine facts, result files, process memory."""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = Path(sys.executable).parent


def dense_k() -> int:
    """How many passages qa-bot's dense list asks the store for (`HybridRetriever.dense_k`)."""
    from qa_bot.retrieve import HybridRetriever

    return int(HybridRetriever.model_fields["dense_k"].default)


_STARTED = time.perf_counter()


def log(message: str) -> None:
    """One progress line on stderr, prefixed with the seconds since the benchmark started."""
    elapsed = time.perf_counter() - _STARTED
    sys.stderr.write(f"[bench {elapsed:7.1f}s] {message}\n")
    sys.stderr.flush()


def percentile(values: Iterable[float], pct: float) -> float:
    """Inclusive percentile (same method as qa_bot.evaluate), NaN for no values."""
    data = sorted(values)
    if not data:
        return float("nan")
    if len(data) == 1:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[round(pct) - 1]


def latency_ms(seconds: list[float]) -> dict[str, Any]:
    """p50/p95/max in milliseconds over a list of durations in seconds."""
    return {
        "n": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 2),
        "p95_ms": round(percentile(seconds, 95) * 1000, 2),
        "max_ms": round(max(seconds) * 1000, 2) if seconds else None,
    }


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def cpu_count() -> int:
    """CPUs this process may use (affinity-aware; as qa_bot.config.cpu_count, without importing qa_bot)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def git_state() -> dict[str, Any]:
    """The commit measured, and whether qa_bot/ had uncommitted changes (read-only git calls)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "subject": _clip(git("log", "-1", "--format=%s"), 90) or None,
        "qa_bot_dirty": bool(git("status", "--porcelain", "--", "qa_bot", "prompts", "pyproject.toml")),
    }


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, Python and chromadb versions of this machine."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib: float | None = None
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if match:
            mem_gib = round(int(match.group(1)) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        import chromadb

        chroma_version = str(chromadb.__version__)
    except ImportError:
        chroma_version = "not installed"
    return {
        "cores": cpu_count(),
        "ram_gib": mem_gib,
        "cpu": cpu,
        "python": platform.python_version(),
        "chromadb": chroma_version,
        "platform": platform.platform(),
    }


def write_result(name: str, data: dict[str, Any], out: Path = RESULTS_DIR) -> Path:
    """Write one measurement as results/NAME.json (atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_result(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def rss_mb(pid: int | None = None) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MB, from /proc."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    out: dict[str, float] = {}
    for key, name in (("VmRSS", "rss_mb"), ("VmHWM", "peak_rss_mb")):
        match = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
        if match:
            out[name] = round(int(match.group(1)) / 1024, 1)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quiet_env(**extra: str) -> dict[str, str]:
    """The environment for qa-bot subprocesses: offline, no telemetry, plus `extra`."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    env.update(extra)
    return env


class CpuWatch:
    """How busy the machine was with *other* work while something was measured.

    From /proc/stat (all CPUs) minus this process, its waited-for children and the processes in
    `pids` (e.g. a server still running), in clock ticks: `other_busy` is the share of the machine's
    total CPU capacity that other processes used (0.5 = one of two cores busy elsewhere throughout).
    """

    def __init__(self, pids: tuple[int, ...] = ()) -> None:
        self.pids = pids
        self._start = self._read()

    @staticmethod
    def _ticks(pid: int | str) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        # after the ")", utime/stime/cutime/cstime are at indexes 11-14
        return sum(int(v) for v in fields[11:15])

    def _read(self) -> tuple[int, int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        total = sum(values[:8])  # guest time is already counted in user
        mine = self._ticks("self") + sum(self._ticks(p) for p in self.pids)
        return total, total - idle, mine

    def stop(self) -> dict[str, float]:
        total0, busy0, mine0 = self._start
        total1, busy1, mine1 = self._read()
        total = max(1, total1 - total0)
        return {
            "machine_busy": round((busy1 - busy0) / total, 3),
            "other_busy": round(max(0, (busy1 - busy0) - (mine1 - mine0)) / total, 3),
        }


class TimedEmbeddings(Embeddings):
    """Wraps a LangChain `Embeddings`, adding up the seconds and texts spent in it (`embed_documents`,
    `embed_query` and the joint sentence-and-clause pass qa-bot's indexing uses with USE-m3).

    Everything else (model_id, warm_up, ...) is delegated, so qa-bot sees the same model.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        began = time.perf_counter()
        try:
            return list(self.inner.embed_documents(texts))
        finally:
            self.seconds += time.perf_counter() - began
            self.texts += len(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_with_clauses(self, texts: list[str], split: Any) -> Any:
        """The inner model's joint sentence-and-clause pass (`qa_bot.vectors.row_maker` calls it for
        USE-m3), timed like `embed_documents`; None, as qa-bot expects, when the model has none."""
        joint = getattr(self.inner, "embed_with_clauses", None)
        if not callable(joint):
            return None
        began = time.perf_counter()
        try:
            return joint(texts, split)
        finally:
            self.seconds += time.perf_counter() - began
            self.texts += len(texts)

    def take(self) -> tuple[float, int]:
        """Seconds and texts since the last call."""
        out = (self.seconds, self.texts)
        self.seconds, self.texts = 0.0, 0
        return out
