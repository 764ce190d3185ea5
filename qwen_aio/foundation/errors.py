"""The project's error hierarchy: every message is written for the person using the app."""

from __future__ import annotations


class QwenAioError(Exception):
    """Base class; ``str(err)`` is a complete message a user can act on."""


class UnknownModel(QwenAioError):
    """A model id that is neither in the catalogue nor a path to a .gguf file."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            f"Unknown model {name!r}. Use one of: {', '.join(known)}, "
            "or the path to a .gguf file."
        )
        self.name = name


class ModelNotFound(QwenAioError):
    """The model is not on disk (yet)."""

    def __init__(self, what: str, hint: str = "") -> None:
        super().__init__(
            f"Model not found: {what}. "
            + (hint or "Download it with `qwen-aio models download`, or pass --model PATH.gguf.")
        )


class ModelCorrupt(QwenAioError):
    """A model file whose checksum or header is wrong: it is never loaded."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"The model file {path} is damaged ({reason}). Delete it and download it again "
            "with `qwen-aio models download`."
        )
        self.path = path


class NotAModelFile(ModelCorrupt):
    """A person's own file (not a catalogue model) that is not a usable GGUF model file."""

    def __init__(self, path: str, reason: str) -> None:
        QwenAioError.__init__(
            self,
            f"{path} is not a GGUF model file, or it is damaged ({reason}). Choose another "
            ".gguf file made for llama.cpp, or use a model from the catalogue "
            "(`qwen-aio models list`).",
        )
        self.path = path


class ModelLoadFailed(QwenAioError):
    """llama.cpp could not load a file that passed our checks (wrong format, too little memory)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"Could not load the model {path}: {reason}. Check that it is a GGUF file made for "
            "llama.cpp and that enough memory is free."
        )


class DownloadFailed(QwenAioError):
    """A download did not complete; nothing partial is ever used."""

    def __init__(self, what: str, reason: str, hint: str = "") -> None:
        super().__init__(
            f"Downloading {what} failed: {reason}. "
            + (hint or "Check the network connection and try again; finished parts are kept.")
        )
        self.reason = reason


class DownloadCancelled(QwenAioError):
    """The user stopped a download; what was fetched is kept so it can resume later."""

    def __init__(self, what: str) -> None:
        super().__init__(f"Download of {what} was cancelled. Start it again to resume.")


class EmptyInput(QwenAioError):
    """Blank text has no mood and needs no reply."""

    def __init__(self) -> None:
        super().__init__("The message is empty: type some text first.")


class Cancelled(QwenAioError):
    """The user stopped the work; the engine is ready for the next request."""

    def __init__(self) -> None:
        super().__init__("Stopped.")


class GrammarInvalid(QwenAioError):
    """A built-in grammar failed its start-up check (a bug, not a user error)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Internal error: the label grammar is invalid ({detail}). Please report it.")


class ConversationsDamaged(QwenAioError):
    """The conversations database failed its check at open (a damaged or unreadable file)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"The conversations file {path} is damaged or unreadable ({reason}). "
            "It will be kept aside and a new, empty one started.")
        self.path = path
        self.reason = reason


class ConversationsTooNew(QwenAioError):
    """The conversations file was written by a newer version of the app: it is left untouched."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"The conversations file {path} was saved by a newer version of Qwen All-in-One "
            f"(format {found}; this version reads up to {known}). It was left untouched: "
            "update the app to see those conversations. This session's messages are not saved.")
        self.path = path
        self.found = found


class ConversationsUnavailable(QwenAioError):
    """Reading or saving a conversation failed (disk full, locked or damaged file)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"Could not read or save conversations in {path} ({reason}). Check that the disk "
            "has free space, then restart the app: a damaged file is kept aside and a new one "
            "started.")
        self.path = path
        self.reason = reason
