"""The decision log: one JSON line per decision, as policy engines keep them.

    {"decision_id": "...", "time": "2026-...Z", "policy_version": "...",
     "input": {...the request...}, "result": {...the decision...},
     "caller": {"key_id": "...", "key_name": "...", "member": null}}

Sinks: ``off``, ``stdout``, or a file path (opened O_APPEND). Each line is
written with a single write(2), so the lines of concurrent worker processes
do not interleave in a file.
"""
from __future__ import annotations

import os

from .jsonio import dumps


class DecisionLog:
    def __init__(self, sink: str):
        self.sink = sink
        if sink == "off":
            self._fd = None
        elif sink == "stdout":
            self._fd = 1
        else:
            self._fd = os.open(sink, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)

    @property
    def enabled(self) -> bool:
        return self._fd is not None

    def write(self, decision_id: str, time: str, policy_version: str, payload, result: dict,
              caller: dict | None = None) -> None:
        """``caller``: who asked (the key's id and name, the member of a session; api/auth.py)."""
        if self._fd is None:
            return
        entry = {"decision_id": decision_id, "time": time, "policy_version": policy_version,
                 "input": payload, "result": result}
        if caller is not None:
            entry["caller"] = caller
        line = dumps(entry) + "\n"
        os.write(self._fd, line.encode("utf-8"))
