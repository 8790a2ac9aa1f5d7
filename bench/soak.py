"""Soak: a real `qa-bot serve` under locust for half an hour or more, figures per minute.

`python -m bench.soak [--minutes 30] [--passages 20000] [--users 20]` builds a temporary project
with the benchmark's archive (the seed article plus distractor passages, as `python -m bench`
builds it, indexed by `qa-bot index`), serves it with the rate limit raised and every other setting
at its default, and runs locust with no think time for `--minutes`. Every request is logged by the
locust user (bench/locustfile.py); the server's resident memory is sampled every second. Written to
bench/results/soak.json; `python -m bench --report-only` puts it in RESULTS.md and bench/soak.png.

Memory is judged after a warm-up (the first `WARMUP_MIN` minutes): the least-squares slope of the
samples in MB per hour and their range. Nothing is asserted here; the report states the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .common import (
    BENCH_DIR,
    VENV_BIN,
    CpuWatch,
    cpu_count,
    git_state,
    log,
    machine,
    now_iso,
    percentile,
    quiet_env,
    write_result,
)
from .corpus import make_project, plan, write_distractors
from .load import RATE_LIMIT, serving

WARMUP_MIN = 5


class _CpuTrace(threading.Thread):
    """The machine's CPU ticks, busy ticks and those of the benchmark's own processes, every second:
    per minute, how much of the machine *other* work took (a noisy neighbour shows in the figures)."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.samples: list[tuple[float, int, int, int]] = []  # time, total, busy, ours
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            total = sum(values[:8])
            ours = CpuWatch._ticks("self") + sum(CpuWatch._ticks(p) for p in self.pids)
            self.samples.append((time.time(), total, total - idle, ours))
            self._halt.wait(1.0)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def other_busy(self, start: float) -> dict[int, float]:
        """Minute index (from `start`) → share of the machine's CPU used by other processes."""
        first: dict[int, tuple[float, int, int, int]] = {}
        last: dict[int, tuple[float, int, int, int]] = {}
        for sample in self.samples:
            if sample[0] >= start:
                m = int((sample[0] - start) // 60)
                first.setdefault(m, sample)
                last[m] = sample
        out = {}
        for m in first:
            _, t0, b0, o0 = first[m]
            _, t1, b1, o1 = last[m]
            if t1 > t0:
                out[m] = round(max(0, (b1 - b0) - (o1 - o0)) / (t1 - t0), 3)
        return out


def build_project(root: Path, passages: int) -> dict[str, Any]:
    """The seed article plus enough distractor records for `passages`, indexed by `qa-bot index`."""
    make_project(root)
    records, steps = plan([passages]) if passages else ([], [])
    step = steps[0] if steps else None
    write_distractors(root, records[: step.records] if step else [])
    log(f"soak: indexing {step.passages if step else 0:,} distractor passages with qa-bot index")
    began = time.perf_counter()
    subprocess.run(
        [str(VENV_BIN / "qa-bot"), "index"],
        env=quiet_env(QA_BOT_ROOT=str(root), QA_BOT_THREADS=str(cpu_count())),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - began
    log(f"soak: indexed in {seconds:.0f} s")
    return {
        "distractor_records": step.records if step else 0,
        "distractor_passages": step.passages if step else 0,
        "index_seconds": round(seconds, 1),
    }


def _slope_per_hour(times: list[float], values: list[float]) -> float | None:
    """Least-squares slope of `values` over `times` (seconds), in units per hour."""
    if len(times) < 2:
        return None
    mt, mv = sum(times) / len(times), sum(values) / len(values)
    var = sum((t - mt) ** 2 for t in times)
    if var == 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in zip(times, values, strict=True)) / var * 3600


def minutes(requests: list[dict[str, Any]], rss: list[tuple[float, float]], start: float) -> list[dict[str, Any]]:
    """Per-minute rows from the request log and the memory samples (minute 1 starts at `start`)."""
    by_minute: dict[int, list[dict[str, Any]]] = {}
    for r in requests:
        by_minute.setdefault(int((r["t"] - start) // 60), []).append(r)
    mem: dict[int, list[float]] = {}
    for t, mb in rss:
        if t >= start:
            mem.setdefault(int((t - start) // 60), []).append(mb)
    end = max((r["t"] for r in requests), default=start)
    rows = []
    for m in range(int((end - start) // 60)):  # whole minutes only: the last, cut short by the stop, is left out
        got = by_minute.get(m, [])
        ok = [r["ms"] for r in got if r["error"] is None]
        errors = [r for r in got if r["error"] is not None]
        samples = mem.get(m, [])
        rows.append(
            {
                "minute": m + 1,
                "requests": len(got),
                "answers_per_s": round(len(ok) / 60, 2),
                "errors": len(errors),
                "error_kinds": sorted({str(r["error"]) for r in errors})[:3],
                "p50_ms": round(percentile(ok, 50), 1) if ok else None,
                "p95_ms": round(percentile(ok, 95), 1) if ok else None,
                "p99_ms": round(percentile(ok, 99), 1) if ok else None,
                "rss_mb": round(sum(samples) / len(samples), 1) if samples else None,
                "rss_max_mb": round(max(samples), 1) if samples else None,
            }
        )
    return rows


def summary(
    rows: list[dict[str, Any]], requests: list[dict[str, Any]], rss: list[tuple[float, float]], start: float
) -> dict[str, Any]:
    """Whole-run figures, and memory after the warm-up (slope in MB/h, range)."""
    ok = [r["ms"] for r in requests if r["error"] is None]
    after = [(t, mb) for t, mb in rss if t >= start + WARMUP_MIN * 60]
    steady = [r for r in rows if r["minute"] > WARMUP_MIN and r["requests"]]
    return {
        "requests": len(requests),
        "errors": sum(r["errors"] for r in rows),
        "answers_per_s": round(len(ok) / max(1e-9, (max(r["t"] for r in requests) - start)), 2) if requests else None,
        "p50_ms": round(percentile(ok, 50), 1) if ok else None,
        "p95_ms": round(percentile(ok, 95), 1) if ok else None,
        "p99_ms": round(percentile(ok, 99), 1) if ok else None,
        "throughput_per_minute_range": [
            min((r["answers_per_s"] for r in steady), default=None),
            max((r["answers_per_s"] for r in steady), default=None),
        ],
        "rss_after_warmup_mb": {
            "first": round(after[0][1], 1) if after else None,
            "last": round(after[-1][1], 1) if after else None,
            "min": round(min(mb for _, mb in after), 1) if after else None,
            "max": round(max(mb for _, mb in after), 1) if after else None,
            "slope_mb_per_hour": (
                round(s, 1)
                if (s := _slope_per_hour([t for t, _ in after], [mb for _, mb in after])) is not None
                else None
            ),
        },
    }


def run_soak(minutes_: float, passages: int, users: int, eval_path: Path, command: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        project = Path(tmp) / "project"
        built = build_project(project, passages)
        with serving(project, every=1.0) as served:
            idle = served.sampler.samples[-1] if served.sampler.samples else None
            request_log = served.work / "requests.jsonl"
            watch = CpuWatch(pids=(served.server.pid,))
            log(f"soak: {users} users, no think time, {minutes_:g} min against {served.url}")
            start = time.time()
            with (served.work / "locust.log").open("wb") as locust_log:
                locust = subprocess.Popen(
                    [
                        str(VENV_BIN / "locust"), "-f", str(BENCH_DIR / "locustfile.py"), "--headless",
                        "-u", str(users), "-r", str(users), "-t", f"{round(minutes_ * 60)}s", "--host", served.url,
                        "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
                    ],
                    env=quiet_env(BENCH_EVAL=str(eval_path), BENCH_REQUEST_LOG=str(request_log)),
                    stdout=subprocess.DEVNULL,
                    stderr=locust_log,
                )  # fmt: skip
                trace = _CpuTrace([served.server.pid, locust.pid])
                trace.start()
                try:
                    locust.wait()
                finally:
                    trace.stop()
            cpu = watch.stop()
            requests = [json.loads(line) for line in request_log.read_text(encoding="utf-8").splitlines() if line]
            rss = list(zip(served.sampler.times, served.sampler.samples, strict=True))
            health = served.health
            server_log_tail = (served.work / "server.log").read_text(errors="replace").splitlines()[-5:]
    rows = minutes(requests, rss, start)
    busy = trace.other_busy(start)
    for row in rows:
        row["other_cpu"] = busy.get(row["minute"] - 1)
    total = summary(rows, requests, rss, start)
    mem = total["rss_after_warmup_mb"]
    log(
        f"soak: {total['requests']:,} requests, {total['errors']} errors, {total['answers_per_s']} answers/s, "
        f"p50 {total['p50_ms']} ms, p95 {total['p95_ms']} ms, p99 {total['p99_ms']} ms; RSS after warm-up "
        f"{mem['min']}–{mem['max']} MB, slope {mem['slope_mb_per_hour']} MB/h"
    )
    return {
        "kind": "soak",
        "measured_at": now_iso(),
        "machine": machine(),
        "git": git_state(),
        "command": command,
        **built,
        "health": health,
        "users": users,
        "think_time_s": 0,
        "minutes": minutes_,
        "warmup_minutes": WARMUP_MIN,
        "rate_limit": RATE_LIMIT,
        "max_concurrent": "default (4)",
        "locust_exit": locust.returncode,
        "idle_rss_mb": round(idle, 1) if idle is not None else None,
        "server_log_tail": server_log_tail,
        "cpu": cpu,
        **total,
        "per_minute": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the load (default: %(default)s)")
    parser.add_argument("--passages", type=int, default=20_000, help="distractor passages (default: %(default)s)")
    parser.add_argument("--users", type=int, default=20, help="locust users, no think time (default: %(default)s)")
    parser.add_argument("--eval", type=Path, default=BENCH_DIR.parent.parent / "shared" / "eval" / "dev.json")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="folder for soak.json")
    parser.add_argument("--note", help="a remark for the report (e.g. what else ran on the machine)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = " ".join(["python -m bench.soak", *(sys.argv[1:] if argv is None else argv)])
    data = run_soak(args.minutes, args.passages, args.users, args.eval.resolve(), command)
    if args.note:
        data["note"] = args.note
    log(f"wrote {write_result('soak', data, args.out)}")
    return 0 if data["locust_exit"] in (0, 1) and data["requests"] else 1


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
