"""The Peppol Catalogue download: does what a supplier's catalog writes pass the UBL schema and
the Peppol T19 rules, and say to each receiver only what it may see, at its prices?"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from app.einvoice.ordering import check_ordering, read_ordering
from app.extensions import db
from app.models import Partnership
from app.models.catalog import CatalogItem, CustomerPrice
from app.models.network import ACTIVE
from app.services import parties
from app.services.catalogs import documents
from app.services.errors import DomainError
from tests.conftest import give_fiscal_profile, make_company, shared_data


@pytest.fixture(autouse=True)
def _no_rules_env(monkeypatch):
    monkeypatch.delenv("EINVOICE_RULES_DIR", raising=False)


@pytest.fixture(scope="module")
def rules_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ordering-rules-cache")


def errors(data: bytes, cache: Path) -> list[tuple[str, str]]:
    findings = check_ordering(data, rules_dir=shared_data(), cache_dir=cache)
    assert not any(f.code == "RULES-SKIPPED" for f in findings)
    return [(f.code, f.message_en) for f in findings if f.severity == "error"]


def connect(supplier, customer) -> None:
    db.session.add(Partnership(supplier_id=supplier.id, customer_id=customer.id,
                               requested_by_id=supplier.id, status=ACTIVE))
    db.session.commit()


def add(supplier, code, name, **fields) -> CatalogItem:
    fields.setdefault("price", Decimal("1000"))
    item = CatalogItem(company_id=supplier.id, seller_item_id=code, name=name, **fields)
    db.session.add(item)
    db.session.commit()
    return item


@pytest.fixture
def supplier():
    return give_fiscal_profile(make_company("Ferretería Ñandú"))


def one_item(supplier):
    add(supplier, "T-1", "Tornillo", visibility="network")


def many_items(supplier):
    for n in range(1, 41):
        add(supplier, f"T-{n}", f"Tornillo {n} mm", visibility="network", unit_code="EA",
            price=Decimal("12.3456") * n, tax_percent=Decimal("19"),
            min_quantity=Decimal(n % 3 + 1), pack_size=Decimal(100),
            availability="out_of_stock" if n % 7 == 0 else "in_stock", lead_time_days=n % 5)


def no_gtin_spanish(supplier):
    add(supplier, "CAF-1", "Café molido de Nariño — 500 g", visibility="network",
        description="Tostión media; aroma a panela y cítricos.\nEmpaque «válvula»",
        tax_percent=Decimal("5"), unit_code="KGM", categories="Alimentos, Café")
    add(supplier, "AZ-1", "Azúcar exenta", visibility="network", tax_percent=Decimal("0"),
        standard_item_id="7702004003508")


@pytest.mark.shared_data
@pytest.mark.parametrize("build", [one_item, many_items, no_gtin_spanish],
                         ids=["one-item", "many-items", "no-gtin-spanish"])
def test_does_a_written_catalogue_pass_the_xsd_and_t19_rules(supplier, build, rules_cache):
    build(supplier)
    data = documents.catalogue_xml(supplier.id)
    assert errors(data, rules_cache) == []


@pytest.mark.shared_data
def test_does_a_receiver_get_only_what_it_sees_at_its_prices(supplier, rules_cache):
    customer = give_fiscal_profile(make_company("Constructora"))
    connect(supplier, customer)
    today = dt.date.today()
    priced = add(supplier, "C-1", "Cemento gris", visibility="connected",
                 price=Decimal("32000"))
    add(supplier, "C-2", "Cemento blanco", visibility="network", price=Decimal("41000"))
    add(supplier, "C-3", "Cemento oculto", visibility="network", published=False)
    add(supplier, "C-4", "Cemento de otro", visibility="chosen")
    db.session.add(CustomerPrice(company_id=supplier.id, item_id=priced.id,
                                 customer_company_id=customer.id, price=Decimal("29500"),
                                 valid_to=today + dt.timedelta(days=30)))
    db.session.commit()
    data = documents.catalogue_xml(supplier.id, receiver_company_id=customer.id)
    assert errors(data, rules_cache) == []
    doc, _ = read_ordering(data)
    lines = {line.name: line for line in doc.lines}
    assert set(lines) == {"Cemento gris", "Cemento blanco"}
    assert lines["Cemento gris"].price == Decimal("29500")
    assert lines["Cemento blanco"].price == Decimal("41000")
    assert doc.customer.registration_name == customer.legal_name
    # Without a receiver: every published item at its own price.
    doc, _ = read_ordering(documents.catalogue_xml(supplier.id))
    assert {line.name: line.price for line in doc.lines} == {
        "Cemento blanco": Decimal("41000"), "Cemento de otro": Decimal("1000"),
        "Cemento gris": Decimal("32000")}


def test_does_a_party_carry_the_nit_under_a_listed_scheme(supplier):
    party = parties.ordering_party(supplier)
    assert party.endpoint_id == f"CO{supplier.tax_id}" and party.legal_id == supplier.tax_id
    assert party.endpoint_scheme == parties.PARTICIPANT_SCHEME
    eas = shared_data() / "ubl/peppol-bis-ordering-3/structure/codelist/eas.xml"
    assert f"<Id>{party.endpoint_scheme}</Id>" in eas.read_text()


def test_is_an_empty_catalog_refused(supplier):
    add(supplier, "X", "Oculto", published=False)
    with pytest.raises(DomainError):
        documents.catalogue_xml(supplier.id)
