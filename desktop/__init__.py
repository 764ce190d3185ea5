"""The PySide6 desktop app: window, tray quick mood check, first-run model setup, settings."""
