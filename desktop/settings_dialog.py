"""The Settings dialog: edits a copy of Settings; the app applies and saves it on OK."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop import backend, theme
from qwen_aio.desktop.chat_view import plain_label
from qwen_aio.desktop.file_dialogs import ask_gguf_file
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.icons import app_icon
from qwen_aio.desktop.options import THEMES
from qwen_aio.desktop.setup_dialog import TIER_KEYS, ladder_facts, ladder_line
from qwen_aio.foundation.settings import DEFAULT_CHAT_SYSTEM_PROMPT, Settings
from qwen_aio.models.catalog import CATALOG, DEFAULT_MODEL_ID, Tier, ladder

log = logging.getLogger(__name__)


class SettingsDialog(QDialog):
    """Every user setting in one place; `result_settings()` is the edited copy."""

    setupRequested = Signal()

    def __init__(self, settings: Settings, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tr = tr
        self._settings = copy.deepcopy(settings)
        self.setWindowTitle(tr("settings.title"))
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(560)
        form = QFormLayout()

        self.model_box = QComboBox()
        self.model_box.addItem(tr("settings.model_default"), "")
        # The ladder: the recommended default first, each with its size, memory and speed.
        present = {mid: on_disk for mid, _, on_disk in backend.catalog_choices()}
        for spec in ladder():
            name = spec.title
            if spec.tier is Tier.RECOMMENDED:
                name = tr("settings.model_recommended", title=name)
            if not present.get(spec.id, False):
                name = tr("settings.model_missing", title=name)
            self.model_box.addItem(tr("settings.model_item", name=name,
                                      facts=ladder_facts(tr, spec, short=True)), spec.id)
            self.model_box.setItemData(self.model_box.count() - 1, tr(TIER_KEYS[spec.tier]),
                                       Qt.ItemDataRole.ToolTipRole)
        if settings.model and self.model_box.findData(settings.model) < 0:
            self.model_box.addItem(tr("settings.model_file", path=settings.model), settings.model)
        self.model_box.setCurrentIndex(max(0, self.model_box.findData(settings.model)))
        view = self.model_box.view()  # the open list shows each model's figures whole
        view.setMinimumWidth(view.sizeHintForColumn(0) + 2 * view.frameWidth() + 24)
        browse = QPushButton(tr("settings.browse"))
        browse.clicked.connect(lambda: self.choose_file())
        setup = QPushButton(tr("settings.setup"))
        setup.clicked.connect(self._open_setup)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_box, 1)
        model_row.addWidget(browse)
        model_row.addWidget(setup)
        form.addRow(tr("settings.model"), model_row)
        self.model_info = plain_label("")
        self.model_info.setObjectName("modelLadder")
        self.model_info.setToolTip(tr("ladder.estimate"))
        theme.style_color(self.model_info, theme.muted)
        form.addRow("", self.model_info)
        self.model_box.currentIndexChanged.connect(lambda _i: self._show_model_info())
        self._show_model_info()

        self.threads = QSpinBox()
        self.threads.setRange(0, 256)
        self.threads.setValue(settings.threads)
        form.addRow(tr("settings.threads"), self.threads)
        self.n_ctx = QSpinBox()
        self.n_ctx.setRange(512, 32768)
        self.n_ctx.setSingleStep(512)
        self.n_ctx.setValue(settings.n_ctx)
        form.addRow(tr("settings.n_ctx"), self.n_ctx)

        self.reply_spins: dict[str, QSpinBox] = {}
        lengths = QHBoxLayout()
        for name in ("short", "normal", "long"):
            spin = QSpinBox()
            spin.setRange(1, 8192)
            spin.setValue(settings.reply_tokens.get(name, 128))
            spin.setPrefix(tr("len." + name) + ": ")
            self.reply_spins[name] = spin
            lengths.addWidget(spin)
        form.addRow(tr("settings.reply_tokens"), lengths)

        self.system_prompt = QPlainTextEdit(settings.system_prompt)
        self.system_prompt.setMaximumHeight(90)
        reset = QPushButton(tr("settings.reset_prompt"))
        reset.clicked.connect(lambda: self.system_prompt.setPlainText(DEFAULT_CHAT_SYSTEM_PROMPT))
        prompt_box = QVBoxLayout()
        prompt_box.addWidget(self.system_prompt)
        prompt_box.addWidget(reset)
        form.addRow(tr("settings.system_prompt"), prompt_box)

        self.language = QComboBox()
        self.language.addItem(tr("settings.lang_system"), "system")
        self.language.addItem("中文", "zh")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        form.addRow(tr("settings.language"), self.language)

        self.theme = QComboBox()
        for value in THEMES:
            self.theme.addItem(tr("settings.theme_" + value), value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        form.addRow(tr("settings.theme"), self.theme)

        self.close_to_tray = QCheckBox(tr("settings.close_to_tray"))
        self.close_to_tray.setChecked(settings.close_to_tray)
        form.addRow("", self.close_to_tray)

        self.prepare_typing = QCheckBox(tr("settings.prepare_typing"))
        self.prepare_typing.setChecked(settings.prepare_while_typing)
        form.addRow("", self.prepare_typing)
        self.mood_corrections = QCheckBox(tr("settings.mood_corrections"))
        self.mood_corrections.setChecked(settings.mood_corrections)
        self.mood_corrections.setToolTip(tr("settings.mood_corrections_tip"))
        form.addRow("", self.mood_corrections)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def choose_file(self, path: Path | None = None) -> None:
        if path is None:
            path = ask_gguf_file(self, self._tr)
            if path is None:
                return
        value = str(path.resolve())
        if self.model_box.findData(value) < 0:
            self.model_box.addItem(self._tr("settings.model_file", path=value), value)
        self.model_box.setCurrentIndex(self.model_box.findData(value))

    def _show_model_info(self) -> None:
        """Under the choice: its tier, size, memory and expected speed (a file: nothing)."""
        model_id = str(self.model_box.currentData() or DEFAULT_MODEL_ID)
        spec = CATALOG.get(model_id)
        self.model_info.setText(ladder_line(self._tr, spec) if spec else "")
        self.model_info.setVisible(spec is not None)

    def _open_setup(self) -> None:
        self.setupRequested.emit()
        self.reject()

    def result_settings(self) -> Settings:
        s = copy.deepcopy(self._settings)
        s.model = str(self.model_box.currentData() or "")
        s.threads = self.threads.value()
        s.n_ctx = self.n_ctx.value()
        s.reply_tokens = {name: spin.value() for name, spin in self.reply_spins.items()}
        s.system_prompt = self.system_prompt.toPlainText().strip() or DEFAULT_CHAT_SYSTEM_PROMPT
        s.language = str(self.language.currentData())
        s.theme = str(self.theme.currentData())
        s.close_to_tray = self.close_to_tray.isChecked()
        s.mood_corrections = self.mood_corrections.isChecked()
        s.prepare_while_typing = self.prepare_typing.isChecked()
        return s


def needs_reload(old: Settings, new: Settings) -> bool:
    """Model, threads and context size are fixed at load time: changing them reloads the model."""
    return (old.model, old.threads, old.n_ctx) != (new.model, new.threads, new.n_ctx)
