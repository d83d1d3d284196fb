"""Policy findings: every problem in a policy carries its place.

Printed as ``file:line:col: severity: code: message`` and sorted by place, so
a billing editor sees all of them at once, in reading order (as OPA and Cerbos
do).
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Finding:
    location: Location
    code: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.code}: {self.message}"

    def to_dict(self) -> dict:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


def sort_findings(findings) -> list[Finding]:
    """Deduplicated and in reading order."""
    return sorted(set(findings))


class PolicyError(Exception):
    """The policy set is not valid; ``findings`` lists every problem."""

    def __init__(self, findings):
        self.findings = sort_findings(findings)
        super().__init__("\n".join(str(f) for f in self.findings))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]
