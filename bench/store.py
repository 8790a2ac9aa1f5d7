"""Synthetic vector-store point: Chroma alone (embedded, cosine) with random 512-d unit vectors.

Measures add throughput (vectors/s, ids only, no documents or metadata) and single-query latency
at k=40 (qa-bot's dense_k). No embedding model is involved: this isolates the store.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import CpuWatch, git_state, latency_ms, log, machine, now_iso, rss_mb

DIM = 512
DEFAULT_VECTORS = 50_000  # the default run's point; 1M takes 12-20 min here, so it runs on request only
K = 40
QUERIES = 200
_BATCH = 5000


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def _dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024 / 1024, 1)


def run_store(vectors: int, seed: int = 0) -> dict[str, Any]:
    """Add `vectors` random unit vectors to a fresh embedded Chroma collection, then query it."""
    import chromadb

    log(f"store: {vectors:,} random {DIM}-d unit vectors into an embedded Chroma (cosine)")
    rng = np.random.default_rng(seed)
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        client = chromadb.PersistentClient(
            path=str(folder), settings=chromadb.config.Settings(anonymized_telemetry=False)
        )
        collection = client.create_collection(
            "bench", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        batch = min(_BATCH, int(client.get_max_batch_size()))
        add_seconds = 0.0
        watch = CpuWatch()
        curve: list[list[float]] = []  # [vectors added, add seconds so far] about every 30 s
        progress_at = time.perf_counter()
        for start in range(0, vectors, batch):
            n = min(batch, vectors - start)
            block = _unit(rng, n)
            ids = [str(i) for i in range(start, start + n)]
            began = time.perf_counter()
            collection.add(ids=ids, embeddings=block)
            add_seconds += time.perf_counter() - began
            if time.perf_counter() - progress_at > 30:
                progress_at = time.perf_counter()
                curve.append([start + n, round(add_seconds, 1)])
                log(f"store: {start + n:,}/{vectors:,} added ({(start + n) / add_seconds:,.0f} vectors/s so far)")
        count = collection.count()
        queries = _unit(rng, QUERIES + 1)
        collection.query(query_embeddings=queries[:1], n_results=K)  # warm-up
        times: list[float] = []
        for q in queries[1:]:
            began = time.perf_counter()
            collection.query(query_embeddings=q[None, :], n_results=K, include=["distances"])
            times.append(time.perf_counter() - began)
        result: dict[str, Any] = {
            "kind": "store",
            "measured_at": now_iso(),
            "machine": machine(),
            "git": git_state(),
            "vectors": vectors,
            "stored": count,
            "dim": DIM,
            "space": "cosine",
            "batch": batch,
            "add_seconds": round(add_seconds, 1),
            "add_vectors_per_s": round(vectors / add_seconds, 1),
            "k": K,
            "query": latency_ms(times),
            "cpu": watch.stop(),
            "add_curve": curve,
            "disk_mb": _dir_mb(folder),
            "process_peak_rss_mb": rss_mb().get("peak_rss_mb"),
        }
        log(
            f"store: {vectors:,} vectors added at {result['add_vectors_per_s']:,.0f}/s; "
            f"query k={K} p50 {result['query']['p50_ms']} ms, p95 {result['query']['p95_ms']} ms"
        )
        return result
    finally:
        try:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
        except Exception:  # noqa: BLE001 - best effort: an older chromadb has no cache
            pass
        shutil.rmtree(folder, ignore_errors=True)
