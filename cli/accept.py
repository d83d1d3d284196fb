"""`tariff test --accept`: rewrite the expectations of failing fixture cases
from what the current policies decide, and print the diff for review.

Only the expectation keys that fail are rewritten, each in place: the rest of
the file (comments, order, quoting, blank lines) stays byte for byte. A
rewritten value keeps the shape it was written in: a list of names stays a
list of names, a flow mapping keeps only the keys it had, a block list stays
a block list. A case whose kind changed (it expected an input error and now
decides, or the other way round) is not rewritten: it is reported, to be
fixed by hand.

When to accept and when to fix the policy instead: README, "Changing a price".
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from tariff.engine import failing_expectations

# Fixture text is read with PyYAML's composer (safe: no tags constructed);
# its node marks give each value's exact span in the file.
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_RESERVED = {"null", "true", "false", "yes", "no", "on", "off", "~"}


@dataclass
class Edit:
    start: int  # first line (0-based) replaced
    end: int  # last line replaced, inclusive
    lines: list[str]


@dataclass
class FileChange:
    path: Path
    before: str
    after: str
    accepted: list[str] = field(default_factory=list)  # case ids rewritten
    refused: list[tuple[str, str]] = field(default_factory=list)  # (case id, why)

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.before.splitlines(True), self.after.splitlines(True),
                                            str(self.path), str(self.path)))


def accept(results) -> list[FileChange]:
    """Rewrite the failing cases among ``results`` (engine verify Results); returns one change per file."""
    by_file: dict[str, list] = {}
    for result in results:
        if not result.passed:
            by_file.setdefault(result.case.file, []).append(result)
    changes = []
    for file, failed in sorted(by_file.items()):
        path = Path(file)
        text = path.read_text(encoding="utf-8")
        change = FileChange(path, text, text)
        edits = []
        cases = _cases_node(yaml.compose(text, Loader=yaml.SafeLoader))
        names = {_scalar(_get(node, "name")): node for node in cases}
        for result in failed:
            node = names.get(result.case.name)
            why = _refusal(result, node)
            if why:
                change.refused.append((result.case.id, why))
                continue
            edits += _case_edits(text.splitlines(), node, result)
            change.accepted.append(result.case.id)
        change.after = _apply(text, edits)
        changes.append(change)
    return changes


def write(changes: list[FileChange]) -> None:
    for change in changes:
        if change.after != change.before:
            change.path.write_text(change.after, encoding="utf-8")


# -- which keys change, and to what ---------------------------------------

def _refusal(result, node) -> str | None:
    if node is None:
        return "the case is not found in its file"
    actual = result.actual
    if actual is None:
        return "no result to accept"
    errored = "error" in actual and "outcome" not in actual
    if errored != (result.case.expect is None):
        return ("it now decides where an input error was expected" if not errored else
                f"it now fails with input error {actual['error']} where a decision was expected") + \
            ": edit the case by hand"
    return None


def _wanted(result) -> dict:
    """Expectation key -> the value to write, for each key that fails."""
    failing = failing_expectations(result)
    if result.case.expect is None:  # an input error case: its code and field, as they are
        return failing
    return {key: value if key == "rules_fired" else _shaped(value, result.case.expect[key])
            for key, value in failing.items()}


def _shaped(actual, like):
    """``actual`` written the way ``like`` was: the same kind of items and keys."""
    if isinstance(actual, list) and isinstance(like, list):
        out = []
        for i, item in enumerate(actual):
            model = like[i] if i < len(like) else (like[-1] if like else None)
            if isinstance(item, dict) and isinstance(model, str):
                out.append(item.get("action", item.get("change", item.get("type", item))))
            elif isinstance(item, dict) and isinstance(model, dict) and i < len(like):
                out.append({k: item[k] for k in model if k in item} or item)
            else:
                out.append(item)
        return out
    if isinstance(actual, dict) and isinstance(like, dict):
        kept = {k: actual[k] for k in like if k in actual}
        return kept or actual
    return actual


# -- where they are written, and the new text --------------------------------

def _case_edits(lines: list[str], case_node, result) -> list[Edit]:
    section = _get(case_node, "expect" if result.case.expect is not None else "expect_error")
    wanted = _wanted(result)
    if section.flow_style:  # the whole expectation on one line: write it again, in flow style
        merged = {_scalar(k): _value(v) for k, v in section.value}
        merged.update(wanted)
        return [_span_edit(lines, section, _flow(merged))]
    edits = []
    for key_node, value_node in section.value:
        key = _scalar(key_node)
        if key in wanted:
            edits.append(_key_edit(lines, key_node, value_node, wanted[key]))
    return edits


def _key_edit(lines, key_node, value_node, value) -> Edit:
    indent = " " * key_node.start_mark.column
    start = key_node.start_mark.line
    end = _last_line(value_node)
    comment = _trailing_comment(lines[end], value_node) if value_node.end_mark.line == end else ""
    key = lines[start][key_node.start_mark.column:key_node.end_mark.column]
    block = isinstance(value_node, yaml.SequenceNode) and not value_node.flow_style
    if block and isinstance(value, list) and value:
        item_indent = " " * (value_node.start_mark.column if value_node.value else key_node.start_mark.column + 2)
        return Edit(start, end, [f"{indent}{key}:"] + [f"{item_indent}- {_flow(v)}" for v in value])
    return Edit(start, end, [f"{indent}{key}: {_flow(value)}{comment}"])


def _span_edit(lines, node, text: str) -> Edit:
    line = node.start_mark.line
    head, tail = lines[line][:node.start_mark.column], lines[line][node.end_mark.column:]
    return Edit(line, line, [head + text + tail])


def _last_line(node) -> int:
    """The last line a value's text is on (a block collection's end mark is on the next key's line)."""
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _last_line(last[1] if isinstance(last, tuple) else last)
    end = node.end_mark
    return end.line if end.column > 0 or end.line == node.start_mark.line else end.line - 1


def _trailing_comment(line: str, node) -> str:
    rest = line[node.end_mark.column:]
    at = rest.find("#")
    return "  " + rest[at:].rstrip() if at >= 0 else ""


def _apply(text: str, edits: list[Edit]) -> str:
    lines = text.splitlines()
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        lines[edit.start:edit.end + 1] = edit.lines
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _is_number(text) or not _PLAIN.match(text) or text.lower() in _RESERVED:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


# -- reading the composed document ---------------------------------------------

def _cases_node(root) -> list:
    cases = _get(root, "cases")
    return list(cases.value) if isinstance(cases, yaml.SequenceNode) else []


def _get(mapping, key: str):
    if isinstance(mapping, yaml.MappingNode):
        for k, v in mapping.value:
            if _scalar(k) == key:
                return v
    return None


def _scalar(node):
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _value(node):
    """A composed node as plain data (for rewriting a flow expectation)."""
    if isinstance(node, yaml.MappingNode):
        return {_scalar(k): _value(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_value(v) for v in node.value]
    if node.tag.endswith(":null"):
        return None
    if node.tag.endswith(":bool"):
        return node.value.lower() in ("true", "yes", "on")
    if node.tag.endswith(":int"):
        return int(node.value)
    return node.value
