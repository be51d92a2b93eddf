"""Sign and verify DIAN documents: enveloped XMLDSig with XAdES-EPES, through signxml.

Verification never trusts the document as parsed: callers read invoice data only from
``SignatureResult.signed_root``, the tree signxml rebuilt from the bytes it checked. The
cryptography itself (digests, C14N, RSA) is signxml's; this module decides what to require
(location, references, algorithms, signing time) and turns each failure into a stable code.

Certificates are verified as of the document's SigningTime (signed certificates expire). The
signer's certificate is the one embedded in KeyInfo; chaining it to an accredited Colombian CA
is not done here, so the result reports who signed and callers compare that with the supplier.
"""

from __future__ import annotations

import re
import secrets
import uuid
from base64 import b64decode, b64encode
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.algorithms import digest_algorithm_implementations
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature, SignXMLException
from signxml.util import add_pem_header
from signxml.xades import (
    XAdESSignatureConfiguration,
    XAdESSignaturePolicy,
    XAdESSigner,
    XAdESVerifier,
)

from app.einvoice.findings import Finding, error, warning

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
NS = {"ds": DS, "xades": XADES, "ext": EXT}

COLOMBIA = timezone(timedelta(hours=-5), "COT")
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
C14N_TRANSFORMS = frozenset(m.value for m in CanonicalizationMethod)

DIAN_POLICY_URL = "https://facturaelectronica.dian.gov.co/politicadefirma/v2/politicadefirmav2.pdf"
#: DIAN's own validated samples name the same PDF under /v1/.
DIAN_POLICY_URLS = frozenset(
    {
        DIAN_POLICY_URL,
        "https://facturaelectronica.dian.gov.co/politicadefirma/v1/politicadefirmav2.pdf",
    }
)
DIAN_POLICY_HASH = "dMoMvtcG5aIzgYo0tIsSQeVJBDnUnfSOfBpxXrmor0Y="
#: The digest of DIAN's policy v2 PDF under each algorithm a signer may name in SigPolicyHash
#: (recomputed from the PDF; DIAN's own examples carry the SHA-256 and the SHA-384 values).
#: A SHA-1 policy hash only names the public policy document: it protects nothing, so it is
#: known here too, while SHA-1 in the signature itself stays refused (SIG-SHA1).
DIAN_POLICY_HASHES: dict[DigestAlgorithm, str] = {
    DigestAlgorithm.SHA1: "sbcECQ7v+y/m3OcBCJyvmkBhtFs=",
    DigestAlgorithm.SHA256: DIAN_POLICY_HASH,
    DigestAlgorithm.SHA384: "EQC0kiWPaAME6IsEZ7WuaTWJ97Zmf6hIO69rMCVURmQxBB9ebgLrjhL5BArQ0a0l",
    DigestAlgorithm.SHA512: (
        "Zcjw1Z9nGQn2j6NyGx8kAaLbOfJGd/fJxRTCeirlqAg7zRG27piJkJOpflGu7XACpMj9hC6dVMcCyzqHxxPZeQ=="
    ),
}
#: Other spellings of the same digest algorithms met in signatures.
_DIGEST_ALIASES = {
    "http://www.w3.org/2001/04/xmlenc#sha384": DigestAlgorithm.SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#sha256": DigestAlgorithm.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha512": DigestAlgorithm.SHA512,
}
POLICY_DESCRIPTION = "Política de firma para facturas electrónicas de la República de Colombia"
POLICY_UNKNOWN_CODE = "SIG-POLICY-UNKNOWN"


def dian_policy(digest: DigestAlgorithm = DigestAlgorithm.SHA256) -> XAdESSignaturePolicy:
    """Return DIAN's signature policy v2 with its hash under digest (SHA-1/256/384/512)."""
    if digest not in DIAN_POLICY_HASHES:
        raise SignatureError(f"No known DIAN policy hash for {digest}.")
    return XAdESSignaturePolicy(
        Identifier=DIAN_POLICY_URL,
        Description=POLICY_DESCRIPTION,
        DigestMethod=digest,
        DigestValue=DIAN_POLICY_HASHES[digest],
    )


ROLES = {"supplier": "supplier", "third party": "third party", "third_party": "third party"}

_SIG_PATH = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/ds:Signature"
_SIG_LOCATION = f"./{{{EXT}}}UBLExtensions/{{{EXT}}}UBLExtension/{{{EXT}}}ExtensionContent/"


class SignatureError(ValueError):
    """A certificate or key could not be loaded, or a document cannot be signed."""


DIAN_POLICY = dian_policy(DigestAlgorithm.SHA256)


@dataclass
class SignatureResult:
    """What verifying a document's signature established."""

    present: bool = False
    valid: bool = False
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    signer_tax_id: str | None = None
    signing_time: datetime | None = None
    role: str | None = None
    covers_whole_document: bool = False
    reason: str | None = None
    findings: list[Finding] = field(default_factory=list)
    #: The document exactly as signed (signature removed); None unless valid.
    signed_root: etree._Element | None = None

    def fail(self, code: str, es: str, en: str, path: str = "") -> SignatureResult:
        """Record an error finding, mark the signature invalid and return self."""
        self.findings.append(error(code, es, en, path))
        self.valid = False
        self.signed_root = None
        if self.reason is None:
            self.reason = en
        return self


# ---------------------------------------------------------------------------------------------
# Verification


class _DianXAdESVerifier(XAdESVerifier):
    """signxml's XAdES verifier, accepting DIAN's SigningCertificate that lists the whole chain.

    DIAN's samples reference the leaf and its CA certificates in SigningCertificate but carry
    only the leaf in KeyInfo; signxml would require every listed certificate to be present.
    Here the first Cert must be the signing certificate (as signxml requires) and the others,
    which name certificates the document does not carry, are not looked up.
    """

    def get_root(self, data):
        # signxml serialises and re-parses a tree it is handed, to be free to change it. Its
        # verify() never changes that root (the signature and each reference are checked in
        # copies of their own), so a whole document is used as it is: the engine parses once.
        if isinstance(data, etree._Element) and data.getparent() is None:
            return data
        return super().get_root(data)

    def _verify_cert_digest(self, signing_cert_node, certs, signing_cert):
        cert_nodes = self._findall(signing_cert_node, "xades:Cert")
        if not cert_nodes or signing_cert is None:
            raise InvalidDigest("No signing certificate reference in SigningCertificate")
        first = self._find(cert_nodes[0], "xades:CertDigest")
        digest_alg = DigestAlgorithm(self._find(first, "DigestMethod").get("Algorithm"))
        self.check_digest_alg_expected(digest_alg)
        digest_value = b64decode(self._find(first, "DigestValue").text or "")
        if digest_value != signing_cert.fingerprint(digest_algorithm_implementations[digest_alg]()):
            raise InvalidDigest("Digest mismatch for signing certificate digest")


def _parse_datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=COLOMBIA)


def _is_sha1(algorithm: str | None) -> bool:
    return bool(algorithm) and re.search(r"sha1\b|sha-1\b", algorithm.lower()) is not None


def _signature_path(signature: etree._Element) -> str:
    names = []
    node = signature
    while node is not None:
        names.append(etree.QName(node).localname)
        node = node.getparent()
    return "/" + "/".join(reversed(names))


def _at_expected_location(root: etree._Element, signature: etree._Element) -> bool:
    content = signature.getparent()
    extension = content.getparent() if content is not None else None
    extensions = extension.getparent() if extension is not None else None
    return (
        content is not None
        and content.tag == f"{{{EXT}}}ExtensionContent"
        and extension is not None
        and extension.tag == f"{{{EXT}}}UBLExtension"
        and extensions is not None
        and extensions.tag == f"{{{EXT}}}UBLExtensions"
        and extensions.getparent() is root
    )


def _load_embedded_certificates(signature: etree._Element) -> list[x509.Certificate]:
    certs = []
    for node in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
        certs.append(x509.load_der_x509_certificate(b64decode(node.text or "")))
    return certs


def _choose_signing_certificate(
    signature: etree._Element, certs: list[x509.Certificate]
) -> x509.Certificate:
    """Pick the embedded certificate SigningCertificate names first (signxml then checks it)."""
    first = signature.find(
        ".//xades:SignedSignatureProperties/xades:SigningCertificate/xades:Cert/xades:CertDigest",
        NS,
    )
    if first is None:
        first = signature.find(
            ".//xades:SignedSignatureProperties/xades:SigningCertificateV2/xades:Cert/"
            "xades:CertDigest",
            NS,
        )
    if first is not None and len(certs) > 1:
        try:
            algorithm = DigestAlgorithm(first.find("ds:DigestMethod", NS).get("Algorithm"))
            wanted = b64decode(first.findtext("ds:DigestValue", "", NS))
            for cert in certs:
                if cert.fingerprint(digest_algorithm_implementations[algorithm]()) == wanted:
                    return cert
        except (ValueError, AttributeError, KeyError):
            pass
    return certs[0]


def signer_tax_id(certificate: x509.Certificate) -> str | None:
    """Return the tax id (NIT or cédula digits) in a certificate's subject, if it names one."""
    subject = certificate.subject
    for oid in (NameOID.SERIAL_NUMBER, NameOID.USER_ID, NameOID.COMMON_NAME):
        for attribute in subject.get_attributes_for_oid(oid):
            value = str(attribute.value)
            if oid == NameOID.COMMON_NAME:
                match = re.search(r"\b(?:NIT|nit)?\s*[:.]?\s*(\d{6,10})(?:-\d)?\b", value)
                if match:
                    return match.group(1)
                continue
            digits = re.sub(r"\D", "", value)
            if digits:
                return digits
    return None


def tax_id_matches(signer_id: str | None, tax_id: str | None) -> bool:
    """Say whether a certificate's id names tax_id (a NIT with or without its check digit)."""
    if not signer_id or not tax_id:
        return False
    nit = re.sub(r"\D", "", tax_id)
    return (
        signer_id == nit
        or (len(signer_id) == len(nit) + 1 and signer_id.startswith(nit))
        or (len(nit) == len(signer_id) + 1 and nit.startswith(signer_id))
    )


def _describe(result: SignatureResult, cert: x509.Certificate) -> None:
    result.subject = cert.subject.rfc4514_string()
    result.issuer = cert.issuer.rfc4514_string()
    result.serial = str(cert.serial_number)
    result.not_before = cert.not_valid_before_utc
    result.not_after = cert.not_valid_after_utc
    result.signer_tax_id = signer_tax_id(cert)


def _check_references(result: SignatureResult, signature: etree._Element) -> int | None:
    """Require DIAN's three references; return the index of the whole-document one."""
    signed_info = signature.find("ds:SignedInfo", NS)
    references = signed_info.findall("ds:Reference", NS) if signed_info is not None else []
    if not references:
        result.fail(
            "SIG-REFERENCE", "La firma no tiene referencias.", "The signature has no references."
        )
        return None
    key_info = signature.find("ds:KeyInfo", NS)
    key_info_uri = f"#{key_info.get('Id')}" if key_info is not None and key_info.get("Id") else None
    whole, has_key_info, has_properties = None, False, False
    for index, reference in enumerate(references):
        uri = reference.get("URI")
        transforms = [
            t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", NS)
        ]
        unknown = [t for t in transforms if t != ENVELOPED and t not in C14N_TRANSFORMS]
        if uri is None or unknown:
            result.fail(
                "SIG-REFERENCE",
                "La firma tiene una referencia sin URI o con transformaciones no admitidas.",
                "The signature has a reference without a URI or with unsupported transforms.",
            )
            return None
        if uri == "":
            if whole is not None or ENVELOPED not in transforms:
                break
            whole = index
        elif reference.get("Type") == SIGNED_PROPERTIES_TYPE:
            has_properties = True
        elif key_info_uri is not None and uri == key_info_uri:
            has_key_info = True
        else:
            result.fail(
                "SIG-REFERENCE",
                f"La firma tiene una referencia inesperada ({uri}).",
                f"The signature has an unexpected reference ({uri}).",
            )
            return None
    else:
        if whole is None:
            result.fail(
                "SIG-NOT-WHOLE-DOCUMENT",
                'La firma no cubre el documento completo (falta la referencia URI="" '
                "con la transformación enveloped-signature).",
                'The signature does not cover the whole document (no URI="" reference '
                "with the enveloped-signature transform).",
            )
            return None
        if not (has_key_info and has_properties):
            result.fail(
                "SIG-REFERENCE",
                "Faltan las referencias a KeyInfo o a SignedProperties exigidas por la DIAN.",
                "The references to KeyInfo or SignedProperties that DIAN requires are missing.",
            )
            return None
        result.covers_whole_document = True
        return whole
    result.fail(
        "SIG-NOT-WHOLE-DOCUMENT",
        'La firma debe tener una sola referencia URI="" con enveloped-signature.',
        'The signature must carry exactly one URI="" reference with enveloped-signature.',
    )
    return None


def _document_digest_broken(verifier: _DianXAdESVerifier, root: etree._Element, whole: int) -> bool:
    """After a failure, ask signxml whether the whole-document digest itself mismatches."""
    try:
        copy = verifier.get_root(root)
        signature = verifier._get_signature(copy)
        reference = signature.findall("ds:SignedInfo/ds:Reference", NS)[whole]
        verifier._verify_reference(reference, whole, copy, None, None, signature, b"")
    except InvalidDigest:
        return True
    except (SignXMLException, ValueError, AttributeError, IndexError, TypeError):
        return False
    return False


def verify_document(
    tree: etree._ElementTree | etree._Element, *, supplier_tax_id: str | None = None
) -> SignatureResult:
    """Verify a DIAN document's XAdES signature as of its SigningTime and say what was signed."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    result = SignatureResult()
    signatures = list(root.iter(f"{{{DS}}}Signature"))
    if not signatures:
        result.findings.append(
            error("SIG-MISSING", "El documento no está firmado.", "The document is not signed.")
        )
        result.reason = "not signed"
        return result
    result.present = True
    signature = signatures[0]
    if len(signatures) > 1 or not _at_expected_location(root, signature):
        where = ", ".join(_signature_path(s) for s in signatures)
        return result.fail(
            "SIG-LOCATION",
            f"La firma debe ser única y estar en /*/{_SIG_PATH}; se encontró en {where}.",
            f"The signature must be unique and at /*/{_SIG_PATH}; found at {where}.",
            where,
        )

    # The policy hash only names the policy document; it is judged by _check_policy.
    algorithms = [
        n.get("Algorithm")
        for n in signature.iter(f"{{{DS}}}SignatureMethod", f"{{{DS}}}DigestMethod")
        if n.getparent() is None or n.getparent().tag != f"{{{XADES}}}SigPolicyHash"
    ]
    if any(_is_sha1(a) for a in algorithms):
        return result.fail(
            "SIG-SHA1",
            "La firma usa SHA-1, que la política de la DIAN no admite.",
            "The signature uses SHA-1, which DIAN's policy no longer accepts.",
        )

    whole = _check_references(result, signature)
    if whole is None:
        return result

    try:
        certs = _load_embedded_certificates(signature)
    except ValueError:
        certs = []
    if not certs:
        return result.fail(
            "SIG-CERTIFICATE",
            "La firma no incluye un certificado X.509 legible.",
            "The signature does not carry a readable X.509 certificate.",
        )
    cert = _choose_signing_certificate(signature, certs)
    _describe(result, cert)

    claimed_time = _parse_datetime(
        signature.findtext(
            "ds:Object/xades:QualifyingProperties/xades:SignedProperties/"
            "xades:SignedSignatureProperties/xades:SigningTime",
            None,
            NS,
        )
    )
    if claimed_time is None:
        return result.fail(
            "SIG-SIGNING-TIME",
            "Falta la hora de firma (SigningTime) o no es válida.",
            "SigningTime is missing or not a valid date-time.",
        )

    config = XAdESSignatureConfiguration(
        location=_SIG_LOCATION,
        expect_references=len(signature.findall("ds:SignedInfo/ds:Reference", NS)),
        verification_time=claimed_time,
        default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    verifier = _DianXAdESVerifier()
    try:
        verified = verifier.verify(root, x509_cert=cert, expect_config=config)
    except InvalidCertificate as exc:
        return result.fail(
            "SIG-CERTIFICATE",
            "El certificado no era válido en la fecha de firma.",
            f"The certificate was not valid at the signing time: {exc}",
        )
    except (InvalidSignature, InvalidDigest) as exc:
        if "certificate digest" in str(exc):
            return result.fail(
                "SIG-CERTIFICATE",
                "SigningCertificate no corresponde al certificado que firmó.",
                "SigningCertificate does not match the certificate that signed.",
            )
        if _document_digest_broken(verifier, root, whole):
            return result.fail(
                "SIG-DOCUMENT-ALTERED",
                "El documento fue modificado después de firmarse: el resumen de la referencia "
                "al documento completo no coincide.",
                "The document was changed after it was signed: the whole-document reference "
                "digest does not match.",
            )
        return result.fail(
            "SIG-INVALID", "La firma no es válida.", f"The signature is not valid: {exc}"
        )
    except (SignXMLException, etree.DocumentInvalid, ValueError) as exc:
        return result.fail(
            "SIG-INVALID",
            "La firma no es válida o está mal formada.",
            f"The signature is invalid or malformed: {exc}",
        )

    properties = next(v for v in verified if hasattr(v, "signed_properties")).signed_properties
    signed_time = _parse_datetime(properties.findtext("xades:SigningTime", None, NS))
    if signed_time != claimed_time:
        return result.fail(
            "SIG-SIGNING-TIME",
            "La hora de firma usada no es la que está firmada.",
            "The SigningTime used is not the signed one.",
        )
    result.signing_time = signed_time
    result.role = properties.findtext(
        "xades:SignerRole/xades:ClaimedRoles/xades:ClaimedRole", None, NS
    )
    _check_policy(result, properties)
    if any(f.severity == "error" for f in result.findings):
        return result
    result.signed_root = verified[whole].signed_xml
    if result.signed_root is None:
        return result.fail(
            "SIG-INVALID",
            "No se pudo leer el contenido firmado.",
            "The signed content could not be read.",
        )
    result.valid = True
    _check_unsigned_content(result, signature)
    if supplier_tax_id and not tax_id_matches(result.signer_tax_id, supplier_tax_id):
        result.findings.append(
            warning(
                "SIG-SIGNER-TAX-ID",
                f"El certificado ({result.signer_tax_id or 'sin NIT'}) no es del proveedor "
                f"{supplier_tax_id}.",
                f"The certificate ({result.signer_tax_id or 'no tax id'}) is not the supplier's "
                f"({supplier_tax_id}).",
            )
        )
    return result


_SIGNATURE_NAMESPACES = tuple(
    f"{{{ns}}}" for ns in (DS, XADES, "http://uri.etsi.org/01903/v1.4.1#")
)


def _check_unsigned_content(result: SignatureResult, signature: etree._Element) -> None:
    """Warn about foreign elements inside ds:Signature: no reference covers them."""
    for node in signature.iter("*"):
        if not node.tag.startswith(_SIGNATURE_NAMESPACES):  # no namespace: no "{" at all
            result.findings.append(
                warning(
                    "SIG-UNSIGNED-CONTENT",
                    "La firma contiene elementos ajenos que no están firmados; se ignoran.",
                    "The signature holds foreign elements that are not signed; they are ignored.",
                    _signature_path(node),
                )
            )
            return


def _policy_digest(algorithm: str | None) -> DigestAlgorithm | None:
    if not algorithm:
        return None
    algorithm = algorithm.strip()
    if algorithm in _DIGEST_ALIASES:
        return _DIGEST_ALIASES[algorithm]
    try:
        return DigestAlgorithm(algorithm)
    except ValueError:
        return None


def _same_digest(written: str, known: str) -> bool:
    """Compare two base64 digests by their bytes (line breaks and spaces in base64 allowed)."""
    try:
        return b64decode("".join(written.split()), validate=True) == b64decode(known)
    except ValueError:
        return False


def _check_policy(result: SignatureResult, properties: etree._Element) -> None:
    """Judge the signature policy the signer names: known identifier and hash, or a warning.

    This never makes a signature invalid: ``valid`` says whether the signature verifies and
    covers the whole document. An identifier or hash other than DIAN's policy v2 (under any
    digest algorithm in DIAN_POLICY_HASHES) is a SIG-POLICY-UNKNOWN warning.
    """
    policy = properties.find("xades:SignaturePolicyIdentifier/xades:SignaturePolicyId", NS)
    if policy is None:
        result.findings.append(
            warning(
                "SIG-POLICY",
                "La firma no declara la política de firma de la DIAN.",
                "The signature does not declare DIAN's signature policy.",
            )
        )
        return
    identifier = (policy.findtext("xades:SigPolicyId/xades:Identifier", "", NS) or "").strip()
    method = policy.find("xades:SigPolicyHash/ds:DigestMethod", NS)
    algorithm = method.get("Algorithm") if method is not None else None
    digest = policy.findtext("xades:SigPolicyHash/ds:DigestValue", "", NS) or ""
    known = DIAN_POLICY_HASHES.get(_policy_digest(algorithm))
    path = "/*/ext:UBLExtensions/…/xades:SignaturePolicyIdentifier"
    if identifier not in DIAN_POLICY_URLS:
        result.findings.append(
            warning(
                POLICY_UNKNOWN_CODE,
                f"La firma declara una política de firma desconocida ({identifier or 'vacía'}); "
                "la firma en sí es válida.",
                f"The signature names an unknown signature policy ({identifier or 'empty'}); "
                "the signature itself is valid.",
                path,
            )
        )
    elif known is None or not _same_digest(digest, known):
        result.findings.append(
            warning(
                POLICY_UNKNOWN_CODE,
                f"El hash de la política de firma ({algorithm or 'sin algoritmo'}) no es el de "
                "la política de la DIAN; la firma en sí es válida.",
                f"The signature policy hash ({algorithm or 'no algorithm'}) is not that of "
                "DIAN's policy; the signature itself is valid.",
                path,
            )
        )


# ---------------------------------------------------------------------------------------------
# Signing


class _DianXAdESSigner(XAdESSigner):
    """signxml's XAdES signer writing what DIAN's policy and samples carry.

    v1 SigningCertificate with IssuerSerial (signxml writes V2), a SigningTime in Colombian time
    that the caller may fix, DIAN-style Ids, and KeyInfo referenced before SignedProperties.
    """

    def __init__(self, *, signing_time: datetime, role: str, policy: XAdESSignaturePolicy) -> None:
        super().__init__(
            signature_policy=policy,
            claimed_roles=[role],
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
        )
        self.signing_time = signing_time
        self.signature_annotators.insert(1, self._name_nodes)

    def _name_nodes(self, sig_root, signing_settings) -> None:
        base = f"xmldsig-{uuid.uuid4()}"
        sig_root.set("Id", base)
        key_info = self._find(sig_root, "KeyInfo")
        key_info.set("Id", f"{base}-keyinfo")

    def _build_xades_ds_object(self, sig_root, signing_settings):
        super()._build_xades_ds_object(sig_root, signing_settings)
        signed_info = self._find(sig_root, "SignedInfo")
        properties_ref, key_info_ref = signed_info.findall(f"{{{DS}}}Reference")[-2:]
        properties_ref.addprevious(key_info_ref)

    def add_signing_time(self, signed_signature_properties, sig_root, signing_settings):
        node = etree.SubElement(signed_signature_properties, f"{{{XADES}}}SigningTime")
        node.text = self.signing_time.astimezone(COLOMBIA).isoformat(timespec="seconds")

    def add_signing_certificate(self, signed_signature_properties, sig_root, signing_settings):
        signing_certificate = etree.SubElement(
            signed_signature_properties, f"{{{XADES}}}SigningCertificate"
        )
        for cert in signing_settings.cert_chain:
            if not isinstance(cert, x509.Certificate):
                cert = x509.load_pem_x509_certificate(add_pem_header(cert))
            node = etree.SubElement(signing_certificate, f"{{{XADES}}}Cert")
            digest = etree.SubElement(node, f"{{{XADES}}}CertDigest")
            etree.SubElement(digest, f"{{{DS}}}DigestMethod", Algorithm=self.digest_alg.value)
            value = etree.SubElement(digest, f"{{{DS}}}DigestValue")
            value.text = b64encode(cert.fingerprint(hashes.SHA256())).decode()
            issuer_serial = etree.SubElement(node, f"{{{XADES}}}IssuerSerial")
            etree.SubElement(
                issuer_serial, f"{{{DS}}}X509IssuerName"
            ).text = cert.issuer.rfc4514_string()
            etree.SubElement(issuer_serial, f"{{{DS}}}X509SerialNumber").text = str(
                cert.serial_number
            )


def _placeholder_in_second_extension(root: etree._Element) -> None:
    """Put a signxml placeholder in UBLExtension[2]/ExtensionContent, creating what is missing.

    An AttachedDocument carries no DianExtensions: its signature goes in its only extension.
    """
    if any(True for _ in root.iter(f"{{{DS}}}Signature")):
        raise SignatureError("The document is already signed.")
    position = 1 if etree.QName(root).localname == "AttachedDocument" else 2
    extensions = root.find("ext:UBLExtensions", NS)
    if extensions is None:
        extensions = etree.Element(f"{{{EXT}}}UBLExtensions")
        root.insert(0, extensions)
    existing = extensions.findall("ext:UBLExtension", NS)
    while len(existing) < position:
        existing.append(etree.SubElement(extensions, f"{{{EXT}}}UBLExtension"))
    content = existing[position - 1].find("ext:ExtensionContent", NS)
    if content is None:
        content = etree.SubElement(existing[position - 1], f"{{{EXT}}}ExtensionContent")
    if len(content):
        raise SignatureError(f"UBLExtension[{position}]/ExtensionContent is not empty.")
    etree.SubElement(content, f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})


def sign_document(
    tree_or_bytes: etree._ElementTree | etree._Element | bytes,
    *,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    chain: list[x509.Certificate] | None = None,
    signing_time: datetime | None = None,
    role: str = "supplier",
    policy: XAdESSignaturePolicy | None = None,
) -> bytes:
    """Sign a DIAN document with XAdES-EPES (DIAN policy, C14N 1.0, RSA-SHA256) and return it.

    policy defaults to DIAN's policy v2 with its SHA-256 hash (``dian_policy``).
    """
    if role not in ROLES:
        raise SignatureError(f"Unknown signer role {role!r}: use 'supplier' or 'third party'.")
    if isinstance(tree_or_bytes, bytes):
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(tree_or_bytes, parser=parser)
    elif isinstance(tree_or_bytes, etree._ElementTree):
        root = tree_or_bytes.getroot()
    else:
        root = tree_or_bytes
    # signxml copies the input; work on a copy too so the caller's tree is left untouched
    root = etree.fromstring(etree.tostring(root))
    _placeholder_in_second_extension(root)
    when = signing_time or datetime.now(UTC)
    if when.tzinfo is None:
        raise SignatureError("signing_time must be timezone-aware.")
    signer = _DianXAdESSigner(
        signing_time=when.replace(microsecond=0), role=ROLES[role], policy=policy or DIAN_POLICY
    )
    signed = signer.sign(
        root,
        key=key,
        cert=[certificate, *(chain or [])],
        always_add_key_value=False,
        exclude_c14n_transform_element=True,
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------------------------------------
# Certificates


def load_pkcs12(
    data: bytes, password: str | bytes | None
) -> tuple[rsa.RSAPrivateKey, x509.Certificate, list[x509.Certificate]]:
    """Load a PKCS#12 (.p12/.pfx) file: return (key, certificate, chain) or raise SignatureError."""
    secret = password.encode() if isinstance(password, str) else password
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, secret or None)
    except ValueError as exc:
        text = str(exc).lower()
        if "password" in text or "mac" in text or "decrypt" in text:
            raise SignatureError(
                "Wrong password for the certificate file (contraseña incorrecta)."
            ) from None
        raise SignatureError(
            "Not a PKCS#12 certificate file (.p12/.pfx) (no es un archivo PKCS#12)."
        ) from None
    if key is None or certificate is None:
        raise SignatureError("The PKCS#12 file holds no private key and certificate.")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignatureError("DIAN signatures need an RSA key.")
    return key, certificate, list(chain)


def make_test_certificate(
    company_name: str,
    nit: str,
    *,
    password: str | None = None,
    days: int = 730,
    not_before: datetime | None = None,
) -> tuple[bytes, str]:
    """Generate a self-signed RSA test certificate naming the NIT; return (PKCS#12, password)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    digits = re.sub(r"\D", "", nit)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, company_name),
            x509.NameAttribute(NameOID.COMMON_NAME, company_name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, digits),
        ]
    )
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    password = password or secrets.token_urlsafe(18)
    data = pkcs12.serialize_key_and_certificates(
        name=company_name.encode(),
        key=key,
        cert=certificate,
        cas=None,
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )
    return data, password
