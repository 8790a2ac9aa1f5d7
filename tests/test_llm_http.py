"""The real `openai:` backend client against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from conftest import REPO, free_port
from qa_bot.bot import Bot
from qa_bot.config import Settings

REPLY = "Kerry said there must be a timetable and a draft constitution by August [1]."


class Script:
    """What the fake server does next: "ok", "500" or "hang"; the replies to give, in order (then
    REPLY); and what it received. In a reply, `{cite:WORD}` becomes `[n]`, n the number of the source
    the server was sent that contains WORD, so a claim cites the passage it is about."""

    mode: ClassVar[str] = "ok"
    released: ClassVar[threading.Event] = threading.Event()  # a "hang" lasts until the test has finished
    requests: ClassVar[list[dict]] = []
    replies: ClassVar[list[str]] = []


def _reply(body: dict) -> str:
    text = Script.replies.pop(0) if Script.replies else REPLY
    sources = body["messages"][-1]["content"] if body["messages"][-1]["role"] == "user" else ""
    for m in body["messages"]:
        if m["role"] == "user" and "[1] " in m["content"]:
            sources = m["content"]

    def number(match: re.Match[str]) -> str:
        for block in re.split(r"\n\n(?=\[\d+\] )", sources):
            if match.group(1) in block:
                return "[" + re.match(r".*?\[(\d+)\] ", block, re.S).group(1) + "]"  # type: ignore[union-attr]
        raise AssertionError(f"no source contains {match.group(1)!r}")

    return re.sub(r"\{cite:([^}]+)\}", number, text)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Script.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if Script.mode == "500":
            self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
        elif Script.mode == "hang":
            Script.released.wait()  # never answers in time, however slow or fast the machine
        elif body.get("stream"):
            self._stream(body["model"], _reply(body))
        else:
            self._send(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": _reply(body)}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )

    def _stream(self, model: str, reply: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i, word in enumerate(reply.split(" ")):
            piece = word if i == 0 else " " + word
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _openai_bot(project, endpoint: str, timeout: float) -> Bot:
    settings = Settings(
        root=project,
        prompts_dir=REPO / "prompts",
        llm="openai:test-model",
        llm_base_url=endpoint,
        llm_api_key="sk-test-secret",
        llm_timeout=timeout,
    )
    return Bot.from_settings(settings)


@pytest.fixture(scope="module")
def openai_bot(project, endpoint: str) -> Bot:
    return _openai_bot(project, endpoint, timeout=120.0)  # a loaded machine must not time out a quick reply


@pytest.fixture(scope="module")
def impatient_bot(project, endpoint: str) -> Bot:
    return _openai_bot(project, endpoint, timeout=1.0)  # for the server that never answers


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    Script.mode, Script.requests, Script.replies = "ok", [], []
    Script.released.clear()
    yield
    Script.released.set()


def test_answer_through_the_openai_client(openai_bot: Bot) -> None:
    answer = openai_bot.ask("What did Kerry say about a new constitution?")
    assert answer.backend == "openai:test-model" and answer.claims[0].supported
    sent = Script.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["model"] == "test-model"
    assert sent["auth"] == "Bearer sk-test-secret"  # the key goes to the server, and nowhere else
    assert sent["body"]["messages"][0]["role"] == "system" and "[1]" in sent["body"]["messages"][-1]["content"]
    assert "sk-test-secret" not in json.dumps(answer.to_dict())


@pytest.mark.parametrize(("mode", "calls"), [("500", 2), ("hang", 2)])
def test_server_errors_and_hangs_fall_back_after_one_retry(
    openai_bot: Bot, impatient_bot: Bot, mode: str, calls: int
) -> None:
    Script.mode = mode
    bot = impatient_bot if mode == "hang" else openai_bot
    answer = bot.ask("What did Lavrov say about NATO?")
    data = answer.to_dict()
    assert data["fallback"] == "extractive" and "NATO" in data["text"] and data["citations"]
    assert len(Script.requests) == calls
    assert "sk-test-secret" not in json.dumps(data)
    bot.llm.breaker.record(True)  # keep the breaker closed for the next test


def test_streamed_tokens_through_the_openai_client(openai_bot: Bot) -> None:
    events = list(openai_bot.stream("What did Kerry say about a new constitution?"))
    deltas = [data for name, data in events if name == "delta"]
    assert events[0][0] == "citations" and events[-1][0] == "final" and len(deltas) > 5
    assert "".join(deltas) == REPLY and Script.requests[0]["body"]["stream"] is True
    final = events[-1][1]
    assert final.backend == "openai:test-model" and final.claims[0].supported


CONSTITUTION_EN = "What did Kerry say about a new constitution?"
CONSTITUTION_AR = "ماذا قال كيري عن الدستور الجديد؟"
FAITHFUL_EN = "Kerry said there must be a timetable and a draft constitution by August {cite:جدول زمني}."
FAITHFUL_AR = "قال كيري إنه يجب أن يكون هناك جدول زمني ومشروع دستور بحلول آب/أغسطس {cite:جدول زمني}."

# (question, faithful claim, altered claim, what the reason must say) — one fact changed each
ALTERED = {
    "date-en": (CONSTITUTION_EN, FAITHFUL_EN, "Kerry said the draft constitution must be ready by June {cite:جدول زمني}.",  # noqa: E501
                "date 'June' not in source"),
    "date-ar": (CONSTITUTION_AR, FAITHFUL_AR, "وقال كيري إن مشروع الدستور يجب أن يكون جاهزا بحلول حزيران/يونيو {cite:جدول زمني}.",  # noqa: E501
                "date 'حزيران' not in source"),
    "number-en": ("How long did the talks in the Kremlin last?",
                  "The talks in the Kremlin lasted more than four hours {cite:الكرملين}.",
                  "The talks in the Kremlin lasted more than six hours {cite:الكرملين}.", "number 'six' not in source"),
    "number-ar": ("كم استمرت المباحثات في الكرملين؟", "استمرت المباحثات في الكرملين أكثر من أربع ساعات {cite:الكرملين}.",  # noqa: E501
                  "استمرت المباحثات في الكرملين أكثر من ست ساعات {cite:الكرملين}.", "number 'ست' not in source"),
    "name-en": (CONSTITUTION_EN, FAITHFUL_EN,
                "Obama said there must be a timetable and a draft constitution by August {cite:جدول زمني}.",
                "name 'Obama' not in source"),
    "name-ar": (CONSTITUTION_AR, FAITHFUL_AR,
                "قال أوباما إنه يجب أن يكون هناك جدول زمني ومشروع دستور بحلول آب/أغسطس {cite:جدول زمني}.",
                "'أوباما'"),
    "place-en": ("Where did the indirect negotiations take place?",
                 "Geneva hosted a new round of indirect negotiations {cite:جنيف جولة}.",
                 "Vienna hosted a new round of indirect negotiations {cite:جنيف جولة}.", "name 'Vienna' not in source"),
    "place-ar": ("أين جرت المفاوضات غير المباشرة؟", "شهدت جنيف جولة مفاوضات غير مباشرة جديدة {cite:جنيف جولة}.",
                 "شهدت فيينا جولة مفاوضات غير مباشرة جديدة {cite:جنيف جولة}.", "'فيينا'"),
    "negation-dropped-en": ("Did the two powers agree on the fate of Assad?",
                            "The two superpowers did not reach an agreement on the fate of Assad {cite:لم تتوصلا}.",
                            "Yes, the two sides reached an agreement on Assad {cite:لم تتوصلا}.", "drops the negation"),
    "negation-dropped-ar": ("هل اتفق الطرفان على مصير الأسد؟",
                            "لم تتوصل القوتان العظميان إلى اتفاق بشأن مصير الأسد {cite:لم تتوصلا}.",
                            "توصلت القوتان العظميان إلى اتفاق بشأن مصير الأسد {cite:لم تتوصلا}.", "drops the negation"),
    "negation-added-en": (CONSTITUTION_EN, FAITHFUL_EN,
                          "Kerry said there must not be a timetable and a draft constitution by August {cite:جدول زمني}.",  # noqa: E501
                          "negation 'not' not in source"),
    "negation-added-ar": (CONSTITUTION_AR, FAITHFUL_AR,
                          "قال كيري إنه لن يكون هناك جدول زمني ومشروع دستور بحلول آب/أغسطس {cite:جدول زمني}.",
                          "negation 'لن' not in source"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ALTERED))
def test_a_changed_fact_is_rejected_and_left_out_of_the_text(openai_bot: Bot, case: str) -> None:
    question, faithful, altered, reason = ALTERED[case]
    Script.replies = [f"{faithful} {altered}"]
    data = openai_bot.ask(question).to_dict()
    kept, dropped = data["claims"]
    assert kept["supported"] is True and kept["reason"] is None, kept
    assert dropped["supported"] is False and reason in dropped["reason"], dropped
    assert data["text"].startswith(kept["text"]) and dropped["text"] not in data["text"]
    assert "fallback" not in data and {c["n"] for c in data["citations"]} == set(kept["citations"])


def test_an_uncited_sentence_is_left_out(openai_bot: Bot) -> None:
    Script.replies = [FAITHFUL_EN + " The meeting lasted exactly nine hours."]
    data = openai_bot.ask(CONSTITUTION_EN).to_dict()
    assert data["claims"][1]["reason"] == "no citation" and "nine hours" not in data["text"]
    assert data["claims"][0]["supported"] and "August" in data["text"]


def test_nothing_supported_gives_the_extractive_answer(openai_bot: Bot) -> None:
    Script.replies = [ALTERED["date-en"][2]]
    data = openai_bot.ask(CONSTITUTION_EN).to_dict()
    assert data["fallback"] == "unsupported" and "supported by its sources" in data["fallback_reason"]
    assert "June" not in data["text"] and "August" in data["text"] and data["citations"]  # the quoted answer
    assert data["claims"][0]["supported"] is False and "June" in data["claims"][0]["reason"]


def test_a_reply_in_the_wrong_language_is_asked_for_again(openai_bot: Bot) -> None:
    Script.replies = [FAITHFUL_AR, FAITHFUL_EN]
    data = openai_bot.ask(CONSTITUTION_EN).to_dict()
    assert (
        len(Script.requests) == 2
        and "was not written in English" in Script.requests[1]["body"]["messages"][-1]["content"]
    )
    assert data["language"] == "en" and "fallback" not in data and data["text"].startswith("Kerry said")


GEMMA = (
    'قال الوزير الأمريكي إن "الرئيس بوتين" و"أوباما" اتفقا على وجوب إعداد مشروع دستور جديد في سوريا بحلول آب {cite:وجوب إعداد}.'  # noqa: E501
    " (English: the constitution must be drafted in the first week of the month."
)


def test_the_gemma_answer_to_an_english_question_falls_back_after_one_retry(openai_bot: Bot) -> None:
    Script.replies = [GEMMA, GEMMA]
    data = openai_bot.ask("By when must there be a draft constitution for Syria?").to_dict()
    assert len(Script.requests) == 2
    assert data["fallback"] == "extractive" and "answered in Arabic, not English" in data["fallback_reason"]
    assert data["language"] == "en" and "أوباما" not in data["text"] and "August" in data["text"]


def test_the_gemma_claim_is_rejected_with_a_reason_and_its_uncited_sentence_left_out(openai_bot: Bot) -> None:
    Script.replies = [GEMMA.split(" (English")[0] + " " + FAITHFUL_AR + " (وذلك في الأسبوع الأول من الشهر."]
    data = openai_bot.ask("متى يجب أن يكون هناك مشروع دستور لسوريا؟").to_dict()
    gemma, faithful, uncited = data["claims"]
    assert gemma["supported"] is False and "name 'أوباما' not in source" in gemma["reason"]
    assert uncited["supported"] is False and uncited["reason"] == "no citation"
    assert faithful["supported"] and data["text"].startswith(faithful["text"])
    assert "أوباما" not in data["text"] and "الأسبوع الأول" not in data["text"]


def test_a_streamed_answer_ends_with_only_the_supported_claims(openai_bot: Bot) -> None:
    question, faithful, altered, _ = ALTERED["number-en"]
    Script.replies = [f"{faithful} {altered}"]
    events = list(openai_bot.stream(question))
    streamed = "".join(data for name, data in events if name == "delta")
    final = events[-1][1]
    assert "six hours" in streamed  # what the model wrote, as it wrote it
    assert "six hours" not in final.text and "four hours" in final.text
    assert [c.supported for c in final.claims] == [True, False]
