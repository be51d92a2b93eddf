"""The two parties most browser tests need: a supplier and a customer with certificates, one
person each, and an invoice between them."""

from __future__ import annotations

import pytest

from tests.conftest import make_company, make_user
from tests.services.inbox_helpers import give_certificate, signed_invoice, submit


@pytest.fixture
def supplier():
    company = make_company("Proveedora")
    give_certificate(company)
    return company


@pytest.fixture
def customer():
    company = make_company("Compradora")
    give_certificate(company)
    return company


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="receivables", name="Sara Vendedora")


@pytest.fixture
def buyer(customer):
    return make_user(customer, role="payables", name="Ana María Gómez")


@pytest.fixture
def invoice(supplier, seller, customer):
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id, number="SETP1"))
    assert result.accepted, result.findings
    return result.document
