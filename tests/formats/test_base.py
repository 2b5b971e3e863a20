"""The format base: registry with did-you-mean, option checking, text safety helpers."""

from __future__ import annotations

import io

import pytest
from msgspec.structs import replace
from sample_entries import ORDER5

from postingrules import formats
from postingrules.formats.base import (
    FormatError,
    OptionError,
    Transcoder,
    UnknownFormatError,
    clean_text,
    neutralise_formula,
)


def test_registry_suggests_close_name() -> None:
    with pytest.raises(UnknownFormatError, match="did you mean 'json'"):
        formats.get("jsno")


def test_errors_exported_by_the_package() -> None:
    assert formats.UnknownFormatError is UnknownFormatError
    assert formats.FormatError is FormatError
    assert formats.OptionError is OptionError


def test_json_lines_still_registered() -> None:
    assert formats.get("json") is formats.JsonLines


def test_unknown_option_suggests_close_name() -> None:
    with pytest.raises(OptionError, match="did you mean 'separator'"):
        formats.get("fec")(seperator="|")


def test_every_format_describes_itself_on_one_line() -> None:
    for name in formats.names():
        line = formats.get(name).describe()
        assert line and "\n" not in line, name


@pytest.mark.parametrize("value", ["=SUM(A1)", "+33 1 23", "-5% promo", "@cmd"])
def test_formula_values_get_an_apostrophe(value: str) -> None:
    assert neutralise_formula(value) == "'" + value


def test_plain_values_untouched() -> None:
    assert neutralise_formula("Cde web 5") == "Cde web 5"
    assert neutralise_formula("") == ""


@pytest.mark.parametrize("value", ["+1", "-1", "-12,50", "+3.5", "-007"])
def test_plain_numbers_are_no_formula(value: str) -> None:
    # The FEC's own sense convention (+1 / -1) and signed amounts: a spreadsheet reads a
    # number, and an apostrophe would reach the ledger as part of the value.
    assert neutralise_formula(value) == value


@pytest.mark.parametrize("value", ["-", "+1+1", "-1,", "-,5", "+1e3", "-1.2.3", "-１"])
def test_signs_that_are_not_plain_numbers_keep_the_apostrophe(value: str) -> None:
    assert neutralise_formula(value) == "'" + value


def test_control_characters_become_spaces() -> None:
    assert clean_text("a\tb\r\nc") == "a b  c"


def test_transliterate_keeps_what_encoding_holds() -> None:
    assert Transcoder("cp1252").text("Crème brûlée œuf") == "Crème brûlée œuf"
    assert Transcoder("ascii").text("Crème brûlée œuf — 5 €") == "Creme brulee oeuf - 5 EUR"
    assert Transcoder("iso-8859-15").text("Łódź") == "Lódz"


def test_transliterations_already_found_give_the_same_text() -> None:
    # The second value goes through the transliterations learnt from the first; what they
    # do not cover (a new character, one with none) goes through the character loop again.
    for encoding, first, second, expected in (
        ("ascii", "Crème œuf", "Œuf crème — brûlée", "OEuf creme - brulee"),
        ("cp1252", "Łódź", "Kraków, Łódź ąę", "Kraków, Lódz ae"),
    ):
        transcoder = Transcoder(encoding)
        transcoder.text(first)
        assert transcoder.text(second) == expected
        assert transcoder.text(second) == expected
    transcoder = Transcoder("ascii")
    transcoder.text("é")
    with pytest.raises(FormatError, match="'東' has no transliteration"):
        transcoder.text("é東", "order-9", "label")


def test_untransliterable_character_is_refused_with_location() -> None:
    with pytest.raises(FormatError) as err:
        Transcoder("ascii").text("Tokyo 東京", "order-9", "label")
    assert err.value.document_key == "order-9"
    assert err.value.field == "label"
    assert str(err.value).startswith("order-9: field 'label': ")


def test_refuse_mode_refuses_accents() -> None:
    with pytest.raises(FormatError, match="cannot be written in ascii"):
        Transcoder("ascii", "refuse").text("é")


def test_lone_surrogate_is_refused() -> None:
    """JSON can carry "\\ud800", which no encoding writes: refused where text is cleaned,
    not left to fail the file's encoding with a bare UnicodeEncodeError."""
    assert clean_text("Crème\tbrûlée") == "Crème brûlée"
    with pytest.raises(FormatError, match="lone surrogate"):
        clean_text("Cr\ud800me")


def test_unknown_encoding_is_an_option_error() -> None:
    with pytest.raises(OptionError):
        Transcoder("klingon-1")


@pytest.mark.parametrize("name", ["hledger", "beancount", "qbo"])
def test_a_value_error_names_its_entry(name: str) -> None:
    """An error raised where a value is cleaned (a lone surrogate) names the entry it is in,
    so the user can find the document."""
    lines = tuple(replace(ln, label="Ventes \ud800") for ln in ORDER5.lines)
    bad = replace(ORDER5, label="Cde \ud800", lines=lines, document_key="surrogate")
    with pytest.raises(FormatError, match="lone surrogate") as err:
        formats.get(name)().write([ORDER5, bad], io.BytesIO())
    assert err.value.document_key == "surrogate"
