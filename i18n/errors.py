"""Errors raised by the i18n package.

Both lookup errors subclass KeyError, so callers that already treat a missing
key as "not found" keep working, but they carry the section, code and language
so a log line says exactly which message is missing.
"""


class UnknownMessage(KeyError):
    """No message for this (section, code) in this language."""

    def __init__(self, section: str, code: str, lang: str):
        super().__init__(section, code, lang)
        self.section, self.code, self.lang = section, code, lang

    def __str__(self) -> str:
        # KeyError.__str__ would print the args tuple; say it in words instead.
        return f"no message {self.section}.{self.code!r} in language {self.lang!r}"


class MissingParameter(KeyError):
    """A message needs a {placeholder} the caller did not pass."""

    def __init__(self, name: str, section: str, code: str, lang: str):
        super().__init__(name, section, code, lang)
        self.name, self.section, self.code, self.lang = name, section, code, lang

    def __str__(self) -> str:
        return (f"message {self.section}.{self.code!r} ({self.lang}) needs "
                f"parameter {self.name!r}, which was not given")


class CatalogError(ValueError):
    """A catalog file cannot be used at all (missing, not YAML, wrong shape)."""
