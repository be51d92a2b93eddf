"""Invoice PDFs in random layouts, in es, en, de, fr, pt and it (fpdf2, seeded).

Each *vendor* is one random layout: a language (es, en, de, fr, pt, it), that locale's number
and date formats, a wording for each label (several synonyms per language), where the header
fields sit (``label: value`` on a line, a row of labels over a row of values, or labels in a
column with values in a column to their right), and where the totals block sits. A vendor writes
several invoices with different numbers, dates and amounts in the same layout. The truth of each
PDF is returned beside it.

These PDFs are made by the same team that writes the heuristics, and the label patterns of
``pdfextract._LABELS`` were extended with the wordings in ``WORDS`` (the pt and it patterns match
no real PDF in ../shared/data/pdf). They check that the heuristics are not tied to a layout; they
say nothing about wordings the patterns do not know, and are no substitute for real vendors' PDFs
(see benchmarks/pdf_fields.py).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from fpdf import FPDF

LANGUAGES = ("es", "en", "de", "fr", "pt", "it")
WORDS = {
    "es": {
        "number": ["Factura N°", "Factura No.", "Número de factura", "Nro. Factura", "Factura #"],
        "date": ["Fecha", "Fecha de emisión", "Fecha factura", "Fecha de expedición"],
        "due": ["Fecha de vencimiento", "Vencimiento", "Vence"],
        "subtotal": ["Subtotal", "Base imponible", "Total sin IVA"],
        "tax": ["IVA {r}%", "IVA", "Total IVA"],
        "total": ["Total", "Total factura", "Total a pagar", "Importe total"],
        "taxid": ["NIF", "CIF", "NIT"],
        "title": ["FACTURA", "Factura"],
        "customer": ["Cliente", "Facturar a"],
        "months": (
            "enero febrero marzo abril mayo junio "
            "julio agosto septiembre octubre noviembre diciembre"
        ).split(),
    },
    "en": {
        "number": ["Invoice No.", "Invoice Number", "Invoice #", "Invoice No"],
        "date": ["Date", "Invoice Date", "Issue Date", "Date of issue"],
        "due": ["Due Date", "Payment due", "Due date"],
        "subtotal": ["Subtotal", "Net amount", "Total excl. VAT", "Amount before tax"],
        "tax": ["VAT {r}%", "Tax", "Sales tax", "VAT"],
        "total": ["Total", "Grand Total", "Total due", "Invoice total", "Amount due"],
        "taxid": ["VAT No.", "Tax ID", "VAT Reg. No."],
        "title": ["INVOICE", "Tax Invoice"],
        "customer": ["Bill to", "Customer", "Invoice to"],
        "months": (
            "January February March April May June July August September October November December"
        ).split(),
    },
    "de": {
        "number": ["Rechnungsnummer", "Rechnung Nr.", "Rechnungsnr.", "Rechnungs-Nr."],
        "date": ["Rechnungsdatum", "Datum"],
        "due": ["Fälligkeitsdatum", "Fällig am", "Zahlbar bis"],
        "subtotal": ["Nettobetrag", "Zwischensumme", "Summe netto", "Gesamtnettobetrag"],
        "tax": ["MwSt. {r}%", "USt. {r}%", "zzgl. {r}% MwSt.", "Umsatzsteuer {r}%"],
        "total": ["Gesamtbetrag", "Rechnungsbetrag", "Bruttobetrag", "Endbetrag"],
        "taxid": ["USt-IdNr.", "UStId"],
        "title": ["RECHNUNG", "Rechnung"],
        "customer": ["Rechnungsempfänger", "Kunde"],
        "months": (
            "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
        ).split(),
    },
    "fr": {
        "number": ["Facture n°", "Numéro de facture", "Facture N°", "N° de facture"],
        "date": ["Date", "Date de facture", "Date d'émission", "Date de facturation"],
        "due": ["Échéance", "Date d'échéance", "Date limite de paiement"],
        "subtotal": ["Total HT", "Montant HT", "Sous-total"],
        "tax": ["TVA {r}%", "TVA", "Montant TVA"],
        "total": ["Total TTC", "Montant TTC", "Net à payer"],
        "taxid": ["N° TVA", "TVA intracommunautaire"],
        "title": ["FACTURE", "Facture"],
        "customer": ["Client", "Facturé à"],
        "months": (
            "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
        ).split(),
    },
    "pt": {
        "number": ["Fatura nº", "Número da fatura", "Fatura N.º", "Fatura No."],
        "date": ["Data", "Data de emissão", "Data da fatura"],
        "due": ["Data de vencimento", "Vencimento"],
        "subtotal": ["Subtotal", "Total sem IVA", "Base tributável", "Total líquido"],
        "tax": ["IVA {r}%", "IVA", "Total IVA", "Valor do IVA"],
        "total": ["Total", "Total a pagar", "Total da fatura", "Valor total"],
        "taxid": ["NIF", "CNPJ", "NIPC"],
        "title": ["FATURA", "Fatura"],
        "customer": ["Cliente", "Faturar a"],
        "months": (
            "janeiro fevereiro março abril maio junho "
            "julho agosto setembro outubro novembro dezembro"
        ).split(),
    },
    "it": {
        "number": ["Fattura n.", "Numero fattura", "Fattura N°", "N. fattura"],
        "date": ["Data", "Data fattura", "Data emissione", "Data documento"],
        "due": ["Scadenza", "Data scadenza"],
        "subtotal": ["Imponibile", "Totale imponibile", "Totale netto"],
        "tax": ["IVA {r}%", "IVA", "Totale IVA", "Imposta"],
        "total": ["Totale", "Totale fattura", "Totale documento", "Totale da pagare"],
        "taxid": ["P.IVA", "Partita IVA"],
        "title": ["FATTURA", "Fattura"],
        "customer": ["Cliente", "Spett.le"],
        "months": (
            "gennaio febbraio marzo aprile maggio giugno "
            "luglio agosto settembre ottobre novembre dicembre"
        ).split(),
    },
}
NUMBER_FORMATS = {
    "es": ["1.234,56"],
    "en": ["1,234.56"],
    "de": ["1.234,56", "1'234.56"],
    "fr": ["1 234,56"],
    "pt": ["1.234,56", "1 234,56"],
    "it": ["1.234,56"],
}
DATE_FORMATS = {
    "es": ["dd/mm/yyyy", "d de month de yyyy"],
    "en": ["month d, yyyy", "yyyy-mm-dd", "dd-Mon-yyyy"],
    "de": ["dd.mm.yyyy", "d. month yyyy"],
    "fr": ["dd/mm/yyyy", "d month yyyy"],
    "pt": ["dd/mm/yyyy", "d de month de yyyy"],
    "it": ["dd/mm/yyyy", "d month yyyy"],
}
CURRENCIES = {
    "es": ["EUR", "€"],
    "en": ["USD", "GBP", "$"],
    "de": ["EUR", "€"],
    "fr": ["EUR", "€"],
    "pt": ["EUR", "BRL"],
    "it": ["EUR", "€"],
}
TAX_ID_PREFIX = {"es": "ES", "en": "GB", "de": "DE", "fr": "FR", "pt": "PT", "it": "IT"}
NAMES = [
    "Aldebaran",
    "Borealis",
    "Cobalto",
    "Delta Werk",
    "Estrela",
    "Fiordo",
    "Granito",
    "Helios",
    "Iride",
    "Jacarandá",
    "Kestrel",
    "Lumen",
    "Mistral",
    "Nordlicht",
    "Orvieto",
    "Pampa",
    "Quartz",
    "Rialto",
    "Sirocco",
    "Tramontana",
]
SUFFIX = {"es": "S.L.", "en": "Ltd", "de": "GmbH", "fr": "SARL", "pt": "Lda.", "it": "S.r.l."}
CENT = Decimal("0.01")
TRADES = ["Trading", "Servicios", "Systems", "Logistik", "Conseil", "Serviços", "Forniture"]
ITEMS = [
    "Consulting",
    "Widget A",
    "Licencia",
    "Wartung",
    "Transport",
    "Formation",
    "Manutenção",
    "Assistenza",
]
STREETS = ["Calle Mayor", "High Street", "Hauptstraße", "Rue de la Paix", "Rua Augusta", "Via Roma"]


@dataclass
class Vendor:
    """One supplier's layout: everything about how its invoices look, nothing about values."""

    seed: int
    language: str
    name: str
    tax_id: str
    labels: dict[str, str]
    number_format: str
    date_format: str
    currency: str
    header: str  # "inline" | "grid" | "columns"
    header_x: float
    totals_x: float
    number_prefix: str
    with_due: bool


def make_vendor(seed: int) -> Vendor:
    """Draw one vendor layout from the seed."""
    rnd = random.Random(seed)
    language = LANGUAGES[seed % len(LANGUAGES)]
    words = WORDS[language]
    labels = {key: rnd.choice(choices) for key, choices in words.items() if key != "months"}
    return Vendor(
        seed=seed,
        language=language,
        name=f"{rnd.choice(NAMES)} {rnd.choice(TRADES)} {SUFFIX[language]}",
        tax_id=f"{TAX_ID_PREFIX[language]}{rnd.randrange(10**8, 10**9)}",
        labels=labels,
        number_format=rnd.choice(NUMBER_FORMATS[language]),
        date_format=rnd.choice(DATE_FORMATS[language]),
        currency=rnd.choice(CURRENCIES[language]),
        header=rnd.choice(["inline", "grid", "columns"]),
        header_x=rnd.choice([10, 110, 120]),
        totals_x=rnd.choice([110, 120, 130]),
        number_prefix=rnd.choice(["", "INV-", "F", "2024/", "A-"]),
        with_due=rnd.random() < 0.6,
    )


def money(value: Decimal, style: str) -> str:
    """Write an amount in one of the locale styles ('1.234,56', '1,234.56', '1 234,56'…)."""
    whole, cents = f"{value:.2f}".split(".")
    groups = f"{int(whole):,}"
    if style == "1.234,56":
        return groups.replace(",", ".") + "," + cents
    if style == "1 234,56":
        return groups.replace(",", " ") + "," + cents
    if style == "1'234.56":
        return groups.replace(",", "'") + "." + cents
    return groups + "." + cents


def write_date(day: dt.date, form: str, months: list[str]) -> str:
    """Write a date in one of the DATE_FORMATS."""
    month = months[day.month - 1]
    return {
        "dd/mm/yyyy": f"{day:%d/%m/%Y}",
        "dd.mm.yyyy": f"{day:%d.%m.%Y}",
        "yyyy-mm-dd": day.isoformat(),
        "d de month de yyyy": f"{day.day} de {month} de {day.year}",
        "month d, yyyy": f"{month} {day.day}, {day.year}",
        "d. month yyyy": f"{day.day}. {month} {day.year}",
        "d month yyyy": f"{day.day} {month} {day.year}",
        "dd-Mon-yyyy": f"{day.day:02d}-{month[:3]}-{day.year}",
    }[form]


def make_invoice(vendor: Vendor, index: int) -> tuple[bytes, dict]:
    """Write invoice number index of this vendor; return the PDF and its truth."""
    rnd = random.Random(vendor.seed * 1000 + index)
    words = WORDS[vendor.language]
    rate = rnd.choice([Decimal(r) for r in ("5", "10", "19", "20", "21", "22", "23")])
    items = []
    for _ in range(rnd.randint(1, 5)):
        qty = Decimal(rnd.randint(1, 12))
        price = (Decimal(rnd.randint(500, 250000)) / 100).quantize(CENT)
        items.append((rnd.choice(ITEMS), qty, price, (qty * price).quantize(CENT)))
    subtotal = sum((i[3] for i in items), Decimal("0"))
    tax = (subtotal * rate / 100).quantize(CENT, ROUND_HALF_UP)
    total = subtotal + tax
    issue = dt.date(2024, 1, 1) + dt.timedelta(days=rnd.randint(0, 360))
    due = issue + dt.timedelta(days=rnd.choice([15, 30, 45, 60]))
    number = f"{vendor.number_prefix}{rnd.randint(1000, 99999)}"
    currency_code = {"€": "EUR", "$": "USD"}.get(vendor.currency, vendor.currency)
    fmt = vendor.number_format
    tax_label = vendor.labels["tax"].format(r=f"{rate:g}")

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.text(10, 18, vendor.name)
    pdf.set_font("Helvetica", "", 9)
    pdf.text(
        10,
        24,
        f"{rnd.randint(1, 200)} {rnd.choice(STREETS)}",
    )
    pdf.text(10, 29, f"{vendor.labels['taxid']}: {vendor.tax_id}")
    pdf.set_font("Helvetica", "B", 16)
    pdf.text(vendor.header_x if vendor.header_x > 100 else 150, 18, vendor.labels["title"])
    pdf.set_font("Helvetica", "", 9)
    header = [
        (vendor.labels["number"], number),
        (vendor.labels["date"], write_date(issue, vendor.date_format, words["months"])),
    ]
    if vendor.with_due:
        header.append((vendor.labels["due"], write_date(due, vendor.date_format, words["months"])))
    x, y = (vendor.header_x, 40) if vendor.header_x > 100 else (10, 60)
    if vendor.header == "inline":
        for row, (label, value) in enumerate(header):
            pdf.text(x, y + 5 * row, f"{label}: {value}")
    elif vendor.header == "grid":
        for col, (label, value) in enumerate(header):
            pdf.set_font("Helvetica", "B", 8)
            pdf.text(x + 30 * col, y, label)
            pdf.set_font("Helvetica", "", 9)
            pdf.text(x + 30 * col, y + 5, value)
    else:
        for row, (label, value) in enumerate(header):
            pdf.text(x, y + 5 * row, label)
            pdf.text(x + 38, y + 5 * row, value)
    customer_y = 40 if vendor.header_x > 100 or y > 50 else 60
    customer_x = 10 if vendor.header_x > 100 else 120
    pdf.set_font("Helvetica", "B", 9)
    pdf.text(customer_x, customer_y, vendor.labels["customer"])
    pdf.set_font("Helvetica", "", 9)
    pdf.text(
        customer_x,
        customer_y + 5,
        rnd.choice(["Acme Holdings", "Kunde AG", "Cliente Uno", "Beta Retail", "Omega Srl"]),
    )
    pdf.text(customer_x, customer_y + 10, f"{rnd.randint(1, 99)} Market Square")

    top = 90
    pdf.set_font("Helvetica", "B", 8)
    heads = {
        "es": ("Descripción", "Cantidad", "Precio", "Importe"),
        "en": ("Description", "Qty", "Unit price", "Amount"),
        "de": ("Beschreibung", "Menge", "Einzelpreis", "Betrag"),
        "fr": ("Désignation", "Qté", "Prix", "Montant"),
        "pt": ("Descrição", "Quantidade", "Preço", "Total"),
        "it": ("Descrizione", "Quantità", "Prezzo", "Importo"),
    }[vendor.language]
    for text, col in zip(heads, (10, 110, 135, 170), strict=True):
        pdf.text(col, top, text)
    pdf.set_font("Helvetica", "", 9)
    for row, (description, qty, price, amount) in enumerate(items):
        line_y = top + 7 + 6 * row
        pdf.text(10, line_y, description)
        pdf.text(110, line_y, f"{qty:g}")
        pdf.text(135, line_y, money(price, fmt))
        pdf.text(170, line_y, money(amount, fmt))
    block_y = top + 20 + 6 * len(items)
    symbol = vendor.currency
    rows = [
        (vendor.labels["subtotal"], subtotal),
        (tax_label, tax),
        (vendor.labels["total"], total),
    ]
    for row, (label, value) in enumerate(rows):
        pdf.set_font("Helvetica", "B" if row == 2 else "", 9)
        pdf.text(vendor.totals_x, block_y + 6 * row, label)
        pdf.text(175, block_y + 6 * row, f"{money(value, fmt)} {symbol}")
    pdf.set_font("Helvetica", "", 7)
    pdf.text(10, 285, f"{vendor.name} - {vendor.labels['taxid']} {vendor.tax_id}")
    truth = {
        "supplier_name": vendor.name,
        "supplier_tax_id": vendor.tax_id,
        "number": number,
        "issue_date": issue,
        "due_date": due if vendor.with_due else None,
        "currency": currency_code,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
    }
    return bytes(pdf.output()), truth
