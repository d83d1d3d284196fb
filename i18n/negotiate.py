"""Choosing a supported language from an HTTP Accept-Language header.

Babel matches language tags (exact, then alias, then "fr-CH" -> "fr") but
does not read the header itself: splitting entries and ranking by q-value is
done here, per RFC 9110 section 12.5.4, leniently: a malformed entry is
skipped, never an error, since the header comes from any client.
"""

from __future__ import annotations

import re

from babel import Locale

from .languages import DEFAULT, SUPPORTED

# RFC 4647 language-range: "*" or up to 8 letters, then "-" subtags.
_RANGE = re.compile(r"\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
# RFC 9110 qvalue: 0 to 1 with at most three decimals.
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def negotiate(accept_language_header: str | None) -> str:
    """The best supported language for the header, or "en"."""
    if not isinstance(accept_language_header, str):
        return DEFAULT
    ranges = _parse(accept_language_header)
    named = {tag.split("-")[0].lower() for tag, _q in ranges}
    # "*" stands for any language the client did not name: the first of ours.
    wildcard = next((lang for lang in SUPPORTED if lang not in named), None)
    # sorted() is stable: entries with equal q keep the client's order.
    preferred = [wildcard if tag == "*" else tag
                 for tag, q in sorted(ranges, key=lambda r: -r[1]) if q > 0]
    locale = Locale.negotiate([t for t in preferred if t], SUPPORTED, sep="-")
    return locale.language if locale else DEFAULT


def _parse(header: str) -> list[tuple[str, float]]:
    """(language-range, q) for each well-formed entry, in header order."""
    ranges = []
    for entry in header.split(","):
        tag, *params = (part.strip() for part in entry.split(";"))
        if not _RANGE.fullmatch(tag):
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.fullmatch(value) else None
        if q is not None:  # a bad q-value spoils its entry only
            ranges.append((tag, q))
    return ranges
