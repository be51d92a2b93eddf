"""A payment's receipt as PDF: who paid whom, for which invoices, how, and what was refunded.

Rendered on demand (never stored) for a confirmed payment, in the reading company's language
and formats (``app.humanize``). Both companies get one; only the payee's copy shows the
gateway's fee, which is the payee's business. The built-in PDF fonts draw Latin-1 only, so
every text goes through ``fold_text`` as the other PDFs the portal writes do.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import humanize
from app.einvoice.render import fold_text
from app.extensions import db
from app.models import Company
from app.models.payment import CONFIRMED, Payment
from app.pdf_pages import FONT, FooterPDF
from app.services.errors import Conflict
from app.services.payments import queries
from app.tenancy import unscoped

_ReceiptPDF = FooterPDF


def receipt_filename(payment: Payment) -> str:
    """Return the receipt's file name."""
    return f"payment-{payment.id}-receipt.pdf"


def _companies(payment: Payment) -> dict[int, Company]:
    ids = {payment.payee_company_id, payment.payer_company_id} - {None}
    return {
        c.id: c for c in db.session.scalars(unscoped(select(Company).where(Company.id.in_(ids))))
    }


def receipt_pdf(
    payment: Payment,
    *,
    reader_company_id: int | None,
    locale: str = "es",
    timezone: str = humanize.DEFAULT_TIMEZONE,
) -> bytes:
    """Render the receipt of a confirmed payment for one of its companies (None: the payer
    who paid by link); Conflict while the payment is not confirmed."""
    if payment.status not in CONFIRMED:
        raise Conflict(_l("A receipt is given once the payment is confirmed."))
    companies = _companies(payment)
    payee = companies.get(payment.payee_company_id)
    payer = companies.get(payment.payer_company_id or 0)
    rows = queries.allocations(payment.id)
    refunds = [r for r in queries.refunds_of(payment.id) if r.status == "succeeded"]
    numbers = {document.id: document.number for _a, document in rows}
    payees_copy = reader_company_id is not None and reader_company_id == payment.payee_company_id

    def money(value: Decimal | None) -> str:
        return humanize.money(value, payment.currency, locale=locale)

    def when(value) -> str:
        return humanize.datetime(value, "medium", locale=locale, tz=timezone)

    with force_locale(locale):
        heading = _("Payment receipt %(id)s", id=payment.id)
        pdf = _ReceiptPDF(heading, _("page {page} of {pages}"))
        pdf.set_title(fold_text(heading))
        pdf.set_creator("portal payments")
        pdf.add_page()
        pdf.set_font(FONT, "B", 14)
        pdf.multi_cell(0, 7, fold_text(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        if rows:
            first = rows[0][1]
            payer_name = payer.legal_name if payer else (payment.payer_name or first.customer_name)
            payer_id = (
                payer.tax_id_display
                if payer
                else humanize.tax_id(first.customer_tax_id, first.customer_country)
            )
        else:
            payer_name = payer.legal_name if payer else payment.payer_name
            payer_id = payer.tax_id_display if payer else ""
        reference = payment.gateway_reference or ""
        facts = [
            (_("Paid to"), f"{payee.legal_name} ({payee.tax_id_display})" if payee else ""),
            (_("Paid by"), f"{payer_name} ({payer_id})" if payer_id else payer_name),
            (_("Payment"), str(payment.id)),
            (_("Date"), when(payment.succeeded_at or payment.created_at)),
            (_("Method"), humanize.payment_method(payment.method, locale=locale)),
            (_("Status"), humanize.payment_state(payment.status, locale=locale)),
            (_("Amount paid"), money(payment.confirmed_amount or payment.amount)),
        ]
        if reference:
            facts.append((_("Gateway reference"), reference))
        if payment.payer_reference:
            facts.append((_("Payer's reference"), payment.payer_reference))
        if payment.transfer_date:
            facts.append((_("Transfer date"), humanize.date(payment.transfer_date, locale=locale)))
        for label, value in facts:
            pdf.set_font(FONT, "B", 9)
            pdf.cell(45, 5, fold_text(label))
            pdf.set_font(FONT, "", 9)
            pdf.multi_cell(0, 5, fold_text(value), new_x="LMARGIN", new_y="NEXT")

        pdf.ln(3)
        pdf.set_font(FONT, "B", 11)
        pdf.cell(0, 6, fold_text(_("Invoices paid")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "B", 9)
        pdf.cell(60, 5, fold_text(_("Invoice")))
        pdf.cell(45, 5, fold_text(_("Issued")))
        pdf.cell(0, 5, fold_text(_("Amount")), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        for allocation, document in rows:
            pdf.cell(60, 5, fold_text(document.number))
            pdf.cell(45, 5, fold_text(humanize.date(document.issue_date, locale=locale)))
            pdf.cell(
                0, 5, fold_text(money(allocation.amount)), align="R", new_x="LMARGIN", new_y="NEXT"
            )
        pdf.set_font(FONT, "B", 9)
        pdf.cell(105, 5, fold_text(_("Total")))
        pdf.cell(0, 5, fold_text(money(payment.amount)), align="R", new_x="LMARGIN", new_y="NEXT")

        if payees_copy and payment.fee is not None:
            pdf.set_font(FONT, "", 9)
            pdf.cell(105, 5, fold_text(_("Gateway fee")))
            pdf.cell(0, 5, fold_text(money(payment.fee)), align="R", new_x="LMARGIN", new_y="NEXT")
            pdf.cell(105, 5, fold_text(_("Net received")))
            pdf.cell(
                0,
                5,
                fold_text(money((payment.confirmed_amount or payment.amount) - payment.fee)),
                align="R",
                new_x="LMARGIN",
                new_y="NEXT",
            )

        if refunds:
            pdf.ln(3)
            pdf.set_font(FONT, "B", 11)
            pdf.cell(0, 6, fold_text(_("Refunds")), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FONT, "", 9)
            for refund in refunds:
                parts = [when(refund.succeeded_at or refund.created_at), money(refund.amount)]
                invoices = ", ".join(
                    f"{numbers.get(int(doc_id), doc_id)} {money(Decimal(str(amount)))}"
                    for doc_id, amount in (refund.allocations or {}).items()
                )
                if invoices:
                    parts.append(invoices)
                if refund.reason:
                    parts.append(refund.reason)
                if refund.gateway_reference:
                    parts.append(refund.gateway_reference)
                pdf.multi_cell(0, 5, fold_text(" · ".join(parts)), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FONT, "B", 9)
            pdf.cell(105, 5, fold_text(_("Refunded in all")))
            pdf.cell(
                0,
                5,
                fold_text(money(payment.refunded_amount)),
                align="R",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        pdf.ln(4)
        pdf.set_font(FONT, "I", 8)
        pdf.multi_cell(
            0,
            4,
            fold_text(
                _(
                    "Issued by the portal from the payment's record. It proves the payment, "
                    "it is not an electronic invoice."
                )
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        return bytes(pdf.output())
