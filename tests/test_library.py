"""Many articles: importing files, folders and JSONL into seeds/, removing them, citing the right one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, SEED, make_project
from qa_bot.bot import Bot
from qa_bot.cli import main
from qa_bot.config import Settings
from qa_bot.text import tokens

SEED_ID = SEED.stem
SUMMIT = (
    "قمة المياه في الرياض\n\n"
    "افتتحت في مدينة الرياض قمة إقليمية للمياه بمشاركة وزراء من ثماني دول. "
    "وأعلن وزير البيئة أن الدول المشاركة ستخصص ملياري دولار لمشاريع تحلية مياه البحر حتى عام 2030.\n"
)
BULK = [
    {
        "id": "news-harbour",
        "title": "New harbour bridge opens in Tunis",
        "text": "The new harbour bridge in Tunis opened on Monday after four years of construction. "
        "The bridge is 1.2 kilometres long and cost 300 million dinars.",
        "lang": "en",
        "date": "2016-03-25",
        "url": "https://example.com/harbour",
    },
    {
        "id": "news-olive",
        "title": "موسم الزيتون",
        "text": "توقعت وزارة الزراعة أن يبلغ إنتاج زيت الزيتون هذا الموسم مئتي ألف طن. وقالت الوزارة إن "
        "الأمطار جاءت في وقتها.",
        "lang": "ar",
        # one line for two sentences: a translation of the passage as a whole, not sentence by sentence
        "translation": "The agriculture ministry expected olive oil production this season to reach "
        "two hundred thousand tonnes; the rains, it said, came on time.",
    },
]


def write_bulk(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def run(root: Path, command: str, *args: object) -> int:
    """`qa-bot COMMAND --root ROOT ARGS…`, in this process."""
    try:
        return main([command, "--root", str(root), *map(str, args)])
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code or 0)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Bot]:
    """The seed article plus a file and a JSONL bulk file imported with `qa-bot index PATH…`."""
    root = make_project(tmp_path_factory.mktemp("library"))
    inbox = tmp_path_factory.mktemp("inbox")
    (inbox / "summit.txt").write_text(SUMMIT, encoding="utf-8")
    write_bulk(inbox / "wire.jsonl", BULK)
    assert run(root, "index", inbox / "summit.txt", inbox / "wire.jsonl") == 0
    return root, Bot.from_settings(Settings(root=root, prompts_dir=REPO / "prompts"))


def test_import_copies_into_seeds_and_reports_articles(library: tuple[Path, Bot], capsys) -> None:
    root, bot = library
    assert (root / "seeds" / "summit.txt").read_text(encoding="utf-8") == SUMMIT
    assert (root / "seeds" / "wire.jsonl").is_file()
    assert bot.retriever.articles() == {
        SEED_ID: bot.retriever.articles()[SEED_ID],
        "summit": "قمة المياه في الرياض",
        "news-harbour": "New harbour bridge opens in Tunis",
        "news-olive": "موسم الزيتون",
    }
    assert run(root, "index") == 0  # nothing changed: nothing embedded
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 0 removed, 4 skipped (articles); 0 passages embedded" in out


@pytest.mark.parametrize(
    ("question", "article", "expected"),
    [
        ("How long is the new harbour bridge in Tunis?", "news-harbour", "1.2 kilometres"),
        ("كم ستخصص الدول لمشاريع تحلية المياه؟", "summit", "ملياري دولار"),
        ("How much olive oil is expected this season?", "news-olive", "two hundred thousand tonnes"),
        ("Who met Kerry in the Kremlin?", SEED_ID, "بوتين"),
    ],
)
def test_citations_name_the_right_article(
    library: tuple[Path, Bot], question: str, article: str, expected: str
) -> None:
    _, bot = library
    answer = bot.ask(question)
    assert not answer.abstained
    top = answer.citations[0]
    assert top.article_id == article and top.title == bot.retriever.articles()[article]
    assert expected in top.passage + " " + (top.translation or "")
    data = answer.to_dict()["citations"][0]
    assert data["article_id"] == article and data["title"] == top.title
    if article == "news-harbour":
        assert (data["date"], data["url"]) == ("2016-03-25", "https://example.com/harbour")


def test_a_translation_of_a_whole_passage_is_read_as_its_words(library: tuple[Path, Bot]) -> None:
    """A JSONL record's free translation (not aligned sentence by sentence) is part of what its
    passage says: its words count for the archive's vocabulary, the article's and the passage's
    coverage of an English question (without it, such passages scored *below* untranslated ones)."""
    _, bot = library
    retriever = bot.retriever
    words = set(tokens("olive oil production tonnes"))
    assert words <= retriever.article_terms("news-olive")
    assert all(retriever.knows(w) for w in words)
    found = retriever.search("How much olive oil production is expected this season?")
    olive = next(c for c in found if c.chunk.article_id == "news-olive")
    assert olive.coverage > 0.5


def test_article_filter_keeps_answers_inside_the_chosen_articles(library: tuple[Path, Bot]) -> None:
    _, bot = library
    inside = bot.ask("Who met Kerry in the Kremlin?", articles=[SEED_ID])
    assert inside.citations and {c.article_id for c in inside.citations} == {SEED_ID}
    outside = bot.ask("Who met Kerry in the Kremlin?", articles=["news-harbour"])
    assert all(c.article_id == "news-harbour" for c in outside.citations)
    assert outside.abstained  # the bridge article says nothing about Kerry
    with pytest.raises(Exception, match="no article with id 'nope'"):
        bot.ask("Who met Kerry?", articles=["nope"])


def test_api_filter_and_article_list(library: tuple[Path, Bot]) -> None:
    from fastapi.testclient import TestClient

    from qa_bot.api import create_api

    _, bot = library
    client = TestClient(create_api(bot, bot.settings))
    listed = client.get("/api/articles").json()
    assert [a["id"] for a in listed] == sorted([SEED_ID, "summit", "news-harbour", "news-olive"])  # by id
    assert all(a["passages"] >= 1 and a["title"] for a in listed)
    # a large archive: a page at a time, and a search of titles and ids
    ids = [a["id"] for a in listed]
    assert client.get("/api/articles", params={"limit": 2}).json() == listed[:2]
    assert [a["id"] for a in client.get("/api/articles", params={"limit": 2, "offset": 2}).json()] == ids[2:4]
    assert client.get("/api/articles", params={"offset": 3}).json() == listed[3:]
    harbour = client.get("/api/articles", params={"q": "HARBOUR"}).json()
    assert [a["id"] for a in harbour] == ["news-harbour"] and harbour[0] == listed[ids.index("news-harbour")]
    seed_title = next(a["title"] for a in listed if a["id"] == SEED_ID)
    word = seed_title.split()[1]  # an Arabic word of the seed's title
    assert SEED_ID in [a["id"] for a in client.get("/api/articles", params={"q": word}).json()]
    assert client.get("/api/articles", params={"q": "no such words anywhere"}).json() == []
    for bad in ({"limit": 0}, {"offset": -1}, {"q": "x" * 201}):
        refused = client.get("/api/articles", params=bad)
        assert refused.status_code == 422 and next(iter(bad)) in refused.json()["error"]
    body = client.post("/api/ask", json={"question": "How long is the bridge?", "article": "news-harbour"}).json()
    assert body["citations"][0]["article_id"] == "news-harbour"
    bad = client.post("/api/ask", json={"question": "How long is the bridge?", "article": ["nope"]})
    assert bad.status_code == 422 and "no article with id 'nope'" in bad.json()["error"]


def test_remove_edit_and_delete_by_hand(tmp_path: Path, capsys) -> None:
    root = make_project(tmp_path / "p")
    inbox = tmp_path / "inbox"
    (inbox / "folder" / "sub").mkdir(parents=True)
    (inbox / "folder" / "sub" / "summit.txt").write_text(SUMMIT, encoding="utf-8")
    write_bulk(inbox / "wire.jsonl", BULK)
    assert run(root, "index", inbox / "folder", inbox / "wire.jsonl") == 0
    assert "4 added, 0 updated, 0 removed, 0 skipped" in capsys.readouterr().out  # with the seed
    assert (root / "seeds" / "folder" / "sub" / "summit.txt").is_file()

    # a JSONL article removed by id: the file keeps the others
    assert run(root, "index", "--remove", "news-olive") == 0
    assert "0 added, 0 updated, 1 removed, 3 skipped" in capsys.readouterr().out
    kept = [json.loads(line)["id"] for line in (root / "seeds" / "wire.jsonl").read_text().splitlines()]
    assert kept == ["news-harbour"]

    # an edited file is re-embedded alone; a file deleted by hand disappears
    (root / "seeds" / "folder" / "sub" / "summit.txt").write_text(SUMMIT + "\nوتستمر القمة يومين.\n", "utf-8")
    assert run(root, "index") == 0
    assert "0 added, 1 updated, 0 removed, 2 skipped" in capsys.readouterr().out
    shutil.rmtree(root / "seeds" / "folder")
    assert run(root, "index") == 0
    assert "0 added, 0 updated, 1 removed, 2 skipped" in capsys.readouterr().out

    bot = Bot.from_settings(Settings(root=root, prompts_dir=REPO / "prompts"))
    assert set(bot.retriever.articles()) == {SEED_ID, "news-harbour"}
    answer = bot.ask("كم ستخصص الدول لمشاريع تحلية المياه؟")
    assert all(c.article_id != "folder/sub/summit" for c in answer.citations)


def test_progress_bar_on_request(tmp_path: Path, capsys) -> None:
    from qa_bot.index import Index
    from qa_bot.models import make_embeddings

    settings = Settings(root=make_project(tmp_path))
    report = Index(settings, make_embeddings(settings)).refresh(progress=True)
    err = capsys.readouterr().err
    assert f"{report.added}/{report.added}" in err and "passage" in err and "indexing" in err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "wire.jsonl line 2: invalid JSON"),
        ('{"id": "x"}', 'wire.jsonl line 2: "text" must be a non-empty string'),
        ('{"id": "news-harbour", "text": "again"}', "wire.jsonl line 2: duplicate \"id\" 'news-harbour'"),
        ('{"id": "x", "text": "t", "lang": "fr"}', 'wire.jsonl line 2: "lang" must be "ar" or "en"'),
        ('{"id": "x", "text": "t", "body": "?"}', "wire.jsonl line 2: unknown field(s) body"),
        (f'{{"id": "{SEED_ID}", "text": "clash"}}', f"the article id '{SEED_ID}'"),
    ],
)
def test_bad_bulk_file_is_one_line_and_changes_nothing(tmp_path: Path, capsys, line: str, message: str) -> None:
    root = make_project(tmp_path / "p")
    bad = tmp_path / "wire.jsonl"
    bad.write_text(json.dumps(BULK[0]) + "\n" + line + "\n", encoding="utf-8")
    before = sorted(p.name for p in (root / "seeds").iterdir())
    assert run(root, "index", bad) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in (root / "seeds").iterdir()) == before


def test_unknown_paths_and_ids_are_input_errors(tmp_path: Path, capsys) -> None:
    root = make_project(tmp_path / "p")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    for args, message in [
        (["index", tmp_path / "missing.txt"], "no such file or folder"),
        (["index", tmp_path / "photo.png"], "not an article (.txt, .md)"),
        (["index", "--remove", "nope"], "no article with id 'nope'"),
    ]:
        assert run(root, *args) == 2
        err = capsys.readouterr().err
        assert err.startswith("qa-bot: error: ") and message in err and err.count("\n") == 1
