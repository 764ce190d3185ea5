"""vLLM cannot run on these machines: the remote engine's requests to it are checked against a
recorded exchange (tests/fixtures/vllm_mood_exchange.json), replayed by httpx.MockTransport;
and a server without constrained decoding is refused with a clear message."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from qwen_aio.engine.backend_probe import constraints_for, normalize_url
from qwen_aio.engine.remote import RemoteEngine
from qwen_aio.engine.remote_errors import (
    ConstrainedDecodingUnavailable,
    ServerRejected,
    TaskGrammarRejected,
)
from qwen_aio.engine.tasks import KEYWORDS_GRAMMAR

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "vllm_mood_exchange.json")
                     .read_text(encoding="utf-8"))


def _completion(content: str) -> dict[str, Any]:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class Replay:
    """A fake server: vLLM from the fixture, or one that ignores every constraint."""

    def __init__(self, honours_constraints: bool = True, owner: str = "vllm",
                 version: str | None = "0.11.0", grammar_error: str | None = None) -> None:
        self.honours = honours_constraints
        self.grammar_error = grammar_error  # a 400 for any task grammar but the built-in's
        self.owner = owner
        self.version = version
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/models":
            models = json.loads(json.dumps(FIXTURE["models"]))
            models["data"][0]["owned_by"] = self.owner
            return httpx.Response(200, json=models)
        if path == "/version":
            if self.version is None:
                return httpx.Response(404, json={"detail": "Not Found"})
            return httpx.Response(200, json={"version": self.version})
        if path == "/v1/chat/completions":
            body = json.loads(request.content)
            self.bodies.append(body)
            if body.get("stream"):  # a task: the recorded keywords stream
                grammar = (body.get("structured_outputs") or {}).get("grammar") \
                    or body.get("guided_grammar")
                if self.grammar_error and grammar != KEYWORDS_GRAMMAR:
                    return httpx.Response(400, json={
                        "object": "error", "message": self.grammar_error,
                        "type": "BadRequestError", "param": None, "code": 400})
                sse = "".join(f"data: {json.dumps(c, ensure_ascii=False)}\n\n"
                              for c in FIXTURE["keywords_stream"]) + "data: [DONE]\n\n"
                return httpx.Response(200, content=sse.encode("utf-8"),
                                      headers={"content-type": "text/event-stream"})
            choice = (body.get("structured_outputs") or {}).get("choice") \
                or body.get("guided_choice")
            if choice == ["Negative"]:  # the connect-time probe
                return httpx.Response(200, json=_completion(
                    "Negative" if self.honours else "Positive"))
            return httpx.Response(200, json=FIXTURE["mood_response"])
        return httpx.Response(404, json={"detail": "Not Found"})


def _engine(replay: Replay, tasks_file: Path | None = None) -> RemoteEngine:
    client = httpx.Client(transport=httpx.MockTransport(replay))
    return RemoteEngine("http://vllm.test:8000", api_key="k", http_client=client,
                        max_retries=0, tasks_file=tasks_file)


def test_the_mood_request_to_vllm_is_exactly_the_recorded_one() -> None:
    replay = Replay()
    engine = _engine(replay)
    assert engine.info.kind == "vllm" and engine.constraint == "structured_outputs"
    text = FIXTURE["mood_request"]["messages"][-1]["content"]
    result = engine.mood(text)
    assert replay.bodies[-1] == FIXTURE["mood_request"]
    assert result.label == "Positive"
    top = FIXTURE["mood_response"]["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    # "Pos" and "Positive" both start Positive; "N", "Negative" start Negative
    p = math.exp(top[0]["logprob"]) + math.exp(top[3]["logprob"])
    n = math.exp(top[1]["logprob"]) + math.exp(top[8]["logprob"])
    assert result.confidence == pytest.approx(p / (p + n))
    assert result.evaluated_tokens == 171 - 160  # the cached prefix, as vLLM reports it
    assert engine.server_stats["cached_tokens"] == 160


def test_every_request_starts_with_the_same_prefix_bytes() -> None:
    replay = Replay()
    engine = _engine(replay)
    engine.mood("first message")
    engine.mood("a second, different message")
    a, b = (json.dumps(body["messages"][:-1], ensure_ascii=False) for body in replay.bodies[-2:])
    assert a == b


def test_the_keywords_request_to_vllm_puts_the_grammar_in_structured_outputs() -> None:
    replay = Replay()
    engine = _engine(replay)
    text = FIXTURE["keywords_request"]["messages"][-1]["content"]
    stream = engine.run_task("keywords", text)
    pieces = list(stream)
    assert replay.bodies[-1] == FIXTURE["keywords_request"]
    assert replay.bodies[-1]["structured_outputs"] == {"grammar": KEYWORDS_GRAMMAR}
    r = stream.result
    assert "".join(pieces) == r.text == '["实验", "团队", "电池技术", "突破"]'
    assert r.items == ["实验", "团队", "电池技术", "突破"] and r.stop_reason == "end"
    usage = FIXTURE["keywords_stream"][-1]["usage"]
    assert r.prompt_tokens == usage["prompt_tokens"]
    assert r.evaluated_tokens == usage["prompt_tokens"] - 48  # vLLM's cached prefix
    assert r.generated_tokens == usage["completion_tokens"]


def test_an_older_vllm_gets_the_grammar_as_guided_grammar() -> None:
    replay = Replay(version="0.9.2")
    engine = _engine(replay)
    engine.run_task("keywords", "Researchers built a faster battery.").consume()
    assert replay.bodies[-1]["guided_grammar"] == KEYWORDS_GRAMMAR
    assert "structured_outputs" not in replay.bodies[-1]


def test_a_grammar_the_server_refuses_names_its_task(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text('[tasks.tags]\nsystem = "Tags of the text."\ngrammar = "root ::= tag+"\n',
                    encoding="utf-8")
    replay = Replay(grammar_error="Invalid grammar: undefined rule tag")
    engine = _engine(replay, tasks_file=path)
    assert engine.tasks.problems == []  # unchecked here: the server checks it when used
    with pytest.raises(TaskGrammarRejected) as info:
        engine.run_task("tags", "a text to tag").consume()
    message = str(info.value)
    assert "'tags'" in message and f"{path}:1" in message and "undefined rule tag" in message
    assert "tasks.toml" in message
    assert engine.run_task("keywords", "still works").consume().items  # the built-in's grammar


def test_an_older_vllm_gets_guided_choice() -> None:
    replay = Replay(version="0.9.2")
    engine = _engine(replay)
    assert engine.constraint == "guided_choice"
    engine.mood("hello there")
    assert replay.bodies[-1]["guided_choice"] == ["Positive", "Negative"]
    assert "structured_outputs" not in replay.bodies[-1]
    assert constraints_for("vllm", "0.12.1")[0] == "structured_outputs"


def test_a_server_without_constrained_decoding_is_refused() -> None:
    replay = Replay(honours_constraints=False, owner="someone", version=None)
    with pytest.raises(ConstrainedDecodingUnavailable) as info:
        _engine(replay)
    message = str(info.value)
    assert "does not constrain" in message and "local model" in message
    assert len(replay.bodies) == 3  # grammar, structured_outputs and guided_choice were tried


def test_a_wrong_url_says_to_check_the_api_root() -> None:
    def not_found(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "Not Found"})

    client = httpx.Client(transport=httpx.MockTransport(not_found))
    with pytest.raises(ServerRejected) as info:
        RemoteEngine("http://host:1/api", http_client=client)
    assert info.value.status == 404 and "/v1" in str(info.value)


def test_urls_are_completed_to_the_api_root() -> None:
    assert normalize_url("127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert normalize_url("https://h/x/v1/") == "https://h/x/v1"
