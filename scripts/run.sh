#!/usr/bin/env bash
# Quickstart 1: install everything, then open Qwen All-in-One (arguments go to `qwen-aio`,
# e.g. `./scripts/run.sh mood "今天真开心"`). The first run fetches the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/qwen-aio "$@"
