"""Property: every message of every vocabulary id renders in every language.

Parametrized over the vocabulary's ids (not the catalogs'), so an id added to
vocabulary.yaml without messages fails here as well as in the check; each
example draws one set of typed params and renders it in all six languages,
as a caller would.
"""

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariff.i18n import SUPPORTED, render
from tariff.i18n.catalog import CATALOG_DIR

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY = yaml.safe_load((ROOT / "policies" / "vocabulary.yaml").read_text(encoding="utf-8"))
CATALOGS = {lang: yaml.safe_load((CATALOG_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))
            for lang in SUPPORTED}
ENGLISH = CATALOGS["en"]

REASON_PARAMS = ["level", "limit", "date", "product", "seat_type"]
# Name sections, and the param that is shown as a name from each.
NAMES = {"level": "levels", "product": "products", "seat_type": "seat_types", "plan": "plans"}
NAME_IDS = {"levels": VOCABULARY["limit_levels"], "products": VOCABULARY["products"],
            "seat_types": list(ENGLISH["seat_types"]), "plans": list(ENGLISH["plans"])}

AMOUNT = st.decimals(min_value=0, max_value=10**12, allow_nan=False, allow_infinity=False)
STRATEGIES = {
    **{param: st.sampled_from(NAME_IDS[section]) for param, section in NAMES.items()},
    "date": st.dates(),
    "limit": AMOUNT,
    "spend": AMOUNT,
    "amount": AMOUNT,
    "threshold_pct": st.integers(min_value=0, max_value=100),
    "seats": st.integers(min_value=1, max_value=10**6),
    "days": st.integers(min_value=1, max_value=3660),
    # Not in the text: the way on, and a flag a client reads.
    "resume": st.sampled_from(list(VOCABULARY["resume"])),
    "hipaa_addon_ended": st.booleans(),
}


def _cases():
    for section in ("reasons", "resume", "notifications", "transitions"):
        for code, spec in VOCABULARY[section].items():
            params = REASON_PARAMS if section == "reasons" else (spec or {}).get("params", [])
            yield pytest.param(section, code, params, id=f"{section}.{code}")
    for section, ids in NAME_IDS.items():
        for code in ids:
            yield pytest.param(section, code, [], id=f"{section}.{code}")


def _shown(param, value, lang):
    """What the value must look like in the text, computed without i18n."""
    if param in NAMES:
        return CATALOGS[lang][NAMES[param]][value]
    if param in ("limit", "spend", "amount"):
        return format_currency(value, "USD", locale=lang)
    if isinstance(value, date):
        return format_date(value, format="long", locale=lang)
    return format_decimal(value, locale=lang)


@pytest.mark.parametrize("section, code, params", list(_cases()))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_renders_in_every_language(section, code, params, data):
    values = {name: data.draw(STRATEGIES[name], label=name) for name in params}
    used = set(re.findall(r"\{(\w+)\}", ENGLISH[section][code]))
    for lang in SUPPORTED:
        text = render(section, code, values, lang)
        assert text.strip()
        assert "{" not in text and "}" not in text, text
        for name in used:
            assert _shown(name, values[name], lang) in text, (lang, name, text)
