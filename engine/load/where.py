"""A place inside a loaded policy document, to attach findings to."""
from __future__ import annotations

from dataclasses import dataclass

from ..findings import ERROR, Finding, Location
from .yaml_source import Document


@dataclass(frozen=True)
class Where:
    doc: Document
    path: tuple = ()

    def __truediv__(self, key) -> "Where":
        return Where(self.doc, self.path + (key,))

    @property
    def location(self) -> Location:
        return self.doc.where(self.path)

    @property
    def key_location(self) -> Location:
        return self.doc.where(self.path, key=True)

    def finding(self, code: str, message: str, severity: str = ERROR, at_key: bool = False) -> Finding:
        return Finding(self.key_location if at_key else self.location, code, message, severity)
