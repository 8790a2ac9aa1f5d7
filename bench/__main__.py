"""`python -m bench [--sizes 0,1000,10000,20000] [--tag large] [--store-vectors N] [--skip-load] [--out DIR]`."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import BENCH_DIR, REPO, log, now_iso, write_result
from .store import DEFAULT_VECTORS as DEFAULT_STORE_VECTORS

DEFAULT_SIZES = (0, 1000, 10000, 20000)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="distractor passages at each step, comma-separated, ascending (default: %(default)s)",
    )
    parser.add_argument(
        "--store-vectors",
        type=int,
        help="run only the synthetic vector-store point with this many vectors (e.g. 1000000), then the report",
    )
    parser.add_argument(
        "--eval",
        type=Path,
        default=REPO.parent / "shared" / "eval" / "dev.json",
        help="question file in the format of shared/eval/dev.json (default: %(default)s)",
    )
    parser.add_argument(
        "--tag",
        default="",
        help="write results/pipeline-TAG.json (and load-, run-) instead of pipeline.json: a run the report "
        "merges with the default one, e.g. `--sizes 200000 --tag large` (make bench-large)",
    )
    parser.add_argument("--skip-load", action="store_true", help="skip the HTTP load run")
    parser.add_argument("--skip-store", action="store_true", help="skip the synthetic vector-store point")
    parser.add_argument("--report-only", action="store_true", help="only regenerate RESULTS.md and results.png")
    parser.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--command", help=argparse.SUPPRESS)  # the parent's command, for the store subprocess
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR,
        help="folder for RESULTS.md, results.png and results/*.json (default: bench/)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # A plain `kill` ends the run through the normal exits: temporary folders removed, server stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    out: Path = args.out.resolve()
    results = out / "results"
    command = args.command or " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    suffix = f"-{args.tag}" if args.tag else ""
    if args.store_vectors is not None:
        from .store import run_store

        data = run_store(args.store_vectors)
        data["command"] = command
        log(f"wrote {write_result(f'store-{args.store_vectors}', data, results)}")
    elif not args.report_only:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
        from .pipeline import run_pipeline

        with tempfile.TemporaryDirectory(prefix="bench-project-") as tmp:
            project = Path(tmp)
            pipeline = run_pipeline(sizes, project, args.eval, command)
            log(f"wrote {write_result('pipeline' + suffix, pipeline, results)}")
            if not args.skip_load:
                from .load import run_load

                largest = pipeline["sizes"][-1]["qa_bot_index"]["passages_total"] if pipeline["sizes"] else None
                load = run_load(project, args.eval, largest, command)
                log(f"wrote {write_result('load' + suffix, load, results)}")
    if not args.report_only and args.store_vectors is None and not args.skip_store:
        # The store point runs in its own process: a clean memory figure and no shared Chroma state.
        log(f"store point: {DEFAULT_STORE_VECTORS:,} vectors in a subprocess")
        subprocess.run(
            [sys.executable, "-m", "bench", "--store-vectors", str(DEFAULT_STORE_VECTORS), "--out", str(out),
             "--no-report", "--command", command],
            check=True,
        )  # fmt: skip
    if not args.report_only and args.store_vectors is None:
        seconds = round(time.perf_counter() - began, 1)
        run = {"kind": "run", "command": command, "finished_at": now_iso(), "seconds": seconds}
        write_result("run" + suffix, run, results)
    if not args.no_report:
        from .report import write_report

        for path in write_report(out):
            log(f"wrote {path}")
    total = time.perf_counter() - began
    if not args.no_report:
        log(f"total wall time {total:.0f} s ({total / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
