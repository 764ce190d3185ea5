"""Qt-free model catalogue and acquisition: known GGUFs, where they come from, download, verify."""
