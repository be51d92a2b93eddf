"""Documents per second on one core for the whole ingest of a signed DIAN invoice, beside its parts.

For a 20-line and a 100-line DIAN invoice signed (XAdES-EPES) with a self-signed test certificate:
  (a) lxml parse alone                 etree.fromstring with the engine's safe parser options
  (b) signxml XAdES verify alone       XAdESVerifier().verify on an already parsed tree
  (c) engine ingest, no official rules  parse + detect + verify + read + own checks + CUFE
  (d) engine ingest with official rules (c) + XSD + DIAN's XSL (rules folder: EINVOICE_RULES_DIR,
                                        else ../shared/data), stylesheets compiled once beforehand
  (e) python-xmlsec verify alone       the C library (xmlsec1) on an already parsed tree
and the ratios c/b (target ≥ 0.9) and c/e (target > 1). Each figure is the best of 5 batches:
the machine is shared, and noise only ever slows a batch down.
Run: ``.venv/bin/python -m benchmarks.einvoice_ingest`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from signxml import CanonicalizationMethod  # noqa: E402
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier  # noqa: E402

from app.einvoice import rules  # noqa: E402
from app.einvoice.engine import ingest  # noqa: E402
from app.einvoice.signature import (  # noqa: E402
    _SIG_LOCATION,
    load_pkcs12,
    make_test_certificate,
    sign_document,
)
from tests.einvoice.ubl_factory import TEST_TECHNICAL_KEY, make_valid_invoice  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
DS = "http://www.w3.org/2000/09/xmldsig#"
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, collect_ids=False
)


def per_second(func: Callable[[], object], seconds: float = 1.0) -> float:
    """Return documents per second: the best of 5 batches of about seconds/5 each."""
    func()  # warm up
    best = 0.0
    for _ in range(5):
        count, start = 0, time.perf_counter()
        while True:
            func()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / 5:
                break
        best = max(best, count / elapsed)
    return best


def signed_invoice(lines: int) -> tuple[bytes, object]:
    """Return (a valid DIAN invoice with `lines` lines, signed; the signing certificate)."""
    data, password = make_test_certificate(
        "Proveedor Andino S.A.S.",
        "900373076",
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
        days=7300,
    )
    key, cert, _ = load_pkcs12(data, password)
    return sign_document(make_valid_invoice(lines), key=key, certificate=cert), cert


def rules_folder() -> Path | None:
    """Return the rules folder for (d): EINVOICE_RULES_DIR, else ../shared/data, else None."""
    folder = rules.rules_dir_from_env() or SHARED_DATA
    return folder if folder.is_dir() else None


def xmlsec_verifier(data: bytes, cert) -> tuple[Callable[[], object] | None, str]:
    """Return (a function verifying the parsed document with python-xmlsec, '') or (None, why)."""
    try:
        import xmlsec
    except ImportError as exc:
        return None, f"not installed ({exc})"
    from cryptography.hazmat.primitives.serialization import Encoding

    root = etree.fromstring(data, PARSER)
    xmlsec.tree.add_ids(root, ["Id"])  # the KeyInfo and SignedProperties references use @Id
    signature = next(root.iter(f"{{{DS}}}Signature"))
    key = xmlsec.Key.from_memory(
        cert.public_bytes(Encoding.PEM), xmlsec.constants.KeyDataFormatCertPem
    )

    def verify() -> None:
        context = xmlsec.SignatureContext()
        context.key = key
        context.verify(signature)

    try:
        verify()
    except xmlsec.Error as exc:
        return None, f"does not verify this document ({exc})"
    return verify, ""


def bench(lines: int, seconds: float, folder: Path | None) -> dict[str, float | str]:
    """Measure (a)–(e) for one signed invoice; a figure that cannot be taken is a reason."""
    data, cert = signed_invoice(lines)
    root = etree.fromstring(data, PARSER)
    config = XAdESSignatureConfiguration(
        location=_SIG_LOCATION,
        verification_time=datetime(2024, 6, 1, tzinfo=UTC),
        default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    XAdESVerifier().verify(root, x509_cert=cert, expect_config=config)
    plain = ingest(data, rules_dir=None, technical_key=TEST_TECHNICAL_KEY)
    errors = [f.code for f in plain.findings if f.severity == "error"]
    assert plain.valid and plain.cufe.valid, errors

    results: dict[str, float | str] = {
        "a": per_second(lambda: etree.fromstring(data, PARSER), seconds),
        "b": per_second(
            lambda: XAdESVerifier().verify(root, x509_cert=cert, expect_config=config), seconds
        ),
        "c": per_second(
            lambda: ingest(data, rules_dir=None, technical_key=TEST_TECHNICAL_KEY), seconds
        ),
    }
    if folder is None:
        results["d"] = "no rules folder (set EINVOICE_RULES_DIR)"
    else:
        rules.warm_up("dian", folder)
        compiled = rules.compiled_count()
        results["d"] = per_second(
            lambda: ingest(data, rules_dir=folder, technical_key=TEST_TECHNICAL_KEY), seconds
        )
        assert rules.compiled_count() == compiled, "a stylesheet was compiled again"
    verify, reason = xmlsec_verifier(data, cert)
    results["e"] = per_second(verify, seconds) if verify else reason
    return results


LABELS = {
    "a": "(a) lxml parse alone",
    "b": "(b) signxml XAdES verify alone",
    "c": "(c) ingest, no official rules",
    "d": "(d) ingest, official rules",
    "e": "(e) python-xmlsec verify alone",
}


def main(seconds: float = 1.0) -> None:
    """Print (a)–(e) and the ratios c/b and c/e for a 20-line and a 100-line invoice."""
    # (c) must not pick the official rules up from the environment.
    folder = rules_folder()
    saved = os.environ.pop("EINVOICE_RULES_DIR", None)
    try:
        print("e-invoice ingest, signed DIAN invoice, one core: documents per second (ms each)")
        for lines in (20, 100):
            results = bench(lines, seconds, folder)
            for key, label in LABELS.items():
                value = results[key]
                if isinstance(value, float):
                    ms = 1000 / value
                    print(f"  {lines:3d} lines  {label:<34} {value:8.1f} doc/s  {ms:7.2f} ms")
                else:
                    print(f"  {lines:3d} lines  {label:<34} {value}")
            c = results["c"]
            for other, target in (("b", "target >= 0.90"), ("e", "target > 1")):
                value = results[other]
                ratio = f"{c / value:.2f}" if isinstance(value, float) else "n/a"
                print(f"  {lines:3d} lines  c/{other} = {ratio}  ({target})")
        if folder is not None:
            print(
                f"  official rules from {folder}; {rules.compiled_count()} stylesheet(s) "
                "compiled, once each"
            )
    finally:
        if saved is not None:
            os.environ["EINVOICE_RULES_DIR"] = saved


if __name__ == "__main__":
    main()
