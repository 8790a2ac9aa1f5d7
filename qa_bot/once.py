"""Word lists and dictionaries loaded once per process, by one thread, before a server answers.

`functools.cache` lets every thread that asks before the first load has finished load the data
again. Several answers running side by side in a server each built the same word list at once, and
their transient copies add up (Webster's 235,000 words take 34 MB while they are read, Arramooz's
word lists 38 MB): under load a server's memory rose by several times one load. `once` loads in
the first thread that asks while the others wait for it; `preload()` loads every list before a
server's answering threads start, so no answer pays for a load either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import update_wrapper
from typing import Generic, TypeVar

T = TypeVar("T")

_UNSET = object()


class Once(Generic[T]):
    """A function of no arguments, called at most once per process (until `cache_clear()`)."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._value: object = _UNSET
        self.name = f"{load.__module__}.{load.__qualname__}"
        update_wrapper(self, load)

    def __call__(self) -> T:
        value = self._value
        if value is _UNSET:
            with self._lock:
                if self._value is _UNSET:
                    self._value = self._load()
                value = self._value
        return value  # type: ignore[return-value]

    @property
    def loaded(self) -> bool:
        return self._value is not _UNSET

    def cache_clear(self) -> None:
        """Forget the value: the next call loads again (tests that change what is loaded)."""
        with self._lock:
            self._value = _UNSET


_ALL: list[Once[object]] = []


def once(load: Callable[[], T]) -> Once[T]:
    """Decorator: `load` runs once, in the first thread that calls it, and `preload()` knows it."""
    loader = Once(load)
    _ALL.append(loader)  # type: ignore[arg-type]
    return loader


def preload() -> list[str]:
    """Load every word list the answers read (names of those loaded now), in this thread."""
    from . import facts, lexicon, vocab  # noqa: F401 - their loaders register when imported

    loaded = []
    for loader in _ALL:
        if not loader.loaded:
            loader()
            loaded.append(loader.name)
    return loaded
