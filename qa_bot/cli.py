"""Command line: `qa-bot index | ask | eval | serve`. Errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .config import Settings
from .errors import InputError, QaBotError

if TYPE_CHECKING:
    from .selector import Selector
from .types import Answer

log = logging.getLogger("qa_bot")

EXIT_ERROR = 1
EXIT_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors, like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"qa-bot: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--root", help="project folder holding seeds/ and index/ (QA_BOT_ROOT; default: .)")
    common.add_argument("--seeds-dir", help="articles folder (QA_BOT_SEEDS_DIR; default: ROOT/seeds)")
    common.add_argument("--index-dir", help="index folder (QA_BOT_INDEX_DIR; default: ROOT/index)")
    common.add_argument("--embeddings", help="use-m3 or a sentence-transformers model path (QA_BOT_EMBEDDINGS)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")

    parser = _Parser(prog="qa-bot", description="Ask questions about news articles, in Arabic or English.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    index = sub.add_parser(
        "index",
        parents=[common],
        help="add articles (files, folders, JSONL) to seeds/ and bring the index up to date",
        description="Copy the given articles into seeds/ (the source of truth), then index what changed: "
        "new and edited articles are embedded, removed ones deleted, unchanged ones skipped.",
    )
    index.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help='.txt/.md articles, folders of them, or JSONL files of {"id", "title", "text", "lang", '
        '"translation"?, "date"?, "url"?}',
    )
    index.add_argument("--remove", action="append", default=[], metavar="ID", help="delete an article by id")

    sub.add_parser("articles", parents=[common], help="list the indexed articles (id, passages, title)")

    ask = sub.add_parser("ask", parents=[common], help="answer one question, or JSON lines from stdin")
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    ask.add_argument("--article", action="append", metavar="ID", help="answer from this article only (repeatable)")
    mode = ask.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the answer as JSON")
    mode.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"question": ..., "history": [...]} per line from stdin, write one JSON answer per line',
    )

    ev = sub.add_parser(
        "eval",
        parents=[common],
        help="evaluate on a question file: the format of eval/dev.json, SQuAD format (SQuAD, XQuAD, ARCD, …) "
        "or a faithfulness set (eval/faithfulness.json)",
        description="A dev-format file is asked against the index in index/. A SQuAD-format file's articles are "
        "imported into a temporary project (your index/ is not touched), a share of them is left out so that "
        "their questions must be refused, and every question is asked. A faithfulness set's claims are checked "
        "against the sources they cite (no index needed).",
    )
    ev.add_argument("file", type=Path)
    ev.add_argument("--json", action="store_true", help="print figures and per-question details as JSON")
    ev.add_argument(
        "--questions",
        type=Path,
        metavar="FILE",
        help="SQuAD only: ask this parallel file's questions (same question ids) against FILE's articles",
    )
    ev.add_argument(
        "--holdout",
        type=float,
        metavar="X",
        help="SQuAD only: articles left out of the index, a share below 1 or a count (default 0.15)",
    )
    ev.add_argument("--seed", type=int, default=0, help="SQuAD only: which articles are left out (default 0)")
    ev.add_argument(
        "--selector",
        type=Path,
        metavar="FILE",
        help="answer with this selector model instead of the shipped one; a cross-validation file from "
        "`make train` (build/selector-folds.json) answers each article with the model that did not see it",
    )

    translate = sub.add_parser(
        "translate", parents=[common], help="write the aligned English sidecar of an article with the LLM"
    )
    translate.add_argument("seed", type=Path, help="the article, e.g. seeds/NAME.txt")
    translate.add_argument("--force", action="store_true", help="overwrite an existing NAME.en.txt")

    serve = sub.add_parser("serve", parents=[common], help="start the chat in the browser")
    serve.add_argument("--host", help="QA_BOT_HOST (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="QA_BOT_PORT (default 7860)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        settings = Settings.from_env(
            root=args.root,
            seeds_dir=args.seeds_dir,
            index_dir=args.index_dir,
            embeddings=args.embeddings,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
        )
        command = {
            "index": _index,
            "articles": _articles,
            "ask": _ask,
            "eval": _eval,
            "serve": _serve,
            "translate": _translate,
        }[args.command]
        return command(settings, args)
    except InputError as exc:
        _fail(str(exc))
        return EXIT_INPUT
    except QaBotError as exc:
        _fail(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `qa-bot ask --jsonl … | head`: the reader left; nothing to report
        sys.stderr.close()
        return 0


def _fail(message: str) -> None:
    sys.stderr.write(f"qa-bot: error: {message}\n")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="qa-bot: %(message)s")
    for noisy in ("httpx", "chromadb", "chromadb.telemetry", "posthog", "sentence_transformers", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _bot(settings: Settings) -> Any:
    from .bot import Bot  # heavy imports only when a command needs them

    return Bot.from_settings(settings)


def _index(settings: Settings, args: argparse.Namespace) -> int:
    from .corpus import import_paths, remove_articles
    from .index import Index
    from .models import make_embeddings, warm_up

    if args.paths:
        imported = import_paths(args.paths, settings.seeds_path, settings.root)
        log.info("%s", imported)
    if args.remove:
        removed = remove_articles(args.remove, settings.seeds_path, settings.root)
        log.info("removed from seeds/: %s", ", ".join(removed))
    embeddings = make_embeddings(settings)
    warm_up(embeddings)
    report = Index(settings, embeddings).refresh(progress=sys.stderr.isatty())
    sys.stdout.write(f"{report} → {settings.index_path}\n")
    return 0


def _articles(settings: Settings, args: argparse.Namespace) -> int:
    bot = _bot(settings)
    counts = bot.retriever.article_counts()
    for article_id, title in sorted(bot.retriever.articles().items()):
        sys.stdout.write(f"{article_id}\t{counts[article_id]}\t{title}\n")
    return 0


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    if args.jsonl:
        if args.question:
            raise InputError("give the question either as an argument or with --jsonl on stdin, not both")
        return _ask_jsonl(_bot(settings), sys.stdin, sys.stdout)
    if args.question is None:
        raise InputError('no question: qa-bot ask "your question" (or --jsonl to read JSON lines from stdin)')
    bot = _bot(settings)
    answer = bot.ask(args.question, articles=args.article)
    if args.json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_render(answer, bot))
    return 0


def _ask_jsonl(bot: Any, stdin: TextIO, stdout: TextIO) -> int:
    """One answer (or `{"error": ...}`) per input line, in order; exit 1 when any line failed."""
    failed = False
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise InputError('each line must be a JSON object {"question": ..., "history": [...]}')
            out: dict[str, Any] = bot.ask(
                request.get("question"), request.get("history"), request.get("article")
            ).to_dict()
        except json.JSONDecodeError as exc:
            out, failed = {"error": f"line {number}: invalid JSON ({exc.msg})", "line": number}, True
        except RecursionError:
            out, failed = {"error": f"line {number}: invalid JSON (nested too deeply)", "line": number}, True
        except QaBotError as exc:
            out, failed = {"error": f"line {number}: {exc}", "line": number}, True
        except Exception:  # one bad line must not cost the answers to the others
            log.exception("line %d failed", number)
            out, failed = {"error": f"line {number}: internal error (see the log)", "line": number}, True
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return EXIT_ERROR if failed else 0


def _render(answer: Answer, bot: Any) -> str:
    wording = bot.answerer.wording(answer.language)
    lines = [answer.text]
    if answer.citations:
        lines += ["", f"{wording.sources}:"]
        for c in answer.citations:
            where = f"{c.title} ({c.article_id}) · {c.source}:{c.start}-{c.end}" + (
                f" · {c.section}" if c.section else ""
            )
            lines.append(f"[{c.n}] {where} (score {c.score:.2f})")
            lines.append(f"    {c.passage}")
            if c.translation:
                lines.append(f"    {c.translation}")
    return "\n".join(lines) + "\n"


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from .evaluate import format_figures, load_eval, read_json, run_eval
    from .faithfulness import is_faithfulness
    from .squad import SEED_GROUP, is_squad

    data = read_json(args.file)
    if is_faithfulness(data):
        return _eval_faithfulness(settings, args, data)
    if is_squad(data):
        result, table = _eval_squad(settings, args, data)
    else:
        if args.questions is not None or args.holdout is not None:
            raise InputError(f"--questions and --holdout are for SQuAD-format files; {args.file} is not one")
        questions = load_eval(args.file, data)
        bot = _bot(settings)
        models = _selectors(args.selector)
        if models is not None:
            bot.answerer.selector = models(SEED_GROUP)
        result = run_eval(questions, lambda q, h: bot.ask(q, h))
        table = format_figures(result["figures"])
    sys.stdout.write((json.dumps(result, ensure_ascii=False, indent=2) if args.json else table) + "\n")
    return 0


def _eval_squad(settings: Settings, args: argparse.Namespace, data: Any) -> tuple[dict[str, Any], str]:
    from .evaluate import read_json
    from .squad import (
        SquadArticle,
        archive_bot,
        article_group,
        choose_holdout,
        format_squad_figures,
        load_squad,
        replace_questions,
        run_squad_eval,
    )

    articles = load_squad(args.file, data)
    if args.questions is not None:
        articles = replace_questions(articles, args.questions, read_json(args.questions))
    holdout = 0.15 if args.holdout is None else args.holdout
    left_out = choose_holdout(articles, holdout, args.seed)
    models = _selectors(args.selector)  # a bad model file is reported before anything is indexed
    sys.stderr.write(
        f"qa-bot: indexing {len(articles) - len(left_out)} of {len(articles)} articles in a temporary project "
        f"({len(left_out)} left out: their questions must be refused)\n"
    )
    with archive_bot(settings, articles, left_out) as bot:

        def choose(article: SquadArticle) -> None:
            if models is not None:
                bot.answerer.selector = models(article_group(article.id))

        result = run_squad_eval(articles, left_out, bot.ask, choose)
    result["archive"] = {
        "file": str(args.file),
        "questions_file": str(args.questions) if args.questions else None,
        "articles": len(articles),
        "left_out": sorted(left_out),
        "holdout": holdout,
        "seed": args.seed,
    }
    return result, format_squad_figures(result["figures"])


def _selectors(path: Path | None) -> Callable[[str], Selector] | None:
    """For `--selector`: the model to answer an article group with (None: the shipped model)."""
    from .evaluate import read_json
    from .selector import Selector

    if path is None:
        return None
    data = read_json(path)
    try:
        if isinstance(data, dict) and "folds" in data:
            fold_of, models = data["folds"], [Selector.from_dict(m) for m in data["models"]]
            return lambda group: models[fold_of[group]] if group in fold_of else _unseen(path, group)
        model = Selector.from_dict(data)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InputError(f"{path} is not a selector model ({exc}): `make train` writes them") from exc
    return lambda group: model


def _unseen(path: Path, group: str) -> Selector:
    raise InputError(f"{path} has no fold for article {group!r}: it was trained on other data")


def _eval_faithfulness(settings: Settings, args: argparse.Namespace, data: Any) -> int:
    """Claims caught / kept per kind and language (no index needed: each claim carries its source)."""
    from . import faithfulness
    from .models import make_embeddings

    result = faithfulness.run(faithfulness.load(args.file, data), make_embeddings(settings))
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(faithfulness.format_figures(result["figures"]) + "\n")
    return 0


def _translate(settings: Settings, args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .llm import translate_article
    from .models import make_chat_model

    seed: Path = args.seed
    if not seed.is_file():
        raise InputError(f"no article at {seed}")
    target = seed.with_name(f"{seed.stem}.en.txt")
    if target.exists() and not args.force:
        raise InputError(f"{target} exists; use --force to overwrite it")
    chosen = make_chat_model(settings)
    if chosen is None:
        raise ConfigError("qa-bot translate needs a language model: set QA_BOT_LLM (see README)")
    lines = translate_article(chosen[0], seed, settings.prompts_dir)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write(f"{len(lines)} segments translated → {target}\n")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from .api import serve
    from .models import few_malloc_arenas, one_blas_thread
    from .once import preload
    from .ui import example_questions

    example_questions(settings.prompts_dir)  # a missing or broken examples file fails before the models load
    few_malloc_arenas()  # before any answering thread exists
    # Answers run side by side (QA_BOT_MAX_CONCURRENT), each on one thread: a second BLAS thread per
    # answer only spins, doubling the CPU of an answer (QA_BOT_THREADS is for `index` and `ask`).
    # Limited once the bot is built, when every BLAS library it uses (numpy's, SciPy's) is loaded.
    bot = _bot(replace(settings, threads=1))
    preload()  # the word lists, here, not in several answering threads at once
    one_blas_thread()
    serve(bot, settings.host, settings.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
