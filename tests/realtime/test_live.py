"""Live: a submission reaches the receiver's open pages and bell, and no other company's."""

from __future__ import annotations

import time

import pytest

from app.extensions import socketio
from tests.conftest import isolated, login, make_company, make_user
from tests.services.inbox_helpers import give_certificate, signed_invoice, submit


def collect(socket, *names, timeout=3.0) -> dict[str, list]:
    """Gather what a socket receives until every name arrived (or the time is up)."""
    got: dict[str, list] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for packet in socket.get_received():
            got.setdefault(packet["name"], []).append(packet["args"][0])
        if all(name in got for name in names):
            break
        time.sleep(0.05)
    return got


pytestmark = pytest.mark.usefixtures("no_official_rules")


def test_does_a_submission_reach_the_receivers_socket_and_bell_and_no_one_elses(
    app, other_company, outsider
):
    supplier = make_company("Proveedora")
    give_certificate(supplier)
    seller = make_user(supplier, name="Sara Vendedora")
    customer = make_company("Compradora")
    buyer = make_user(customer, role="payables", name="Pedro Pagos")
    sales = make_user(customer, role="sales", name="Vera Ventas")

    sockets = {}
    for name, user, company in (
        ("buyer", buyer, customer),
        ("sales", sales, customer),
        ("outsider", outsider, other_company),
    ):
        client = app.test_client()
        login(client, user, company)
        sockets[name] = isolated(socketio.test_client, app, flask_test_client=client)
        assert sockets[name].is_connected()
        sockets[name].get_received()

    document = submit(supplier, seller, signed_invoice(supplier, customer.tax_id)).document

    buyer_got = collect(sockets["buyer"], "document:received", "notification:new")
    assert buyer_got["document:received"] == [{"id": document.id}]
    assert [p["kind"] for p in buyer_got["notification:new"]] == ["received"]
    # A colleague whose role does not receive invoices sees the tray change, not a notification.
    sales_got = collect(sockets["sales"], "document:received", "notification:new", timeout=3)
    assert "document:received" in sales_got and "notification:new" not in sales_got
    assert collect(sockets["outsider"], "document:received", timeout=0.5) == {}
    for socket in sockets.values():
        socket.disconnect()
