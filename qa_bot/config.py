"""Settings: one frozen record built from defaults < `QA_BOT_*` environment variables < CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def cpu_count() -> int:
    """CPUs this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build with `Settings.from_env(...)`; tests construct it directly.

    Example:
        >>> s = Settings(root=Path("/tmp/project"))
        >>> s.seeds_path
        PosixPath('/tmp/project/seeds')
    """

    root: Path = field(default_factory=Path.cwd)
    seeds_dir: Path | None = None
    index_dir: Path | None = None
    lexical_dir: Path | None = None  # the saved lexical index (default: <index>/lexical; shared by replicas)
    data_dir: Path | None = None
    prompts_dir: Path = _PACKAGE_ROOT / "prompts"
    embeddings: str = "use-m3"
    llm: str = "none"
    llm_base_url: str = ""
    llm_api_key: str = field(default="", repr=False)  # a secret: never printed, logged or returned
    ollama_url: str = "http://127.0.0.1:11434"
    llm_timeout: float = 30.0
    threads: int = field(default_factory=lambda: min(2, cpu_count()))
    top_k: int = 2
    min_confidence: float | None = None  # None: the answer selector's calibrated threshold
    max_question_chars: int = 2000
    host: str = "127.0.0.1"
    port: int = 7860
    allowed_origins: str = ""
    rate_limit: int = 30
    max_concurrent: int = 4
    request_timeout: float = 30.0
    collection: str = "qa_bot"
    chroma_url: str = ""
    store_timeout: float = 10.0  # seconds to wait for a Chroma server before answering without it
    lock_timeout: float = 900.0

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise ConfigError(f"QA_BOT_THREADS must be at least 1, got {self.threads}")
        if self.threads > cpu_count():
            # More BLAS threads than cores makes each query dozens of times slower.
            object.__setattr__(self, "threads", cpu_count())
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:  # also false for NaN
            raise ConfigError(f"QA_BOT_MIN_CONFIDENCE must be between 0 and 1, got {self.min_confidence}")
        if not 1 <= self.top_k <= 10:
            raise ConfigError(f"QA_BOT_TOP_K must be between 1 and 10, got {self.top_k}")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"QA_BOT_PORT must be a TCP port (1-65535), got {self.port}")
        if self.rate_limit < 1 or self.max_concurrent < 1:
            raise ConfigError("QA_BOT_RATE_LIMIT and QA_BOT_MAX_CONCURRENT must be at least 1")
        if not self.request_timeout > 0:
            raise ConfigError(
                f"QA_BOT_REQUEST_TIMEOUT must be a positive number of seconds, got {self.request_timeout}"
            )
        if not self.store_timeout > 0:
            raise ConfigError(f"QA_BOT_STORE_TIMEOUT must be a positive number of seconds, got {self.store_timeout}")
        if self.max_question_chars < 1:
            raise ConfigError("QA_BOT_MAX_QUESTION_CHARS must be positive")

    @property
    def seeds_path(self) -> Path:
        return self.seeds_dir if self.seeds_dir is not None else self.root / "seeds"

    @property
    def data_path(self) -> Path:
        """Where user data (answer feedback) is kept."""
        return self.data_dir if self.data_dir is not None else self.root / "data"

    @property
    def index_path(self) -> Path:
        return self.index_dir if self.index_dir is not None else self.root / "index"

    @property
    def lexical_path(self) -> Path:
        """Where the writer saves the lexical index, one folder per store generation."""
        return self.lexical_dir if self.lexical_dir is not None else self.index_path / "lexical"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `QA_BOT_<FIELD>` variables, then non-None `overrides` (CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"QA_BOT_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, str(f.type))
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("root", "seeds_dir", "index_dir", "lexical_dir", "data_dir", "prompts_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser().resolve()
        return cls(**values)


def _parse(name: str, raw: str, type_name: str) -> Any:
    try:
        if type_name == "int":
            return int(raw)
        if type_name in ("float", "float | None"):
            return float(raw)
    except ValueError:
        kind = "an integer" if type_name == "int" else "a number"
        raise ConfigError(f"QA_BOT_{name.upper()} must be {kind}, got {raw!r}") from None
    return raw
