"""Bounded work for validate and reload (issue 9 item 6).

Loading and linting a policy set costs time in proportion to its YAML nodes
(a 528 KB body of 49,000 keys cost a worker 7.5 s before these bounds), and
a sync worker does nothing else meanwhile. So, before anything is loaded:

- bytes: the files' text, at most MAX_POLICY_BYTES in all (413
  ``policy_too_large``); reload checks the directory's sizes with stat, so a
  60 MB file is refused before it is read;
- files: at most MAX_VALIDATE_FILES in a request, MAX_POLICY_FILES in a set;
- YAML nodes: at most MAX_POLICY_NODES in all, counted by the C parser's
  events, which stops at the bound (422 ``policy_too_large`` naming the file
  that crossed it); the shipped set has ~2,400;
- paths: each segment at most 255 bytes, at most 16 deep, none both a file
  and a directory (422 naming ``files.<path>``);
- time: validate runs under a deadline (VALIDATE_TIMEOUT_S, SIGALRM, in the
  worker's main thread; 422 ``policy_too_costly``). Reload is bounded by the
  checks above only: it registers rulesets in the rules engine, which must
  not be interrupted halfway;
- workers: one validation at a time per server (an flock in the state
  directory every worker shares); another meanwhile is a 429
  ``validate_busy`` with Retry-After, so with two or more workers at least
  one is always free to decide.

The cost at these bounds is measured by bench/bench_validate.py.
"""
from __future__ import annotations

import fcntl
import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import yaml

from .errors import ApiError

SEGMENT_BYTES = 255
MAX_DEPTH = 16
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NODES = (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.AliasEvent)


def too_large(message: str, errors: dict | None = None, status: int = 413) -> ApiError:
    return ApiError(status, "policy_too_large", message, errors=errors)


def path_problems(paths) -> dict[str, list[str]]:
    """Paths that cannot be files of one set: too long a segment, too deep,
    or a file that another path needs as a directory."""
    errors: dict[str, list[str]] = {}
    paths = list(paths)
    directories = {"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)}
    for path in paths:
        parts = path.split("/")
        if any(len(part.encode("utf-8", "surrogatepass")) > SEGMENT_BYTES for part in parts):
            errors.setdefault(path, []).append(f"each part of the path at most {SEGMENT_BYTES} bytes")
        if len(parts) > MAX_DEPTH:
            errors.setdefault(path, []).append(f"at most {MAX_DEPTH} levels deep")
        if path in directories:
            errors.setdefault(path, []).append("another file in the request is inside this path")
    return errors


def count_nodes(text: str, budget: int) -> int:
    """YAML nodes in ``text``, counting no further than ``budget`` + 1 (the
    C parser's events: cheap, and it stops early). A file that does not parse
    counts what it has so far: the loader reports its syntax error."""
    count = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, _NODES):
                count += 1
                if count > budget:
                    break
    except yaml.YAMLError:
        pass
    return count


def check_files(files: dict[str, str | None], max_bytes: int, max_nodes: int) -> None:
    """Submitted files (validate): their bytes, then their nodes, in path order."""
    total = sum(len(text.encode("utf-8", "surrogatepass")) for text in files.values() if text is not None)
    if total > max_bytes:
        raise too_large(f"the files hold {total} bytes; at most {max_bytes} are validated",
                        {"files": [f"at most {max_bytes} bytes in all"]})
    budget = max_nodes
    for path in sorted(files):
        if files[path] is not None:
            budget -= count_nodes(files[path], budget)
            if budget < 0:
                raise too_large(f"more than {max_nodes} YAML nodes by {path}",
                                {f"files.{path}": [f"the set may hold at most {max_nodes} YAML nodes"]}, 422)


def check_directory(source: Path, max_bytes: int, max_files: int, max_nodes: int) -> None:
    """A policies directory about to be reloaded: sizes first (stat, nothing
    read), then the nodes of files that passed."""
    found = sorted(p for p in source.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if len(found) > max_files:
        raise too_large(f"the policy set holds {len(found)} files; at most {max_files} are loaded", status=422)
    total = 0
    for path in found:
        total += path.stat().st_size
        if total > max_bytes:
            rel = str(path.relative_to(source))
            raise too_large(f"the policy set is larger than {max_bytes} bytes (at {rel}); nothing was loaded",
                            {rel: [f"the set may hold at most {max_bytes} bytes"]})
    budget = max_nodes
    for path in found:
        budget -= count_nodes(path.read_text(encoding="utf-8", errors="replace"), budget)
        if budget < 0:
            rel = str(path.relative_to(source))
            raise too_large(f"the policy set has more than {max_nodes} YAML nodes (at {rel}); nothing was loaded",
                            {rel: [f"the set may hold at most {max_nodes} YAML nodes"]}, 422)


@contextmanager
def one_at_a_time(state_dir: str | os.PathLike) -> Iterator[None]:
    """The block, if no other worker of this server is validating; else 429."""
    with open(Path(state_dir) / "validate.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ApiError(429, "validate_busy", "another validation is running on this server; retry shortly",
                           headers={"Retry-After": "1"}) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Expired(BaseException):
    """Raised by the alarm; a BaseException so no `except Exception` in the loader swallows it."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """At most ``seconds`` of the block, then 422 ``policy_too_costly``. Only
    in the main thread (where signals arrive: gunicorn's sync workers serve
    there); elsewhere the other bounds alone apply."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    done = False

    def expire(signum, frame):
        if not done:  # never once the block has finished (the alarm may land in between)
            raise _Expired()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
        done = True
    except _Expired:
        raise ApiError(422, "policy_too_costly", f"validating these files took longer than {seconds:g} s; "
                                                 f"validate fewer or smaller files") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
