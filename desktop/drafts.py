"""When the window prepares the message being typed: the timing rules, without Qt.

The window (and the benchmark's typing replay) follow these rules, so the figures measured are
the app's own:
- after a short quiet spell (``WORD_QUIET_MS``) both contexts evaluate the draft up to its last
  finished word: a word still being typed would change its last token on the next keystroke,
  so evaluating it is wasted work (Chinese has no spaces: every character counts as finished);
- after a pause (``LABEL_QUIET_MS``) the whole draft is evaluated and its mood labelled (the
  result is cached, so Enter on the same text shows the label at once) and the chat context
  takes the reply hint for that label;
- a new keystroke abandons a preparation in flight; Enter abandons one unless it is the labelled
  preparation of exactly the text being sent, which is the turn's own first step.
"""

from __future__ import annotations

import re

WORD_QUIET_MS = 90
LABEL_QUIET_MS = 200

_TRAILING_WORD = re.compile(r"[^\W\d_]+$")  # letters at the end, not yet followed by a break
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]$")


def finished_part(draft: str) -> str:
    """The draft up to its last finished word (the whole of it if it ends in a break or in a
    CJK character)."""
    if not draft or _CJK.search(draft):
        return draft
    m = _TRAILING_WORD.search(draft)
    return draft if m is None else draft[:m.start()]
