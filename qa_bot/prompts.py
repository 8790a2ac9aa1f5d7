"""Prompt and wording files in `prompts/`, loaded by name and language, placeholders checked."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from .errors import ConfigError

# Each template's allowed placeholders; a missing key or an unknown placeholder is an error at start-up.
EXTRACTIVE_KEYS: dict[str, frozenset[str]] = {
    "lead": frozenset(),
    "claim": frozenset({"quote", "n"}),
    "untranslated": frozenset(),
    "abstain": frozenset(),
    "empty": frozenset(),
    "sources": frozenset(),
}


@dataclass(frozen=True)
class Wording:
    """The user-facing wording for one language."""

    lead: str
    claim: str
    untranslated: str
    abstain: str
    empty: str
    sources: str


def load_wording(prompts_dir: Path, language: str) -> Wording:
    return _load(_resolved(prompts_dir), language)


@lru_cache(maxsize=64)
def _resolved(path: Path) -> Path:
    """`path.resolve()`, once per path: it asks the file system about every part of the path, a
    tenth of a millisecond that every answer paid for its wording."""
    return path.resolve()


@cache
def _load(prompts_dir: Path, language: str) -> Wording:
    path = prompts_dir / f"extractive.{language}.toml"
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    for key, allowed in EXTRACTIVE_KEYS.items():
        value = data.get(key)
        if not isinstance(value, str):
            raise ConfigError(f"{path}: the key {key!r} is missing or not a string.")
        used = _placeholders(value)
        if used - allowed:
            raise ConfigError(f"{path}: {key!r} uses unknown placeholder(s) {sorted(used - allowed)}.")
        if key == "claim" and "quote" not in used:
            raise ConfigError(f"{path}: 'claim' must contain {{quote}}.")
    return Wording(**{key: data[key] for key in EXTRACTIVE_KEYS})


# Prompt files for an LLM backend: name -> the placeholders each must contain (and may only use).
LLM_PROMPTS: dict[str, frozenset[str]] = {
    "answer_system": frozenset({"language", "abstain"}),
    "answer_user": frozenset({"sources", "question", "language"}),
    "answer_language": frozenset({"language"}),
    "condense": frozenset({"history", "question"}),
    "translate": frozenset({"text"}),
}


def load_prompt(prompts_dir: Path, name: str) -> str:
    """A prompt file's text, its placeholders checked against `LLM_PROMPTS`."""
    return _load_prompt(prompts_dir.resolve(), name)


@cache
def _load_prompt(prompts_dir: Path, name: str) -> str:
    path = prompts_dir / f"{name}.txt"
    text = _read(path)
    wanted = LLM_PROMPTS[name]
    used = _placeholders(text)
    if used != wanted:
        raise ConfigError(
            f"{path}: placeholders must be exactly {sorted(wanted)}, found {sorted(used)} "
            "(write literal braces as {{ and }})"
        )
    return text


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"Missing prompt file {path}. Restore it or set QA_BOT_PROMPTS_DIR.") from None


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# Example questions shown under the chat: part of the deployment, like the wording above.
EXAMPLE_LANGUAGES = ("en", "ar")
EXAMPLE_MAX_CHARS = 300


def load_examples(prompts_dir: Path, language: str) -> tuple[str, ...]:
    """The example questions in `prompts/examples.<language>.txt`: one per line, `#` starts a comment line.

    A file with no questions (empty, or only comments) means no examples in that language; a
    missing file is an error, so a deployment that lost it hears about it at start-up.

    Raises:
        ConfigError: the file is missing or unreadable, or a question is longer than
            `EXAMPLE_MAX_CHARS` (naming the file and line).
    """
    return _load_examples(prompts_dir.resolve(), language)


@cache
def _load_examples(prompts_dir: Path, language: str) -> tuple[str, ...]:
    path = prompts_dir / f"examples.{language}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text: save it as UTF-8, one question per line.") from None
    except OSError:
        raise ConfigError(
            f"Missing examples file {path}: restore it (one question per line; only `#` comments for none) "
            "or set QA_BOT_PROMPTS_DIR."
        ) from None
    questions: list[str] = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        question = line.strip()
        if not question or question.startswith("#"):
            continue
        if len(question) > EXAMPLE_MAX_CHARS:
            raise ConfigError(
                f"{path} line {number}: an example question is {len(question)} characters; "
                f"keep it under {EXAMPLE_MAX_CHARS}."
            )
        if question not in questions:
            questions.append(question)
    return tuple(questions)
