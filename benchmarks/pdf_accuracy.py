"""Print field-level accuracy of PDF invoice extraction over ../shared/data/pdf/.

Usage: python -m benchmarks.pdf_accuracy [PDF_DIR]   (default: ../shared/data/pdf)

Sets:
- invoice2data PDFs: real vendor PDFs; truth = invoice2data's expected JSON.
- Factur-X PDFs, text only: the embedded XML is ignored so the figure measures the text
  heuristics; truth = the CII XML of the same invoice (CII/*.cii.xml).
- Factur-X PDFs, embedded XML: the normal path (the XML is read); should be 100 %.
- invoice2data .txt: invoice2data's plain-text samples through the same text heuristics.
- DIAN examples rendered by the portal: the official DIAN XML examples, rendered to PDF by
  app.einvoice.render and read back; truth = the XML. A layout the heuristics were not tuned on
  (Spanish labels, Colombian number format, side-by-side party blocks).

A field counts as correct when it equals the truth after normalisation: amounts to the cent,
dates exactly, ids and numbers ignoring case, spaces and punctuation, names ignoring case, accents
and punctuation (or one containing the other). Accuracy = correct / documents whose truth has
the field; precision = correct / documents where the field was extracted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from app.einvoice.pdfextract import (
    FIELDS,
    Extraction,
    extract_embedded_xml,
    extract_from_text,
    extract_pdf,
)
from app.einvoice.render import render_pdf

PDF_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdf"
I2D_FIELDS = {"issuer": "supplier_name", "amount": "total", "amount_untaxed": "subtotal",
              "amount_tax": "tax", "date": "issue_date", "date_due": "due_date",
              "invoice_number": "number", "currency": "currency", "vat": "supplier_tax_id"}
AMOUNTS = {"subtotal", "tax", "total", "payable"}
DATES = {"issue_date", "due_date"}
NAMES = {"supplier_name", "customer_name"}


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def same(field: str, found, truth) -> bool:
    """Return True when an extracted value matches the truth (see the module docstring)."""
    if found is None or truth in (None, ""):
        return False
    if field in AMOUNTS:
        return abs(Decimal(str(found)) - Decimal(str(truth))) < Decimal("0.005")
    if field in DATES:
        truth = truth if isinstance(truth, dt.date) else dt.date.fromisoformat(str(truth))
        return found == truth
    if field in NAMES:
        a, b = _plain(found), _plain(truth)
        return bool(a and b) and (a == b or a in b or b in a)
    return re.sub(r"[^0-9A-Z]", "", str(found).upper()) == \
        re.sub(r"[^0-9A-Z]", "", str(truth).upper())


class Score:
    """Per-field tallies for one set of documents."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.truth = defaultdict(int)
        self.found = defaultdict(int)
        self.correct = defaultdict(int)
        self.confidence = defaultdict(list)
        self.lines_truth = self.lines_found = 0
        self.misses: list[str] = []
        self.documents = 0

    def add(self, label: str, extraction: Extraction, truth: dict, truth_lines=None) -> None:
        self.documents += 1
        for field, expected in truth.items():
            if expected in (None, ""):
                continue
            got = extraction.value(field)
            self.truth[field] += 1
            if got is not None:
                self.found[field] += 1
            ok = same(field, got, expected)
            self.correct[field] += ok
            if got is not None:
                self.confidence[ok].append(extraction.confidence(field))
            if not ok:
                self.misses.append(f"{label}: {field} = {got!r}, expected {expected!r}")
        if truth_lines:
            amounts = [line.amount for line in extraction.lines if line.amount is not None]
            self.lines_truth += len(truth_lines)
            for expected in truth_lines:
                hit = next((a for a in amounts if abs(a - expected) < Decimal("0.005")), None)
                if hit is not None:
                    amounts.remove(hit)
                    self.lines_found += 1

    def rows(self) -> list[tuple[str, int, int, int]]:
        order = [f for f in (*FIELDS, "payable") if self.truth.get(f)]
        return [(f, self.truth[f], self.found[f], self.correct[f]) for f in order]


def _i2d_truth(path: Path) -> tuple[dict, list[Decimal]]:
    expected = json.loads(path.read_text(encoding="utf-8"))[0]
    truth = {ours: expected.get(theirs) for theirs, ours in I2D_FIELDS.items()}
    lines = []
    for line in expected.get("lines", []):
        value = line.get("price_subtotal", line.get("price", line.get("price_unit")))
        if value is not None and ("name" in line or "desc" in line):
            lines.append(Decimal(str(value)))
    return truth, lines


def _cii_truth(path: Path) -> tuple[dict, list[Decimal]]:
    extraction, _ = extract_embedded_xml(path.read_bytes())
    truth = {f: extraction.value(f) for f in (*FIELDS, "payable")}
    return truth, [line.amount for line in extraction.lines if line.amount is not None]


def run(pdf_dir: Path) -> list[Score]:
    """Extract every document and score it; return one Score per set."""
    i2d, fx_text, fx_xml, txt = (Score("invoice2data PDFs (text)"),
                                 Score("Factur-X PDFs, text only"),
                                 Score("Factur-X PDFs, embedded XML"),
                                 Score("invoice2data .txt (text heuristics)"))
    for pdf in sorted((pdf_dir / "invoice2data").rglob("*.pdf")):
        expected = pdf.with_suffix(".json")
        if expected.exists():
            truth, lines = _i2d_truth(expected)
            extraction, _ = extract_pdf(pdf.read_bytes())
            i2d.add(pdf.name, extraction, truth, lines)
    for sample in sorted((pdf_dir / "invoice2data").rglob("*.txt")):
        expected = sample.with_suffix(".json")
        if expected.exists():
            truth, lines = _i2d_truth(expected)
            txt.add(sample.name, extract_from_text(sample.read_text(encoding="utf-8")), truth)
    for pdf in sorted((pdf_dir / "facturx" / "FX").glob("*.pdf")):
        cii = pdf_dir / "facturx" / "CII" / f"{pdf.stem}.cii.xml"
        if not cii.exists():
            continue
        truth, lines = _cii_truth(cii)
        data = pdf.read_bytes()
        fx_text.add(pdf.name, extract_pdf(data, use_embedded_xml=False)[0], truth, lines)
        fx_xml.add(pdf.name, extract_pdf(data)[0], truth, lines)
    rendered = Score("DIAN examples rendered by the portal (text)")
    dian = pdf_dir.parent / "dian" / "caja-herramientas-v1.9" / "ejemplificaciones"
    for sample in sorted(dian.glob("*.xml")):
        doc = _read_dian(sample)
        if doc is not None:
            extraction, _ = extract_pdf(render_pdf(doc))
            rendered.add(sample.name, extraction, _document_truth(doc),
                         [line.line_extension for line in doc.lines])
    return [i2d, fx_text, txt, rendered, fx_xml]


def _read_dian(path: Path):
    from app.einvoice.detect import detect_bytes
    from app.einvoice.reader import read_document

    detection = detect_bytes(path.read_bytes())
    if not detection.readable:
        return None
    doc, _ = read_document(detection.tree)
    return doc if doc is not None and doc.lines else None


def _document_truth(doc) -> dict:
    def tax_id(party):
        return f"{party.tax_id}-{party.check_digit}" if party.check_digit else party.tax_id

    return {
        "supplier_name": doc.supplier.display_name, "supplier_tax_id": tax_id(doc.supplier),
        "customer_name": doc.customer.display_name, "customer_tax_id": tax_id(doc.customer),
        "number": doc.number, "issue_date": doc.issue_date, "due_date": doc.due_date,
        "currency": doc.currency, "subtotal": doc.totals.line_extension,
        "tax": sum((t.tax_amount for t in doc.tax_totals), Decimal("0")) or None,
        "total": doc.totals.tax_inclusive, "payable": doc.totals.payable,
    }


def _table(scores: list[Score]) -> str:
    out = []
    for score in scores:
        out.append(f"\n{score.name}: {score.documents} documents")
        out.append(f"  {'field':<16}{'truth':>6}{'found':>6}{'right':>6}{'accuracy':>10}"
                   f"{'precision':>11}")
        total_truth = total_right = 0
        for field, truth, found, right in score.rows():
            precision = f"{right / found:.0%}" if found else "-"
            out.append(f"  {field:<16}{truth:>6}{found:>6}{right:>6}{right / truth:>10.0%}"
                       f"{precision:>11}")
            total_truth += truth
            total_right += right
        if total_truth:
            out.append(f"  {'all fields':<16}{total_truth:>6}{'':>6}{total_right:>6}"
                       f"{total_right / total_truth:>10.0%}")
        if score.lines_truth:
            out.append(f"  line amounts found: {score.lines_found}/{score.lines_truth} "
                       f"({score.lines_found / score.lines_truth:.0%})")
        right_conf, wrong_conf = score.confidence[True], score.confidence[False]
        if right_conf or wrong_conf:
            def mean(values):
                return f"{sum(values) / len(values):.2f}" if values else "-"
            out.append(f"  mean confidence: right {mean(right_conf)}, wrong {mean(wrong_conf)}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the accuracy tables (and the misses with -v)."""
    argv = sys.argv[1:] if argv is None else argv
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    pdf_dir = Path(args[0]) if args else PDF_DIR
    if not pdf_dir.is_dir():
        print(f"pdf accuracy: {pdf_dir} is not here; skipped")
        return 0
    started = time.perf_counter()
    scores = run(pdf_dir)
    print("PDF invoice extraction: field-level accuracy")
    print(_table(scores))
    if verbose:
        for score in scores:
            for miss in score.misses:
                print(f"  miss [{score.name}] {miss}")
    print(f"\n({time.perf_counter() - started:.1f} s, each PDF parsed in a limited child "
          "process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
