"""One typed settings object, stored as JSON in the config folder and merged over defaults."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_aio.foundation import paths

log = logging.getLogger(__name__)

MAX_MOOD_BIAS = 8.0
DEFAULT_REPLY_TOKENS = {"short": 32, "normal": 128, "long": 512}

# Each reply also gets a short hint in the writer's language (engine.prompts.reply_hint):
# that, not this prompt, keeps Chinese replies Chinese (measured in docs/replies/README.md).
DEFAULT_CHAT_SYSTEM_PROMPT = (
    "You are a warm, caring friend. Always answer in the language of the user's message. "
    "Speak to the user directly as \"you\". First acknowledge how they feel, then say "
    "something kind or helpful. Never refuse and never mention being an AI. Keep it short."
)
# Earlier defaults, written into settings files by the Settings dialog: they are replaced by
# the current default on load (a prompt the person wrote themselves is kept).
OLD_CHAT_SYSTEM_PROMPTS = frozenset({
    "You are a warm, empathetic companion. Reply briefly and kindly in the language the user "
    "writes in. Acknowledge how they feel before anything else.",
})


def clamp_threads(threads: int) -> int:
    """At most one thread per core of this machine (0 stays 0: the default); more only make
    llama.cpp's threads wait for each other."""
    cores = os.cpu_count() or 1
    if threads > cores:
        log.warning("threads=%d is more than this machine's %d cores; using %d", threads, cores,
                    cores)
        return cores
    return max(0, threads)


@dataclass
class Settings:
    """Everything a user can change; unknown or invalid keys in the file fall back to defaults."""

    model: str = ""  # catalogue id or .gguf path; "" means the catalogue's default
    threads: int = 0  # 0 means: the number of physical cores
    n_ctx: int = 2048
    reply_length: str = "normal"
    reply_tokens: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_REPLY_TOKENS))
    system_prompt: str = DEFAULT_CHAT_SYSTEM_PROMPT
    language: str = "system"  # "system", "zh" or "en"
    close_to_tray: bool = True
    mood_bias: float = 0.0  # added to the Positive-minus-Negative logit gap (calibration)
    temperature: float = 0.7  # reply sampling; 0 = always the most likely words
    mood_corrections: bool = True  # use the person's label corrections (overrides + examples)
    # evaluate the message while it is typed, so its label and reply start at once on Enter
    # (costs some CPU while typing: turn it off on battery)
    prepare_while_typing: bool = True
    theme: str = "system"  # issue 11: "system", "light" or "dark" (the window's colours)
    # issue 13: an OpenAI-compatible inference server instead of the local model ("" = local);
    # its API key comes from $QWEN_AIO_API_KEY or $OPENAI_API_KEY, never from this file
    backend_url: str = ""
    backend_model: str = ""  # the server's model name; "" = the first it lists

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or paths.settings_file()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: [[[[…]]]]
            log.warning("Settings file %s is unreadable (%s); using defaults", path,
                        type(exc).__name__ if isinstance(exc, RecursionError) else exc)
            return cls()
        if not isinstance(raw, dict):
            log.warning("Settings file %s does not hold an object; using defaults", path)
            return cls()
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Settings:
        settings = cls()
        for f in dataclasses.fields(cls):
            if f.name not in raw:
                continue
            value = raw[f.name]
            default = getattr(settings, f.name)
            if f.name == "reply_tokens":
                if isinstance(value, dict):
                    merged = dict(default)
                    for key, n in value.items():
                        if key in merged and isinstance(n, int) and 1 <= n <= 8192:
                            merged[key] = n
                    settings.reply_tokens = merged
                continue
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, float):  # NaN, Infinity and 1e308 are not settings
                ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                      and math.isfinite(value))
                value = float(value) if ok else value
            else:
                ok = isinstance(value, type(default)) and not isinstance(value, bool)
            if ok:
                setattr(settings, f.name, value)
            else:
                log.warning("Ignoring setting %s=%r (expected %s)", f.name, value,
                            type(default).__name__)
        settings._clamp()
        return settings

    def _clamp(self) -> None:
        if self.system_prompt.strip() in OLD_CHAT_SYSTEM_PROMPTS:
            self.system_prompt = DEFAULT_CHAT_SYSTEM_PROMPT
        self.threads = clamp_threads(self.threads)
        self.n_ctx = max(512, min(self.n_ctx, 32768))
        self.temperature = max(0.0, min(self.temperature, 2.0))
        # beyond a few logits the bias no longer calibrates: it decides every label alone
        self.mood_bias = max(-MAX_MOOD_BIAS, min(self.mood_bias, MAX_MOOD_BIAS))
        if self.reply_length not in self.reply_tokens:
            self.reply_length = "normal"
        if self.language not in ("system", "zh", "en"):
            self.language = "system"
        if self.theme not in ("system", "light", "dark"):
            self.theme = "system"

    def save(self, path: Path | None = None) -> None:
        """Write atomically, so a crash never leaves a half-written settings file."""
        path = path or paths.settings_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dataclasses.asdict(self), fh, ensure_ascii=False, indent=2)
        os.replace(tmp, path)

    def reply_limit(self, length: str | int | None = None) -> int:
        """Output-token limit for a preset name (short/normal/long) or an explicit number."""
        if isinstance(length, int):
            return max(1, length)
        return self.reply_tokens.get(length or self.reply_length, self.reply_tokens["normal"])
