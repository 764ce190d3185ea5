"""The fixed inputs of `qwen-aio bench`: short chat messages, a 30-turn conversation, long texts.

Fixed text (not random) so that runs on different days and machines measure the same work.
"""

from __future__ import annotations

from collections.abc import Callable

# Short chat messages (up to ~20 tokens), English and Chinese: the mood label's everyday input.
SHORT_MESSAGES: tuple[str, ...] = (
    "I got the job!",
    "My train was cancelled again, I'm going to be late.",
    "Thanks, that really helped me a lot today.",
    "I can't sleep, everything feels pointless.",
    "The concert last night was amazing.",
    "Why does my code never work on Mondays?",
    "Dinner with my parents went better than I expected.",
    "I lost my wallet on the bus.",
    "今天终于放假了，好开心！",
    "老板又让我加班，累死了。",
    "这家店的咖啡真不错。",
    "我的手机又坏了，烦死了。",
    "谢谢你一直陪着我。",
    "考试没考好，心情很差。",
    "周末和朋友去爬山了，风景太美了。",
    "外卖送错了，还凉了。",
)

# Other short messages, one per repeat, so a measured turn never repeats the previous one.
VARIANTS: tuple[str, ...] = (
    "What should I cook tonight?",
    "今天天气怎么样？",
    "Can you cheer me up a little?",
    "我有点紧张，明天要面试。",
    "I finally fixed the bike.",
    "这本书你看过吗？",
    "My cat knocked over my coffee.",
    "下雨了，不想出门。",
    "Any tips for a long flight?",
    "今天的会开得很顺利。",
    "I miss my old friends.",
    "周末想去看电影。",
)

# A conversation: the user's side; the app's greedy replies fill in the other side.
CONVERSATION: tuple[str, ...] = (
    "Hi! I had a long day at work.",
    "My manager changed the deadline again.",
    "我觉得有点累，但还好。",
    "Do you think I should talk to him about it?",
    "好的，我明天试试。",
    "By the way, I started learning the guitar.",
    "It's hard, my fingers hurt.",
    "你学过乐器吗？",
    "I practice twenty minutes a day.",
    "周末我想去公园弹琴。",
    "My sister is visiting next week.",
    "We haven't seen each other for a year.",
    "她喜欢吃辣的，我应该带她去哪儿？",
    "Good idea, there is a Sichuan place near me.",
    "我有点担心房间不够干净。",
    "I'll clean up on Friday evening.",
    "Also my plant is dying, any advice?",
    "它的叶子都黄了。",
    "I water it every day.",
    "Oh, maybe that's too much.",
    "今天下雨了，心情一般。",
    "I watched a sad movie last night.",
    "The ending made me cry.",
    "你喜欢看电影吗？",
    "I think I need a holiday.",
    "Maybe the seaside in June.",
    "我朋友说那里人很多。",
    "True, I'll look for a quieter town.",
    "Thanks for listening to me today.",
    "晚安，明天见！",
)

# A request that draws a long answer (the 64-token full turn, the 10-vs-100-token experiment).
LONG_ANSWER: tuple[str, ...] = (
    "Please tell me a long, detailed story about a lighthouse keeper and a storm.",
    "请详细讲一个关于小镇面包师的长故事。",
    "Explain in detail, step by step, how to plan a week-long trip on a small budget.",
    "请详细介绍一下如何养成早起的习惯，分几个步骤说。",
)

# Sentences that build messages of a given token length (mood latency against length).
_FILLER_EN = ("The hotel room was clean and the staff were friendly. "
              "Breakfast was average but the location made up for it. "
              "We walked to the old town every evening and enjoyed the food. "
              "The only problem was the noise from the street at night. ")
_FILLER_ZH = ("房间很干净，服务员也很热情。早餐一般，但是位置很好。"
              "我们每天晚上都去老城区散步，吃的东西也不错。唯一的问题是晚上街上有点吵。")

LENGTHS = (5, 10, 20, 40, 80, 160)
QUICK_LENGTHS = (5, 20, 80)


def texts_of_length(target: int, count: Callable[[str], int]) -> list[str]:
    """One English and one Chinese message of about ``target`` tokens (by ``count``)."""
    out = []
    for filler in (_FILLER_EN, _FILLER_ZH):
        text = ""
        pool = filler * (target // 4 + 2)
        for ch in pool:  # grow one character at a time until the token count is reached
            text += ch
            if len(text) % 2 == 0 and count(text) >= target:
                break
        out.append(text.strip())
    return out
