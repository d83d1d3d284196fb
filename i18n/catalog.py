"""Loading the per-language message catalogs (catalogs/<lang>.yaml).

A catalog maps section -> id -> message text. Loading only checks the shape
(so a broken file fails at start-up, naming the file); whether the content
matches the vocabulary is `check`'s job, which reports every problem at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml

from .errors import CatalogError, UnknownMessage
from .languages import SUPPORTED

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"

# Every section a catalog may have. The first four are messages; the rest are
# names substituted into messages (see render.NAMED_PARAMS).
SECTIONS = ("reasons", "resume", "notifications", "transitions",
            "levels", "products", "seat_types", "plans")


# eq=False: the mappings inside are unhashable, and nothing compares catalogs.
@dataclass(frozen=True, eq=False)
class Catalogs:
    """All languages' messages, read-only once loaded."""

    messages: Mapping[str, Mapping[str, Mapping[str, str]]]  # lang -> section -> id -> text
    files: Mapping[str, Path]  # lang -> file it came from, for problem reports

    @classmethod
    def load(cls, directory: str | Path | None = None) -> Catalogs:
        """Read `<lang>.yaml` for every supported language from `directory`
        (default: the catalogs shipped inside this package)."""
        directory = Path(directory) if directory is not None else CATALOG_DIR
        messages, files = {}, {}
        for lang in SUPPORTED:
            path = directory / f"{lang}.yaml"
            messages[lang] = _read(path)
            files[lang] = path
        return cls(MappingProxyType(messages), MappingProxyType(files))

    def message(self, section: str, code: str, lang: str) -> str:
        """The raw template for (section, code) in `lang`."""
        try:
            return self.messages[lang][section][code]
        except KeyError:
            raise UnknownMessage(section, code, lang) from None

    def check(self, vocabulary: dict) -> list[str]:
        """Problems with these catalogs against a loaded vocabulary.yaml;
        an empty list means every id has a consistent message everywhere."""
        from .check import problems  # check imports this module; import late
        return problems(self, vocabulary)


@functools.cache
def default_catalogs() -> Catalogs:
    """The packaged catalogs, read once per process on first use."""
    return Catalogs.load()


def _read(path: Path) -> Mapping[str, Mapping[str, str]]:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as e:
        raise CatalogError(f"{path}: cannot read catalog: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise CatalogError(f"{path}: not valid YAML: {e}") from e

    # Collect every shape error in the file, so one edit fixes them all.
    errors = []
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected sections ({', '.join(SECTIONS)}) at the top level")
    for section, entries in data.items():
        if section not in SECTIONS:
            errors.append(f"{path}: unknown section {section!r} (expected one of {', '.join(SECTIONS)})")
        elif not isinstance(entries, dict):
            errors.append(f"{path}: {section}: expected id: message lines")
        else:
            errors.extend(f"{path}: {section}.{code}: message must be text, got {type(text).__name__}"
                          for code, text in entries.items() if not isinstance(text, str))
    if errors:
        raise CatalogError("\n".join(errors))
    return MappingProxyType({s: MappingProxyType(dict(e)) for s, e in data.items()})
