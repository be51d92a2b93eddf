"""Can a script rely on `flask einvoice inspect` and `flask einvoice sign`?"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from app.einvoice.signature import load_pkcs12, make_test_certificate, sign_document
from tests.conftest import shared_data
from tests.einvoice.ubl_factory import NS, TEST_TECHNICAL_KEY, make_valid_invoice

ROOT = Path(__file__).resolve().parents[2]
DIAN = "dian/caja-herramientas-v1.9/ejemplificaciones"
PEPPOL_EXAMPLE = "ubl/peppol-bis-billing-3/examples/base-example.xml"

TOP_KEYS = {
    "file",
    "format",
    "document_type",
    "number",
    "issue_date",
    "currency",
    "line_count",
    "supplier",
    "customer",
    "totals",
    "cufe",
    "signature",
    "valid",
    "findings",
}
#: What an ordering document (Order, Catalogue…) adds to TOP_KEYS.
ORDERING_KEYS = {"transaction", "parties", "order_reference", "response_code"}
PARTY_KEYS = {"tax_id", "name"}
TOTAL_KEYS = {
    "line_extension",
    "tax_exclusive",
    "tax_inclusive",
    "allowance",
    "charge",
    "prepaid",
    "payable",
}
CUFE_KEYS = {"declared", "computed", "valid"}
SIGNATURE_KEYS = {"present", "valid", "signer", "signing_time", "reason"}
FINDING_KEYS = {"severity", "code", "message", "path"}


@pytest.fixture(autouse=True)
def _no_rules(monkeypatch):
    monkeypatch.delenv("EINVOICE_RULES_DIR", raising=False)


@pytest.fixture(scope="module")
def p12():
    """A test certificate for the factory invoice's supplier: (PKCS#12 bytes, password)."""
    return make_test_certificate(
        "Proveedor Andino S.A.S.",
        "900373076",
        not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        days=7300,
    )


@pytest.fixture(scope="module")
def signed_invoice(p12) -> bytes:
    key, certificate, _ = load_pkcs12(*p12)
    return sign_document(make_valid_invoice(3), key=key, certificate=certificate)


def run(app, *args: str):
    """Run `flask einvoice ARGS…` and return click's result."""
    return app.test_cli_runner().invoke(args=["einvoice", *args])


def json_lines(result) -> list[dict]:
    """Parse the output: exactly one JSON object per line."""
    return [json.loads(line) for line in result.stdout.splitlines()]


def _optional(value, kind) -> bool:
    return value is None or isinstance(value, kind)


def assert_contract(obj: dict) -> None:
    """Check the exact keys and value types of one `inspect --json` object."""
    ordering = obj["format"] == "peppol-bis-ordering-3" or "parties" in obj
    assert set(obj) == (TOP_KEYS | ORDERING_KEYS if ordering else TOP_KEYS)
    assert _optional(obj["line_count"], int)
    for key in ("file", "format"):
        assert isinstance(obj[key], str) and obj[key]
    for key in ("document_type", "number", "currency"):
        assert _optional(obj[key], str)
    if obj["issue_date"] is not None:
        dt.date.fromisoformat(obj["issue_date"])
    for party in ("supplier", "customer"):
        assert set(obj[party]) == PARTY_KEYS
        assert all(_optional(v, str) for v in obj[party].values())
    assert set(obj["totals"]) == TOTAL_KEYS
    for amount in obj["totals"].values():
        assert amount is None or Decimal(amount).is_finite()
    assert set(obj["cufe"]) == CUFE_KEYS
    assert _optional(obj["cufe"]["declared"], str) and _optional(obj["cufe"]["computed"], str)
    assert _optional(obj["cufe"]["valid"], bool)
    signature = obj["signature"]
    assert set(signature) == SIGNATURE_KEYS
    assert isinstance(signature["present"], bool) and _optional(signature["valid"], bool)
    for key in ("signer", "signing_time", "reason"):
        assert _optional(signature[key], str)
    if signature["signing_time"]:
        dt.datetime.fromisoformat(signature["signing_time"])
    assert isinstance(obj["valid"], bool)
    assert isinstance(obj["findings"], list)
    for finding in obj["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in ("error", "warning")
        assert isinstance(finding["code"], str) and isinstance(finding["message"], str)
        assert _optional(finding["path"], str)
    assert obj["valid"] == (not any(f["severity"] == "error" for f in obj["findings"]))


def test_does_a_signed_generated_invoice_give_the_exact_json_contract(
    app, tmp_path, signed_invoice
):
    path = tmp_path / "FE-1.xml"
    path.write_bytes(signed_invoice)
    result = run(app, "inspect", "--json", "--technical-key", TEST_TECHNICAL_KEY, str(path))
    (obj,) = json_lines(result)
    assert_contract(obj)
    assert result.exit_code == 0, obj["findings"]
    assert obj["file"] == str(path) and obj["format"] == "dian-ubl-2.1"
    assert obj["document_type"] == "Invoice" and obj["number"] == "SETP990000001"
    assert obj["issue_date"] == "2024-03-15" and obj["currency"] == "COP"
    assert obj["supplier"] == {"tax_id": "900373076", "name": "Proveedor Andino S.A.S."}
    assert obj["totals"]["line_extension"] == "14000.00"
    assert obj["totals"]["payable"] == "16660.00" and obj["totals"]["prepaid"] is None
    assert obj["cufe"]["valid"] is True and obj["cufe"]["computed"] == obj["cufe"]["declared"]
    assert obj["signature"]["present"] and obj["signature"]["valid"]
    assert "Proveedor Andino" in obj["signature"]["signer"]
    assert obj["signature"]["signing_time"].endswith("-05:00")
    assert obj["valid"] is True
    assert [f["code"] for f in obj["findings"]] == ["RULES-SKIPPED"]


@pytest.mark.shared_data
def test_do_real_dian_and_peppol_files_give_the_exact_json_contract(app):
    data = shared_data()
    paths = [
        data / DIAN / name for name in ("CreditNote.xml", "Servicios.xml", "Excluido de IVA.xml")
    ]
    paths += [data / PEPPOL_EXAMPLE, data / "other/cfdi40-valid.xml"]
    result = run(app, "inspect", "--json", *map(str, paths))
    objects = json_lines(result)
    assert [o["file"] for o in objects] == [str(p) for p in paths]
    for obj in objects:
        assert_contract(obj)
    credit, services, excluded, peppol, cfdi = objects
    assert credit["valid"] and credit["signature"]["valid"] and credit["number"] == "NC3"
    assert not services["valid"] and services["signature"]["present"]
    assert services["signature"]["valid"] is False and services["signature"]["reason"]
    assert peppol["format"] == "peppol-bis-3" and peppol["valid"]
    assert peppol["signature"] == {
        "present": False,
        "valid": None,
        "signer": None,
        "signing_time": None,
        "reason": None,
    }
    assert peppol["cufe"] == {"declared": None, "computed": None, "valid": None}
    assert cfdi["format"] == "mx-cfdi" and cfdi["document_type"] is None
    assert cfdi["totals"] == dict.fromkeys(TOTAL_KEYS)
    assert [f["code"] for f in cfdi["findings"]] == ["FORMAT-UNSUPPORTED"]
    assert result.exit_code == 2  # the CFDI could not be read


@pytest.mark.shared_data
def test_does_the_technical_key_make_the_excluded_invoice_cufe_valid(app):
    path = str(shared_data() / DIAN / "Excluido de IVA.xml")
    (without,) = json_lines(run(app, "inspect", "--json", path))
    assert without["cufe"]["declared"] and without["cufe"]["computed"] is None
    assert without["cufe"]["valid"] is None
    (with_key,) = json_lines(
        run(app, "inspect", "--json", "--technical-key", TEST_TECHNICAL_KEY, path)
    )
    assert with_key["cufe"]["valid"] is True
    assert with_key["cufe"]["computed"] == with_key["cufe"]["declared"]
    (wrong,) = json_lines(run(app, "inspect", "--json", "--technical-key", "0" * 40, path))
    assert wrong["cufe"]["valid"] is False
    assert "FAD06" in [f["code"] for f in wrong["findings"]]


def test_are_exit_codes_0_valid_1_invalid_2_unreadable(app, tmp_path, signed_invoice):
    valid = tmp_path / "valid.xml"
    valid.write_bytes(signed_invoice)
    tampered = etree.fromstring(signed_invoice)
    tampered.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    invalid = tmp_path / "invalid.xml"
    invalid.write_bytes(etree.tostring(tampered))
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"<not-closed>")

    assert run(app, "inspect", str(valid)).exit_code == 0
    assert run(app, "inspect", str(valid), str(invalid)).exit_code == 1
    assert run(app, "inspect", str(garbage), str(valid), str(invalid)).exit_code == 2
    assert run(app, "inspect", str(invalid), str(garbage)).exit_code == 2
    missing = run(app, "inspect", "--json", str(valid), str(tmp_path / "nope.xml"))
    assert missing.exit_code == 2
    objects = json_lines(missing)
    for obj in objects:
        assert_contract(obj)
    assert objects[1]["format"] == "unknown" and not objects[1]["valid"]
    assert [f["code"] for f in objects[1]["findings"]] == ["FILE-UNREADABLE"]


def test_does_a_wrapped_total_never_reach_the_report(app, tmp_path, signed_invoice):
    """A second, unsigned copy of the totals must not change the amounts reported."""
    root = etree.fromstring(signed_invoice)
    content = root.find(".//ds:Signature", NS).getparent()
    fake = etree.SubElement(content, f"{{{NS['cac']}}}LegalMonetaryTotal")
    etree.SubElement(fake, f"{{{NS['cbc']}}}PayableAmount", currencyID="COP").text = "1.00"
    path = tmp_path / "wrapped.xml"
    path.write_bytes(etree.tostring(root))
    (obj,) = json_lines(run(app, "inspect", "--json", str(path)))
    assert obj["totals"]["payable"] == "16660.00"


def test_does_a_folder_walk_find_every_xml_file_recursively(app, tmp_path, signed_invoice):
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / "a.xml").write_bytes(signed_invoice)
    (tmp_path / "b" / "deeper" / "c.XML").write_bytes(signed_invoice)
    (tmp_path / "b" / "notes.txt").write_text("not an invoice")
    result = run(app, "inspect", "--json", str(tmp_path))
    files = [obj["file"] for obj in json_lines(result)]
    assert files == [str(tmp_path / "a.xml"), str(tmp_path / "b" / "deeper" / "c.XML")]
    assert result.exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(app, "inspect", str(empty)).exit_code == 2


def test_does_the_plain_output_summarise_each_file(app, tmp_path, signed_invoice):
    path = tmp_path / "FE-1.xml"
    path.write_bytes(signed_invoice)
    result = run(app, "inspect", "--lang", "es", str(path))
    assert result.exit_code == 0
    assert f"{path}: VALID" in result.stdout
    assert "SETP990000001" in result.stdout and "payable 16660.00" in result.stdout
    assert "signature: valid" in result.stdout
    assert "Las reglas oficiales de la DIAN no se verificaron en este servidor" in result.stdout
    assert "EINVOICE_RULES_DIR" not in result.stdout  # the operator's hint goes to stderr
    assert "EINVOICE_RULES_DIR" in result.stderr


def test_does_sign_produce_a_document_that_inspect_verifies(app, tmp_path, p12, monkeypatch):
    data, password = p12
    (tmp_path / "company.p12").write_bytes(data)
    unsigned = tmp_path / "unsigned.xml"
    unsigned.write_bytes(etree.tostring(make_valid_invoice(2)))
    out = tmp_path / "signed.xml"
    monkeypatch.setenv("P12_PASSWORD", password)
    result = run(
        app,
        "sign",
        str(unsigned),
        "--p12",
        str(tmp_path / "company.p12"),
        "--password-env",
        "P12_PASSWORD",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert password not in result.output
    (obj,) = json_lines(run(app, "inspect", "--json", str(out)))
    assert obj["valid"] and obj["signature"]["valid"]


def test_does_sign_refuse_a_wrong_password_or_a_missing_variable(app, tmp_path, p12, monkeypatch):
    data, password = p12
    (tmp_path / "company.p12").write_bytes(data)
    unsigned = tmp_path / "unsigned.xml"
    unsigned.write_bytes(etree.tostring(make_valid_invoice(2)))
    args = [
        "sign",
        str(unsigned),
        "--p12",
        str(tmp_path / "company.p12"),
        "--password-env",
        "P12_PASSWORD",
    ]
    monkeypatch.delenv("P12_PASSWORD", raising=False)
    missing = run(app, *args)
    assert missing.exit_code == 1 and "P12_PASSWORD is not set" in missing.output
    monkeypatch.setenv("P12_PASSWORD", "not-" + password)
    wrong = run(app, *args)
    assert wrong.exit_code == 1 and "Wrong password" in wrong.output
    assert password not in wrong.output


def test_does_importing_the_engine_leave_flask_and_sqlalchemy_unloaded():
    code = (
        "import app.einvoice.engine, app.einvoice.report, app.taxids, sys; "
        "import app.einvoice.ordering, app.einvoice.ordering_writer; "
        "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy'))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_is_create_app_still_importable_from_the_package():
    from app import create_app
    from app.factory import create_app as factory_create_app

    assert create_app is factory_create_app


def test_does_render_pdf_write_a_pdf_showing_the_number(app, tmp_path, signed_invoice):
    import pdfplumber

    path = tmp_path / "FE-1.xml"
    path.write_bytes(signed_invoice)
    out = tmp_path / "FE-1.pdf"
    result = run(app, "render-pdf", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    with pdfplumber.open(out) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "SETP990000001" in text
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"<nope")
    assert run(app, "render-pdf", str(garbage), "-o", str(out)).exit_code == 2


def test_does_respond_write_a_signed_event_that_inspect_reads(
    app, tmp_path, signed_invoice, p12, monkeypatch
):
    data, password = p12
    (tmp_path / "buyer.p12").write_bytes(data)
    invoice = tmp_path / "FE-1.xml"
    invoice.write_bytes(signed_invoice)
    out = tmp_path / "030.xml"
    monkeypatch.setenv("SOFTWARE_PIN", "12345")
    monkeypatch.setenv("P12_PASSWORD", password)
    result = run(
        app,
        "respond",
        str(invoice),
        "--event",
        "030",
        "--number",
        "EV1",
        "--software-id",
        "56f2ae4e-9812-4fad-9255-08fcfcd5ccb0",
        "--software-pin-env",
        "SOFTWARE_PIN",
        "--provider-nit",
        "900373076",
        "--person-id",
        "1020304050",
        "--first-name",
        "Ana",
        "--family-name",
        "Ruiz",
        "--p12",
        str(tmp_path / "buyer.p12"),
        "--password-env",
        "P12_PASSWORD",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    (obj,) = json_lines(run(app, "inspect", "--json", "--software-pin", "12345", str(out)))
    assert_contract(obj)
    assert obj["document_type"] == "ApplicationResponse" and obj["number"] == "EV1"
    assert obj["signature"]["valid"] is True
    claim = run(
        app,
        "respond",
        str(invoice),
        "--event",
        "031",
        "--number",
        "EV2",
        "--software-id",
        "x",
        "--software-pin-env",
        "SOFTWARE_PIN",
        "--provider-nit",
        "900373076",
    )
    assert claim.exit_code == 1 and "reason" in claim.output
