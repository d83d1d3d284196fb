"""render(): typed parameters formatted per language."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from tariff.i18n import Catalogs, MissingParameter, UnknownMessage, render

# What Babel 2.18 (pinned) prints for Decimal('1234.5') in USD: pinned here
# so a change of locale data shows up as a failing test, not as a surprise.
CURRENCY = {
    "en": "$1,234.50",
    "ru": "1\xa0234,50\xa0$",
    "id": "US$1.234,50",
    "fr": "1\u202f234,50\xa0$US",
    "de": "1.234,50\xa0$",
    "it": "1.234,50\xa0USD",
}


@pytest.mark.parametrize("lang", CURRENCY)
def test_amount_is_currency_in_the_language(lang):
    text = render("reasons", "org_limit_reached", {"limit": Decimal("1234.5")}, lang)
    assert CURRENCY[lang] in text


def test_english_amount_in_full():
    assert (render("reasons", "org_limit_reached", {"limit": Decimal("1234.5")}, "en")
            == "Your organization has reached its monthly spend limit of $1,234.50.")


def test_german_amount_uses_german_separators():
    assert "1.234,50" in render("reasons", "individual_limit_reached", {"limit": Decimal("1234.5")}, "de")


@pytest.mark.parametrize("lang, expected", [
    ("it", "L'utilizzo riprenderà in data 1 aprile 2026, all'inizio del prossimo periodo di fatturazione."),
    ("fr", "L'utilisation reprendra le 1 avril 2026, au début de la prochaine période de facturation."),
    ("de", "Die Nutzung wird am 1. April 2026 fortgesetzt, wenn der nächste Abrechnungszeitraum beginnt."),
    ("ru", "Использование возобновится 1 апреля 2026\u202fг., когда начнётся следующий период выставления счетов."),
    ("en", "Usage resumes on April 1, 2026, when the next billing period starts."),
])
def test_date_in_long_form(lang, expected):
    assert render("resume", "wait_for_period", {"date": date(2026, 4, 1)}, lang) == expected


def test_datetime_is_shown_as_its_day():
    text = render("resume", "at_renewal", {"date": datetime(2027, 1, 1, 23, 59)}, "de")
    assert text == "Diese Änderung kann mit Ihrer Verlängerung am 1. Januar 2027 wirksam werden."


def test_level_and_amounts_in_a_notification():
    params = {"level": "organization", "threshold_pct": 80,
              "spend": Decimal("8000"), "limit": Decimal("10000")}
    assert (render("notifications", "spend_threshold", params, "fr")
            == "Les dépenses ont atteint 80 % de la limite de dépenses (niveau organisationnel) : "
               "8\u202f000,00\xa0$US sur 10\u202f000,00\xa0$US pour cette période de facturation.")


def test_product_and_seat_type_names():
    text = render("reasons", "product_not_in_seat", {"product": "claude_code", "seat_type": "chat"}, "ru")
    assert text == "Claude Code не входит в ваш тип места «Chat»."


def test_int_is_grouped_per_language():
    params = {"level": "individual", "threshold_pct": 1000, "spend": Decimal(0), "limit": Decimal(0)}
    assert "1.000 %" in render("notifications", "spend_threshold", params, "de")


def test_unused_params_are_ignored():
    assert render("resume", "contact_sales", {"date": date(2026, 1, 1)}, "en") == \
        "Contact your Anthropic representative or our sales team."


@pytest.mark.parametrize("section, code, lang", [
    ("reasons", "no_such_reason", "en"),
    ("no_such_section", "credits_exhausted", "en"),
    ("reasons", "credits_exhausted", "pt"),
])
def test_unknown_message(section, code, lang):
    with pytest.raises(UnknownMessage) as error:
        render(section, code, {}, lang)
    assert isinstance(error.value, KeyError)
    assert (error.value.section, error.value.code, error.value.lang) == (section, code, lang)
    assert str(error.value) == f"no message {section}.{code!r} in language {lang!r}"


def test_unknown_level_id_is_an_unknown_message():
    with pytest.raises(UnknownMessage, match=r"levels\.'galaxy'"):
        render("resume", "raise_limit", {"level": "galaxy"}, "it")


def test_missing_parameter_is_named():
    with pytest.raises(MissingParameter) as error:
        render("notifications", "spend_threshold",
               {"level": "individual", "threshold_pct": 50, "spend": Decimal(1)}, "id")
    assert error.value.name == "limit"
    assert "'limit'" in str(error.value) and "spend_threshold" in str(error.value)


def test_float_money_is_refused():
    with pytest.raises(TypeError, match="float"):
        render("reasons", "org_limit_reached", {"limit": 1234.5}, "en")


def test_non_finite_amount_is_refused():
    with pytest.raises(ValueError, match="finite"):
        render("reasons", "org_limit_reached", {"limit": Decimal("NaN")}, "en")


def test_named_param_must_be_an_id():
    with pytest.raises(TypeError, match="level"):
        render("resume", "raise_limit", {"level": 3}, "en")


def test_doubled_braces_are_literal(catalog_copy, edit):
    edit(catalog_copy, "en", lambda d: d["resume"].update(ask_admin="Ask an admin {{see docs}}."))
    catalogs = Catalogs.load(catalog_copy)
    assert render("resume", "ask_admin", {}, "en", catalogs=catalogs) == "Ask an admin {see docs}."
