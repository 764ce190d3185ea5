"""Settings: one typed object, merged over defaults, never broken by a bad file."""

from __future__ import annotations

import json
from pathlib import Path

from qwen_aio.foundation import paths
from qwen_aio.foundation.settings import DEFAULT_REPLY_TOKENS, Settings


def test_all_folders_follow_qwen_aio_home(qwen_home: Path) -> None:
    for folder in (paths.config_dir(), paths.data_dir(), paths.cache_dir(), paths.log_dir(),
                   paths.models_dir()):
        assert qwen_home in folder.parents and folder.is_dir()
    assert paths.conversations_db().parent == paths.data_dir()


def test_round_trip_and_merge_over_defaults() -> None:
    s = Settings(threads=1, reply_length="long", language="zh", close_to_tray=False)
    s.reply_tokens["short"] = 20
    s.save()
    loaded = Settings.load()
    assert loaded == s
    paths.settings_file().write_text(json.dumps({"threads": 1}), encoding="utf-8")
    partial = Settings.load()
    assert partial.threads == 1 and partial.reply_tokens == DEFAULT_REPLY_TOKENS


def test_bad_values_fall_back_to_defaults() -> None:
    paths.settings_file().write_text(json.dumps({
        "threads": "many", "n_ctx": 10, "reply_length": "huge", "language": "fr",
        "close_to_tray": "yes", "mood_bias": 1, "reply_tokens": {"short": -5, "long": 300},
        "unknown": True}), encoding="utf-8")
    s = Settings.load()
    assert s.threads == 0 and s.n_ctx == 512 and s.reply_length == "normal"
    assert s.language == "system" and s.close_to_tray is True and s.mood_bias == 1.0
    assert s.reply_tokens == {**DEFAULT_REPLY_TOKENS, "long": 300}


def test_corrupt_file_gives_defaults_and_the_reply_limits() -> None:
    paths.settings_file().write_text("{not json", encoding="utf-8")
    s = Settings.load()
    assert s == Settings()
    assert (s.reply_limit("short"), s.reply_limit("normal"), s.reply_limit("long")) == (
        32, 128, 512)
    assert s.reply_limit(7) == 7


def test_temperature_is_clamped_and_the_old_default_prompt_is_replaced() -> None:
    from qwen_aio.foundation.settings import DEFAULT_CHAT_SYSTEM_PROMPT, OLD_CHAT_SYSTEM_PROMPTS

    s = Settings.from_dict({"temperature": 9, "system_prompt": next(iter(OLD_CHAT_SYSTEM_PROMPTS))})
    assert s.temperature == 2.0 and s.system_prompt == DEFAULT_CHAT_SYSTEM_PROMPT
    own = Settings.from_dict({"temperature": 0, "system_prompt": "Be brief."})
    assert own.temperature == 0.0 and own.system_prompt == "Be brief."
