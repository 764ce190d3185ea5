"""The foundation under every layer: errors, folders, settings, logging. Qt-free, model-free.

Everything in `qwen_aio` may import it; it imports nothing of the project above it.
"""

__version__ = "0.1.0"
APP_NAME = "qwen-aio"
