"""Does the text of a bank line give the references a person would read in it?"""

from __future__ import annotations

import pytest

from app.matching import text


def test_is_text_normalised_without_case_accents_or_punctuation():
    assert text.normalize("  Ferretería  EL-Tornillo, S.A.S. ") == "ferreteria el tornillo s a s"
    assert text.normalize("STRAẞE Ñandú") == "strasse nandu"
    assert text.normalize("") == ""


@pytest.mark.parametrize("written", ["FE-1234", "FE 1234", "fe1234", "Fe_1234", "FE.1234"])
def test_is_an_invoice_number_found_however_it_is_spelt(written):
    assert "fe1234" in text.tokens(f"Pago {written} gracias")


def test_are_several_invoice_numbers_found_in_one_text():
    found = text.tokens("Factura FE1234 y FE1235")
    assert "fe1234" in found and "fe1235" in found


def test_is_a_tax_id_with_dots_and_check_digit_found_whole():
    found = text.tokens("NIT 900.123.456-7 PAGO")
    assert "9001234567" in found
    assert "900123456" in found


def test_do_plain_words_stay_apart():
    """Words without digits are not glued to each other (no invented references)."""
    assert "pagofactura" not in text.tokens("pago factura")


def test_is_the_key_of_a_reference_its_letters_and_digits():
    assert text.key("FE-001234") == "fe001234"
    assert text.key("po_1Nx") == "po1nx"
    assert text.key("Ñ-12") == "n12"


@pytest.mark.parametrize(
    ("seen", "reference", "near"),
    [
        ("fe001235", "fe001234", True),  # one wrong digit
        ("fe00124", "fe001234", True),  # one missing
        ("fe0012345", "fe001234", True),  # one extra
        ("fe001299", "fe001234", False),  # two wrong
        ("fe13", "fe12", False),  # too short to guess
        ("fe001234", "fe001234", False),  # the same is not a typo
    ],
)
def test_is_a_one_character_typo_tolerated_in_long_references_only(seen, reference, near):
    assert (text.near_reference([seen], reference) is not None) is near


@pytest.mark.parametrize("texts", [
    ["FE-000123", "fv 99", "SETT12", "A/1.2", "", "po_ABC123", "x\ty"],
    ["FE-1", "Factura Ñandú-7", "NIT 900.123.456-7"],  # not ASCII: one by one
    ["FE-1\x00FE-2", "FE-3"],  # the separator inside a text: one by one
    [],
])
def test_do_many_keys_at_once_equal_one_key_each(texts):
    assert text.keys(texts) == [text.key(t) for t in texts]
