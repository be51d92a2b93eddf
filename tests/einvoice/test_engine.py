"""Does one call take a file from bytes to a verdict, whatever the file is?"""

from __future__ import annotations

import pytest
from lxml import etree

from app.einvoice.detect import NS
from app.einvoice.engine import ingest
from app.einvoice.model import Format
from tests.conftest import shared_data

DIAN = "dian/caja-herramientas-v1.9/ejemplificaciones"
TEST_TECHNICAL_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"


@pytest.fixture(autouse=True)
def _no_rules(monkeypatch):
    monkeypatch.delenv("EINVOICE_RULES_DIR", raising=False)


def codes(result, severity="error"):
    return sorted(f.code for f in result.findings if f.severity == severity)


@pytest.mark.shared_data
def test_does_the_excluded_invoice_cufe_recompute_with_dians_test_key():
    data = (shared_data() / DIAN / "Excluido de IVA.xml").read_bytes()
    result = ingest(data, technical_key=TEST_TECHNICAL_KEY)
    assert result.cufe.valid is True and result.cufe.computed == result.cufe.declared
    assert result.document.number == "SETP990000001"
    assert "FAD06" not in codes(result)


@pytest.mark.shared_data
def test_does_a_changed_total_break_the_cufe_and_the_arithmetic():
    tree = etree.fromstring((shared_data() / DIAN / "Excluido de IVA.xml").read_bytes())
    tree.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "51000.00"
    result = ingest(etree.tostring(tree), technical_key=TEST_TECHNICAL_KEY)
    assert result.cufe.valid is False
    assert {"FAD06", "FAR08"} <= set(codes(result))
    assert not result.valid


@pytest.mark.shared_data
def test_without_a_key_is_the_cufe_left_unjudged():
    result = ingest((shared_data() / DIAN / "Excluido de IVA.xml").read_bytes())
    assert result.cufe.declared and result.cufe.computed is None and result.cufe.valid is None


@pytest.mark.shared_data
def test_is_a_correctly_signed_dian_credit_note_valid_and_read_from_the_signed_content():
    result = ingest((shared_data() / DIAN / "CreditNote.xml").read_bytes())
    assert result.format is Format.DIAN_UBL21
    assert result.signature is not None and result.signature.valid
    assert result.document.is_signed and result.document.number == "NC3"
    assert result.valid, result.findings


@pytest.mark.shared_data
def test_is_an_edited_dian_example_reported_as_altered_after_signing():
    result = ingest((shared_data() / DIAN / "Servicios.xml").read_bytes())
    assert result.signature is not None and not result.signature.valid
    assert not result.valid


@pytest.mark.shared_data
def test_does_a_missing_rules_folder_leave_a_warning_not_a_silent_pass():
    result = ingest(
        (shared_data() / "ubl/peppol-bis-billing-3/examples/base-example.xml").read_bytes(),
        rules_dir=None,
    )
    assert result.valid and codes(result) == []
    assert codes(result, "warning") == ["RULES-SKIPPED"]


@pytest.mark.shared_data
def test_is_a_foreign_format_refused_with_a_finding():
    result = ingest((shared_data() / "other/cfdi40-valid.xml").read_bytes())
    assert result.format is Format.CFDI and result.document is None and not result.valid
    assert codes(result) == ["FORMAT-UNSUPPORTED"]


def test_is_hostile_xml_refused_before_anything_else(tmp_path):
    secret = tmp_path / "s.txt"
    secret.write_text("ENGINE-SECRET-9")
    data = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'.encode()
    result = ingest(data)
    assert result.document is None and codes(result) == ["XML-DTD"]
    assert "ENGINE-SECRET-9" not in repr(result)


# -- documents the project generates itself (these run everywhere) ---------------------------


@pytest.fixture(scope="module")
def signed_invoice() -> bytes:
    import datetime as dt

    from app.einvoice.signature import load_pkcs12, make_test_certificate, sign_document
    from tests.einvoice.ubl_factory import make_valid_invoice

    p12, password = make_test_certificate(
        "Proveedor Andino S.A.S.",
        "900373076",
        not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        days=7300,
    )
    key, certificate, _ = load_pkcs12(p12, password)
    return sign_document(make_valid_invoice(5), key=key, certificate=certificate)


def test_is_a_signed_generated_invoice_valid_with_its_cufe_recomputed(signed_invoice):
    result = ingest(signed_invoice, technical_key=TEST_TECHNICAL_KEY)
    assert result.signature.valid and result.document.is_signed
    assert result.cufe.valid is True
    assert result.valid and codes(result, "warning") == ["RULES-SKIPPED"]


def test_is_an_unsigned_dian_invoice_an_error(signed_invoice):
    from tests.einvoice.ubl_factory import invoice_bytes

    result = ingest(invoice_bytes(2))
    assert result.signature is not None and not result.signature.present
    assert "SIG-MISSING" in codes(result) and not result.valid


def test_does_ingest_parse_once_and_hand_that_tree_to_the_verifier(signed_invoice, monkeypatch):
    from app.einvoice import detect, engine

    parsed, verified = [], []
    real_parse, real_verify = detect.parse_xml, engine.verify_document

    def counting_parse(data, **kwargs):
        tree, findings = real_parse(data, **kwargs)
        parsed.append(tree)
        return tree, findings

    def spying_verify(tree, **kwargs):
        verified.append(tree)
        return real_verify(tree, **kwargs)

    monkeypatch.setattr(detect, "parse_xml", counting_parse)
    monkeypatch.setattr(engine, "verify_document", spying_verify)
    result = ingest(signed_invoice)
    assert result.valid
    assert len(parsed) == 1 and verified == [result.detection.tree] == parsed


def test_does_verifying_leave_the_parsed_tree_untouched(signed_invoice):
    """The verifier works on the engine's own tree, not a copy: it must not change it."""
    result = ingest(signed_invoice)
    assert result.signature.valid
    assert etree.tostring(result.detection.tree) == etree.tostring(etree.fromstring(signed_invoice))


def test_does_a_total_changed_after_signing_break_the_signature(signed_invoice):
    """The portal must refuse, not store, amounts edited after the supplier signed."""
    root = etree.fromstring(signed_invoice)
    root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    result = ingest(etree.tostring(root))
    assert "SIG-DOCUMENT-ALTERED" in codes(result) and not result.valid
