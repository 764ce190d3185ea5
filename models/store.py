"""Model files on disk: where each lives, its checksum record, and verification."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qwen_aio.foundation import paths
from qwen_aio.foundation.errors import ModelCorrupt, ModelNotFound, NotAModelFile
from qwen_aio.models.catalog import ModelSpec, get_spec

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
_GGUF_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, metadata count
_CHUNK = 4 * 1024 * 1024


def model_dir(model_id: str, root: Path | None = None) -> Path:
    return (root or paths.models_dir()) / model_id.replace(":", "-")


def model_path(model_id: str, root: Path | None = None) -> Path:
    return model_dir(model_id, root) / get_spec(model_id).filename


def is_present(model_id: str, root: Path | None = None) -> bool:
    return model_path(model_id, root).is_file()


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256.json")


def sha256_file(path: Path, progress: Callable[[int, int], None] | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def write_record(path: Path, sha256: str) -> None:
    """Remember the verified checksum with the file's size and mtime, so later loads are quick."""
    st = path.stat()
    record = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _record_path(path).write_text(json.dumps(record), encoding="utf-8")


def _read_record(path: Path) -> dict[str, object] | None:
    try:
        record = json.loads(_record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


_MAX_GGUF_COUNT = 1 << 24  # tensors or metadata entries: far above any real model


def check_header(path: Path, *, catalogue: bool = False) -> None:
    """Refuse files that are not GGUF, or whose header is broken, before llama.cpp sees them.

    ``catalogue``: the file is a downloaded catalogue model (the remedy is a new download);
    otherwise it is the person's own file (the remedy is another file).
    """
    error = ModelCorrupt if catalogue else NotAModelFile
    try:
        with path.open("rb") as fh:
            head = fh.read(_GGUF_HEADER.size)
    except FileNotFoundError:
        raise ModelNotFound(str(path)) from None
    except OSError as exc:
        raise error(str(path), f"cannot be read: {exc.strerror}") from exc
    if head[:4] != GGUF_MAGIC:
        raise error(str(path), "not a GGUF file")
    if len(head) < _GGUF_HEADER.size:
        raise error(str(path), "the file ends inside its GGUF header")
    _, version, n_tensors, n_kv = _GGUF_HEADER.unpack(head)
    if version not in (2, 3) or n_tensors > _MAX_GGUF_COUNT or n_kv > _MAX_GGUF_COUNT:
        raise error(str(path), "its GGUF header is broken")


@dataclass(frozen=True)
class Verified:
    path: Path
    sha256: str
    expected: str | None  # None: no checksum is known for this file (a user's own .gguf)


def expected_sha256(spec: ModelSpec, path: Path) -> str | None:
    if spec.sha256:
        return spec.sha256
    record = _read_record(path)  # hub files: the checksum the hub gave at download time
    sha = record.get("sha256") if record else None
    return sha if isinstance(sha, str) else None


def verify(path: Path, expected: str | None, *, full: bool = True,
           progress: Callable[[int, int], None] | None = None,
           catalogue: bool = True) -> Verified:
    """Check a model file; ``full=False`` trusts a checksum record whose size and mtime match.

    A checksum mismatch forgets the record, so later quick checks hash the file again and
    refuse it: once found damaged, a file is never loaded until it is replaced.
    """
    check_header(path, catalogue=catalogue)
    st = path.stat()
    record = _read_record(path)
    if (
        not full
        and record
        and record.get("size") == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
        and (expected is None or record.get("sha256") == expected)
    ):
        return Verified(path, str(record["sha256"]), expected)
    actual = sha256_file(path, progress)
    if expected is not None and actual != expected:
        if record is not None:  # keep the expected sha256 (a hub file's only copy of it)
            record["size"] = record["mtime_ns"] = None
            _record_path(path).write_text(json.dumps(record), encoding="utf-8")
        raise ModelCorrupt(str(path), "checksum mismatch")
    if expected is not None:
        write_record(path, actual)
    return Verified(path, actual, expected)


def verify_model(model_id: str, *, full: bool = True, root: Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Verified:
    spec = get_spec(model_id)
    path = model_path(model_id, root)
    if not path.is_file():
        raise ModelNotFound(f"{model_id} ({path})")
    return verify(path, expected_sha256(spec, path), full=full, progress=progress)


def install_file(tmp: Path, final: Path, sha256: str) -> Path:
    """Move a verified download into place atomically and record its checksum."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    write_record(final, sha256)
    log.info("Installed model %s", final)
    return final


def verify_before_load(model_id: str | None, path: Path) -> Verified:
    """The check every loader runs: checksum for catalogue models (quick once recorded)."""
    expected = expected_sha256(get_spec(model_id), path) if model_id else None
    return verify(path, expected, full=False, catalogue=model_id is not None)
