"""End-user messages in the supported languages.

    lang = negotiate(request.headers.get("Accept-Language"))
    text = render("resume", "raise_limit", {"level": "individual"}, lang)

Messages live in catalogs/<lang>.yaml (edited by billing staff); ids come
from policies/vocabulary.yaml, and Catalogs.load().check(vocabulary) lists
whatever is missing or inconsistent.
"""

from .catalog import Catalogs
from .errors import CatalogError, MissingParameter, UnknownMessage
from .languages import DEFAULT, SUPPORTED
from .negotiate import negotiate
from .render import render

__all__ = ["SUPPORTED", "DEFAULT", "negotiate", "render", "Catalogs",
           "UnknownMessage", "MissingParameter", "CatalogError"]
