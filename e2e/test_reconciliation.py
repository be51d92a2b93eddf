"""Journeys through reconciliation (issue #14) on the demo data: El Tornillo (supplier@demo.test,
connected to the embedded sandbox gateway) imports a camt.053 of its bank account, and
Distribuidora Andina (buyer@demo.test) one of its own. Each journey uploads invoices of its own,
with amounts of its own, and adds bank accounts with numbers of its own, so journeys do not meet.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from conftest import BIN, ROOT, _server_env
from playwright.sync_api import Locator, Page, expect
from test_inbox import BUYER, LIVE_MS, SUPPLIER, signed_in, upload_xml
from test_payments import PHONE, checkout, expect_paid, numbers, paid_state, review

TORNILLO = "Ferretería El Tornillo S.A.S."
ANDINA = "Distribuidora Andina S.A.S."
CAMT = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


# ---------------------------------------------------------------------------- the statement


@dataclass(frozen=True)
class Line:
    """One booked entry of a statement: signed amount (credits positive) and its texts."""

    amount: Decimal
    text: str  # RmtInf/Ustrd: what the payer wrote
    party: str = ""  # the other side's name (Dbtr for a credit, Cdtr for a debit)
    end_to_end_id: str = ""
    info: str = ""  # AddtlNtryInf: the bank's own words


def camt053(account: str, lines: list[Line], *, opening: Decimal = Decimal("1000000.00")) -> bytes:
    """A camt.053.001.08 statement of today for the account (its number as Othr/Id), COP, with
    the opening balance given and the closing balance that the lines make."""
    today = dt.date.today().isoformat()
    closing = opening + sum((line.amount for line in lines), Decimal("0"))
    token = secrets.token_hex(6).upper()

    def balance(code: str, amount: Decimal) -> str:
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="COP">{abs(amount):.2f}</Amt>'
            f"<CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd>"
            f"<Dt><Dt>{today}</Dt></Dt></Bal>"
        )

    def entry(n: int, line: Line) -> str:
        credit = line.amount > 0
        side, family = ("CRDT", "RCDT") if credit else ("DBIT", "ICDT")
        role = "Dbtr" if credit else "Cdtr"
        party = (
            f"<RltdPties><{role}><Pty><Nm>{escape(line.party)}</Nm></Pty></{role}></RltdPties>"
            if line.party
            else ""
        )
        info = f"<AddtlNtryInf>{escape(line.info)}</AddtlNtryInf>" if line.info else ""
        return (
            f"<Ntry><NtryRef>{token}-{n}</NtryRef>"
            f'<Amt Ccy="COP">{abs(line.amount):.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{today}</Dt></BookgDt><ValDt><Dt>{today}</Dt></ValDt>"
            f"<AcctSvcrRef>BNK-{token}-{n}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
            f"</Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls>"
            f"<Refs><EndToEndId>{escape(line.end_to_end_id or 'NOTPROVIDED')}</EndToEndId></Refs>"
            f'<Amt Ccy="COP">{abs(line.amount):.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"{party}<RmtInf><Ustrd>{escape(line.text)}</Ustrd></RmtInf>"
            f"</TxDtls></NtryDtls>{info}</Ntry>"
        )

    body = "".join(entry(n, line) for n, line in enumerate(lines, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="{CAMT}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>MSG-{token}</MsgId><CreDtTm>{today}T07:00:00-05:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>STMT-{token}</Id><CreDtTm>{today}T07:00:00-05:00</CreDtTm>"
        f"<FrToDt><FrDtTm>{today}T00:00:00-05:00</FrDtTm><ToDtTm>{today}T23:59:59-05:00</ToDtTm>"
        f"</FrToDt>"
        f"<Acct><Id><Othr><Id>{account}</Id></Othr></Id><Ccy>COP</Ccy></Acct>"
        f"{balance('OPBD', opening)}{balance('CLBD', closing)}{body}"
        "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_does_the_statement_helper_write_what_the_readers_read():
    """The helper itself: the portal's camt.053 reader reads its file as written."""
    from app.statements import read_statement

    lines = [
        Line(Decimal("16432.35"), "LIQUIDACION po_abc", "Sandbox Payments", info="ABONO"),
        Line(Decimal("-5950.00"), "PAGO PROVEEDOR", TORNILLO, end_to_end_id="E2E-1"),
    ]
    fmt, (statement,) = read_statement(camt053("123456789012", lines), filename="extracto.xml")
    assert fmt == "camt053" and statement.account == "123456789012"
    assert statement.opening_balance == Decimal("1000000.00")
    assert statement.closing_balance == Decimal("1010482.35")
    credit, debit = statement.entries
    assert (credit.amount, credit.reference, credit.counterparty.name) == (
        Decimal("16432.35"), "LIQUIDACION po_abc", "Sandbox Payments"
    )
    assert credit.end_to_end_id is None and credit.description == "ABONO"
    assert (debit.amount, debit.end_to_end_id, debit.counterparty.name) == (
        Decimal("-5950.00"), "E2E-1", TORNILLO
    )


# ---------------------------------------------------------------------------- the helpers


def amount_of(unit_price: Decimal) -> Decimal:
    """What an invoice of one line at this unit price comes to with 19 % IVA."""
    return unit_price + (unit_price * Decimal("0.19")).quantize(Decimal("0.01"))


def odd_price() -> Decimal:
    """A unit price no other journey uses (its invoice's amount collides with nothing)."""
    return Decimal(100_000 + secrets.randbelow(800_000)) + Decimal(secrets.randbelow(99) + 1) / 100


def account_number() -> str:
    return "7" + "".join(str(secrets.randbelow(10)) for _ in range(11))


def sandbox_payout(server, account_name: str = TORNILLO) -> tuple[str, Decimal]:
    """Run `flask sandbox payout` on the e2e server's database; the payout id and amount of
    the account's payout.

    The sandbox makes one payout per account and day, and `flask demo load` made today's, so
    this pays out as of tomorrow (UTC), or the next day whose payout is not made yet: all that
    succeeded and was not paid out.
    """
    env = _server_env(Path(str(server["instance"])), 0)
    env["JOBS_IN_PROCESS"] = "0"  # no job consumer of its own (it would take the server's jobs)
    today = dt.datetime.now(dt.UTC).date()
    said = []
    for ahead in range(1, 6):
        day = (today + dt.timedelta(days=ahead)).isoformat()
        result = subprocess.run(  # noqa: S603
            [str(BIN / "flask"), "--app", "wsgi", "sandbox", "payout", "--day", day],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        said.append(result.stdout)
        for row in result.stdout.splitlines():
            parts = row.split(maxsplit=3)
            if len(parts) == 4 and parts[0].startswith("po_") and parts[3] == account_name:
                return parts[0], Decimal(parts[2])
    raise AssertionError(f"no payout for {account_name}: {said!r}")


def add_bank_account(page: Page, number: str, name: str) -> None:
    """From the reconciliation page, add a COP account: its page opens."""
    page.goto("/reconciliation/")
    form = page.get_by_test_id("account-form")
    form.locator("#name").fill(name)
    form.locator("#bank_name").fill("Bancolombia")
    form.locator("#number").fill(number)
    form.locator("#currency").select_option("COP")
    form.locator('button[type="submit"]').click()
    expect(page.locator("h1")).to_have_text(name)
    expect(page.get_by_test_id("import-form")).to_be_visible()


def import_statement(page: Page, data: bytes) -> Locator:
    """On an account's page, import the camt.053 file; the toast that sums it up."""
    page.get_by_test_id("import-form").locator('input[name="file"]').set_input_files(
        {"name": "extracto.xml", "mimeType": "application/xml", "buffer": data}
    )
    page.get_by_test_id("import-form").locator('button[type="submit"]').click()
    toast = page.locator(".toast", has_text=re.compile("Extracto importado|Statement imported"))
    expect(toast).to_be_visible()
    return toast


def line_row(page: Page, text: str) -> Locator:
    return page.locator('[data-testid="lines"] tr[data-line]', has_text=text)


def open_line(page: Page, text: str) -> None:
    line_row(page, text).locator("a").first.click()
    expect(page.get_by_test_id("line-details")).to_be_visible()


def status_of_line(page: Page) -> Locator:
    """The open line's status badge, under its title."""
    return page.locator("hgroup [data-testid='line-status']")


def tab_to(page: Page, target: Locator, limit: int = 120) -> None:
    """Press Tab until the target has the keyboard's focus (fails if it never gets it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of Tab never reached the button")


def pesos(amount: Decimal) -> str:
    """The amount as the portal writes it in Spanish: 1.234.567,89."""
    return f"{amount:,.2f}".translate(str.maketrans(",.", ".,"))


def sideways(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


# ---------------------------------------------------------------------------- the journeys


def test_does_a_statement_close_a_payout_a_transfer_by_reference_and_one_by_hand_on_both_sides(
    new_context, signed_invoice, server
):
    # 1. El Tornillo sends Andina three invoices to be paid at the sandbox, one for a transfer
    #    with its number written on it, and two of the same amount for a transfer without one.
    d_price, e_price = odd_price(), odd_price()
    while amount_of(e_price) == amount_of(d_price):
        e_price = odd_price()
    d_amount, e_amount = amount_of(d_price), amount_of(e_price)
    supplier = signed_in(new_context, SUPPLIER)
    prefix, (a, b, c, d, e1, e2) = numbers(6)
    for invoice in (a, b, c):
        upload_xml(supplier, signed_invoice(invoice))
    upload_xml(supplier, signed_invoice(d, unit_price=str(d_price)))
    for invoice in (e1, e2):
        upload_xml(supplier, signed_invoice(invoice, unit_price=str(e_price)))

    # 2. Andina pays A, B and C in one sandbox checkout.
    buyer = signed_in(new_context, BUYER)
    review(buyer, prefix, [a, b, c])
    checkout(buyer, "approve")
    expect_paid(buyer)

    # 3. The sandbox pays El Tornillo out (its charges less its fees).
    payout_id, payout_amount = sandbox_payout(server)
    assert payout_amount >= Decimal("16432.35")  # 17,850 less its fee, and what else was paid

    # 4. El Tornillo's bank statement: the payout and two transfers from Andina.
    number = account_number()
    e2e_id = f"E2E-{secrets.token_hex(8).upper()}"
    statement = camt053(
        number,
        [
            Line(payout_amount, f"LIQUIDACION {payout_id}", "Sandbox Payments",
                 info=f"ABONO PASARELA {payout_id}"),
            Line(d_amount, f"Pago factura {d}", ANDINA, end_to_end_id=e2e_id),
            Line(e_amount, "TRANSFERENCIA", ANDINA),
        ],
    )

    # 5. Imported: the payout and D's transfer matched at once, E's waits for a person.
    add_bank_account(supplier, number, f"Corriente {number[-4:]}")
    toast = import_statement(supplier, statement)
    expect(toast).to_contain_text("3 líneas nuevas")
    expect(toast).to_contain_text("2 conciliadas automáticamente")
    expect(toast).to_contain_text("1 sugerencia por revisar")
    expect(line_row(supplier, payout_id).locator(".line-matched")).to_be_visible()
    expect(line_row(supplier, f"Pago factura {d}").locator(".line-matched")).to_be_visible()
    expect(line_row(supplier, "TRANSFERENCIA").locator(".line-suggested")).to_be_visible()
    account_page = supplier.url

    # The payout's line: payout → the sandbox payment of A, B and C with its fee → the invoices.
    open_line(supplier, payout_id)
    expect(status_of_line(supplier)).to_have_class(re.compile("line-matched"))
    matched = supplier.get_by_test_id("confirmed-matches")
    expect(matched).to_contain_text(payout_id)
    expect(matched).to_contain_text("Confirmada automáticamente")
    charge = matched.locator('[data-testid="payout-chain"] li', has_text=a)
    expect(charge).to_have_count(1)
    for invoice in (a, b, c):
        expect(charge).to_contain_text(invoice)
    expect(charge).to_contain_text("17.850")
    expect(charge.get_by_role("link", name=re.compile(r"^Pago \d+$"))).to_have_count(1)
    expect(charge).to_contain_text("comisión $ 1.417,65")  # 2.9 % + 900 of 17,850
    for invoice in (a, b, c):  # and on each invoice, the chain back to the bank
        supplier.goto(f"/inbox/sent?q={invoice}")
        paid_state(supplier, invoice, "paid")
    supplier.goto(f"/inbox/sent?q={a}")
    supplier.locator(f'tr[data-document="{a}"] a').first.click()
    chain = supplier.get_by_test_id("bank-chain")
    expect(chain).to_contain_text("Visto en el banco")
    expect(chain).to_contain_text(payout_id)

    # D's transfer: its number on the line closed it, the payment recorded by the bank.
    supplier.goto(account_page)
    open_line(supplier, f"Pago factura {d}")
    matched = supplier.get_by_test_id("confirmed-matches")
    expect(matched).to_contain_text(d)
    expect(matched.get_by_test_id("evidence")).to_contain_text("Referencia")

    # E's transfer: two suggestions, E1 and E2, each with its evidence; E2 is chosen by hand.
    supplier.goto(account_page)
    open_line(supplier, "TRANSFERENCIA")
    expect(status_of_line(supplier)).to_have_class(re.compile("line-suggested"))
    suggestions = supplier.locator('[data-testid="suggestions"] article')
    expect(suggestions).to_have_count(2)
    for invoice in (e1, e2):
        suggestion = suggestions.filter(has_text=invoice)
        expect(suggestion).to_have_count(1)
        expect(suggestion.get_by_test_id("evidence")).to_contain_text("Valor exacto")
    suggestions.filter(has_text=e2).get_by_test_id("confirm").click()
    expect(status_of_line(supplier)).to_have_class(re.compile("line-matched"))
    matched = supplier.get_by_test_id("confirmed-matches")
    expect(matched).to_contain_text(e2)
    expect(matched).not_to_contain_text(e1)
    expect(matched).to_contain_text("Confirmada por una persona")
    matched.get_by_role("link", name=re.compile(f"^{e2}")).first.click()
    expect(supplier.get_by_test_id("document-number")).to_have_text(e2)
    expect(supplier.get_by_test_id("document-payments")).to_contain_text(re.compile("[Pp]agada"))
    expect(supplier.get_by_test_id("bank-chain")).to_contain_text("Visto en el banco")
    supplier.goto(f"/inbox/sent?q={prefix}")
    paid_state(supplier, e2, "paid")
    paid_state(supplier, e1, "unpaid")
    paid_state(supplier, d, "paid")

    # 6. Andina's own statement: its debit to El Tornillo, the same end-to-end id, matches the
    #    payment El Tornillo's bank line recorded for D (one payment, both sides).
    buyer_number = account_number()
    add_bank_account(buyer, buyer_number, f"Pagos {buyer_number[-4:]}")
    toast = import_statement(
        buyer,
        camt053(buyer_number, [Line(-d_amount, "PAGO PROVEEDOR", TORNILLO, e2e_id)]),
    )
    expect(toast).to_contain_text("1 conciliada automáticamente")
    debit = line_row(buyer, "PAGO PROVEEDOR")
    expect(debit.locator(".line-matched")).to_be_visible()
    open_line(buyer, "PAGO PROVEEDOR")
    matched = buyer.get_by_test_id("confirmed-matches")
    expect(matched).to_contain_text(re.compile(r"PAY-\d{6}"))
    expect(matched).to_contain_text(d)
    expect(matched.get_by_test_id("evidence")).to_contain_text("Mismo identificador")
    matched.get_by_role("link", name=re.compile(r"PAY-\d{6}")).click()
    payment = buyer.get_by_test_id("payment")
    expect(payment).to_contain_text("Movimiento bancario")
    expect(payment.get_by_test_id("payment-amount")).to_contain_text(pesos(d_amount))


def test_can_a_phone_confirm_a_suggestion_with_the_keyboard(new_context, signed_invoice):
    price = odd_price()
    supplier = signed_in(new_context, SUPPLIER)
    _prefix, invoices = numbers(2)
    for invoice in invoices:
        upload_xml(supplier, signed_invoice(invoice, unit_price=str(price)))
    number = account_number()
    add_bank_account(supplier, number, f"Ahorros {number[-4:]}")
    words = f"TRANSFERENCIA {secrets.token_hex(3).upper()}"
    import_statement(supplier, camt053(number, [Line(amount_of(price), words, ANDINA)]))

    supplier.set_viewport_size(PHONE)
    supplier.goto("/reconciliation/review")
    row = supplier.locator('[data-testid="review-queue"] tr', has_text=words)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(re.compile("|".join(invoices)))
    assert sideways(supplier) <= 2

    row.get_by_role("link", name="Abrir la línea").click()
    expect(supplier.locator('[data-testid="suggestions"] article')).to_have_count(2)
    assert sideways(supplier) <= 2
    supplier.go_back()
    expect(row).to_be_visible()

    tab_to(supplier, row.get_by_test_id("confirm"))
    supplier.keyboard.press("Enter")  # the row is swapped for its confirmed self
    expect(row.locator(".line-matched")).to_be_visible(timeout=LIVE_MS)
    assert sideways(supplier) <= 2
