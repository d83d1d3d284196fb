"""Accept-Language negotiation."""

import pytest

from tariff.i18n import negotiate


@pytest.mark.parametrize("header, expected", [
    ("de-CH,de;q=0.9,en;q=0.8", "de"),
    ("fr-CH", "fr"),
    ("RU-ru", "ru"),
    ("id-ID,id;q=0.9", "id"),
    ("it", "it"),
    ("pt-BR", "en"),
    ("pt-BR,pt;q=0.9,fr;q=0.5", "fr"),          # first supported in q order
    ("ru;q=0.1, it;q=0.9", "it"),                # q beats header order
    ("fr;q=0.5, de;q=0.5", "fr"),                # equal q: header order
    ("en;q=0.2, *;q=0.9", "ru"),                 # * = a language not named: first of ours
    ("*", "en"),
    ("de;q=0, fr;q=0", "en"),                    # nothing acceptable: default
    ("de;q=abc, it", "it"),                      # a bad q spoils only its entry
    ("de;q=1.5, ru", "ru"),                      # q above 1 is invalid
    ("zh-Hant-TW, de", "de"),
])
def test_negotiate(header, expected):
    assert negotiate(header) == expected


@pytest.mark.parametrize("garbage", [
    None, "", "   ", ",,,", ";;;", "q=0.5", "123", "de_DE!!", "\x00\xff",
    "de;q=", "; q=1", "x" * 10_000, "é-É", 42, b"de",
])
def test_garbage_falls_back_to_english(garbage):
    assert negotiate(garbage) == "en"
