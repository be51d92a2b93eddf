"""`flask sandbox payout`: the sandbox's payouts made now, one line each."""

from __future__ import annotations

from decimal import Decimal

from app.models.base import utcnow
from app.services.payments.paying import Item
from tests.payments_helpers import invoice
from tests.services.payments.test_sandbox_flow import decide, shop, start  # noqa: F401


def test_payout_prints_each_payout_and_a_second_run_adds_none(app, shop):  # noqa: F811
    supplier, buyer, payer, _account = shop
    decide(start(buyer, payer, [Item(invoice(supplier, buyer, "100000.00").id)]), "approve")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["sandbox", "payout"])
    assert first.exit_code == 0, first.output
    payout_id, currency, amount, name = first.output.strip().split(maxsplit=3)
    assert payout_id.startswith("po_") and currency == "COP" and 0 < Decimal(amount) < 100000
    assert name == supplier.legal_name  # whose payout it is, when several are made
    again = runner.invoke(args=["sandbox", "payout", "--day", utcnow().date().isoformat()])
    assert again.output.strip() == "nothing to pay out"
    bad = runner.invoke(args=["sandbox", "payout", "--day", "mañana"])
    assert bad.exit_code == 2 and "Invalid value" in bad.output
