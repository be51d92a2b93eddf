"""The ordering documents: reading, the official Peppol ordering rules, writing, hostile input."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from app.einvoice import ordering_rules, rules
from app.einvoice import ordering_writer as w
from app.einvoice.engine import ingest
from app.einvoice.findings import is_valid
from app.einvoice.ordering import OrderingType, check_ordering, read_ordering
from tests.conftest import SHARED_DATA, shared_data

ORDERING = "ubl/peppol-bis-ordering-3"
UNIT_SETS = {
    "unit-order": "T01",
    "unit-order-response": "T76",
    "unit-catalogue": "T19",
    "unit-despatch-advice": "T16",
    "unit-common": "",  # the common rules: each test runs under its root's transaction
}


@pytest.fixture(autouse=True)
def _no_rules_env(monkeypatch):
    monkeypatch.delenv("EINVOICE_RULES_DIR", raising=False)


@pytest.fixture(scope="module")
def rules_cache(tmp_path_factory) -> Path:
    """One compiled-rules cache for the module, so each transaction compiles once."""
    return tmp_path_factory.mktemp("ordering-rules-cache")


def _errors(findings) -> list[tuple[str, str]]:
    return [(f.code, f.message_en) for f in findings if f.severity == "error"]


# --- the official unit-test sets ----------------------------------------------------------------


def _unit_files() -> list:
    root = SHARED_DATA / ORDERING
    params = []
    for folder, code in UNIT_SETS.items():
        files = sorted((root / folder).glob("*.xml")) if root.is_dir() else []
        label = code or "common"
        params += [pytest.param(code, f"{folder}/{f.name}", id=f"{label}-{f.stem}") for f in files]
    return params or [pytest.param("T01", None, id="no-shared-data")]


@pytest.mark.shared_data
@pytest.mark.parametrize(("code", "relative"), _unit_files())
def test_does_every_ordering_unit_test_get_its_stated_outcome(code, relative, rules_cache):
    """Does the compiled Peppol ordering Schematron give each unit test its error or pass?"""
    data = shared_data()
    disagree = []
    for test in rules.read_test_set(data / ORDERING / relative):
        root = etree.QName(test.document).localname
        chosen = code or ordering_rules.transaction_for(root).code
        compiled = ordering_rules.compiled_rules(chosen, data, cache_dir=rules_cache)
        assert compiled is not None
        executable = rules._compiled(compiled)
        findings = rules._svrl_findings(executable.transform(test.document))
        for expectation in test.expectations:
            if not rules.judge(expectation, findings):
                got = [(f.code, f.severity) for f in findings if f.code == expectation.rule]
                disagree.append((test.index, expectation, got))
    assert not disagree


@pytest.mark.shared_data
def test_do_all_126_order_unit_cases_agree(rules_cache):
    """The facts sheet says the Order rules agree with all 126 cases of unit-order."""
    data = shared_data()
    executable = rules._compiled(ordering_rules.compiled_rules("T01", data, cache_dir=rules_cache))
    total = agreed = 0
    for path in sorted((data / ORDERING / "unit-order").glob("*.xml")):
        for test in rules.read_test_set(path):
            findings = rules._svrl_findings(executable.transform(test.document))
            for expectation in test.expectations:
                total += 1
                agreed += rules.judge(expectation, findings)
    assert (agreed, total) == (126, 126)


@pytest.mark.shared_data
def test_are_compiled_rules_cached_on_disk_and_reused(tmp_path):
    """Is a transaction compiled once into the cache, named by its sources' hash, then reused?"""
    data = shared_data()
    first = ordering_rules.compiled_rules("T76", data, cache_dir=tmp_path)
    assert first is not None and first.parent == tmp_path
    assert ordering_rules.source_hash(data, "T76") in first.name
    stamp = first.stat().st_mtime_ns
    ordering_rules._COMPILED.clear()  # a new process: only the disk cache is left
    again = ordering_rules.compiled_rules("T76", data, cache_dir=tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_without_rules_folder_one_warning_names_what_was_skipped():
    """With no rules folder, is the answer a RULES-SKIPPED warning and no crash?"""
    data = w.write_order(_order())
    findings = check_ordering(data, rules_dir=None)
    assert [(f.severity, f.code) for f in findings] == [("warning", "RULES-SKIPPED")]
    assert "T01" in findings[0].message_en


def test_missing_schematron_sources_are_named_and_the_xsd_still_runs(tmp_path):
    """A rules folder with only the UBL schemas: XSD runs, the ordering rules are named skipped."""
    findings = check_ordering(
        b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>",
        rules_dir=tmp_path,
        cache_dir=tmp_path,
    )
    assert [f.code for f in findings] == ["RULES-SKIPPED"]
    assert "OpenPeppol BIS Ordering 3 T01" in findings[0].message_en


# --- the published examples -----------------------------------------------------------------

EXAMPLES = {
    "Order_Example.xml": ("Order", 2),
    "OrderResponse_Example.xml": ("OrderResponse", 3),
    "Catalogue_Example.xml": ("Catalogue", 2),
    "DespatchAdvice_Example.xml": ("DespatchAdvice", 1),
    "Order use cases/UC1_Order.xml": ("Order", 3),
    "Order use cases/UC2_Order.xml": ("Order", 2),
    "Order use cases/UC3_Order.xml": ("Order", 1),
    "Order-response use cases/UC1_Order_response.xml": ("OrderResponse", 3),
    "Order-response use cases/UC2_Order_response.xml": ("OrderResponse", 2),
    # Invoice and catalogue responses (T111, T58) are ApplicationResponses: the invoice reader's.
    "InvoiceResponse_Example.xml": ("ApplicationResponse", 0),
    "Invoice reponse use cases/T111-uc003-Invoice is accepted.xml": ("ApplicationResponse", 0),
    "Invoice reponse use cases/T111-uc006a-Under query missing information.xml": (
        "ApplicationResponse",
        0,
    ),
    "Invoice reponse use cases/T111-uc006b-Missing PO.xml": ("ApplicationResponse", 0),
    "CatalogueResponse_Example.xml": ("ApplicationResponse", 0),
}


@pytest.mark.shared_data
def test_are_all_examples_covered():
    folder = shared_data() / ORDERING / "examples"
    found = {str(p.relative_to(folder)) for p in folder.rglob("*.xml")}
    assert found == set(EXAMPLES)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_is_each_example_read_with_its_type_lines_and_no_errors(name, monkeypatch, tmp_path):
    """Is each published example read as its type, with its lines, and (ordering) valid?"""
    monkeypatch.setenv("EINVOICE_CACHE_DIR", str(tmp_path.parent / "ordering-example-cache"))
    data = shared_data()
    kind, lines = EXAMPLES[name]
    result = ingest((data / ORDERING / "examples" / name).read_bytes(), rules_dir=data)
    if kind == "ApplicationResponse":
        assert str(result.document.document_type) == kind
        return
    doc = result.ordering
    assert str(doc.document_type) == kind and doc.line_count == lines
    assert str(result.format) == "peppol-bis-ordering-3"
    assert _errors(result.findings) == []
    assert result.valid


@pytest.mark.shared_data
def test_does_the_order_example_read_its_parties_lines_and_totals():
    doc, findings = read_ordering(
        (shared_data() / ORDERING / "examples" / "Order_Example.xml").read_bytes()
    )
    assert findings == []
    assert (doc.document_type, doc.number, doc.currency) == (OrderingType.ORDER, "34", "NOK")
    assert doc.issue_date == dt.date(2018, 9, 1) and doc.customer_reference == "9000012345"
    assert doc.buyer.display_name == "Helseforetak AS" and doc.buyer.endpoint_scheme == "0192"
    assert doc.seller.display_name == "Medical AS"
    assert doc.totals.payable == Decimal("6363") and doc.totals.line_extension == Decimal("6525")
    line = doc.lines[0]
    assert (line.id, line.quantity, line.unit_code) == ("1", Decimal("120"), "EA")
    assert (line.seller_item_id, line.buyer_item_id) == ("121212", "123456")
    assert (line.standard_item_id, line.standard_item_scheme) == ("7560000012345", "0160")
    assert line.price == Decimal("50.000") and line.line_amount == Decimal("6300.00")
    assert line.delivery_start == dt.date(2010, 2, 10) and line.note == "Freetext note on line 1"
    assert line.tax_category and line.tax_percent is not None


@pytest.mark.shared_data
def test_does_the_response_example_read_status_changes_and_substitutes():
    doc, _ = read_ordering(
        (shared_data() / ORDERING / "examples" / "OrderResponse_Example.xml").read_bytes()
    )
    assert doc.response_code == "CA" and doc.order_reference == "11233"
    first = doc.lines[0]
    assert first.status_code == "3" and first.quantity == Decimal("10")
    assert first.order_line_reference == "1" and first.delivery_start == dt.date(2018, 8, 10)
    assert first.substitute.name == "Sauce brown, ready"
    assert first.substitute.standard_item_id == "7400000001235"


@pytest.mark.shared_data
def test_do_despatch_and_catalogue_examples_read_their_own_parties():
    folder = shared_data() / ORDERING / "examples"
    despatch, _ = read_ordering((folder / "DespatchAdvice_Example.xml").read_bytes())
    assert set(despatch.parties) >= {"despatch_supplier", "delivery_customer", "originator"}
    assert despatch.supplier is despatch.parties["despatch_supplier"]
    assert despatch.lines[0].delivered_quantity is not None
    assert despatch.lines[0].order_line_reference and despatch.order_reference
    catalogue, _ = read_ordering((folder / "Catalogue_Example.xml").read_bytes())
    assert catalogue.supplier.display_name == "Helseforetak AS"  # ProviderParty
    assert catalogue.customer.display_name == "Medical AS"  # ReceiverParty
    assert catalogue.lines[0].min_quantity == Decimal("1") and catalogue.currency


# --- the command line -------------------------------------------------------------------------


@pytest.mark.shared_data
def test_does_inspect_print_json_for_an_order_and_a_catalogue(app, monkeypatch, tmp_path):
    monkeypatch.setenv("EINVOICE_CACHE_DIR", str(tmp_path))
    data = shared_data()
    folder = data / ORDERING / "examples"
    paths = [str(folder / "Order_Example.xml"), str(folder / "Catalogue_Example.xml")]
    result = app.test_cli_runner().invoke(
        args=["einvoice", "inspect", "--json", "--rules-dir", str(data), *paths]
    )
    assert result.exit_code == 0, result.output
    order, catalogue = (json.loads(line) for line in result.stdout.splitlines())
    assert order["document_type"] == "Order" and order["transaction"] == "T01"
    assert order["line_count"] == 2 and order["number"] == "34"
    assert order["totals"]["payable"] == "6363" and order["currency"] == "NOK"
    assert order["customer"]["name"] == "Helseforetak AS"
    assert order["supplier"]["name"] == "Medical AS"
    assert order["parties"]["buyer"]["endpoint_id"] == "987654325"
    assert order["valid"] is True and order["findings"] == []
    assert catalogue["document_type"] == "Catalogue" and catalogue["line_count"] == 2
    assert catalogue["supplier"]["name"] == "Helseforetak AS"
    assert set(catalogue["parties"]) >= {"provider", "receiver"}


def test_does_inspect_of_a_written_order_without_rules_say_they_were_skipped(app, tmp_path):
    path = tmp_path / "order.xml"
    path.write_bytes(w.write_order(_order()))
    result = app.test_cli_runner().invoke(args=["einvoice", "inspect", "--json", str(path)])
    obj = json.loads(result.stdout.splitlines()[0])
    assert obj["document_type"] == "Order" and obj["line_count"] == 2
    assert [f["code"] for f in obj["findings"]] == ["RULES-SKIPPED"]
    assert result.exit_code == 0


# --- hostile and broken input -------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Order [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>&xxe;</cbc:ID></Order>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2">&lol3;</Order>"""
INVOICE = b"""<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (XXE, "XML-DTD"),
        (LAUGHS, "XML-DTD"),
        (b"%PDF-1.4 not xml at all", "XML-MALFORMED"),
        (b"just some text", "XML-MALFORMED"),
        (b"", "XML-MALFORMED"),
    ],
    ids=["xxe", "billion-laughs", "pdf-bytes", "text", "empty"],
)
def test_is_hostile_or_broken_input_a_finding_not_a_traceback(data, code):
    document, findings = read_ordering(data)
    assert document is None and [f.code for f in findings] == [code]
    assert [f.code for f in check_ordering(data)] == [code]
    result = ingest(data)
    assert not result.readable and result.findings


def test_is_a_truncated_order_a_finding():
    data = w.write_order(_order())
    document, findings = read_ordering(data[: len(data) // 2])
    assert document is None and [f.code for f in findings] == ["XML-MALFORMED"]
    assert not ingest(data[: len(data) // 2]).readable


def test_is_a_wrong_root_named_not_read():
    document, findings = read_ordering(INVOICE)
    assert document is None and [f.code for f in findings] == ["ORDERING-ROOT"]
    assert "Invoice" in findings[0].message_en and "Invoice" in findings[0].message_es


SBDH = (b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/'
        b'StandardBusinessDocumentHeader"><StandardBusinessDocumentHeader><HeaderVersion>1.0'
        b"</HeaderVersion></StandardBusinessDocumentHeader>%s</StandardBusinessDocument>")


def test_is_an_order_in_a_peppol_envelope_read_as_the_order():
    """Peppol carries a document in a Standard Business Document envelope: the document after
    the header is read; an envelope with none is named as such."""
    order = w.write_order(_order())
    result = ingest(SBDH % order.split(b"?>", 1)[1])
    assert result.readable and result.ordering.document_type is OrderingType.ORDER
    assert len(result.ordering.lines) == 2 and result.ordering.number == "PO-2026-001"
    empty = ingest(SBDH % b"")
    assert not empty.readable and [f.code for f in empty.findings] == ["SBDH-NO-PAYLOAD"]


def test_does_an_order_agreement_read_its_legal_totals():
    """An order agreement (T110) states its totals as an invoice does (LegalMonetaryTotal)."""
    data = w.write_order(_order()).replace(b"AnticipatedMonetaryTotal", b"LegalMonetaryTotal")
    document, _findings = read_ordering(data)
    expected, _ = read_ordering(w.write_order(_order()))
    assert document.totals.payable == expected.totals.payable and document.totals.payable


def test_does_an_order_response_advanced_pass_the_xsd_with_its_later_ubl_element(rules_cache):
    """Peppol's order response advanced (T116) names the order change it answers with a UBL 2.3
    element the UBL 2.1 XSD does not know: not an XSD error there; in a plain T76 it is one."""
    tree = etree.fromstring(w.write_order_response(_response("AP")))
    ns = {"cbc": rules.CBC, "cac": rules.CBC.replace("CommonBasic", "CommonAggregate")}
    change = etree.Element(f"{{{ns['cac']}}}OrderChangeDocumentReference")
    etree.SubElement(change, f"{{{ns['cbc']}}}ID").text = "CH-1"
    tree.find("cac:OrderReference", ns).addnext(change)
    plain = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    assert any(f.code == rules.XSD_CODE and "OrderChangeDocumentReference" in f.message_en
               for f in check_ordering(plain, rules_dir=shared_data(), cache_dir=rules_cache))
    customization = tree.find("cbc:CustomizationID", ns)
    customization.text = ordering_rules.TRANSACTIONS["T116"].customization
    advanced = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    findings = check_ordering(advanced, rules_dir=shared_data(), cache_dir=rules_cache)
    assert not any(f.code == rules.XSD_CODE for f in findings), _errors(findings)


def test_does_an_xxe_order_never_read_the_file():
    result = ingest(XXE)
    assert "root:" not in json.dumps([f.to_json() for f in result.findings])


# --- the writers -----------------------------------------------------------------------------

BUYER = w.Party(
    "Hospital Ñandú S.A.",
    "7300010000001",
    "0088",
    id="7300010000001",
    id_scheme="0088",
    vat_id="ES12345678Z",
    address=w.PostalAddress("ES", street="Calle Mayor 1", city="Madrid", postal_zone="28001"),
    contact_name="Ana Pérez",
    email="compras@example.com",
)
SELLER = w.Party(
    "Ferretería El Tornillo Ltda.",
    "987654325",
    "0192",
    trade_name="El Tornillo",
    address=w.PostalAddress("NO", street="Storgt. 12", city="Oslo"),
)
SCREW = w.Item(
    'Tornillo ñandú 3/8"',
    seller_item_id="T-38",
    buyer_item_id="B-1",
    standard_item_id="7300010000001",
    description="Tornillo de acero inoxidable, cabeza hexagonal — caja × 100",
    classifications=[("31161500", "STI")],
    tax_category="S",
    tax_percent=Decimal("19"),
)
WASHER = w.Item("Arandela", seller_item_id="A-1")


def _order(lines=None, **changes) -> w.Order:
    values = dict(
        number="PO-2026-001",
        issue_date=dt.date(2026, 12, 7),
        currency="EUR",
        buyer=BUYER,
        seller=SELLER,
        lines=lines
        if lines is not None
        else [
            w.OrderLine("1", SCREW, Decimal("12"), "EA", price=Decimal("1.255")),
            w.OrderLine("2", WASHER, Decimal("2.5"), "KGM", price=Decimal("0.10")),
        ],
        note="Entregar en la bodega 3",
        customer_reference="REF-ñ-9",
        validity_end=dt.date(2026, 12, 31),
        delivery_start=dt.date(2026, 12, 10),
        delivery_end=dt.date(2026, 12, 12),
        delivery_address=w.PostalAddress("ES", street="Polígono 4", city="Alcalá"),
    )
    values.update(changes)
    return w.Order(**values)


def _check(data: bytes, rules_cache: Path) -> list:
    findings = check_ordering(data, rules_dir=shared_data(), cache_dir=rules_cache)
    assert not any(f.code == "RULES-SKIPPED" for f in findings)
    return findings


ORDER_VARIANTS = {
    "two-lines": lambda: _order(),
    "one-line": lambda: _order([w.OrderLine("1", SCREW, Decimal("1"), "EA", price=Decimal("9"))]),
    "many-lines": lambda: _order(
        [
            w.OrderLine(str(i), SCREW, Decimal(i), "EA", price=Decimal("0.0125") * i)
            for i in range(1, 61)
        ]
    ),
    "no-optional-fields": lambda: w.Order(
        "PO-2",
        dt.date(2026, 12, 7),
        "EUR",
        w.Party("Comprador", "7300010000001", "0088"),
        w.Party("Vendedor", "987654325", "0192", address=w.PostalAddress("NO")),
        [w.OrderLine("1", w.Item("Tornillo"), Decimal("3"))],
    ),
    "large-quantities": lambda: _order(
        [
            w.OrderLine(
                "1",
                SCREW,
                Decimal("123456789.125"),
                "KGM",
                price=Decimal("1234.5678"),
                base_quantity=Decimal("1000"),
            ),
            w.OrderLine("2", WASHER, Decimal("1E+9"), "EA", price=Decimal("0.0001")),
        ]
    ),
    "delivery-per-line": lambda: _order(
        [
            w.OrderLine(
                "1",
                SCREW,
                Decimal("5"),
                "EA",
                price=Decimal("3.33"),
                delivery_start=dt.date(2027, 1, 5),
                delivery_end=dt.date(2027, 1, 6),
                note="Línea urgente",
            )
        ]
    ),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("variant", sorted(ORDER_VARIANTS))
def test_does_a_written_order_pass_the_xsd_and_peppol_rules(variant, rules_cache):
    data = w.write_order(ORDER_VARIANTS[variant]())
    assert _errors(_check(data, rules_cache)) == []


def test_does_a_written_order_read_back_as_written():
    doc, findings = read_ordering(w.write_order(_order()))
    assert findings == [] and doc.document_type is OrderingType.ORDER
    assert doc.customer_reference == "REF-ñ-9" and doc.notes == ["Entregar en la bodega 3"]
    assert doc.buyer.display_name == "Hospital Ñandú S.A." and doc.seller.name == "El Tornillo"
    assert doc.delivery_address.city == "Alcalá" and doc.delivery_start == dt.date(2026, 12, 10)
    first, second = doc.lines
    assert first.name == 'Tornillo ñandú 3/8"' and first.quantity == Decimal("12")
    assert first.price == Decimal("1.255") and first.line_amount == Decimal("15.06")
    assert (first.tax_category, first.tax_percent) == ("S", Decimal("19"))
    assert second.line_amount == Decimal("0.25") and second.unit_code == "KGM"
    # 15.06 + 0.25 = 15.31; tax 19 % of 15.06 = 2.86; payable 18.17
    assert doc.totals.line_extension == Decimal("15.31")
    assert doc.tax_amount == Decimal("2.86") and doc.totals.payable == Decimal("18.17")


def test_are_large_quantities_written_without_exponents():
    data = w.write_order(ORDER_VARIANTS["large-quantities"]())
    assert b"E+" not in data and b">1000000000<" in data and b">123456789.125<" in data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lines": []}, "at least one line"),
        ({"currency": "pesos"}, "ISO 4217"),
        ({"number": " "}, "number is required"),
        ({"seller": w.Party("Vendedor", "987654325", "0192")}, "seller address country"),
        (
            {"lines": [w.OrderLine("1", WASHER, Decimal("1")), w.OrderLine("1", WASHER, 1)]},
            "appears twice",
        ),
        ({"lines": [w.OrderLine("1", WASHER, Decimal("-1"))]}, "cannot be negative"),
        (
            {"lines": [w.OrderLine("1", w.Item("X", tax_category="S"), Decimal("1"))]},
            "needs a percent",
        ),
        ({"lines": [w.OrderLine("1", w.Item(""), Decimal("1"))]}, "item name"),
    ],
)
def test_does_the_order_writer_refuse_input_that_cannot_be_valid(change, message):
    with pytest.raises(w.OrderingWriterError, match=message):
        w.write_order(_order(**change))


def _response(code: str, lines=()) -> w.OrderResponse:
    return w.OrderResponse(
        "OR-1",
        dt.date(2026, 12, 8),
        "EUR",
        "PO-2026-001",
        code,
        SELLER,
        BUYER,
        lines,
        note="Respuesta al pedido",
        customer_reference="REF-ñ-9",
    )


RESPONSE_VARIANTS = {
    "accept-all": lambda: _response("AP"),
    "reject-all": lambda: _response("RE"),
    "accept-with-changes": lambda: _response(
        "CA",
        [
            w.ResponseLine("1", w.ACCEPTED, SCREW),
            w.ResponseLine(
                "2",
                w.CHANGED,
                WASHER,
                quantity=Decimal("2"),
                unit_code="KGM",
                price=Decimal("0.12"),
                delivery_start=dt.date(2026, 12, 20),
                delivery_end=dt.date(2026, 12, 21),
            ),
            w.ResponseLine(
                "3",
                w.CHANGED,
                w.Item("Tuerca"),
                substitute=w.Item("Tuerca ñ", standard_item_id="7300010000001"),
            ),
            w.ResponseLine("4", w.REJECTED, w.Item("Clavo"), note="Agotado"),
        ],
    ),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("variant", sorted(RESPONSE_VARIANTS))
def test_does_a_written_order_response_pass_the_xsd_and_peppol_rules(variant, rules_cache):
    data = w.write_order_response(RESPONSE_VARIANTS[variant]())
    assert _errors(_check(data, rules_cache)) == []


def test_does_a_written_response_read_back_its_changes():
    doc, _ = read_ordering(w.write_order_response(RESPONSE_VARIANTS["accept-with-changes"]()))
    assert doc.response_code == "CA" and doc.order_reference == "PO-2026-001"
    assert [line.status_code for line in doc.lines] == ["5", "3", "3", "7"]
    changed = doc.lines[1]
    assert changed.quantity == Decimal("2") and changed.price == Decimal("0.12")
    assert changed.delivery_start == dt.date(2026, 12, 20) and changed.order_line_reference == "2"
    assert doc.lines[2].substitute.name == "Tuerca ñ"


@pytest.mark.parametrize(
    ("code", "lines", "message"),
    [
        ("XX", (), "not one of"),
        ("CA", (), "needs the changed lines"),
        ("AP", (w.ResponseLine("1", "5", SCREW),), "carries no lines"),
        ("CA", (w.ResponseLine("1", "9", SCREW),), "UNCL1229"),
    ],
)
def test_does_the_response_writer_refuse_codes_outside_the_lists(code, lines, message):
    with pytest.raises(w.OrderingWriterError, match=message):
        w.write_order_response(_response(code, lines))


def _despatch(lines, **changes) -> w.DespatchAdvice:
    values = dict(
        number="DA-1",
        issue_date=dt.date(2026, 12, 9),
        order_reference="PO-2026-001",
        despatch_supplier=SELLER,
        delivery_customer=BUYER,
        lines=lines,
    )
    values.update(changes)
    return w.DespatchAdvice(**values)


DESPATCH_VARIANTS = {
    "one-line": lambda: _despatch([w.DespatchLine("1", SCREW, Decimal("12"), "1", "EA")]),
    "partial-with-shipment": lambda: _despatch(
        [
            w.DespatchLine(
                "1",
                SCREW,
                Decimal("10"),
                "1",
                "EA",
                outstanding_quantity=Decimal("2"),
                outstanding_reason="Falta de existencias",
            ),
            w.DespatchLine("2", WASHER, Decimal("2.5"), "2", "KGM", order_reference="PO-7"),
        ],
        note="Envío parcial",
        delivery_address=w.PostalAddress("ES", city="Alcalá"),
        delivery_start=dt.date(2026, 12, 10),
    ),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("variant", sorted(DESPATCH_VARIANTS))
def test_does_a_written_despatch_advice_pass_the_xsd_and_peppol_rules(variant, rules_cache):
    data = w.write_despatch_advice(DESPATCH_VARIANTS[variant]())
    assert _errors(_check(data, rules_cache)) == []


def test_does_a_written_despatch_advice_read_back_its_quantities():
    doc, _ = read_ordering(w.write_despatch_advice(DESPATCH_VARIANTS["partial-with-shipment"]()))
    first, second = doc.lines
    assert first.delivered_quantity == Decimal("10") and first.outstanding_quantity == 2
    assert first.order_line_reference == "1" and second.order_reference == "PO-7"
    assert doc.order_reference == "PO-2026-001" and doc.supplier.name == "El Tornillo"


def test_does_a_despatch_line_need_an_item_id():
    with pytest.raises(w.OrderingWriterError, match="seller item id or a standard"):
        w.write_despatch_advice(
            _despatch([w.DespatchLine("1", w.Item("Sin código"), Decimal("1"), "1")])
        )


def _catalogue(lines, **changes) -> w.Catalogue:
    values = dict(
        number="CAT-2027",
        issue_date=dt.date(2026, 12, 1),
        validity_start=dt.date(2027, 1, 1),
        validity_end=dt.date(2027, 12, 31),
        provider=SELLER,
        receiver=BUYER,
        lines=lines,
        currency="EUR",
    )
    values.update(changes)
    return w.Catalogue(**values)


CATALOGUE_VARIANTS = {
    "one-line": lambda: _catalogue([w.CatalogueLine("1", SCREW, "EA", price=Decimal("1.255"))]),
    "full": lambda: _catalogue(
        [
            w.CatalogueLine(
                "1",
                SCREW,
                "EA",
                price=Decimal("1.2555"),
                base_quantity=Decimal("1"),
                content_quantity=Decimal("100"),
                min_quantity=Decimal("10"),
                max_quantity=Decimal("1000000"),
                action_code="Add",
                validity_start=dt.date(2027, 2, 1),
                validity_end=dt.date(2027, 6, 30),
            ),
            w.CatalogueLine(
                "2",
                w.Item(
                    "Arandela ñ",
                    seller_item_id="A-1",
                    pack_size=Decimal("50"),
                    tax_category="Z",
                    tax_percent=Decimal("0"),
                ),
                "BX",
                price=Decimal("3"),
                orderable=False,
                note="Sólo por cajas",
            ),
        ],
        name="Catálogo 2027",
        action_code="Replace",
        seller=SELLER,
    ),
    "no-prices": lambda: _catalogue(
        [w.CatalogueLine("1", w.Item("Tornillo", seller_item_id="T"))], currency=""
    ),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("variant", sorted(CATALOGUE_VARIANTS))
def test_does_a_written_catalogue_pass_the_xsd_and_peppol_rules(variant, rules_cache):
    data = w.write_catalogue(CATALOGUE_VARIANTS[variant]())
    assert _errors(_check(data, rules_cache)) == []


def test_does_a_written_catalogue_read_back_its_lines():
    doc, _ = read_ordering(w.write_catalogue(CATALOGUE_VARIANTS["full"]()))
    first, second = doc.lines
    assert (first.min_quantity, first.max_quantity) == (Decimal("10"), Decimal("1000000"))
    assert first.price == Decimal("1.2555") and first.classifications[0].code == "31161500"
    assert second.pack_size == Decimal("50") and second.orderable_unit == "BX"
    assert doc.supplier.name == "El Tornillo" and doc.customer.registration_name.startswith("Hos")
    assert doc.validity_end == dt.date(2027, 12, 31) and doc.currency == "EUR"


def test_does_the_catalogue_writer_refuse_line_validity_outside_the_catalogue():
    line = w.CatalogueLine("1", SCREW, "EA", validity_start=dt.date(2026, 1, 1))
    with pytest.raises(w.OrderingWriterError, match="outside"):
        w.write_catalogue(_catalogue([line]))


def test_is_every_written_document_well_formed_utf8():
    for data in (
        w.write_order(_order()),
        w.write_order_response(RESPONSE_VARIANTS["accept-with-changes"]()),
        w.write_despatch_advice(DESPATCH_VARIANTS["one-line"]()),
        w.write_catalogue(CATALOGUE_VARIANTS["full"]()),
    ):
        assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        assert etree.fromstring(data) is not None
        assert is_valid(read_ordering(data)[1])
