"""Errors in what a caller asked, naming the field at fault."""
from __future__ import annotations


class InputError(ValueError):
    """Bad decision input. ``errors`` maps a field path ("event.model") to messages."""

    def __init__(self, code: str, errors: dict[str, list[str]]):
        self.code = code
        self.errors = errors
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in sorted(errors.items())))

    @classmethod
    def field(cls, code: str, path: str, message: str) -> "InputError":
        return cls(code, {path: [message]})
