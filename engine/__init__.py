"""Qt-free core: one GGUF model, the mood pass and the chat pass."""

from engine.engine import Engine
from engine.types import CancelToken, Message, MoodResult, ReplyStats

__all__ = ["CancelToken", "Engine", "Message", "MoodResult", "ReplyStats"]
