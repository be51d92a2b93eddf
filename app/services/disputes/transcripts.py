"""A dispute's transcript as PDF: every message with its time, the participants, the attachments.

Rendered on demand in the reader's language, and attached to the document (visible to both
parties) when the dispute is resolved, so the record stays with the invoice.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app import humanize
from app.einvoice.render import fold_text
from app.extensions import db
from app.models import Company, Dispute, DisputeMessage, Document, DocumentAttachment, User
from app.models.dispute import SYSTEM
from app.pdf_pages import FONT, FooterPDF
from app.services import audit
from app.services.disputes import disputes
from app.services.documents import reading
from app.tenancy import unscoped

TIMEZONE = "America/Bogota"


_TranscriptPDF = FooterPDF


def transcript_pdf(dispute: Dispute, *, locale: str = "es") -> bytes:
    """Render the whole conversation of a dispute as PDF bytes, in the given language."""
    document = db.session.get(Document, dispute.document_id)
    assert document is not None
    companies = {
        c.id: c
        for c in db.session.scalars(
            unscoped(
                select(Company).where(
                    Company.id.in_((dispute.supplier_company_id, dispute.buyer_company_id))
                )
            )
        )
    }
    rows = list(
        db.session.scalars(
            select(DisputeMessage)
            .where(DisputeMessage.dispute_id == dispute.id)
            .order_by(DisputeMessage.id)
        )
    )
    attachment_ids = [m.attachment_id for m in rows if m.attachment_id]
    attachments = (
        {
            a.id: a
            for a in db.session.scalars(
                select(DocumentAttachment).where(DocumentAttachment.id.in_(attachment_ids))
            )
        }
        if attachment_ids
        else {}
    )

    def when(value) -> str:
        return humanize.datetime(value, "medium", locale=locale, tz=TIMEZONE)

    with force_locale(locale):
        heading = _("Dispute %(id)s on %(number)s", id=dispute.id, number=document.number)
        pdf = _TranscriptPDF(heading, _("page {page} of {pages}"))
        pdf.set_title(fold_text(heading))
        pdf.set_creator("portal disputes")
        pdf.add_page()
        pdf.set_font(FONT, "B", 14)
        pdf.multi_cell(0, 7, fold_text(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        supplier = companies.get(dispute.supplier_company_id)
        buyer = companies.get(dispute.buyer_company_id)
        facts = [
            (
                _("Supplier"),
                f"{supplier.legal_name} ({supplier.tax_id_display})" if supplier else "",
            ),
            (_("Customer"), f"{buyer.legal_name} ({buyer.tax_id_display})" if buyer else ""),
            (_("Reason"), str(disputes.REASON_NAMES.get(dispute.reason, dispute.reason))),
            (
                _("Amount in dispute"),
                humanize.money(dispute.amount, dispute.currency, locale=locale),
            ),
            (_("Status"), str(disputes.STATUS_NAMES.get(dispute.status, dispute.status))),
            (_("Opened"), when(dispute.created_at)),
        ]
        if dispute.resolution:
            facts.append((_("Resolution"), str(disputes.RESOLUTION_NAMES.get(dispute.resolution))))
        if dispute.resolved_at:
            facts.append((_("Resolved"), when(dispute.resolved_at)))
        for label, value in facts:
            pdf.set_font(FONT, "B", 9)
            pdf.cell(45, 5, fold_text(label))
            pdf.set_font(FONT, "", 9)
            pdf.multi_cell(0, 5, fold_text(value), new_x="LMARGIN", new_y="NEXT")

        participants = sorted(
            {
                (m.author, companies[m.company_id].legal_name if m.company_id in companies else "")
                for m in rows
                if m.user_id
            }
        )
        pdf.ln(3)
        pdf.set_font(FONT, "B", 11)
        pdf.cell(0, 6, fold_text(_("Participants")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        for author, company in participants:
            pdf.multi_cell(0, 5, fold_text(f"{author} · {company}"), new_x="LMARGIN", new_y="NEXT")

        pdf.ln(3)
        pdf.set_font(FONT, "B", 11)
        pdf.cell(0, 6, fold_text(_("Conversation")), new_x="LMARGIN", new_y="NEXT")
        for message in rows:
            company = companies.get(message.company_id)
            pdf.set_font(FONT, "B", 8)
            who = message.author if message.kind != SYSTEM else _("Portal")
            header = f"#{message.id} · {when(message.created_at)} · {who}"
            if company is not None and message.kind != SYSTEM:
                header += f" ({company.legal_name})"
            pdf.multi_cell(0, 4.5, fold_text(header), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FONT, "I" if message.kind == SYSTEM else "", 9)
            text = disputes.system_text(message) if message.kind == SYSTEM else message.body
            if message.lines:
                text += "\n" + _("Lines: %(lines)s", lines=", ".join(map(str, message.lines)))
            attached = attachments.get(message.attachment_id or 0)
            if attached is not None:
                text += "\n" + _("Attachment: %(name)s", name=attached.filename)
            if text:
                pdf.multi_cell(0, 5, fold_text(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)

        pdf.ln(2)
        pdf.set_font(FONT, "B", 11)
        pdf.cell(0, 6, fold_text(_("Attachments")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        if not attachments:
            pdf.cell(0, 5, fold_text(_("None.")), new_x="LMARGIN", new_y="NEXT")
        for attached in attachments.values():
            line = " · ".join(
                (
                    attached.filename,
                    attached.content_type,
                    f"{attached.size} B",
                    when(attached.created_at),
                )
            )
            pdf.multi_cell(0, 5, fold_text(line), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())


def transcript_filename(dispute: Dispute, document: Document) -> str:
    """Return the transcript's file name."""
    return f"dispute-{dispute.id}-{document.number}.pdf"


def attach_transcript(company_id: int, dispute: Dispute, *, actor: User) -> DocumentAttachment:
    """Attach the transcript to the document, visible to both parties (on resolution), as the
    company whose action resolved the dispute, in the actor's language."""
    document = db.session.get(Document, dispute.document_id)
    assert document is not None
    company = db.session.get(Company, company_id)
    locale = actor.locale or (company.locale if company is not None else None) or "es"
    attachment = reading.add_attachment(
        company_id,
        document_id=document.id,
        filename=transcript_filename(dispute, document),
        data=transcript_pdf(dispute, locale=locale),
        visibility="both",
        actor=actor,
    )
    audit.record_event(
        actor,
        company_id,
        "dispute.transcript_attached",
        document,
        {"dispute_id": dispute.id, "attachment_id": attachment.id},
    )
    return attachment
