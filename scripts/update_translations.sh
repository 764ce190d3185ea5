#!/usr/bin/env bash
# Qt's translation workflow for the window's strings (desktop/translations.py explains it):
#   1. pyside6-lupdate extracts every QT_TRANSLATE_NOOP("app", …) of desktop/i18n.py's table into
#      the .ts (new strings arrive "unfinished"; obsolete ones are dropped). Only i18n.py is
#      scanned: the widgets call the table by key through an attribute that is also named `tr`
#      (`self.tr("win.send")`), which lupdate would take for Qt's tr() of a key;
#   2. write the Chinese of the unfinished ones (Qt Linguist: pyside6-linguist <the .ts>);
#   3. pyside6-lrelease compiles the .ts into desktop/assets/qwen_aio_zh_CN.qm, which is committed
#      (the wheel and the PyInstaller build ship assets/*; no Qt tools are needed to install).
# tests/desktop/test_desktop_i18n_install.py fails on an unfinished translation, on
# placeholders that differ, or on a .qm older than its .ts.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
TS=desktop/locale/qwen_aio_zh_CN.ts
QM=desktop/assets/qwen_aio_zh_CN.qm
"$BIN/pyside6-lupdate" desktop/i18n.py -no-obsolete -locations none -source-language en \
    -target-language zh_CN -ts "$TS"
"$BIN/pyside6-lrelease" "$TS" -qm "$QM"
