"""What can go wrong with an inference server, each said so the person knows what to do."""

from __future__ import annotations

from qwen_aio.foundation.errors import QwenAioError

LOCAL_HINT = ("or use the local model instead (leave --backend out, or clear the backend_url "
              "setting)")


class RemoteFailed(QwenAioError):
    """Base class of the server's failures; ``transient`` ones are worth retrying."""

    transient = False

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class ServerUnreachable(RemoteFailed):
    """No connection: the server is not running, the URL is wrong or a firewall is in between."""

    transient = True

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"Could not reach the inference server at {url} ({reason}). Check that the server "
            f"is running and the URL is right (e.g. http://127.0.0.1:8000/v1), {LOCAL_HINT}.",
            url)
        self.detail = f"the connection failed: {reason}"


class ServerTimeout(RemoteFailed):
    """The server accepted the request but did not answer in time."""

    transient = True

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(
            f"The inference server at {url} did not answer within {seconds:g} s. It may be "
            f"overloaded or still loading its model: try again later, lower --concurrency, "
            f"{LOCAL_HINT}.", url)


class ServerBusy(RemoteFailed):
    """HTTP 429 or 5xx: the server is overloaded or failed on its side."""

    transient = True

    def __init__(self, url: str, status: int, detail: str) -> None:
        super().__init__(
            f"The inference server at {url} failed (HTTP {status}: {detail}). Look at the "
            f"server's log; try again, lower --concurrency, {LOCAL_HINT}.", url)
        self.status = status
        self.detail = f"HTTP {status}: {detail}"


class ServerRejected(RemoteFailed):
    """HTTP 4xx other than 429: retrying the same request cannot help."""

    def __init__(self, url: str, status: int, detail: str) -> None:
        if status in (401, 403):
            what = ("it needs an API key: set QWEN_AIO_API_KEY (or OPENAI_API_KEY) in the "
                    "environment")
        elif status == 404:
            what = ("check that the URL is the API root (ending in /v1) and that the model "
                    "name exists on the server (`curl URL/models`)")
        else:
            what = "the server does not accept this request; check its version and log"
        super().__init__(
            f"The inference server at {url} refused the request (HTTP {status}: {detail}): "
            f"{what}, {LOCAL_HINT}.", url)
        self.status = status
        self.detail = f"HTTP {status}: {detail}"


class ConstrainedDecodingUnavailable(RemoteFailed):
    """The server ignores every way we know to restrict its output to the two labels."""

    def __init__(self, url: str, server: str) -> None:
        super().__init__(
            f"The inference server at {url} ({server}) does not constrain its output to a "
            "choice of labels, so a mood label could be anything. Use llama.cpp's llama-server, "
            "llama-cpp-python's server (`python -m llama_cpp.server`) or vLLM, "
            f"{LOCAL_HINT}.", url)


class RemoteUnavailable(QwenAioError):
    """The remote backend needs the openai client package, which is not installed."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Using an inference server needs the `remote` extra ({reason}): install it with "
            "`pip install 'qwen-all-in-one[remote]'`, or use the local model.")


class LabelUnreadable(RemoteFailed):
    """The server answered a constrained mood request with something that is not a label."""

    def __init__(self, url: str, answer: str) -> None:
        super().__init__(
            f"The inference server at {url} answered {answer[:40]!r} instead of Positive or "
            "Negative, although its output was constrained. Check the server's version and "
            f"log, {LOCAL_HINT}.", url)


class TaskGrammarRejected(RemoteFailed):
    """A task of tasks.toml whose grammar the server refused (remotely nothing checks a
    grammar before the server uses it: the local parser needs the model)."""

    def __init__(self, url: str, task_id: str, where: str, detail: str) -> None:
        super().__init__(
            f"The inference server at {url} could not run task {task_id!r} ({detail}): its "
            f"grammar ({where}) is probably invalid. Fix the grammar in tasks.toml (llama.cpp's "
            "GBNF notation), remove it to run the task unconstrained, or run the task with the "
            "local model, which checks grammars when it loads.", url)
        self.task_id = task_id
