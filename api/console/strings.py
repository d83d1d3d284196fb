"""The console's own words (labels, headings, sentences), one YAML catalog per
language in strings/, the same six languages as i18n/ (SUPPORTED). The
policy's messages (reasons, ways to resume) are not here: the API renders
them (api/messages.py). Placeholders are ``{name}``, filled by the page's
JavaScript with values it has formatted for the locale.

A missing key in a language falls back to English; tests check that every
catalog has every English key and the same placeholders.
"""
from __future__ import annotations

import functools
from importlib import resources

import yaml

from tariff.i18n import DEFAULT, SUPPORTED

# Each language by its own name, for the chooser.
NAMES = {"en": "English", "ru": "Русский", "id": "Bahasa Indonesia", "fr": "Français", "de": "Deutsch",
         "it": "Italiano"}


@functools.lru_cache(maxsize=None)
def catalog(lang: str) -> dict:
    text = resources.files(__package__).joinpath("strings", f"{lang}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@functools.lru_cache(maxsize=None)
def strings(lang: str) -> dict:
    """Every key of the English catalog, in ``lang`` where it has it."""
    base = catalog(DEFAULT)
    return base if lang == DEFAULT else {**base, **catalog(lang if lang in SUPPORTED else DEFAULT)}
