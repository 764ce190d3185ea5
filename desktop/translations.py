"""Qt's translation machinery: the app's compiled catalogue and Qt's own, as `QTranslator`s.

The catalogue is made by Qt's tools from the string table in `i18n.py`:
`scripts/update_translations.sh` runs `pyside6-lupdate` (extracting every
`QT_TRANSLATE_NOOP("app", …)`) into `desktop/locale/qwen_aio_zh_CN.ts`, where the Chinese
is written (by hand or in Qt Linguist), then `pyside6-lrelease` into
`desktop/assets/qwen_aio_zh_CN.qm`, which is committed and shipped with the other assets (the
wheel's package-data and the PyInstaller build both take `assets/*`). Qt's own `qtbase_zh_CN.qm`
comes with PySide6 (its translations folder, which the PyInstaller hook collects too): it makes the
standard buttons (OK, Cancel, Yes, No…) and Qt's dialogs Chinese.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QTranslator

from qwen_aio.desktop.icons_paths import ASSETS  # the .qm ships with the icons

log = logging.getLogger(__name__)

LOCALES = {"zh": "zh_CN"}  # the app's language -> the Qt catalogues' locale suffix
APP_CATALOGUE = "qwen_aio"  # assets/qwen_aio_<locale>.qm
QT_CATALOGUES = ("qtbase",)  # from PySide6's translations folder


def app_catalogue_path(language: str) -> Path | None:
    locale = LOCALES.get(language)
    return ASSETS / f"{APP_CATALOGUE}_{locale}.qm" if locale else None


@cache
def app_translator(language: str) -> QTranslator | None:
    """The app's own catalogue for ``language`` (None for English, the source language)."""
    path = app_catalogue_path(language)
    if path is None:
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        log.error("Could not load the translation catalogue %s", path)
        return None
    return translator


@cache
def qt_translators(language: str) -> tuple[QTranslator, ...]:
    """Qt's own catalogues (standard buttons, file dialogs…) for ``language``."""
    locale = LOCALES.get(language)
    if locale is None:
        return ()
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    found = []
    for name in QT_CATALOGUES:
        translator = QTranslator()
        if translator.load(f"{name}_{locale}", folder):
            found.append(translator)
        else:
            log.warning("Qt's %s_%s.qm was not found in %s: standard buttons stay English",
                        name, locale, folder)
    return tuple(found)


_installed: list[QTranslator] = []


def install(language: str) -> list[QTranslator]:
    """Make ``language`` the application's: replaces the translators installed before, so
    `QCoreApplication.translate` and Qt's standard buttons follow a change at runtime (Qt sends
    every widget a LanguageChange event)."""
    app = QCoreApplication.instance()
    if app is None:
        return []
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    own = app_translator(language)
    for translator in (*qt_translators(language), *([own] if own is not None else [])):
        if app.installTranslator(translator):
            _installed.append(translator)
    log.info("Language %s: Qt translations %s", language,
             ", ".join(Path(t.filePath()).name for t in _installed) or "none (English)")
    return list(_installed)
