"""The policy set being served, shared by every worker process of a server.

gunicorn runs several worker processes; a reload is handled by one of them
and must reach all. The design (see docs/api.md, "Reload"):

- STATE_DIR is shared by the workers of one server. A validated set is
  copied into ``STATE_DIR/sets/<id>/`` (an immutable snapshot), and
  ``STATE_DIR/current.json`` names it. The pointer is replaced atomically
  (write, fsync, rename), so it always names a complete set that passed
  validation and the fixtures.
- Every request starts with one ``stat`` of the pointer. When it changed, the
  worker loads the named snapshot and swaps its evaluator (a single reference
  assignment; a request in flight keeps the set it started with).
- Reloads and the first start are serialised by an flock on STATE_DIR/lock.
  A candidate is staged from the policies directory into its own snapshot
  first, then validated and run against the fixtures *from the snapshot*, so
  the files that were checked are exactly the files that are served, even if
  the directory changes meanwhile. A refused candidate is deleted and the
  pointer is not touched.
- A worker that starts later (gunicorn replaces a dead one) loads the last
  known good set from the pointer, never the directory as it is now.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from tariff.engine import Evaluator, check_policies, load_policy_set

log = logging.getLogger("tariff.policies")
POINTER = "current.json"


@dataclass(frozen=True)
class Active:
    """One loaded set: immutable, shared by the requests that use it."""
    version: str
    policy: object  # engine.PolicySet
    evaluator: Evaluator
    snapshot: str   # the snapshot directory it was loaded from
    published_at: str


@dataclass
class Refused(Exception):
    """A candidate set that must not be served, and why."""
    code: str  # policy_invalid | fixtures_failed
    message: str
    findings: list = field(default_factory=list)
    failures: list = field(default_factory=list)


class Unreadable(Exception):
    """Files submitted for validation that the loader could not even read as a set."""
    code = "policy_unreadable"


@dataclass
class Outcome:
    old: Active | None
    new: Active
    fixtures: dict

    @property
    def changed(self) -> bool:
        return self.old is None or self.old.version != self.new.version


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PolicyStore:
    """``on_reload`` is told each reload's result: "changed", "unchanged" or "refused"."""

    def __init__(self, source: str, fixtures: str, state_dir: str,
                 on_reload: Callable[[str], None] = lambda result: None):
        self.source = str(source).rstrip("/") or "."
        self.on_reload = on_reload
        self.fixtures = fixtures
        self.state = Path(state_dir)
        self.pointer = self.state / POINTER
        self._active: Active | None = None
        self._seen = None  # (inode, mtime_ns, size) of the pointer last adopted
        self._swap = threading.Lock()
        self.out_of_sync = False
        (self.state / "sets").mkdir(parents=True, exist_ok=True)

    # -- start-up --------------------------------------------------------
    def open(self) -> "PolicyStore":
        """Adopt the set the pointer names; the first worker creates it from
        the policies directory (validated, fixtures passed) or raises Refused."""
        with self._locked():
            if not self.pointer.exists():
                outcome = self._gate()
                self._publish(outcome.new)
        self.refresh()
        if self._active is None:
            raise RuntimeError(f"no policy set could be loaded from {self.pointer}")
        return self

    # -- serving -----------------------------------------------------------
    def active(self) -> Active:
        self.refresh()
        return self._active

    def refresh(self) -> None:
        try:
            st = os.stat(self.pointer)
        except FileNotFoundError:
            return
        seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        if seen == self._seen:
            return
        with self._swap:
            if seen == self._seen:
                return
            try:
                record = json.loads(self.pointer.read_text(encoding="utf-8"))
                if self._active is None or record["version"] != self._active.version:
                    self._active = self._load(self.state / record["dir"], record["published_at"])
                    log.info("serving policy set %s", self._active.version)
                self._seen, self.out_of_sync = seen, False
            except Exception:  # keep serving what we have; readyz reports it
                log.exception("could not adopt the policy set named by %s", self.pointer)
                self.out_of_sync = True

    # -- reload ----------------------------------------------------------
    def reload(self, bounds: Callable[[Path], None] | None = None) -> Outcome:
        """Stage, validate and test the policies directory; serve it if it passes.
        Raises Refused and leaves the served set in place otherwise. ``bounds``
        checks the staged snapshot before anything in it is loaded (raising
        to refuse it: api/policy_bounds.py)."""
        with self._locked():
            self.refresh()
            try:
                outcome = self._gate(bounds)
            except Refused:
                self.on_reload("refused")
                raise
            self.on_reload("changed" if outcome.changed else "unchanged")
            if outcome.changed:
                self._publish(outcome.new)
            else:
                shutil.rmtree(outcome.new.snapshot, ignore_errors=True)
                outcome.new = outcome.old
        self.refresh()
        return outcome

    def _gate(self, bounds: Callable[[Path], None] | None = None) -> Outcome:
        snapshot = self._stage()
        try:
            if bounds is not None:
                bounds(snapshot)
            if self.fixtures and not Path(self.fixtures).exists():
                raise Refused("fixtures_failed", f"no fixtures directory {self.fixtures}")
            # The same verdict as `tariff validate` and `tariff test`: load, lint, fixtures.
            verdict = check_policies(snapshot, fixtures=[self.fixtures] if self.fixtures else None)
            if verdict.errors or verdict.policy is None:
                raise Refused("policy_invalid", f"the policy set in {self.source} has {len(verdict.errors)} error(s)",
                              findings=[self.display_finding(f) for f in verdict.findings])
            policy = verdict.policy
            candidate = Active(policy.version, policy, verdict.evaluator or Evaluator(policy), str(snapshot), _now())
            fixtures = self._fixture_summary(verdict.fixtures)
        except BaseException:
            shutil.rmtree(snapshot, ignore_errors=True)
            raise
        return Outcome(self._active, candidate, fixtures)

    def _stage(self) -> Path:
        source = Path(self.source)
        if not source.is_dir():
            raise Refused("policy_invalid", f"no policy directory {self.source}",
                          findings=[{"file": self.source, "line": 1, "column": 1, "severity": "error",
                                     "code": "not_found", "message": "no such policy directory"}])
        target = self.state / "sets" / uuid.uuid4().hex
        for path in sorted(source.rglob("*")):
            if path.suffix in (".yaml", ".yml") and path.is_file():
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
        target.mkdir(parents=True, exist_ok=True)
        return target

    def _fixture_summary(self, report) -> dict:
        if report is None:
            return {"directory": None, "passed": 0, "failed": 0}
        failures = [{"id": str(Path(f.location.file)), "file": f.location.file, "line": f.location.line,
                     "problems": [f"{f.code}: {f.message}"]} for f in report.broken]
        failures += [{"id": r.case.id, "file": r.case.file, "line": r.case.line, "problems": r.problems}
                     for r in report.failed]
        if failures:
            raise Refused("fixtures_failed", f"{len(failures)} fixture case(s) failed against the policy set "
                          f"in {self.source}. If the change is intended (a new price, say), run "
                          f"`tariff test --accept {self.fixtures}`, review the diff it prints, commit "
                          f"it and reload again; otherwise fix the policy", failures=failures)
        return {"directory": self.fixtures, "passed": report.passed, "failed": 0}

    def _publish(self, active: Active) -> None:
        record = {"version": active.version, "dir": os.path.relpath(active.snapshot, self.state),
                  "published_at": active.published_at, "source": self.source}
        fd, tmp = tempfile.mkstemp(dir=self.state, prefix=".current-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.pointer)
        # This worker has the evaluator already: adopt it without loading again.
        with self._swap:
            st = os.stat(self.pointer)
            self._active, self._seen = active, (st.st_ino, st.st_mtime_ns, st.st_size)
            self.out_of_sync = False
        log.info("published policy set %s from %s", active.version, self.source)

    def _load(self, snapshot: Path, published_at: str) -> Active:
        policy = load_policy_set(snapshot)
        return Active(policy.version, policy, Evaluator(policy), str(snapshot), published_at)

    @contextmanager
    def _locked(self):
        with open(self.state / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- validation of submitted files ------------------------------------------
    def validate(self, files: dict[str, str | None], base: str) -> dict:
        """Findings for ``files`` laid over the served set (``base`` "served";
        None deletes a file) or as the whole set ("none"), with nothing served,
        evaluated or registered; the same verdict as `tariff validate`.
        Raises Unreadable when the loader cannot read them at all."""
        active = self.active()
        root = Path(tempfile.mkdtemp(prefix="tariff-validate-"))
        try:
            if base == "served":
                shutil.copytree(active.snapshot, root, dirs_exist_ok=True)
            for rel, text in files.items():
                target = root / rel
                try:
                    if text is None:
                        target.unlink(missing_ok=True)
                    else:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_text(text, encoding="utf-8", errors="surrogatepass")
                except OSError as exc:  # a file where a directory must be (or the reverse), a name too long
                    from .errors import ApiError
                    raise ApiError(422, "invalid_request", "the request is not valid", errors={
                        f"files.{rel}": [f"cannot be a file of the set: {exc.strerror or exc}"]}) from None
            try:
                verdict = check_policies(root)
            except (RecursionError, MemoryError, ValueError, TypeError) as exc:  # the loader gave up
                raise Unreadable("the files could not be read as a policy set") from exc
            prefix = str(root) + "/"
            findings = [finding.to_dict() for finding in verdict.findings]
            for finding in findings:
                finding["file"] = finding["file"][len(prefix):] if finding["file"].startswith(prefix) else "."
            return {"valid": verdict.valid, "version": verdict.policy.version if verdict.policy else None,
                    "base_version": active.version if base == "served" else None, "findings": findings}
        finally:
            shutil.rmtree(root, ignore_errors=True)

    # -- presentation --------------------------------------------------------
    def display(self, path: str, snapshot: str | None = None) -> str:
        """A file in a snapshot, named as it is in the policies directory."""
        for root in filter(None, (snapshot, self._active and self._active.snapshot)):
            if path.startswith(root + "/"):
                return f"{self.source}/{path[len(root) + 1:]}"
        for prefix in (str(self.state / "sets") + "/",):
            if path.startswith(prefix):
                rest = path[len(prefix):].split("/", 1)
                return f"{self.source}/{rest[1]}" if len(rest) == 2 else self.source
        return path

    def display_finding(self, finding) -> dict:
        out = finding.to_dict()
        out["file"] = self.display(out["file"])
        return out
