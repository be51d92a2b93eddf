"""The portal's own PDFs (dispute transcripts, payment receipts): A4 pages with a footer that
names the document and the page ("Recibo de pago · página 1 de 2"), in fpdf2's core fonts."""

from __future__ import annotations

from fpdf import FPDF

from app.einvoice.render import fold_text

FONT = "helvetica"


class FooterPDF(FPDF):
    """An A4 page with 15 mm margins and ``heading · page_label`` at the foot of each page
    (``page_label`` holds ``{page}`` and ``{pages}``)."""

    def __init__(self, heading: str, page_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.heading = heading
        self.page_label = page_label
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        label = self.page_label.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, fold_text(f"{self.heading} · {label}"), align="R")
        self.set_text_color(0, 0, 0)
