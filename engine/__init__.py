"""Qt-free core: one GGUF model, the mood pass, the chat pass and the tasks.

The plain values load at once; `Engine` (and with it llama.cpp) only when first asked for, so
the window can show before llama.cpp is imported and `qwen_aio.engine.types` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qwen_aio.engine.types import CancelToken, Message, MoodResult, ReplyStats, TaskResult

if TYPE_CHECKING:
    from qwen_aio.engine.engine import Engine

__all__ = ["CancelToken", "Engine", "Message", "MoodResult", "ReplyStats", "TaskResult"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from qwen_aio.engine.engine import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
