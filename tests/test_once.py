"""Word lists load once per process, in one thread, however many answers ask for them at once."""

from __future__ import annotations

import sys
import threading
import time

from qa_bot.once import Once, once, preload


def _where(thread: threading.Thread) -> str | None:
    """'loading' when the thread runs the load, 'waiting' when it waits in the loader, else None."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == "load":
            return "loading"
        if frame.f_code.co_name == "__call__" and isinstance(frame.f_locals.get("self"), Once):
            return "waiting"
        frame = frame.f_back
    return None


def test_threads_asking_at_once_get_one_load() -> None:
    release = threading.Event()
    calls: list[int] = []

    def load() -> list[int]:
        calls.append(1)
        release.wait()
        return [len(calls)]

    loader = Once(load)
    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda: results.append(loader())) for _ in range(4)]
    for t in threads:
        t.start()
    # every thread is either loading or waiting for the load (a state, whatever the machine's speed)
    while any(_where(t) is None for t in threads):
        time.sleep(0.001)  # polling interval, not a guess at how long anything takes
    states = sorted(_where(t) or "" for t in threads)
    release.set()
    for t in threads:
        t.join()
    assert states == ["loading", "waiting", "waiting", "waiting"]
    assert len(calls) == 1
    assert len(results) == 4 and all(r is results[0] for r in results)  # the one value, shared


def test_cache_clear_loads_again() -> None:
    calls: list[int] = []
    loader = Once(lambda: calls.append(1) or len(calls))
    assert (loader(), loader()) == (1, 1) and loader.loaded
    loader.cache_clear()
    assert not loader.loaded and loader() == 2


def test_preload_loads_every_registered_word_list_once() -> None:
    from qa_bot import facts, lexicon, vocab

    registered = once(lambda: "a word list")
    for loader in (facts._webster, lexicon.english_to_arabic, vocab.vocabulary, registered):
        loader.cache_clear()
    loaded = preload()
    assert {"qa_bot.facts._webster", "qa_bot.lexicon.english_to_arabic", "qa_bot.vocab.vocabulary"} <= set(loaded)
    assert registered.name in loaded and registered.loaded
    assert preload() == []  # nothing left to load
