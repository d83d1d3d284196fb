"""YAML to plain Python values, remembering where each value was written.

PyYAML's composer gives nodes with marks; we build the values ourselves so
that (a) every path in the document maps to a file:line:column, (b) decimals
become ``Decimal`` from their written text, never float, (c) a key written
twice is reported instead of silently overwritten, and (d) only the safe tags
exist (no arbitrary Python objects).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import yaml

from ..findings import Finding, Location

Path = tuple


@dataclass
class Positions:
    """Where each value and key of one YAML file was written (and nothing of the values)."""

    file: str
    values: dict = field(default_factory=dict)  # path -> Location of the value
    keys: dict = field(default_factory=dict)  # path -> Location of its mapping key

    def where(self, path: Path, key: bool = False) -> Location:
        """The location of ``path``, or of its nearest written ancestor."""
        path = tuple(path)
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Location(self.file, 1, 1))


@dataclass
class Document:
    """One YAML file's data, and the place of every value and key in it.

    Loading reads ``data`` once; what it builds keeps only ``positions``
    (through load.where.Where), so nothing after loading re-reads raw YAML.
    """

    data: object
    positions: Positions

    @property
    def file(self) -> str:
        return self.positions.file

    def where(self, path: Path, key: bool = False) -> Location:
        return self.positions.where(path, key)


def _mark(file: str, node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_BOOL = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


# An alias repeats its anchor; nested aliases ("billion laughs") make a few
# hundred bytes expand to billions of values. No policy file comes near this.
MAX_VALUES = 100_000


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, file: str):
        self.doc = Document(None, Positions(file))
        self.findings: list[Finding] = []
        self.budget = MAX_VALUES

    def build(self, node, path: Path = ()):
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge
        where = _mark(self.doc.file, node)
        self.doc.positions.values[path] = where
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _COLLECTION_TAGS:
            self.findings.append(Finding(where, "unsupported_tag", f"tag {node.tag} is not allowed in a policy"))
            return None
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = self.build_key(key_node)
                if key in out:
                    self.findings.append(Finding(_mark(self.doc.file, key_node), "duplicate_key",
                                                 f"key {key!r} is written twice in this mapping"))
                self.doc.positions.keys[path + (key,)] = _mark(self.doc.file, key_node)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node, where)

    def build_key(self, node):
        if not isinstance(node, yaml.ScalarNode):
            self.findings.append(Finding(_mark(self.doc.file, node), "invalid_key", "a key must be a plain value"))
            return repr(node.start_mark)
        # Keys are names: `on:` or `no:` stay text instead of YAML 1.1 booleans.
        return node.value

    def scalar(self, node, where: Location):
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return _BOOL[text.lower()]
        if tag == "tag:yaml.org,2002:int":
            digits = text.replace("_", "")
            for base in (0, 10):  # 0x1F, 0o17 and 0b1 as well as plain (and 010) integers
                try:
                    return int(digits, base)
                except ValueError:
                    pass
            # YAML 1.1 also reads `1:30` as a base-60 integer: surely a typo here.
            self.findings.append(Finding(where, "invalid_number", f"{text!r} is not a plain integer"))
            return None
        if tag == "tag:yaml.org,2002:float":
            # Money is written as decimals: keep the written digits exactly.
            try:
                value = Decimal(text.replace("_", ""))
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite():
                self.findings.append(Finding(where, "invalid_number", f"{text!r} is not a finite decimal number"))
                return None
            return value
        # Timestamps stay text: schemas parse dates, so one parser decides.
        if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
            return text
        self.findings.append(Finding(where, "unsupported_tag", f"tag {tag} is not allowed in a policy"))
        return None


def parse(text: str, file: str) -> tuple[Document | None, list[Finding]]:
    """Parse one YAML document; on a syntax error, return its located finding."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        return None, [Finding(where, "yaml_syntax", f"{exc.problem or exc.context}")]
    except yaml.YAMLError as exc:  # composer errors without marks (e.g. several documents)
        return None, [Finding(Location(file, 1, 1), "yaml_syntax", str(exc).splitlines()[0])]
    except RecursionError:
        return None, [Finding(Location(file, 1, 1), "too_deep", "nested too deeply to be a policy")]
    if node is None:
        return None, [Finding(Location(file, 1, 1), "empty_file", "the file has no content")]
    builder = _Builder(file)
    try:
        builder.doc.data = builder.build(node)
    except _TooLarge:
        return None, [Finding(Location(file, 1, 1), "too_large",
                              f"expands to more than {MAX_VALUES} values (YAML aliases?)")]
    except RecursionError:
        return None, [Finding(Location(file, 1, 1), "too_deep", "nested too deeply to be a policy")]
    return builder.doc, builder.findings
