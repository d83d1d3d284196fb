"""A place inside a loaded policy file, to attach findings to.

It holds the file's positions, never its data: a loaded object keeps a
``Where`` so that later stages (lint) can say where it is written.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..findings import ERROR, Finding, Location
from .yaml_source import Positions


@dataclass(frozen=True)
class Where:
    positions: Positions
    path: tuple = ()

    def __truediv__(self, key) -> "Where":
        return Where(self.positions, self.path + (key,))

    @property
    def file(self) -> str:
        return self.positions.file

    @property
    def location(self) -> Location:
        return self.positions.where(self.path)

    @property
    def key_location(self) -> Location:
        return self.positions.where(self.path, key=True)

    def finding(self, code: str, message: str, severity: str = ERROR, at_key: bool = False) -> Finding:
        return Finding(self.key_location if at_key else self.location, code, message, severity)
