"""Catalog loading and the completeness check against the vocabulary."""

import copy

import pytest

from tariff.i18n import Catalogs, CatalogError


def test_shipped_catalogs_cover_the_vocabulary(vocabulary):
    assert Catalogs.load().check(vocabulary) == []


def test_broken_catalog_reports_each_problem(vocabulary, catalog_copy, edit):
    fr = edit(catalog_copy, "fr", lambda d: d["resume"].pop("buy_credits"))
    de = edit(catalog_copy, "de", lambda d: d["resume"].update(
        raise_limit="Bitte die Grenze ({ebene}) erhöhen."))
    it = edit(catalog_copy, "it", lambda d: d["reasons"].update(made_up="Inventato."))

    assert Catalogs.load(catalog_copy).check(vocabulary) == [
        f"{fr}: resume.buy_credits: no message (the id is in the vocabulary)",
        f"{de}: resume.raise_limit: uses {{ebene}}, but English uses {{level}}",
        f"{it}: reasons.made_up: id is not in the vocabulary",
    ]


def test_new_vocabulary_id_is_missing_in_every_language(vocabulary):
    grown = copy.deepcopy(vocabulary)
    grown["resume"]["call_us"] = {"params": []}
    problems = Catalogs.load().check(grown)
    assert len(problems) == 6
    assert all("resume.call_us: no message" in p for p in problems)


def test_english_placeholder_must_be_a_declared_param(vocabulary, catalog_copy, edit):
    en = edit(catalog_copy, "en", lambda d: d["resume"].update(contact_sales="Call sales before {date}."))
    problems = Catalogs.load(catalog_copy).check(vocabulary)
    assert f"{en}: resume.contact_sales: uses {{date}}, which the id does not carry (it may use: no placeholders)" in problems
    # ... and every other language now disagrees with English.
    assert sum("resume.contact_sales: uses no placeholders, but English uses {date}" in p for p in problems) == 5


def test_reasons_may_use_the_optional_reason_params_only(vocabulary, catalog_copy, edit):
    en = edit(catalog_copy, "en", lambda d: d["reasons"].update(role_not_allowed="Not as {role}."))
    problems = Catalogs.load(catalog_copy).check(vocabulary)
    assert any(p.startswith(f"{en}: reasons.role_not_allowed: uses {{role}}") for p in problems)


def test_formatting_inside_a_placeholder_is_reported(vocabulary, catalog_copy, edit):
    ru = edit(catalog_copy, "ru", lambda d: d["reasons"].update(org_limit_reached="Лимит: {limit:.2f}."))
    problems = Catalogs.load(catalog_copy).check(vocabulary)
    assert problems == [f"{ru}: reasons.org_limit_reached: placeholder {{limit:.2f}} must be a plain name such as {{limit}}"]


def test_name_sections_follow_the_vocabulary(vocabulary, catalog_copy, edit):
    ru = edit(catalog_copy, "ru", lambda d: d["seat_types"].pop("premium"))
    assert Catalogs.load(catalog_copy).check(vocabulary) == [
        f"{ru}: seat_types.premium: no message (the id is in the vocabulary)"]


def test_name_sections_outside_the_vocabulary_follow_english(vocabulary, catalog_copy, edit):
    ru = edit(catalog_copy, "ru", lambda d: d["seat_types"].pop("premium"))
    without = {k: v for k, v in vocabulary.items() if k != "seat_types"}
    assert Catalogs.load(catalog_copy).check(without) == [
        f"{ru}: seat_types.premium: no message (the id is in en.yaml)"]


def test_missing_catalog_file_fails_loading(catalog_copy):
    (catalog_copy / "id.yaml").unlink()
    with pytest.raises(CatalogError, match=r"id\.yaml: cannot read catalog"):
        Catalogs.load(catalog_copy)


def test_wrong_shape_fails_loading_with_every_error(catalog_copy, edit):
    def spoil(data):
        data["resume"]["ask_owner"] = ["not", "text"]
        data["prices"] = {}
    edit(catalog_copy, "fr", spoil)
    with pytest.raises(CatalogError) as error:
        Catalogs.load(catalog_copy)
    assert "resume.ask_owner: message must be text, got list" in str(error.value)
    assert "unknown section 'prices'" in str(error.value)


def test_invalid_yaml_fails_loading(catalog_copy):
    (catalog_copy / "de.yaml").write_text("reasons: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"de\.yaml: not valid YAML"):
        Catalogs.load(catalog_copy)
