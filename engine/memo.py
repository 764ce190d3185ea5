"""Tokens remembered by text, so a long conversation is tokenized once, not at every turn."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable


class TokenMemo:
    """An LRU map text -> tokens, bounded by entries and by the tokens it holds (a few huge
    pastes must not keep megabytes alive)."""

    def __init__(self, tokenize: Callable[[str], list[int]], *, max_entries: int = 2048,
                 max_tokens: int = 262_144) -> None:
        self._tokenize = tokenize
        self._max_entries = max_entries
        self._max_tokens = max_tokens
        self._items: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._held = 0

    def __call__(self, text: str) -> list[int]:
        """The tokens of ``text`` (a fresh list the caller may change)."""
        found = self._items.get(text)
        if found is not None:
            self._items.move_to_end(text)
            return list(found)
        tokens = self._tokenize(text)
        if len(tokens) <= self._max_tokens // 4:
            self._items[text] = tuple(tokens)
            self._held += len(tokens)
            while len(self._items) > self._max_entries or self._held > self._max_tokens:
                _, old = self._items.popitem(last=False)
                self._held -= len(old)
        return tokens

    def __len__(self) -> int:
        return len(self._items)
