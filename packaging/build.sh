#!/usr/bin/env bash
# The double-click build: a one-folder app with PyInstaller (dist/qwen-aio/), then its smoke
# test (packaging/smoke_test.py). CI runs this after the test suite. See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build
start=$(date +%s)
.venv/bin/pyinstaller packaging/qwen-aio.spec --noconfirm --log-level WARN \
  --distpath dist --workpath build/pyinstaller
echo "Built dist/qwen-aio in $(( $(date +%s) - start )) s: $(du -sh dist/qwen-aio | cut -f1)," \
  "$(find dist/qwen-aio -type f | wc -l) files"
QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/smoke_test.py dist/qwen-aio
