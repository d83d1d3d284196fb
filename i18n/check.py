"""Is every vocabulary id translated, consistently, in every language?

Billing staff add ids to policies/vocabulary.yaml and messages to the
catalogs by hand; this is what tells them (and CI) what they forgot.
English is the reference: other languages must use exactly its placeholders,
because the caller passes one set of params whatever the language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalog import SECTIONS
from .languages import DEFAULT, SUPPORTED
from .template import placeholders

if TYPE_CHECKING:
    from .catalog import Catalogs

# Catalog section -> the vocabulary.yaml key declaring its ids. seat_types and
# plans are not declared there yet; while they are absent, en.yaml's ids are
# the reference for the other languages.
VOCABULARY_KEYS = {"reasons": "reasons", "resume": "resume",
                   "notifications": "notifications", "transitions": "transitions",
                   "levels": "limit_levels", "products": "products",
                   "seat_types": "seat_types", "plans": "plans"}

# Reasons declare no params: a decision may attach these, and a reason's
# message may use any of them (the caller then has to pass it).
REASON_PARAMS = frozenset({"level", "limit", "date", "product", "seat_type"})


def problems(catalogs: Catalogs, vocabulary: dict) -> list[str]:
    """Every problem found, one line each, in language/section/id order."""
    found = []
    reference = catalogs.messages[DEFAULT]
    for section in SECTIONS:
        allowed = _declared(section, vocabulary)
        if allowed is None:  # not in the vocabulary: English decides the ids
            allowed = {code: frozenset() for code in reference.get(section, {})}
            origin = f"{catalogs.files[DEFAULT].name}"
        else:
            origin = "the vocabulary"
        for lang in SUPPORTED:
            where = catalogs.files[lang]
            entries = catalogs.messages[lang].get(section, {})
            for code in allowed.keys() - entries.keys():
                found.append((lang, section, code, f"{where}: {section}.{code}: no message (the id is in {origin})"))
            for code in entries.keys() - allowed.keys():
                found.append((lang, section, code, f"{where}: {section}.{code}: id is not in {origin}"))
            for code in entries.keys() & allowed.keys():
                problem = _placeholder_problem(lang, section, code, entries[code], allowed[code], reference)
                if problem:
                    found.append((lang, section, code, f"{where}: {section}.{code}: {problem}"))
    order = {lang: i for i, lang in enumerate(SUPPORTED)}
    return [text for *_, text in sorted(found, key=lambda p: (order[p[0]], SECTIONS.index(p[1]), p[2]))]


def _declared(section: str, vocabulary: dict) -> dict[str, frozenset[str]] | None:
    """id -> placeholders its message may use, as declared in the vocabulary."""
    declared = vocabulary.get(VOCABULARY_KEYS[section])
    if declared is None:
        return None
    if isinstance(declared, list):  # a list of names: no placeholders
        return {str(code): frozenset() for code in declared}
    if section == "reasons":
        return {code: REASON_PARAMS for code in declared}
    return {code: frozenset((spec or {}).get("params") or ()) for code, spec in declared.items()}


def _placeholder_problem(lang, section, code, text, allowed, reference) -> str | None:
    try:
        used = placeholders(text)
    except ValueError as e:
        return str(e)
    if lang == DEFAULT:
        extra = used - allowed
        if extra:
            return (f"uses {_names(extra)}, which the id does not carry "
                    f"(it may use: {_names(allowed) or 'no placeholders'})")
        return None
    try:
        expected = placeholders(reference[section][code])
    except (KeyError, ValueError):
        return None  # the English message itself is reported; nothing to compare to
    if used != expected:
        return f"uses {_names(used) or 'no placeholders'}, but English uses {_names(expected) or 'none'}"
    return None


def _names(names) -> str:
    return ", ".join(f"{{{n}}}" for n in sorted(names))
