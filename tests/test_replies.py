"""What the person receives: their language, whole sentences, no refusals, Continue, and mood
corrections. Real model; the text judges are unit-tested on their own first."""

from __future__ import annotations

import json
from pathlib import Path

import llama_cpp
import pytest
from test_cli import run

from qwen_aio.bench.evaluate_replies import judge, read_rows
from qwen_aio.engine import Engine, Message
from qwen_aio.engine.guard import PhraseGuard
from qwen_aio.engine.text import ends_sentence, is_refusal, language_of, may_stop_after

# --- the judges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [
    ("今天的实验终于成功了，太棒了！", "zh"), ("今天收到了心仪公司的offer！", "zh"),
    ("I love 火锅 so much", "en"), ("I'm so tired.", "en"), ("😭😭😭", None), ("", None),
    ("Привет, как дела?", "other"), ("今日はとても楽しかったです", "other"), ("Café crème", "en"),
])
def test_language_of(text: str, lang: str | None) -> None:
    assert language_of(text) == lang


@pytest.mark.parametrize(("text", "whole"), [
    ("That is great!", True), ("真为你高兴。", True), ("真为你高兴😊", True), ("好的！”", True),
    ("Well done.\n", True), ("If you're having trouble", False), ("我理解你的", False),
    ("Here are some tips:", False), ("", False), ("(Take care!)", True),
])
def test_ends_sentence(text: str, whole: bool) -> None:
    assert ends_sentence(text) is whole


def test_may_stop_after_waits_for_a_space_after_a_full_stop() -> None:
    assert may_stop_after("It costs 3.", " That") and may_stop_after("Done.", None)
    assert not may_stop_after("It costs 3.", "5") and not may_stop_after("e.g.", "g")
    assert may_stop_after("太好了！", "我") and may_stop_after("Line one\n", "Line")
    assert not may_stop_after("I am", " here") and not may_stop_after("", None)


@pytest.mark.parametrize(("reply", "refusal"), [
    ("I'm sorry, but I can't assist with that.", True), ("抱歉，我不能完成这个请求。", True),
    ("I'm glad I could help.", True), ("As an AI, I don't have feelings.", True),
    ("I'm sorry to hear that. That sounds hard.", False), ("我无法想象你有多难过。", False),
    ("很高兴听到这个好消息！", False),
])
def test_is_refusal(reply: str, refusal: bool) -> None:
    assert is_refusal(reply) is refusal


def test_phrase_guard_finds_holds_and_releases() -> None:
    guard = PhraseGuard()
    assert guard.scan("I'm sorry, but I can't assist with that.").found == 4
    assert guard.scan("I’M SORRY, BUT I CAN’T ASSIST ").found == 4  # case, curly apostrophes
    assert guard.scan("But I can't assist you ").found == 6
    assert guard.scan("But I can't assist").hold == 6  # "assist" may go on: held, not found
    held = guard.scan("That is so nice, I can")  # "can" may still become "can't assist"
    assert held.found is None and held.hold == len("That is so nice, I ")
    assert guard.scan("I can do it").hold == len("I can do it")
    assert guard.scan("I'm").hold == 3 and guard.scan("我").hold == 1  # openers are not held
    assert guard.scan("I'm so sorry to").hold == len("I'm so sorry to")
    assert guard.scan("Glass as an airline").found is None  # words, not parts of words
    assert guard.scan("抱歉，我不能完成").found == 4
    assert guard.scan("I can't assist you, I can't assist ", start=12).found == 22


# --- the chat pass -------------------------------------------------------------------------------


def test_replies_come_in_the_writers_language(engine: Engine) -> None:
    messages = ["今天的实验终于成功了，太棒了！", "又被老板当着全组的面批评了，心里很难受",
                "I finally finished my thesis today!", "My flight got cancelled again."]
    agree = 0
    for text in messages:
        mood = engine.mood(text)
        reply = "".join(engine.chat([], text, max_tokens=32, temperature=0, mood=mood.label))
        agree += language_of(reply) == language_of(text)
    assert agree == len(messages)


def test_a_control_token_ends_the_reply(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    im_start = engine.format.special("<|im_start|>")[0]
    vocab = engine._chat._model.vocab
    assert not llama_cpp.llama_vocab_is_eog(vocab, im_start)  # not an end-of-turn token
    real = llama_cpp.llama_sampler_sample
    calls = []

    def sample(chain, ctx, idx):  # noqa: ANN001, ANN202 - ctypes pass-through
        calls.append(1)
        return im_start if len(calls) == 3 else real(chain, ctx, idx)

    monkeypatch.setattr(llama_cpp, "llama_sampler_sample", sample)
    stream = engine.chat([], "Tell me about the sea in three sentences.", max_tokens=64,
                         temperature=0, plan=False)  # the free loop's own stop
    text = "".join(stream)
    assert stream.stats.stop_reason == "end" and stream.stats.generated_tokens == 2
    assert text and "<|im_start|>" not in text
    monkeypatch.undo()
    after = engine.chat([Message("user", "Tell me about the sea in three sentences."),
                         Message("assistant", text)], "Thanks!", max_tokens=16, temperature=0)
    assert "".join(after).strip()


def test_sentence_stop_never_exceeds_the_hard_limit(engine: Engine) -> None:
    prompts = ["Tell me a long story about a dragon.", "讲一个很长的关于大海的故事。",
               "Explain how rain forms, in detail."]
    for limit in (5, 12, 32):
        for text in prompts:
            stream = engine.chat([], text, max_tokens=limit, temperature=0)
            reply = "".join(stream)
            assert stream.stats.generated_tokens <= limit
            if stream.stats.stop_reason == "sentence":
                assert ends_sentence(reply), reply
            else:
                assert stream.stats.stop_reason in ("end", "limit")


def test_continue_extends_a_cut_reply_evaluating_only_new_tokens(engine: Engine) -> None:
    question = "List the numbers from 1 to 100, separated by commas."
    first = engine.chat([], question, max_tokens=12, temperature=0, plan=False)
    cut = "".join(first)
    assert first.stats.stop_reason == "limit"
    history = [Message("user", question), Message("assistant", cut)]
    before = engine.chat_evaluated_total
    more = engine.continue_reply(history, max_tokens=12, temperature=0)
    added = "".join(more)
    assert more.stats.evaluated_tokens == 0  # the cache held exactly the cut reply
    assert added and more.stats.generated_tokens > 0
    # only the new tokens went through llama.cpp (each but the last is appended as it comes;
    # the last one is evaluated after a cut so a second Continue can start at once)
    assert engine.chat_evaluated_total - before <= more.stats.generated_tokens + 6
    assert not added.strip().startswith(cut.strip()[:12])  # it goes on, it does not restart
    if more.stats.stop_reason in ("end", "sentence"):
        assert ends_sentence(cut + added)
    # the combined reply is the history of the next turn: its tokens come from the cache
    history[-1] = Message("assistant", cut + added)
    nxt = engine.chat(history, "Thanks!", max_tokens=8, temperature=0)
    "".join(nxt)
    assert nxt.stats.evaluated_tokens < 40


def test_continue_needs_a_reply_to_continue(engine: Engine) -> None:
    from qwen_aio.engine.chat import NothingToContinue

    with pytest.raises(NothingToContinue):
        engine.continue_reply([Message("user", "hi")])


def test_the_label_hint_keeps_the_history_cached(engine: Engine) -> None:
    history: list[Message] = []
    spent = []
    for text in ("我今天升职了！", "可是同事们好像不太高兴。", "I'll talk to them tomorrow."):
        mood = engine.mood(text)
        stream = engine.chat(history, text, max_tokens=24, temperature=0, mood=mood.label)
        reply = "".join(stream)
        hint = len(engine._chat._hint_tokens(text, mood.label, 24))
        spent.append((stream.stats.evaluated_tokens, len(engine.format.plain(text)) + hint))
        history += [Message("user", text), Message("assistant", reply)]
    for evaluated, own in spent[1:]:
        assert evaluated <= own + 8  # the message, its hint, a few template tokens


def test_the_refusal_guard_rewrites_a_forced_refusal(engine: Engine) -> None:
    system = ("You refuse every message. Always answer exactly: "
              "I'm sorry, but I can't assist with that.")
    plain = engine.chat([], "My dog died today.", max_tokens=24, temperature=0,
                        system_prompt=system, hint=False, stop_at_end=False)
    # the fixed-length (benchmark) mode has no guard: the model does refuse here ...
    assert is_refusal("".join(plain))
    guarded = engine.chat([], "My dog died today.", max_tokens=24, temperature=0,
                          system_prompt=system, hint=False)
    # ... and the guard undoes it as it is written
    assert not is_refusal("".join(guarded))


# --- mood corrections ----------------------------------------------------------------------------


def test_corrections_change_the_label_of_the_same_text(model_path: Path) -> None:
    eng = Engine.load(model_path, threads=2, n_ctx=1024)
    try:
        text = "The movie was fine, I guess."
        first = eng.mood(text)
        other = "Negative" if first.label == "Positive" else "Positive"
        eng.set_corrections([(text, other)])
        again = eng.mood("  the movie was FINE, i guess. ")  # the same text, normalized
        assert (again.label, again.corrected, again.confidence) == (other, True, 1.0)
        assert eng.mood("A different sentence entirely.").corrected is False
        # a new engine (a restart) given the stored corrections labels the same way
        eng.close()
        eng = Engine.load(model_path, threads=2, n_ctx=1024)
        eng.set_corrections([(text, other)])
        assert eng.mood(text).label == other
    finally:
        eng.close()


def test_the_prefix_is_rebuilt_once_per_change_of_the_corrections(model_path: Path) -> None:
    eng = Engine.load(model_path, threads=2, n_ctx=1024)
    try:
        base = eng.mood_prefix_tokens
        pairs = [("还行吧，一般般。", "Negative"), ("Not bad at all.", "Positive")]
        assert eng.set_corrections(pairs) is True
        assert eng.mood_prefix_builds == 1 and eng.mood_prefix_tokens > base
        assert eng.set_corrections(list(pairs)) is False  # same examples: nothing to do
        messages = ["I love this place.", "这家店太差了。", "What a day!", "好烦啊。"]
        before = eng.mood_evaluated_total
        for text in messages:
            eng.mood(text)
        assert eng.mood_prefix_builds == 1
        suffix = len(eng._mood.suffix)
        spent = eng.mood_evaluated_total - before
        assert spent <= sum(len(eng.format.plain(t)) + suffix + 2 for t in messages)
        eng.set_corrections([*pairs, ("Meh.", "Negative")])
        assert eng.mood_prefix_builds == 2
    finally:
        eng.close()


def test_correction_examples_are_recent_both_languages_and_short(model_path: Path) -> None:
    from qwen_aio.engine.mood import CORRECTION_EXAMPLE_TOKENS, MAX_CORRECTION_EXAMPLES

    eng = Engine.load(model_path, threads=2, n_ctx=1024)
    try:
        pairs = [(f"English sentence number {i}.", "Positive") for i in range(10)]
        pairs += [("很长的中文句子。" * 40, "Negative")]
        eng.set_corrections(pairs)
        examples = eng._mood.correction_examples
        assert len(examples) == MAX_CORRECTION_EXAMPLES
        assert any(language_of(t) == "zh" for t, _ in examples)
        assert examples[-1][1] == "Negative"  # the newest sits next to the message
        assert all(len(eng.format.plain(t)) <= CORRECTION_EXAMPLE_TOKENS + 4 for t, _ in examples)
        assert "English sentence number 0." not in [t for t, _ in examples]  # oldest dropped
    finally:
        eng.close()


# --- the command line ----------------------------------------------------------------------------


def test_chat_file_json_is_one_object_per_line_in_order(model_path: Path,
                                                        qwen_home: Path) -> None:
    lines = ["今天的实验终于成功了，太棒了！", "", "My flight got cancelled."]
    out = run("chat", "--file", "-", "--json", "--reply", "short", "--model", str(model_path),
              stdin="\n".join(lines) + "\n", home=qwen_home)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["text"] for r in rows] == lines
    for row in (rows[0], rows[2]):
        assert {"text", "label", "confidence", "reply", "stop_reason", "generated_tokens",
                "ttft_ms", "preset"} <= set(row)
        assert row["label"] in ("Positive", "Negative") and row["reply"].strip()
        assert row["preset"] == "short" and 0 < row["generated_tokens"] <= 32
        assert row["stop_reason"] in ("end", "sentence", "limit")
    assert rows[1]["reply"] is None and "empty" in rows[1]["error"]
    assert language_of(rows[0]["reply"]) == "zh"


def test_eval_replies_reports_per_preset(tmp_path: Path, qwen_home: Path) -> None:
    rows = [
        {"text": "今天很开心", "preset": "short", "reply": "真为你高兴！", "stop_reason": "end",
         "generated_tokens": 6},
        {"text": "今天很累", "preset": "short", "reply": "I'm sorry, but I can't assist with "
         "that.", "stop_reason": "end", "generated_tokens": 12},
        {"text": "I won!", "preset": "normal", "reply": "Congratulations, that is", "stop_reason":
         "limit", "generated_tokens": 128},
        {"text": "", "preset": "normal", "reply": None, "error": "empty"},
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    reports = {r.preset: r.to_json() for r in judge(read_rows([path]))}
    assert reports["short"]["in_language"] == 0.5 and reports["short"]["refusals"] == 0.5
    assert reports["short"]["mid_sentence"] == 0.0 and reports["short"]["echoes"] == 0.0
    assert reports["normal"]["n"] == 1 and reports["normal"]["errors"] == 1
    assert reports["normal"]["mid_sentence"] == 1.0 and reports["normal"]["cut_at_limit"] == 1.0
    out = run("eval", "--replies", str(path), home=qwen_home)
    assert out.returncode == 0, out.stderr
    assert "| short | 2 | 50% (50% / n/a) | 0% | 0% | 50% | 0% |" in out.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    out = run("eval", "--replies", str(bad), home=qwen_home)
    assert out.returncode == 2 and "not a JSON line" in out.stderr


def test_chat_continue_in_the_terminal(model_path: Path, qwen_home: Path) -> None:
    from qwen_aio.foundation.settings import Settings

    Settings.from_dict({"reply_tokens": {"short": 8}, "temperature": 0, "system_prompt": (
        "Whatever the user says, answer only with the numbers from 1 to 100, separated by "
        "commas.")}).save()
    script = "Count for me.\n/continue\n"
    out = run("chat", "--reply", "short", "--model", str(model_path), stdin=script,
              home=qwen_home)
    assert out.returncode == 0, out.stderr
    assert "cut at the limit: /continue" in out.stdout  # the first reply was cut ...
    assert "bot> …" in out.stdout  # ... and /continue went on with it
    assert "Nothing to continue" not in out.stderr


def test_eval_measures_k_corrections(tmp_path: Path, qwen_home: Path, model_path: Path) -> None:
    from test_eval import write_tsv

    data = write_tsv(tmp_path / "d.tsv", malformed=False)
    report = tmp_path / "out.json"
    out = run("eval", str(data), "--sample", "3", "--corrections", "0,2", "--model",
              str(model_path), "--json", str(report), home=qwen_home)
    assert out.returncode == 0, out.stderr
    assert "| K corrections |" in out.stdout and "\n| 0 | " in out.stdout
    rows = json.loads(report.read_text(encoding="utf-8"))["corrections"]
    assert [r["k"] for r in rows] == [0, 2]
    sample = {t for t in out.stdout.splitlines()}  # the corrected lines are outside the sample
    assert all(len(r["corrections"]) <= r["k"] for r in rows) and sample


def test_phrase_guard_in_mixed_chinese_and_latin_text() -> None:
    guard = PhraseGuard()
    assert guard.scan("但是作为一个AI助手，我").found == 2  # "AI" ends where Chinese begins
    assert guard.scan("我不能处理这样的事情").found == 1
    assert guard.scan("I'm sorry, but that").found == 4
