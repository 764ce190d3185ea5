"""The reliability suite's figures: each test hands them to ``report``; with
QWEN_AIO_RELIABILITY_REPORT=PATH they are appended there as one JSON line per test."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def report(request: pytest.FixtureRequest,
           record_property: Callable[[str, Any], None]) -> Callable[[dict[str, Any]], None]:
    def write(figures: dict[str, Any]) -> None:
        record_property("figures", figures)
        target = os.environ.get("QWEN_AIO_RELIABILITY_REPORT")
        if target:
            with Path(target).open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"test": request.node.nodeid, **figures},
                                    ensure_ascii=False) + "\n")

    return write
