"""XAdES-EPES signing and verification: round trips, DIAN's examples, tampering and wrapping."""

from __future__ import annotations

import copy
import hashlib
from base64 import b64decode
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from lxml import etree
from signxml import DigestAlgorithm
from signxml.xades import XAdESSignaturePolicy

from app.einvoice.signature import (
    DIAN_POLICY_HASH,
    DIAN_POLICY_HASHES,
    DIAN_POLICY_URL,
    SignatureError,
    dian_policy,
    load_pkcs12,
    make_test_certificate,
    sign_document,
    verify_document,
)
from tests.conftest import shared_data
from tests.einvoice.ubl_factory import NS, make_invoice, parse, safe_parser

SUPPLIER_NIT = "900373076"
SIG = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/ds:Signature"
PAYABLE = "cac:LegalMonetaryTotal/cbc:PayableAmount"


@pytest.fixture(scope="module")
def credentials():
    """A demo company's self-signed certificate (valid 2019-2039), loaded back from its PKCS#12."""
    data, password = make_test_certificate(
        "Proveedor Andino S.A.S.",
        SUPPLIER_NIT,
        not_before=datetime(2019, 1, 1, tzinfo=UTC),
        days=365 * 20,
    )
    return load_pkcs12(data, password)


@pytest.fixture(scope="module")
def signed(credentials) -> bytes:
    key, cert, _ = credentials
    return sign_document(make_invoice(3), key=key, certificate=cert)


def _signature(root: etree._Element) -> etree._Element:
    return root.find(SIG, NS)


def _codes(result) -> list[str]:
    return [f.code for f in result.findings]


# ---------------------------------------------------------------------------------------------
# Round trip and DIAN's profile


def test_what_we_sign_we_verify(signed):
    """Does a document we sign verify, naming the signer, the time and the whole document?"""
    result = verify_document(etree.ElementTree(parse(signed)), supplier_tax_id="900373076-4")
    assert result.present and result.valid, result.findings
    assert result.findings == []
    assert result.covers_whole_document
    assert result.signer_tax_id == SUPPLIER_NIT
    assert "Proveedor Andino" in result.subject and result.serial
    assert result.role == "supplier"
    assert result.signing_time.utcoffset() == timedelta(hours=-5)
    assert result.not_before <= result.signing_time <= result.not_after
    signed_total = result.signed_root.find(PAYABLE, NS).text
    assert signed_total == parse(signed).find(PAYABLE, NS).text


def test_signature_follows_dian_profile(signed):
    """Is the signature where DIAN wants it, with DIAN's algorithms, references and properties?"""
    root = parse(signed)
    extensions = root.findall("ext:UBLExtensions/ext:UBLExtension", NS)
    assert len(extensions) == 2
    assert extensions[0].find("ext:ExtensionContent/sts:DianExtensions", NS) is not None
    signature = extensions[1].find("ext:ExtensionContent/ds:Signature", NS)
    assert signature is not None
    info = signature.find("ds:SignedInfo", NS)
    assert info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == (
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    assert info.find("ds:SignatureMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    refs = info.findall("ds:Reference", NS)
    assert [r.get("URI") for r in refs][0] == ""
    assert refs[1].get("URI") == "#" + signature.find("ds:KeyInfo", NS).get("Id")
    assert refs[2].get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    assert [t.get("Algorithm") for t in refs[0].findall("ds:Transforms/ds:Transform", NS)] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    ]
    assert {d.get("Algorithm") for d in signature.iter(f"{{{NS['ds']}}}DigestMethod")} == {
        "http://www.w3.org/2001/04/xmlenc#sha256"
    }
    props = signature.find(".//xades:SignedSignatureProperties", NS)
    assert props.findtext("xades:SigningTime", namespaces=NS).endswith("-05:00")
    cert_node = props.find("xades:SigningCertificate/xades:Cert", NS)
    assert cert_node.find("xades:IssuerSerial/ds:X509SerialNumber", NS).text.isdigit()
    assert props.find("xades:SigningCertificateV2", NS) is None
    policy = props.find("xades:SignaturePolicyIdentifier/xades:SignaturePolicyId", NS)
    assert policy.findtext("xades:SigPolicyHash/ds:DigestValue", namespaces=NS) == (
        DIAN_POLICY_HASH
    )
    assert "politicadefirma" in policy.findtext("xades:SigPolicyId/xades:Identifier", namespaces=NS)
    assert (
        props.findtext("xades:SignerRole/xades:ClaimedRoles/xades:ClaimedRole", namespaces=NS)
        == "supplier"
    )


def _c14n(node: etree._Element) -> bytes:
    return etree.tostring(node, method="c14n", exclusive=False, with_comments=False)


def test_independent_check_with_lxml_and_cryptography(signed):
    """Do plain lxml C14N 1.0 and `cryptography` confirm every digest and the signature value?"""
    root = parse(signed)
    signature = _signature(root)
    refs = signature.findall("ds:SignedInfo/ds:Reference", NS)

    whole = copy.deepcopy(root)
    enveloped = _signature(whole)
    parent = enveloped.getparent()
    previous = enveloped.getprevious()
    if enveloped.tail:  # keep the text that follows, as the enveloped transform does
        if previous is not None:
            previous.tail = (previous.tail or "") + enveloped.tail
        else:
            parent.text = (parent.text or "") + enveloped.tail
    parent.remove(enveloped)
    digest = hashlib.sha256(_c14n(whole)).digest()
    assert digest == b64decode(refs[0].findtext("ds:DigestValue", namespaces=NS))

    for ref in refs[1:]:
        target = root.xpath("//*[@Id=$id]", id=ref.get("URI")[1:])[0]
        assert hashlib.sha256(_c14n(target)).digest() == b64decode(
            ref.findtext("ds:DigestValue", namespaces=NS)
        )

    cert_text = signature.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)
    cert = x509.load_der_x509_certificate(b64decode(cert_text))
    signature_value = b64decode(signature.findtext("ds:SignatureValue", namespaces=NS))
    cert.public_key().verify(
        signature_value, _c14n(signature.find("ds:SignedInfo", NS)), PKCS1v15(), hashes.SHA256()
    )


def test_signing_time_and_role_can_be_given(credentials):
    """Does a third-party signature at 20:30 in Bogotá keep the Colombian date in SigningTime?"""
    key, cert, _ = credentials
    when = datetime(2024, 3, 15, 1, 30, tzinfo=UTC)  # 2024-03-14 20:30 in Bogotá
    data = sign_document(
        etree.tostring(make_invoice(1)),
        key=key,
        certificate=cert,
        signing_time=when,
        role="third party",
    )
    result = verify_document(parse(data))
    assert result.valid
    assert result.role == "third party"
    assert result.signing_time == when
    text = _signature(parse(data)).findtext(".//xades:SigningTime", namespaces=NS)
    assert text == "2024-03-14T20:30:00-05:00"


def test_signing_creates_the_extensions_it_needs(credentials):
    """Can a document with no UBLExtensions at all be signed in UBLExtension[2]?"""
    key, cert, _ = credentials
    root = make_invoice(1)
    root.remove(root.find("ext:UBLExtensions", NS))
    signed_root = parse(sign_document(root, key=key, certificate=cert))
    assert len(signed_root.findall("ext:UBLExtensions/ext:UBLExtension", NS)) == 2
    assert signed_root[0].tag == f"{{{NS['ext']}}}UBLExtensions"
    assert verify_document(signed_root).valid


def test_signing_twice_is_refused(signed, credentials):
    """Is an already signed document refused rather than signed again?"""
    key, cert, _ = credentials
    with pytest.raises(SignatureError):
        sign_document(signed, key=key, certificate=cert)


# ---------------------------------------------------------------------------------------------
# Certificates


def test_expired_certificate_verifies_as_of_signing_time():
    """Does a signature made while the certificate was valid still verify after it expired?"""
    start = datetime(2019, 1, 1, tzinfo=UTC)
    data, password = make_test_certificate(
        "Antigua S.A.S.", SUPPLIER_NIT, days=365, not_before=start
    )
    key, cert, _ = load_pkcs12(data, password)
    in_time = sign_document(
        make_invoice(1),
        key=key,
        certificate=cert,
        signing_time=datetime(2019, 6, 21, 19, 0, tzinfo=UTC),
    )
    assert verify_document(parse(in_time)).valid
    too_late = sign_document(
        make_invoice(1), key=key, certificate=cert, signing_time=datetime(2021, 6, 21, tzinfo=UTC)
    )
    result = verify_document(parse(too_late))
    assert not result.valid and _codes(result) == ["SIG-CERTIFICATE"]


def test_wrong_password_and_wrong_file_are_clear_errors():
    """Does a wrong PKCS#12 password or a non-PKCS#12 file raise a clear SignatureError?"""
    data, _ = make_test_certificate("Clave S.A.S.", "901234567")
    with pytest.raises(SignatureError, match="password"):
        load_pkcs12(data, "not-the-password")
    with pytest.raises(SignatureError, match="PKCS#12"):
        load_pkcs12(b"-----BEGIN CERTIFICATE-----\nnope\n", "x")


def test_signer_other_than_supplier_is_a_warning(signed):
    """Is a certificate that doesn't name the supplier's NIT reported (as a warning)?"""
    result = verify_document(parse(signed), supplier_tax_id="800197268-4")
    assert result.valid
    assert _codes(result) == ["SIG-SIGNER-TAX-ID"]


# ---------------------------------------------------------------------------------------------
# Tampering


def test_changed_line_after_signing_is_invalid(signed):
    """Does editing a line after signing break the signature (and say so)?"""
    root = parse(signed)
    root.find("cac:InvoiceLine/cbc:LineExtensionAmount", NS).text = "1.00"
    result = verify_document(root)
    assert result.present and not result.valid
    assert _codes(result) == ["SIG-DOCUMENT-ALTERED"]
    assert result.signed_root is None


def test_changed_signature_value_is_invalid(signed):
    """Does a forged SignatureValue fail as an invalid signature, not as an edited document?"""
    root = parse(signed)
    value = _signature(root).find("ds:SignatureValue", NS)
    value.text = ("A" if value.text[0] != "A" else "B") + value.text[1:]
    result = verify_document(root)
    assert not result.valid and _codes(result) == ["SIG-INVALID"]


def test_changed_signing_time_is_invalid(signed):
    """Can the SigningTime be moved to fit a certificate's validity? (It is signed.)"""
    root = parse(signed)
    node = _signature(root).find(".//xades:SigningTime", NS)
    node.text = "2020-01-01T00:00:00-05:00"
    result = verify_document(root)
    assert not result.valid and _codes(result) == ["SIG-INVALID"]


@pytest.mark.parametrize(
    ("xpath", "attribute", "value"),
    [
        (
            "ds:SignedInfo/ds:SignatureMethod",
            "Algorithm",
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        ),
        (
            "ds:SignedInfo/ds:Reference/ds:DigestMethod",
            "Algorithm",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        ),
        (
            ".//xades:CertDigest/ds:DigestMethod",
            "Algorithm",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        ),
    ],
)
def test_sha1_is_refused_with_its_own_code(signed, xpath, attribute, value):
    """Is any SHA-1 in the signature refused as SIG-SHA1?"""
    root = parse(signed)
    _signature(root).find(xpath, NS).set(attribute, value)
    result = verify_document(root)
    assert not result.valid and _codes(result) == ["SIG-SHA1"]


def test_unsigned_document_is_reported_missing():
    """Is an unsigned document reported as such, not as an invalid signature?"""
    result = verify_document(make_invoice(1))
    assert not result.present and not result.valid
    assert _codes(result) == ["SIG-MISSING"]


def test_signature_elsewhere_is_refused(signed):
    """Is a signature moved out of UBLExtensions refused as SIG-LOCATION?"""
    root = parse(signed)
    root.append(_signature(root))
    result = verify_document(root)
    assert not result.valid and _codes(result) == ["SIG-LOCATION"]


def test_second_signature_is_refused(signed):
    """Is a document with two signatures refused as SIG-LOCATION?"""
    root = parse(signed)
    root.find("cac:InvoiceLine", NS).append(copy.deepcopy(_signature(root)))
    result = verify_document(root)
    assert _codes(result) == ["SIG-LOCATION"]


def test_missing_keyinfo_reference_is_refused(signed):
    """Is a signature without DIAN's KeyInfo reference refused as SIG-REFERENCE?"""
    root = parse(signed)
    info = _signature(root).find("ds:SignedInfo", NS)
    info.remove(info.findall("ds:Reference", NS)[1])
    result = verify_document(root)
    assert not result.valid and _codes(result) == ["SIG-REFERENCE"]


def test_signature_not_over_the_whole_document_is_refused(signed):
    """Is a signature whose first reference is not URI="" refused as SIG-NOT-WHOLE-DOCUMENT?"""
    root = parse(signed)
    ref = _signature(root).find("ds:SignedInfo/ds:Reference", NS)
    ref.set("URI", "#" + _signature(root).find("ds:KeyInfo", NS).get("Id"))
    result = verify_document(root)
    assert not result.valid and _codes(result) == ["SIG-NOT-WHOLE-DOCUMENT"]


# ---------------------------------------------------------------------------------------------
# Signature wrapping: the amounts the portal stores come only from what was signed


def _forged_totals(root: etree._Element) -> etree._Element:
    forged = copy.deepcopy(root.find("cac:LegalMonetaryTotal", NS))
    for amount in forged:
        amount.text = "1.00"
    return forged


def test_wrapped_totals_inside_the_signature_cannot_change_amounts(signed):
    """Can unsigned totals hidden in the signature fool the reader? (Only signed_root counts.)"""
    root = parse(signed)
    original = root.find(PAYABLE, NS).text
    wrapper = etree.SubElement(_signature(root), f"{{{NS['ds']}}}Object")
    wrapper.append(_forged_totals(root))

    naive = root.xpath("//cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS)[0].text
    assert naive == "1.00"  # what a reader of the raw tree would store

    result = verify_document(root)
    assert result.valid  # the enveloped signature does not cover itself …
    assert "SIG-UNSIGNED-CONTENT" in _codes(result)  # … so the foreign content is flagged
    signed_totals = result.signed_root.xpath(
        "//cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS
    )
    assert [t.text for t in signed_totals] == [original]


def test_second_copy_of_totals_in_the_document_fails(signed):
    """Does a second, forged LegalMonetaryTotal in the document break the signature?"""
    root = parse(signed)
    root.find("cac:LegalMonetaryTotal", NS).addprevious(_forged_totals(root))
    result = verify_document(root)
    assert not result.valid and result.signed_root is None
    assert _codes(result) == ["SIG-DOCUMENT-ALTERED"]


def test_signed_document_moved_inside_a_forged_one_fails(signed):
    """Does wrapping the signed document inside a forged invoice get refused?"""
    original = parse(signed)
    forged = make_invoice(1)
    forged.find(PAYABLE, NS).text = "1.00"
    content = forged.find("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent", NS)
    content.append(original)
    result = verify_document(forged)
    assert not result.valid and _codes(result) == ["SIG-LOCATION"]


# ---------------------------------------------------------------------------------------------
# The signature policy: a separate check, never what makes a signature invalid

POLICY_ALGORITHMS = [
    DigestAlgorithm.SHA1,
    DigestAlgorithm.SHA256,
    DigestAlgorithm.SHA384,
    DigestAlgorithm.SHA512,
]


@pytest.mark.parametrize("digest", POLICY_ALGORITHMS, ids=lambda d: d.name)
def test_each_known_policy_digest_verifies_without_a_warning(credentials, digest):
    """Does a document whose SigPolicyHash is DIAN's policy under SHA-1/256/384/512 verify as
    valid with no policy finding, and does tampering with it still make it invalid?"""
    key, cert, _ = credentials
    signed = sign_document(make_invoice(2), key=key, certificate=cert, policy=dian_policy(digest))
    hash_node = parse(signed).find(f"{SIG}//xades:SigPolicyHash", NS)
    assert hash_node.find("ds:DigestMethod", NS).get("Algorithm") == digest.value
    assert hash_node.findtext("ds:DigestValue", None, NS) == DIAN_POLICY_HASHES[digest]
    result = verify_document(parse(signed), supplier_tax_id=SUPPLIER_NIT)
    assert result.valid and result.findings == []

    root = parse(signed)
    root.find(PAYABLE, NS).text = "1.00"
    result = verify_document(root)
    assert not result.valid and _codes(result) == ["SIG-DOCUMENT-ALTERED"]


def test_known_policy_hashes_are_the_policy_documents_digests():
    """Are the four known values digests of one document (the same bytes under each
    algorithm), with the SHA-256 one the value DIAN's examples and our signer write?"""
    assert DIAN_POLICY_HASHES[DigestAlgorithm.SHA256] == DIAN_POLICY_HASH
    lengths = {d: len(b64decode(v)) for d, v in DIAN_POLICY_HASHES.items()}
    assert lengths == {
        DigestAlgorithm.SHA1: 20,
        DigestAlgorithm.SHA256: 32,
        DigestAlgorithm.SHA384: 48,
        DigestAlgorithm.SHA512: 64,
    }


def _policy(identifier=DIAN_POLICY_URL, digest=DigestAlgorithm.SHA256, value=DIAN_POLICY_HASH):
    return XAdESSignaturePolicy(
        Identifier=identifier, Description="Política", DigestMethod=digest, DigestValue=value
    )


OTHER_SHA256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="  # sha256(b"test")
UNKNOWN_POLICIES = {
    "other identifier": _policy(identifier="https://example.com/politica.pdf"),
    "empty identifier": _policy(identifier=""),
    "other hash": _policy(value=OTHER_SHA256),
    "sha384 value under sha256": _policy(value=DIAN_POLICY_HASHES[DigestAlgorithm.SHA384]),
    "sha256 value under sha512": _policy(digest=DigestAlgorithm.SHA512),
    "algorithm without a known value": _policy(digest=DigestAlgorithm.SHA3_256),
}


@pytest.mark.parametrize("name", list(UNKNOWN_POLICIES))
def test_unknown_policy_is_a_warning_on_a_valid_signature(credentials, name):
    """Is a signature naming another policy (identifier or hash) still valid, with one
    SIG-POLICY-UNKNOWN warning, and is the document still invalid once tampered with?"""
    key, cert, _ = credentials
    signed = sign_document(
        make_invoice(2), key=key, certificate=cert, policy=UNKNOWN_POLICIES[name]
    )
    result = verify_document(parse(signed), supplier_tax_id=SUPPLIER_NIT)
    assert result.valid and result.signed_root is not None
    assert [(f.severity, f.code) for f in result.findings] == [("warning", "SIG-POLICY-UNKNOWN")]

    root = parse(signed)
    root.find(PAYABLE, NS).text = "1.00"
    assert not verify_document(root).valid


def test_policy_hash_with_line_breaks_is_still_known(credentials):
    """Is a known policy hash written with base64 line breaks recognised (bytes, not text)?"""
    key, cert, _ = credentials
    value = DIAN_POLICY_HASHES[DigestAlgorithm.SHA512]
    wrapped = value[:40] + "\n  " + value[40:]
    signed = sign_document(
        make_invoice(1),
        key=key,
        certificate=cert,
        policy=_policy(digest=DigestAlgorithm.SHA512, value=wrapped),
    )
    result = verify_document(parse(signed))
    assert result.valid and result.findings == []


def test_engine_reports_an_unknown_policy_without_refusing_the_document(credentials):
    """Does ingest keep a document whose signature names another policy readable and signed,
    with the warning among its findings?"""
    from app.einvoice import engine

    key, cert, _ = credentials
    signed = sign_document(
        make_invoice(2), key=key, certificate=cert, policy=_policy(value=OTHER_SHA256)
    )
    result = engine.ingest(signed)
    assert result.signature.valid and result.document.is_signed
    warnings = [f.code for f in result.findings if f.severity == "warning"]
    assert "SIG-POLICY-UNKNOWN" in warnings
    assert not any(f.code.startswith("SIG") for f in result.findings if f.severity == "error")


# ---------------------------------------------------------------------------------------------
# DIAN's own examples


def _examples():
    return shared_data() / "dian" / "caja-herramientas-v1.9" / "ejemplificaciones"


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["CreditNote.xml", "DebitNote.xml"])
def test_dian_notes_verify_as_of_their_signing_time(name):
    """Do DIAN's credit and debit note examples verify, although their certificate expired?"""
    tree = etree.parse(str(_examples() / name), safe_parser())
    result = verify_document(tree)
    assert result.valid, result.findings
    assert result.signing_time.year == 2019
    assert result.not_after < datetime.now(UTC)
    assert result.signer_tax_id == "11111111"
    assert result.serial == "7785324499979575522"
    assert result.signed_root.findtext("cbc:ID", namespaces=NS) == tree.getroot().findtext(
        "cbc:ID", namespaces=NS
    )


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name",
    [
        "Generica.xml",
        "Excluido de IVA.xml",
        "Exportacion.xml",
        "Servicios.xml",
        "ejemplificacionIBUA.xml",
        "eventos-radian/032 - Recibo_B&S.xml",
    ],
)
def test_dian_examples_edited_after_signing_are_reported(name):
    """Are DIAN's examples that were edited after signing reported as altered documents?"""
    result = verify_document(etree.parse(str(_examples() / name), safe_parser()))
    assert result.present and not result.valid
    assert _codes(result) == ["SIG-DOCUMENT-ALTERED"]


@pytest.mark.shared_data
def test_dian_unsigned_event_is_reported_missing():
    """Is DIAN's unsigned 030 event example reported as not signed?"""
    path = _examples() / "eventos-radian" / "030 - Acuse_ReciboFEV.xml"
    assert _codes(verify_document(etree.parse(str(path), safe_parser()))) == ["SIG-MISSING"]


@pytest.mark.shared_data
def test_dian_note_mutated_after_signing_is_invalid():
    """Does changing a total in DIAN's verifying credit note make it fail?"""
    tree = etree.parse(str(_examples() / "CreditNote.xml"), safe_parser())
    tree.getroot().find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    assert _codes(verify_document(tree)) == ["SIG-DOCUMENT-ALTERED"]


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name",
    [
        "CreditNote.xml",
        "DebitNote.xml",
        "Generica.xml",
        "Excluido de IVA.xml",
        "Exportacion.xml",
        "Servicios.xml",
        "ejemplificacionIBUA.xml",
        "eventos-radian/032 - Recibo_B&S.xml",
    ],
)
def test_dian_examples_name_a_known_policy_hash(name):
    """Is the policy hash each DIAN example states (SHA-256, or SHA-384 in the IBUA one) one
    the verifier knows for that algorithm?"""
    root = etree.parse(str(_examples() / name), safe_parser()).getroot()
    node = root.find(f"{SIG}//xades:SigPolicyHash", NS)
    digest = DigestAlgorithm(node.find("ds:DigestMethod", NS).get("Algorithm"))
    assert node.findtext("ds:DigestValue", None, NS).strip() == DIAN_POLICY_HASHES[digest]
