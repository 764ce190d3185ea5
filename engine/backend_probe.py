"""Which inference server answers at a URL, and how it restricts output to a choice of words.

llama.cpp (llama-server and llama-cpp-python's server) takes a GBNF ``grammar``; vLLM takes
``structured_outputs: {"choice": [...]}`` (from 0.10.2) or ``guided_choice`` (before 0.12,
when it was removed). The kind is read from ``/v1/models`` (``owned_by``) and the root's
``/props`` (llama-server) or ``/version`` (vLLM); the engine then checks that the chosen field
really constrains the output (see `RemoteEngine`), so an unknown server is tried too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from qwen_aio.engine.remote_errors import (
    ServerBusy,
    ServerRejected,
    ServerTimeout,
    ServerUnreachable,
)

log = logging.getLogger(__name__)

ServerKind = Literal["llama-server", "llama-cpp-python", "vllm", "unknown"]
Constraint = Literal["grammar", "structured_outputs", "guided_choice"]
OWNERS: dict[str, ServerKind] = {"llamacpp": "llama-server", "me": "llama-cpp-python",
                                 "vllm": "vllm"}


@dataclass(frozen=True)
class ServerInfo:
    """What the probe learned; ``constraints`` are the fields to try, most likely first."""

    kind: ServerKind
    models: tuple[str, ...]
    version: str = ""
    constraints: tuple[Constraint, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"{self.kind} {self.version}".strip()


def normalize_url(url: str) -> str:
    """The API root: ``host:port`` and ``http://host:port`` become ``http://host:port/v1``."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def server_root(base_url: str) -> str:
    """Where llama-server's /props and vLLM's /version live: the API root without /v1."""
    return base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url


def choice_grammar(choices: Sequence[str]) -> str:
    """A GBNF grammar whose only sentences are ``choices`` (plain words: no quotes to escape)."""
    return "root ::= " + " | ".join(f'"{c}"' for c in choices) + "\n"


def constraint_body(constraint: Constraint, choices: Sequence[str]) -> dict[str, Any]:
    """The extra request fields that restrict the reply to exactly one of ``choices``."""
    if constraint == "grammar":
        return {"grammar": choice_grammar(choices)}
    if constraint == "structured_outputs":
        return {"structured_outputs": {"choice": list(choices)}}
    return {"guided_choice": list(choices)}


def grammar_body(constraint: Constraint, grammar: str) -> dict[str, Any]:
    """The extra request fields that restrict the reply to a GBNF ``grammar`` (a task's), by
    the mechanism the probe found working: llama.cpp's ``grammar``; vLLM's
    ``structured_outputs: {"grammar": ...}`` or, before 0.10.2, ``guided_grammar`` (vLLM's
    grammar backends read llama.cpp's GBNF notation: xgrammar does, the fallback too)."""
    if constraint == "grammar":
        return {"grammar": grammar}
    if constraint == "structured_outputs":
        return {"structured_outputs": {"grammar": grammar}}
    return {"guided_grammar": grammar}


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version)[:3])


def constraints_for(kind: ServerKind, version: str) -> tuple[Constraint, ...]:
    if kind in ("llama-server", "llama-cpp-python"):
        return ("grammar",)
    if kind == "vllm":
        if version and _version_tuple(version) < (0, 10, 2):
            return ("guided_choice", "structured_outputs")
        return ("structured_outputs", "guided_choice")
    return ("grammar", "structured_outputs", "guided_choice")


def get_json(http: httpx.Client, url: str, api_root: str) -> Any:
    """GET ``url`` as JSON, with failures turned into the errors a person can act on."""
    try:
        response = http.get(url)
    except httpx.TimeoutException as exc:
        raise ServerTimeout(api_root, _timeout_of(http)) from exc
    except httpx.HTTPError as exc:
        raise ServerUnreachable(api_root, _reason(exc)) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise ServerBusy(api_root, response.status_code, response.text[:200])
    if response.status_code >= 400:
        raise ServerRejected(api_root, response.status_code, response.text[:200])
    try:
        return response.json()
    except ValueError as exc:
        raise ServerRejected(api_root, response.status_code,
                             "the answer is not JSON: is this an OpenAI-compatible API?") from exc


def detect(http: httpx.Client, base_url: str) -> ServerInfo:
    """Ask the server what it is: its models, its kind and version."""
    listing = get_json(http, f"{base_url}/models", base_url)
    data = listing.get("data", []) if isinstance(listing, dict) else []
    models = tuple(str(m.get("id", "")) for m in data if isinstance(m, dict))
    owners = {str(m.get("owned_by", "")) for m in data if isinstance(m, dict)}
    kind: ServerKind = next((OWNERS[o] for o in owners if o in OWNERS), "unknown")
    version = ""
    root = server_root(base_url)
    if kind in ("vllm", "unknown"):
        version = _optional(http, f"{root}/version").get("version", "") or ""
        if version and kind == "unknown":
            kind = "vllm"
    if kind == "unknown" and _optional(http, f"{root}/props"):
        kind = "llama-server"
    info = ServerInfo(kind, models, str(version), constraints_for(kind, str(version)))
    log.info("Inference server at %s: %s, models %s", base_url, info.title, list(models))
    return info


def _optional(http: httpx.Client, url: str) -> dict[str, Any]:
    """A GET that may fail (the endpoint belongs to another kind of server): {} then."""
    try:
        response = http.get(url)
        if response.status_code == 200:
            value = response.json()
            return value if isinstance(value, dict) else {}
    except (httpx.HTTPError, ValueError):  # not this kind of server
        pass
    return {}


def _timeout_of(http: httpx.Client) -> float:
    timeout = http.timeout.read
    return float(timeout) if timeout is not None else 0.0


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
