"""The graphic representation of a document as a PDF (fpdf2), with DIAN's QR code (segno).

Plain data in, bytes out: ``render_pdf(document)``. Every value is formatted by app.humanize,
as on the web pages ('$ 1.785.000,00' in Spanish for COP; units, payment means, taxes and
responsibilities by name; tax ids as their country writes them). Long documents break across
pages with the table heading repeated and "page X of Y" in every footer.

The built-in PDF fonts only cover Windows-1252, so text is folded to that repertoire (accents and
'€' survive; other scripts lose their marks or become '?'). The QR code carries the exact text.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from decimal import Decimal

import segno
from babel import Locale, UnknownLocaleError
from fpdf import FPDF
from fpdf.fonts import FontFace

from app import humanize
from app.einvoice import cufe
from app.einvoice.model import Document, DocumentType, Party, TaxTotal

ENCODING = "windows-1252"
FONT = "helvetica"
MARGIN = 12
QR_SIZE = 32

_LETTERS = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h"})
_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\t": " "}


LABELS = {
    "es": {
        "invoice": "Factura electrónica de venta",
        "export": "Factura electrónica de exportación",
        "contingency": "Factura de talonario o papel (contingencia)",
        "credit": "Nota crédito electrónica",
        "debit": "Nota débito electrónica",
        "response": "Evento (ApplicationResponse)",
        "generic_invoice": "Factura",
        "generic_credit": "Nota crédito",
        "generic_debit": "Nota débito",
        "number": "Número",
        "issued": "Fecha de emisión",
        "due": "Vencimiento",
        "currency": "Moneda",
        "payment": "Forma de pago",
        "cash": "Contado",
        "credit_sale": "Crédito",
        "means": "Medio de pago",
        "order": "Orden de compra",
        "reference": "Documento referenciado",
        "reason": "Motivo",
        "supplier": "Emisor",
        "customer": "Adquiriente",
        "tax_id": "Id. fiscal",
        "email": "Correo",
        "phone": "Teléfono",
        "item": "#",
        "description": "Descripción",
        "quantity": "Cantidad",
        "unit": "Unidad",
        "unit_price": "Precio unitario",
        "line_total": "Total",
        "discount": "Descuento",
        "surcharge": "Cargo",
        "taxes": "Impuestos",
        "withholdings": "Retenciones",
        "tax": "Impuesto",
        "rate": "Tarifa",
        "base": "Base",
        "amount": "Valor",
        "line_extension": "Subtotal",
        "allowances": "Descuentos",
        "charges": "Cargos",
        "tax_exclusive": "Base gravable",
        "tax_total": "Total impuestos",
        "tax_inclusive": "Total con impuestos",
        "prepaid": "Anticipos",
        "rounding": "Redondeo",
        "payable": "Total a pagar",
        "withheld": "Total retenciones",
        "notes": "Notas",
        "page": "Página {page} de {pages}",
        "continued": "{title} {number} (continuación)",
        "authorization": "Autorización de numeración DIAN No. {number}",
        "validity": "vigencia {start} a {end}",
        "range": "prefijo {prefix}, rango {first} a {last}",
        "range_no_prefix": "rango {first} a {last}",
        "software": "Proveedor tecnológico: NIT {nit}",
        "pdf_origin": "DOCUMENTO RECIBIDO EN PDF: NO ES UNA FACTURA ELECTRÓNICA VÁLIDA ANTE LA "
                      "DIAN",
        "representation": "Representación gráfica de la factura electrónica",
        "lines_count": "{count} líneas",
    },
    "en": {
        "invoice": "Electronic sales invoice",
        "export": "Electronic export invoice",
        "contingency": "Paper invoice (contingency)",
        "credit": "Electronic credit note",
        "debit": "Electronic debit note",
        "response": "Event (ApplicationResponse)",
        "generic_invoice": "Invoice",
        "generic_credit": "Credit note",
        "generic_debit": "Debit note",
        "number": "Number",
        "issued": "Issue date",
        "due": "Due date",
        "currency": "Currency",
        "payment": "Payment",
        "cash": "Cash",
        "credit_sale": "Credit",
        "means": "Payment means",
        "order": "Purchase order",
        "reference": "Referenced document",
        "reason": "Reason",
        "supplier": "Supplier",
        "customer": "Customer",
        "tax_id": "Tax id",
        "email": "E-mail",
        "phone": "Phone",
        "item": "#",
        "description": "Description",
        "quantity": "Quantity",
        "unit": "Unit",
        "unit_price": "Unit price",
        "line_total": "Total",
        "discount": "Discount",
        "surcharge": "Charge",
        "taxes": "Taxes",
        "withholdings": "Withholdings",
        "tax": "Tax",
        "rate": "Rate",
        "base": "Base",
        "amount": "Amount",
        "line_extension": "Subtotal",
        "allowances": "Allowances",
        "charges": "Charges",
        "tax_exclusive": "Taxable amount",
        "tax_total": "Total taxes",
        "tax_inclusive": "Total with taxes",
        "prepaid": "Prepaid",
        "rounding": "Rounding",
        "payable": "Amount due",
        "withheld": "Total withheld",
        "notes": "Notes",
        "page": "Page {page} of {pages}",
        "continued": "{title} {number} (continued)",
        "authorization": "DIAN numbering authorisation No. {number}",
        "validity": "valid {start} to {end}",
        "range": "prefix {prefix}, range {first} to {last}",
        "range_no_prefix": "range {first} to {last}",
        "software": "Technology provider: NIT {nit}",
        "pdf_origin": "RECEIVED AS A PDF: NOT A LEGALLY VALID ELECTRONIC INVOICE",
        "representation": "Graphic representation of the electronic invoice",
        "lines_count": "{count} lines",
    },
}


def render_pdf(
    doc: Document,
    *,
    locale: str = "es",
    qr_text: str | None = None,
    title: str | None = None,
    pdf_origin: bool = False,
) -> bytes:
    """Render a document's graphic representation as PDF bytes.

    qr_text overrides the QR content (else the document's sts:QRCode, else DIAN's QR content
    built from the document and its CUFE/CUDE). pdf_origin marks every page as a document that
    arrived as a PDF and is not a legal e-invoice (no QR is drawn for it).
    """
    fmt = _Formatter(locale, doc.currency or "COP")
    labels = fmt.labels
    heading = title or _title(doc, labels)
    qr = None if pdf_origin else (qr_text or _stored_qr(doc) or _computed_qr(doc))

    pdf = _InvoicePDF(fmt, heading, doc.number, pdf_origin)
    pdf.set_title(_fold(f"{heading} {doc.number}"))
    pdf.set_author(_fold(doc.supplier.display_name))
    pdf.set_creator("portal einvoice")
    pdf.add_page()

    _header(pdf, doc, fmt, heading, qr)
    _parties(pdf, doc, fmt)
    _references(pdf, doc, fmt)
    _lines(pdf, doc, fmt)
    _tax_tables(pdf, doc, fmt)
    _totals(pdf, doc, fmt)
    _notes(pdf, doc, fmt)
    _authorization(pdf, doc, fmt)
    return bytes(pdf.output())


class _Formatter:
    """Labels for one language; every value through app.humanize, as on the web pages."""

    def __init__(self, locale: str, currency: str) -> None:
        name = (locale or "es").replace("-", "_")
        language = name.split("_")[0].lower()
        self.language = "es" if language == "es" else "en"
        self.labels = LABELS[self.language]
        # Spanish alone means Colombian formatting, as on the web pages ('$ 1.785.000,00').
        self.locale = "es_CO" if name.lower() == "es" else name
        try:
            Locale.parse(self.locale)
        except (ValueError, UnknownLocaleError):
            self.locale = "es_CO" if self.language == "es" else "en_US"
        self.currency = currency

    def money(self, amount: Decimal | None) -> str:
        return _spaces(humanize.money(amount, self.currency, locale=self.locale))

    def number(self, value: Decimal | None) -> str:
        return _spaces(humanize.number(value, locale=self.locale))

    def quantity(self, value: Decimal | None, unit_code: str) -> str:
        return _spaces(humanize.quantity(value, unit_code, locale=self.locale))

    def percent(self, value: Decimal | None) -> str:
        return _spaces(humanize.percent(value, locale=self.locale))

    def date(self, value: dt.date | None) -> str:
        return humanize.date(value, "medium", locale=self.locale)

    def currency_name(self, code: str) -> str:
        return humanize.currency(code, locale=self.locale)


class _InvoicePDF(FPDF):
    """A4 pages with a running heading after the first page and "page X of Y" footers."""

    def __init__(self, fmt: _Formatter, heading: str, number: str, pdf_origin: bool) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.fmt = fmt
        self.heading = heading
        self.number = number
        self.pdf_origin = pdf_origin
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=18)

    def header(self) -> None:
        if self.pdf_origin:
            self.set_font(FONT, "B", 9)
            self.set_text_color(190, 0, 0)
            self.set_draw_color(190, 0, 0)
            self.cell(0, 7, _fold(self.fmt.labels["pdf_origin"]), border=1, align="C",
                      new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0, 0, 0)
            self.set_draw_color(0, 0, 0)
            self.ln(2)
        if self.page_no() > 1:
            self.set_font(FONT, "", 8)
            text = self.fmt.labels["continued"].format(title=self.heading, number=self.number)
            self.cell(0, 5, _fold(text), new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        page = self.fmt.labels["page"].format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, _fold(page), align="R")
        self.set_text_color(0, 0, 0)


def _header(pdf: _InvoicePDF, doc: Document, fmt: _Formatter, heading: str,
            qr: str | None) -> None:
    labels = fmt.labels
    top = pdf.get_y()
    text_width = pdf.epw - (QR_SIZE + 4 if qr else 0)
    if qr:
        pdf.image(_qr_png(qr), x=pdf.w - MARGIN - QR_SIZE, y=top, w=QR_SIZE, h=QR_SIZE)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(text_width, 7, _fold(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 12)
    pdf.cell(text_width, 7, _fold(f"{labels['number']}: {doc.number}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    issued = fmt.date(doc.issue_date)
    if doc.issue_time:
        issued = f"{issued} {humanize.clock(doc.issue_time, locale=fmt.locale)}"
    facts = [(labels["issued"], issued), (labels["due"], fmt.date(_due_date(doc))),
             (labels["currency"], fmt.currency_name(doc.currency))]
    for means in doc.payment_means[:1]:
        if means.id:
            facts.append((labels["payment"], humanize.payment_form(means.id, locale=fmt.locale)))
        if means.code:
            facts.append((labels["means"], humanize.payment_means(means.code, locale=fmt.locale)))
    for label, value in facts:
        if value:
            _label_value(pdf, label, value, text_width)
    pdf.set_y(max(pdf.get_y(), top + (QR_SIZE if qr else 0)) + 2)
    if doc.uuid:
        scheme = "CUDE" if doc.uuid_scheme.upper().startswith("CUDE") else "CUFE"
        if not doc.is_dian and not doc.uuid_scheme:
            scheme = "UUID"
        _one_line(pdf, f"{scheme}: {doc.uuid}", bold_prefix=f"{scheme}:")
    pdf.ln(1)


def _parties(pdf: _InvoicePDF, doc: Document, fmt: _Formatter) -> None:
    labels = fmt.labels
    width = (pdf.epw - 4) / 2
    top = pdf.get_y()
    bottoms = []
    for index, (label, party) in enumerate(
        ((labels["supplier"], doc.supplier), (labels["customer"], doc.customer))
    ):
        x = pdf.l_margin + index * (width + 4)
        pdf.set_xy(x, top)
        pdf.set_fill_color(235, 235, 235)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(width, 6, _fold(label.upper()), fill=True, new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(width, 5, _fold(party.display_name or "-"), new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        for line in _party_lines(party, fmt):
            pdf.multi_cell(width, 4.5, _fold(line), new_x="LEFT", new_y="NEXT")
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms) + 3)


def _party_lines(party: Party, fmt: _Formatter) -> list[str]:
    labels = fmt.labels
    lines = []
    if party.name and party.registration_name and party.name != party.registration_name:
        lines.append(party.name)
    tax_id = humanize.party_tax_id(party, locale=fmt.locale)
    if tax_id:
        lines.append(tax_id if " " in tax_id else f"{labels['tax_id']} {tax_id}")
    if party.tax_level_codes:
        lines.append(humanize.responsibilities(party.tax_level_codes, locale=fmt.locale))
    if party.address:
        address = party.address
        lines.extend(line for line in address.lines if line)
        place = ", ".join(part for part in (address.city, address.subdivision) if part)
        place = " ".join(part for part in (address.postal_zone, place, address.country) if part)
        if place:
            lines.append(place)
    if party.email:
        lines.append(f"{labels['email']}: {party.email}")
    if party.telephone:
        lines.append(f"{labels['phone']}: {party.telephone}")
    return lines


def _references(pdf: _InvoicePDF, doc: Document, fmt: _Formatter) -> None:
    labels = fmt.labels
    pdf.set_font(FONT, "", 8)
    if doc.order_reference and doc.order_reference.id:
        _label_value(pdf, labels["order"], doc.order_reference.id, pdf.epw)
    for ref in doc.billing_references:
        parts = [ref.id, fmt.date(ref.issue_date), ref.description]
        _label_value(pdf, labels["reference"], " ".join(p for p in parts if p), pdf.epw)
        if ref.uuid:
            _one_line(pdf, f"{ref.uuid_scheme or 'CUFE'}: {ref.uuid}", size=7)
    for reason in doc.discrepancies:
        text = " ".join(p for p in (reason.code, reason.description) if p)
        _label_value(pdf, labels["reason"], text, pdf.epw)
    pdf.ln(1)


def _lines(pdf: _InvoicePDF, doc: Document, fmt: _Formatter) -> None:
    if not doc.lines:
        return
    labels = fmt.labels
    pdf.set_font(FONT, "", 8)
    pdf.set_fill_color(255, 255, 255)
    heading_style = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
    widths = (8, 72, 16, 26, 30, 34)
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        text_align=("RIGHT", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT"),
        headings_style=heading_style,
        line_height=4.2,
        repeat_headings=1,
        padding=1,
    ) as table:
        head = table.row()
        for key in ("item", "description", "quantity", "unit", "unit_price", "line_total"):
            head.cell(_fold(labels[key]))
        for line in doc.lines:
            row = table.row()
            row.cell(_fold(line.id))
            row.cell(_fold(_line_description(line, fmt)))
            row.cell(_fold(fmt.number(line.quantity)))
            row.cell(_fold(humanize.unit_name(line.unit_code, locale=fmt.locale,
                                              plural=line.quantity != 1)))
            row.cell(_fold(fmt.money(line.price) if line.price is not None else ""))
            row.cell(_fold(fmt.money(line.line_extension)))
    pdf.ln(2)


def _line_description(line, fmt: _Formatter) -> str:
    parts = [p for p in (line.name, line.description) if p]
    text = " - ".join(dict.fromkeys(parts)) or line.seller_item_id
    if line.seller_item_id and line.seller_item_id not in text:
        text = f"[{line.seller_item_id}] {text}"
    for ac in line.allowance_charges:
        label = fmt.labels["surcharge" if ac.charge else "discount"]
        detail = f" ({ac.reason})" if ac.reason else ""
        text += f"\n{label}{detail}: {fmt.money(ac.amount)}"
    if line.note:
        text += f"\n{line.note}"
    return text


def _tax_tables(pdf: _InvoicePDF, doc: Document, fmt: _Formatter) -> None:
    for key, totals in (("taxes", doc.tax_totals), ("withholdings", doc.withholding_totals)):
        rows = list(_tax_rows(totals, fmt))
        if not rows:
            continue
        labels = fmt.labels
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 6, _fold(labels[key]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8)
        pdf.set_fill_color(255, 255, 255)
        with pdf.table(
            col_widths=(50, 25, 45, 45),
            width=165,
            align="LEFT",
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
            headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
            line_height=4.2,
            padding=1,
        ) as table:
            head = table.row()
            for label in ("tax", "rate", "base", "amount"):
                head.cell(_fold(labels[label]))
            for cells in rows:
                row = table.row()
                for cell in cells:
                    row.cell(_fold(cell))
        pdf.ln(2)


def _tax_rows(totals: list[TaxTotal], fmt: _Formatter):
    for total in totals:
        if not total.subtotals:
            yield ("", "", "", fmt.money(total.tax_amount))
            continue
        for sub in total.subtotals:
            name = humanize.tax_scheme(sub.scheme_id, sub.scheme_name, locale=fmt.locale)
            rate = fmt.percent(sub.percent)
            if not rate and sub.per_unit_amount is not None:
                rate = fmt.money(sub.per_unit_amount)
            yield (name, rate, fmt.money(sub.taxable_amount), fmt.money(sub.tax_amount))


def _totals(pdf: _InvoicePDF, doc: Document, fmt: _Formatter) -> None:
    labels = fmt.labels
    t = doc.totals
    tax_total = sum((total.tax_amount for total in doc.tax_totals), Decimal("0"))
    withheld = sum((total.tax_amount for total in doc.withholding_totals), Decimal("0"))
    rows = [
        ("line_extension", t.line_extension),
        ("allowances", t.allowance),
        ("charges", t.charge),
        ("tax_exclusive", t.tax_exclusive),
        ("tax_total", tax_total if doc.tax_totals else None),
        ("tax_inclusive", t.tax_inclusive),
        ("prepaid", t.prepaid),
        ("rounding", t.payable_rounding),
        ("withheld", withheld if doc.withholding_totals else None),
    ]
    label_width, value_width = 55, 45
    x = pdf.w - MARGIN - label_width - value_width
    if pdf.will_page_break(6 * (len(rows) + 1)):
        pdf.add_page()
    pdf.set_font(FONT, "", 9)
    for key, amount in rows:
        if amount is None or (key in ("allowances", "charges", "prepaid", "rounding")
                              and amount == 0):
            continue
        pdf.set_x(x)
        pdf.cell(label_width, 5.5, _fold(labels[key]), border="B")
        pdf.cell(value_width, 5.5, _fold(fmt.money(amount)), border="B", align="R",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(x)
    pdf.set_font(FONT, "B", 11)
    pdf.set_fill_color(225, 225, 225)
    pdf.cell(label_width, 7, _fold(labels["payable"]), fill=True)
    pdf.cell(value_width, 7, _fold(fmt.money(t.payable)), fill=True, align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _notes(pdf: _InvoicePDF, doc: Document, fmt: _Formatter) -> None:
    notes = [note.strip() for note in doc.notes if note and note.strip()]
    notes += [term.note.strip() for term in doc.payment_terms if term.note.strip()]
    if not notes:
        return
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 6, _fold(fmt.labels["notes"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    for note in notes:
        pdf.multi_cell(0, 4, _fold(note), new_x="LMARGIN", new_y="NEXT", wrapmode="CHAR")
    pdf.ln(2)


def _authorization(pdf: _InvoicePDF, doc: Document, fmt: _Formatter) -> None:
    dian = doc.dian
    if dian is None:
        return
    pdf.set_font(FONT, "", 7)
    labels = fmt.labels
    if dian.authorization:
        parts = [labels["authorization"].format(number=dian.authorization)]
        if dian.authorization_start and dian.authorization_end:
            parts.append(labels["validity"].format(start=fmt.date(dian.authorization_start),
                                                   end=fmt.date(dian.authorization_end)))
        if dian.range_from or dian.range_to:
            key = "range" if dian.prefix else "range_no_prefix"
            parts.append(labels[key].format(prefix=dian.prefix, first=dian.range_from,
                                            last=dian.range_to))
        pdf.multi_cell(0, 3.5, _fold(", ".join(parts)), new_x="LMARGIN", new_y="NEXT")
    if dian.software_provider_id:
        nit = humanize.tax_id_number(
            dian.software_provider_id + (dian.software_provider_check_digit or ""), "CO"
        )
        pdf.multi_cell(0, 3.5, _fold(labels["software"].format(nit=nit)),
                       new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 3.5, _fold(labels["representation"]), new_x="LMARGIN", new_y="NEXT")


def _label_value(pdf: FPDF, label: str, value: str, width: float) -> None:
    size = pdf.font_size_pt
    pdf.set_font(FONT, "B", size)
    label_text = _fold(f"{label}: ")
    label_width = pdf.get_string_width(label_text) + 1
    pdf.cell(label_width, 4.5, label_text)
    pdf.set_font(FONT, "", size)
    pdf.multi_cell(width - label_width, 4.5, _fold(value), new_x="LMARGIN", new_y="NEXT")


def _one_line(pdf: FPDF, text: str, *, bold_prefix: str = "", size: float = 8) -> None:
    """Write text on one line, shrinking the font so a 96-character hash is never wrapped."""
    text = _fold(text)
    pdf.set_font(FONT, "", size)
    while size > 5 and pdf.get_string_width(text) > pdf.epw:
        size -= 0.5
        pdf.set_font(FONT, "", size)
    if bold_prefix and text.startswith(bold_prefix):
        pdf.set_font(FONT, "B", size)
        width = pdf.get_string_width(bold_prefix) + 2
        pdf.cell(width, 4, bold_prefix)
        pdf.set_font(FONT, "", size)
        text = text[len(bold_prefix):].lstrip()
    pdf.cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")


def _title(doc: Document, labels: dict[str, str]) -> str:
    if doc.document_type is DocumentType.CREDIT_NOTE:
        return labels["credit"] if doc.is_dian else labels["generic_credit"]
    if doc.document_type is DocumentType.DEBIT_NOTE:
        return labels["debit"] if doc.is_dian else labels["generic_debit"]
    if doc.document_type is DocumentType.APPLICATION_RESPONSE:
        return labels["response"]
    if not doc.is_dian:
        return labels["generic_invoice"]
    return {"02": labels["export"], "03": labels["contingency"]}.get(doc.type_code,
                                                                     labels["invoice"])


def _due_date(doc: Document) -> dt.date | None:
    if doc.due_date:
        return doc.due_date
    return next((m.due_date for m in doc.payment_means if m.due_date), None)


def _stored_qr(doc: Document) -> str:
    """Return the document's own sts:QRCode, each line stripped of the XML's indentation."""
    if doc.dian is None or not doc.dian.qr_code.strip():
        return ""
    return "\n".join(line.strip() for line in doc.dian.qr_code.strip().splitlines()
                     if line.strip())


def _computed_qr(doc: Document) -> str:
    """Return DIAN's QR content built from the document, or '' without a CUFE/CUDE."""
    if not doc.uuid or not doc.is_dian:
        return ""
    return cufe.qr_content(cufe_inputs_from_document(doc), doc.uuid)


def cufe_inputs_from_document(doc: Document) -> cufe.CufeInputs:
    """Return the CUFE/CUDE fields of a read document, using the XML's own strings where kept."""
    raw = doc.totals.raw

    def amount(name: str, value: Decimal | None) -> str:
        if raw.get(name):
            return raw[name]
        return f"{value:.2f}" if value is not None else cufe.ZERO_AMOUNT

    taxes = {}
    for code in cufe.CUFE_TAX_CODES:
        totals = [t for t in doc.tax_totals if t.scheme_id == code]
        if len(totals) == 1 and totals[0].tax_amount_raw:
            taxes[code] = totals[0].tax_amount_raw
        else:
            taxes[code] = f"{sum((t.tax_amount for t in totals), Decimal('0')):.2f}"
    return cufe.CufeInputs(
        number=doc.number,
        issue_date=doc.issue_date_raw or (doc.issue_date.isoformat() if doc.issue_date else ""),
        issue_time=doc.issue_time,
        line_extension=amount("LineExtensionAmount", doc.totals.line_extension),
        tax_01=taxes["01"],
        tax_04=taxes["04"],
        tax_03=taxes["03"],
        payable=amount("PayableAmount", doc.totals.payable),
        supplier_id=doc.supplier.tax_id,
        customer_id=doc.customer.tax_id,
        environment=doc.profile_execution_id or doc.uuid_environment or "2",
        declared=doc.uuid or None,
        scheme_name=doc.uuid_scheme or None,
    )


def _qr_png(text: str) -> io.BytesIO:
    qr = segno.make(text, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    return buffer


def _spaces(text: str) -> str:
    for char, replacement in _SPACES.items():
        text = text.replace(char, replacement)
    return text


def _fold(text: str) -> str:
    """Return text the built-in fonts can draw: Windows-1252, else without marks, else '?'."""
    text = _spaces(str(text or ""))
    try:
        text.encode(ENCODING)
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text.translate(_LETTERS):
        try:
            char.encode(ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char)
            base = "".join(c for c in base if not unicodedata.combining(c))
            try:
                base.encode(ENCODING)
                out.append(base or "?")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


def fold_text(text: str) -> str:
    """Return text the PDF built-in fonts can draw (for other PDFs the portal writes)."""
    return _fold(text)
