"""Read invoice fields out of PDFs from suppliers who send no XML.

``extract_pdf(data)`` returns an :class:`Extraction` (header fields, each with a confidence from 0
to 1, and the line table) and a list of findings. When the PDF embeds Factur-X / ZUGFeRD /
XRechnung XML, that XML is read instead of the text (confidence 1). Otherwise the text layer is
read with pdfplumber and labels in Spanish, English, French and German are looked for.

The PDF itself is only ever opened in a child process (``python -I -c …``) that limits its own
address space (RLIMIT_AS) and CPU time (RLIMIT_CPU) before touching the file, and the parent kills
it after a wall-time limit: a decompression bomb or an object-heavy page costs the child, never
the web process, and becomes a ``PDF-LIMIT`` finding. pdfplumber's repair mode (which runs
Ghostscript on the input) is never used. The child hands back plain text and the embedded XML's
bytes; the XML is parsed here with :func:`app.einvoice.xmlsafe.parse_xml` like any upload.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from app.einvoice import xmlsafe
from app.einvoice.findings import Finding, error, warning
from app.numbers import parse_number

FIELDS = ("supplier_name", "supplier_tax_id", "customer_name", "customer_tax_id", "number",
          "issue_date", "due_date", "currency", "subtotal", "tax", "total")
#: Extra fields some documents give: the amount still to pay after prepayments.
EXTRA_FIELDS = ("payable",)
AMOUNT_FIELDS = ("subtotal", "tax", "total", "payable")
DATE_FIELDS = ("issue_date", "due_date")
EMBEDDED_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml",
                      "zugferd_invoice.xml", "order-x.xml")


@dataclass(frozen=True)
class Limits:
    """What one PDF may cost the child process that reads it."""

    max_bytes: int = 20 * 1024 * 1024
    memory_bytes: int = 512 * 1024 * 1024
    cpu_seconds: int = 15
    wall_seconds: float = 30.0
    max_pages: int = 50
    max_chars: int = 400_000
    max_xml_bytes: int = xmlsafe.MAX_BYTES
    #: Words with their positions are read from the first pages only, at most this many.
    max_word_pages: int = 3
    max_words: int = 8000


@dataclass
class Field:
    """One extracted value, how sure we are of it (0–1) and the text it came from."""

    value: str | Decimal | dt.date | None = None
    confidence: float = 0.0
    source: str = ""


@dataclass
class ExtractedLine:
    """One row of the line table."""

    description: str = ""
    quantity: Decimal | None = None
    unit: str = ""
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    confidence: float = 0.0
    tax_percent: Decimal | None = None
    """The line's tax rate when the document states it (the embedded XML does)."""


@dataclass(frozen=True)
class Word:
    """One word of the text layer and its box in PDF points (top-left origin), page from 0."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    page: int = 0


@dataclass
class Extraction:
    """What was read from a PDF: ``source`` is 'embedded-xml', 'text' or 'none'."""

    source: str = "none"
    fields: dict[str, Field] = field(default_factory=dict)
    lines: list[ExtractedLine] = field(default_factory=list)
    pages: int = 0
    embedded_xml: str = ""
    """Name of the embedded XML file that was read, if any."""
    document_type_code: str = ""
    text: str = ""
    """The text layer (capped by Limits.max_chars); empty when the embedded XML was used."""
    words: list[Word] = field(default_factory=list)
    """The first pages' words with positions (what layouts are learned from and applied to)."""
    page_sizes: list[tuple[float, float]] = field(default_factory=list)

    def value(self, name: str) -> Any:
        """Return a field's value, or None when it was not found."""
        found = self.fields.get(name)
        return found.value if found else None

    def confidence(self, name: str) -> float:
        """Return a field's confidence (0 when it was not found)."""
        found = self.fields.get(name)
        return found.confidence if found else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form (amounts and dates as strings)."""
        def plain(value: Any) -> Any:
            if isinstance(value, Decimal | dt.date):
                return str(value) if isinstance(value, Decimal) else value.isoformat()
            return value

        return {
            "source": self.source,
            "pages": self.pages,
            "embedded_xml": self.embedded_xml,
            "document_type_code": self.document_type_code,
            "fields": {name: {"value": plain(f.value), "confidence": round(f.confidence, 2)}
                       for name, f in self.fields.items()},
            "lines": [{k: plain(v) for k, v in asdict(line).items()} for line in self.lines],
        }


# --------------------------------------------------------------------------------------------
# The parent side: run the child, turn its answer into an Extraction and findings.
# --------------------------------------------------------------------------------------------

def extract_pdf(
    data: bytes,
    *,
    limits: Limits | None = None,
    use_embedded_xml: bool = True,
) -> tuple[Extraction, list[Finding]]:
    """Extract header fields and lines from a PDF; never raises on bad input.

    With use_embedded_xml=False an embedded Factur-X XML is ignored and the text heuristics run
    (the accuracy benchmark measures them that way).
    """
    limits = limits or Limits()
    if not isinstance(data, bytes | bytearray | memoryview):
        return Extraction(), [_not_pdf()]
    data = bytes(data)
    if len(data) > limits.max_bytes:
        return Extraction(), [error(
            "PDF-SIZE",
            f"El PDF pesa {len(data)} bytes; el máximo es {limits.max_bytes}.",
            f"The PDF is {len(data)} bytes; the limit is {limits.max_bytes}.",
        )]
    if b"%PDF-" not in data[:1024]:
        return Extraction(), [_not_pdf()]

    answer, findings = _run_child(data, limits)
    if answer is None:
        return Extraction(), findings
    extraction = Extraction(pages=answer.get("pages", 0))
    if answer.get("encrypted"):
        findings.append(warning(
            "PDF-ENCRYPTED",
            "El PDF está cifrado (se abrió sin contraseña de usuario).",
            "The PDF is encrypted (it opened without a user password).",
        ))
    if answer.get("truncated"):
        findings.append(warning(
            "PDF-TRUNCATED",
            f"Solo se leyeron las primeras {limits.max_pages} páginas o "
            f"{limits.max_chars} caracteres.",
            f"Only the first {limits.max_pages} pages or {limits.max_chars} characters were read.",
        ))
    words = [Word(str(w[0]), *(float(v) for v in w[1:5]), int(w[5]))
             for w in answer.get("words", []) if isinstance(w, list) and len(w) == 6]
    page_sizes = [(float(w), float(h)) for w, h in answer.get("page_sizes", [])]
    embedded = answer.get("embedded")
    if use_embedded_xml and embedded:
        xml = base64.b64decode(embedded["data"])
        from_xml, xml_findings = extract_embedded_xml(xml, max_bytes=limits.max_xml_bytes)
        findings.extend(xml_findings)
        if from_xml is not None:
            from_xml.pages = extraction.pages
            from_xml.embedded_xml = embedded["name"]
            from_xml.words, from_xml.page_sizes = words, page_sizes
            return from_xml, findings
    text = answer.get("text", "")
    from_text = extract_from_text(text, layout=answer.get("layout", ""), words=words,
                                  page_sizes=page_sizes)
    from_text.pages = extraction.pages
    if not text.strip():
        findings.append(warning(
            "PDF-NO-TEXT",
            "El PDF no tiene capa de texto (¿es un escaneo?): no se extrajo ningún dato.",
            "The PDF has no text layer (a scan?): nothing was extracted.",
        ))
    elif not any(f.value is not None for f in from_text.fields.values()):
        findings.append(warning(
            "PDF-NO-FIELDS",
            "No se reconoció ningún dato de factura en el texto del PDF.",
            "No invoice field was recognised in the PDF's text.",
        ))
    return from_text, findings


def _not_pdf() -> Finding:
    return error("PDF-NOT-PDF", "El archivo no es un PDF.", "The file is not a PDF.")


def _limit_finding(what_es: str, what_en: str) -> Finding:
    return error(
        "PDF-LIMIT",
        f"Se abandonó la lectura del PDF: {what_es}. Puede ser un PDF malicioso "
        "(bomba de descompresión, páginas con demasiados objetos).",
        f"Reading the PDF was abandoned: {what_en}. It may be hostile "
        "(a decompression bomb, pages with too many objects).",
    )


_BOOTSTRAP = (
    "import sys, types\n"
    "root = sys.argv[1]\n"
    # Import the engine without running app/__init__.py (Flask and the whole portal).
    "pkg = types.ModuleType('app'); pkg.__path__ = [root + '/app']; sys.modules['app'] = pkg\n"
    "sys.path.insert(0, root)\n"
    "from app.einvoice.pdfextract import _child_main\n"
    "_child_main(sys.argv[2])\n"
)


def _run_child(data: bytes, limits: Limits) -> tuple[dict | None, list[Finding]]:
    root = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-I", "-c", _BOOTSTRAP, root, json.dumps(asdict(limits))]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code, no shell
            command, input=data, capture_output=True, timeout=limits.wall_seconds,
            check=False, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
        )
    except subprocess.TimeoutExpired:
        return None, [_limit_finding(f"tardó más de {limits.wall_seconds:g} s",
                                     f"it took longer than {limits.wall_seconds:g} s")]
    if done.returncode != 0:
        return None, [_child_failure(done.returncode, done.stderr, limits)]
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        return None, [_child_failure(-1, done.stderr, limits)]
    if answer.get("error"):
        code, message = answer["error"], answer.get("message", "")
        if code == "PDF-LIMIT":
            return None, [_limit_finding(f"superó la memoria ({message})",
                                         f"it ran out of memory ({message})")]
        if code == "PDF-ENCRYPTED":
            return None, [error(
                "PDF-ENCRYPTED",
                "El PDF está protegido con contraseña; no se puede leer.",
                "The PDF is password-protected; it cannot be read.",
            )]
        return None, [error(
            "PDF-MALFORMED",
            f"El PDF está dañado o no se puede leer: {message}",
            f"The PDF is damaged or cannot be read: {message}",
        )]
    return answer, []


def _child_failure(returncode: int, stderr: bytes, limits: Limits) -> Finding:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return _limit_finding(f"superó {limits.cpu_seconds} s de CPU",
                              f"it used more than {limits.cpu_seconds} s of CPU")
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if "MemoryError" in tail[0] or returncode in (-signal.SIGSEGV, -signal.SIGABRT):
        return _limit_finding("superó la memoria", "it ran out of memory")
    return error(
        "PDF-MALFORMED",
        f"El PDF no se pudo leer (código {returncode}): {tail[0][:200]}",
        f"The PDF could not be read (status {returncode}): {tail[0][:200]}",
    )


# --------------------------------------------------------------------------------------------
# The child side: limits first, then pdfplumber; answer as one JSON object on stdout.
# --------------------------------------------------------------------------------------------

def _child_main(limits_json: str) -> None:
    """Read a PDF from stdin under resource limits and print text + embedded XML as JSON."""
    import resource

    limits = Limits(**json.loads(limits_json))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    data = sys.stdin.buffer.read(limits.max_bytes + 1)
    try:
        answer = _read_pdf(data, limits)
    except MemoryError:
        answer = {"error": "PDF-LIMIT", "message": f"{limits.memory_bytes // 2**20} MiB"}
    except Exception as exc:  # noqa: BLE001 - any parser failure is a finding, not a crash
        if _out_of_memory(exc):
            answer = {"error": "PDF-LIMIT", "message": f"{limits.memory_bytes // 2**20} MiB"}
        else:
            answer = {"error": "PDF-MALFORMED", "message": f"{type(exc).__name__}: {exc}"[:300]}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


def _caused_by(exc: BaseException | None, kind: type) -> bool:
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _out_of_memory(exc: BaseException) -> bool:
    """Tell whether an exception (or one it wraps) is memory running out under RLIMIT_AS.

    zlib reports it as zlib.error('… unable to allocate …'), which pdfminer wraps again.
    """
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, MemoryError) or re.search(r"allocate|out of memory", str(exc), re.I):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _read_pdf(data: bytes, limits: Limits) -> dict[str, Any]:
    import io

    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data), repair=False)
        pages = pdf.pages
    except Exception as exc:
        if _caused_by(exc, PDFPasswordIncorrect):
            return {"error": "PDF-ENCRYPTED"}
        raise
    with pdf:
        encrypted = getattr(pdf.doc, "encryption", None) is not None
        embedded = _embedded_xml(pdf.doc, limits)
        texts, size, truncated, layout = [], 0, False, ""
        words: list[list] = []
        page_sizes: list[list[float]] = []
        for number, page in enumerate(pages):
            if number >= limits.max_pages or size >= limits.max_chars:
                truncated = True
                break
            text = page.extract_text() or ""
            if number == 0 and text:
                # Spaced-out text of the first page: it shows side-by-side party blocks.
                layout = (page.extract_text(layout=True) or "")[:limits.max_chars // 4]
            if number < limits.max_word_pages:
                page_sizes.append([round(float(page.width), 2), round(float(page.height), 2)])
                for word in page.extract_words(keep_blank_chars=False):
                    if len(words) >= limits.max_words:
                        break
                    words.append([word["text"][:200], round(float(word["x0"]), 2),
                                  round(float(word["top"]), 2), round(float(word["x1"]), 2),
                                  round(float(word["bottom"]), 2), number])
            texts.append(text)
            size += len(text)
            page.close()
        text = "\n".join(texts)
        if len(text) > limits.max_chars:
            text, truncated = text[:limits.max_chars], True
        return {"pages": len(pages), "text": text, "layout": layout, "embedded": embedded,
                "encrypted": encrypted, "truncated": truncated, "words": words,
                "page_sizes": page_sizes}


def _embedded_xml(doc, limits: Limits) -> dict[str, str] | None:
    """Return the Factur-X/ZUGFeRD/XRechnung attachment as {'name', 'data' (base64)}, if any."""
    from pdfminer.pdftypes import resolve1

    catalog = doc.catalog
    specs = []
    names = resolve1(catalog.get("Names"))
    tree = resolve1(names.get("EmbeddedFiles")) if isinstance(names, dict) else None
    _walk_name_tree(tree, specs, depth=0)
    associated = resolve1(catalog.get("AF"))
    if isinstance(associated, list):
        specs.extend(associated[:50])
    for spec in specs:
        spec = resolve1(spec)
        if not isinstance(spec, dict):
            continue
        name = _pdf_string(resolve1(spec.get("UF")) or resolve1(spec.get("F")))
        if Path(name).name.lower() not in EMBEDDED_XML_NAMES:
            continue
        files = resolve1(spec.get("EF"))
        stream = resolve1(files.get("F") or files.get("UF")) if isinstance(files, dict) else None
        if stream is None:
            continue
        content = _stream_bytes(stream, limits.max_xml_bytes)
        if content is not None:
            return {"name": Path(name).name, "data": base64.b64encode(content).decode("ascii")}
    return None


def _walk_name_tree(node, out: list, depth: int) -> None:
    from pdfminer.pdftypes import resolve1

    if not isinstance(node, dict) or depth > 8 or len(out) > 100:
        return
    pairs = resolve1(node.get("Names"))
    if isinstance(pairs, list):
        out.extend(pairs[1::2][:100])
    kids = resolve1(node.get("Kids"))
    if isinstance(kids, list):
        for kid in kids[:100]:
            _walk_name_tree(resolve1(kid), out, depth + 1)


def _stream_bytes(stream, max_bytes: int) -> bytes | None:
    """Return a stream's decoded bytes, never inflating more than max_bytes of Flate data."""
    import zlib

    filters = stream.get_filters() if hasattr(stream, "get_filters") else []
    names = [getattr(f[0] if isinstance(f, tuple) else f, "name", str(f)) for f in filters]
    if names == ["FlateDecode"] and getattr(stream, "decipher", None) is None:
        inflater = zlib.decompressobj()
        content = inflater.decompress(stream.rawdata, max_bytes + 1)
        return content if len(content) <= max_bytes else None
    content = stream.get_data()
    return content if len(content) <= max_bytes else None


def _pdf_string(value: Any) -> str:
    if isinstance(value, bytes):
        if value.startswith((b"\xfe\xff", b"\xff\xfe")):
            return value.decode("utf-16", "replace")
        return value.decode("latin-1")
    return str(value or "")


# --------------------------------------------------------------------------------------------
# Embedded XML: CII (Factur-X / ZUGFeRD 1 and 2), or UBL (XRechnung) through the engine's reader.
# --------------------------------------------------------------------------------------------

def extract_embedded_xml(data: bytes, *, max_bytes: int = xmlsafe.MAX_BYTES
                         ) -> tuple[Extraction | None, list[Finding]]:
    """Read an embedded invoice XML into an Extraction with confidence 1."""
    tree, findings = xmlsafe.parse_xml(data, max_bytes=max_bytes)
    if tree is None:
        return None, findings
    root = tree.getroot()
    local = etree.QName(root).localname
    if local in ("CrossIndustryInvoice", "CrossIndustryDocument"):
        return _from_cii(root), findings
    if local in ("Invoice", "CreditNote"):
        return _from_ubl(tree), findings
    findings.append(warning(
        "PDF-XML-UNKNOWN",
        f"El XML incrustado ({local}) no es una factura CII ni UBL; se leyó el texto.",
        f"The embedded XML ({local}) is neither a CII nor a UBL invoice; the text was read.",
    ))
    return None, findings


def _first(node: etree._Element | None, *paths: str) -> etree._Element | None:
    if node is None:
        return None
    for path in paths:
        found = node.find(path)
        if found is not None:
            return found
    return None


def _text_of(node: etree._Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def _cii_date(node: etree._Element | None) -> dt.date | None:
    text = _text_of(node)
    if re.fullmatch(r"\d{8}", text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return parse_date(text)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text and text.strip() else None
    except InvalidOperation:
        return None


def _from_cii(root: etree._Element) -> Extraction:
    header = _first(root, "{*}ExchangedDocument", "{*}HeaderExchangedDocument")
    transaction = _first(root, "{*}SupplyChainTradeTransaction",
                         "{*}SpecifiedSupplyChainTradeTransaction")
    agreement = _first(transaction, "{*}ApplicableHeaderTradeAgreement",
                       "{*}ApplicableSupplyChainTradeAgreement")
    settlement = _first(transaction, "{*}ApplicableHeaderTradeSettlement",
                        "{*}ApplicableSupplyChainTradeSettlement")
    sums = _first(settlement, "{*}SpecifiedTradeSettlementHeaderMonetarySummation",
                  "{*}SpecifiedTradeSettlementMonetarySummation")
    currency = _text_of(_first(settlement, "{*}InvoiceCurrencyCode"))
    found: dict[str, Any] = {
        "number": _text_of(_first(header, "{*}ID")),
        "issue_date": _cii_date(_first(header, "{*}IssueDateTime/{*}DateTimeString")),
        "due_date": _cii_date(_first(settlement, "{*}SpecifiedTradePaymentTerms/"
                                     "{*}DueDateDateTime/{*}DateTimeString")),
        "currency": currency,
        "subtotal": _decimal(_text_of(_first(sums, "{*}TaxBasisTotalAmount"))),
        "total": _decimal(_text_of(_first(sums, "{*}GrandTotalAmount"))),
        "payable": _decimal(_text_of(_first(sums, "{*}DuePayableAmount"))),
    }
    taxes = sums.findall("{*}TaxTotalAmount") if sums is not None else []
    tax = next((t for t in taxes if t.get("currencyID") in (None, currency)), None)
    found["tax"] = _decimal(_text_of(tax))
    for role, path in (("supplier", "{*}SellerTradeParty"), ("customer", "{*}BuyerTradeParty")):
        party = _first(agreement, path)
        found[f"{role}_name"] = _text_of(_first(party, "{*}Name"))
        registrations = party.findall("{*}SpecifiedTaxRegistration/{*}ID") if party is not None \
            else []
        vat = next((r for r in registrations if r.get("schemeID") == "VA"), None)
        tax_id = vat if vat is not None else (registrations[0] if registrations else None)
        if tax_id is None:
            tax_id = _first(party, "{*}SpecifiedLegalOrganization/{*}ID")
        found[f"{role}_tax_id"] = _text_of(tax_id)
    extraction = Extraction(source="embedded-xml",
                            document_type_code=_text_of(_first(header, "{*}TypeCode")))
    for name, value in found.items():
        if value not in (None, ""):
            extraction.fields[name] = Field(value, 1.0, "xml")
    items = transaction.findall("{*}IncludedSupplyChainTradeLineItem") \
        if transaction is not None else []
    for item in items:
        quantity = _first(item, ".//{*}BilledQuantity")
        extraction.lines.append(ExtractedLine(
            description=_text_of(_first(item, "{*}SpecifiedTradeProduct/{*}Name")),
            quantity=_decimal(_text_of(quantity)),
            unit=quantity.get("unitCode", "") if quantity is not None else "",
            unit_price=_decimal(_text_of(_first(
                item, ".//{*}NetPriceProductTradePrice/{*}ChargeAmount"))),
            amount=_decimal(_text_of(_first(item, ".//{*}LineTotalAmount"))),
            confidence=1.0,
            tax_percent=_decimal(_text_of(_first(
                item, "{*}SpecifiedLineTradeSettlement/{*}ApplicableTradeTax"
                "/{*}RateApplicablePercent"))),
        ))
    return extraction


def _from_ubl(tree: etree._ElementTree) -> Extraction | None:
    from app.einvoice.reader import read_document

    doc, _ = read_document(tree)
    if doc is None:
        return None
    t = doc.totals
    found: dict[str, Any] = {
        "supplier_name": doc.supplier.display_name,
        "supplier_tax_id": doc.supplier.vat_id or doc.supplier.tax_id,
        "customer_name": doc.customer.display_name,
        "customer_tax_id": doc.customer.vat_id or doc.customer.tax_id,
        "number": doc.number, "issue_date": doc.issue_date, "due_date": doc.due_date,
        "currency": doc.currency, "subtotal": t.tax_exclusive,
        "tax": sum((x.tax_amount for x in doc.tax_totals), Decimal("0"))
        if doc.tax_totals else None,
        "total": t.tax_inclusive, "payable": t.payable,
    }
    extraction = Extraction(source="embedded-xml", document_type_code=doc.type_code)
    for name, value in found.items():
        if value not in (None, ""):
            extraction.fields[name] = Field(value, 1.0, "xml")
    for line in doc.lines:
        extraction.lines.append(ExtractedLine(
            description=line.name or line.description, quantity=line.quantity,
            unit=line.unit_code, unit_price=line.price, amount=line.line_extension,
            confidence=1.0, tax_percent=line.tax_percent))
    return extraction


# --------------------------------------------------------------------------------------------
# Text heuristics.
# --------------------------------------------------------------------------------------------

# An amount: 1.785.000,00 | 1,785,000.00 | 1'785'000.00 | 1 785 000,00 | 1785000 | 4.11
_AMOUNT = re.compile(
    r"(?<![\w.,/#*\[-])-?(?:"
    r"\d{1,3}(?:([.,'])\d{3})(?:\1\d{3})*(?:[.,]\d{1,4})?"
    r"|\d{1,3}(?: \d{3})+,\d{2}"
    r"|\d+(?:[.,]\d{1,4})?"
    r")(?![\w]|[.,/]\d)"
)
#: No-break, narrow no-break and thin spaces (thousands separators in fr/de/ch) as plain spaces.
SPACES = str.maketrans(dict.fromkeys("\xa0\u202f\u2009", " "))
_PERCENT_AFTER = re.compile(r"\s?%")
_CURRENCY_SYMBOLS = (("US$", "USD"), ("€", "EUR"), ("£", "GBP"), ("₹", "INR"), ("Rs.", "INR"),
                     ("Rs ", "INR"), ("R$", "BRL"), ("S/", "PEN"), ("¥", "JPY"), ("CHF", "CHF"))
_ISO_CURRENCIES = ("COP", "USD", "EUR", "GBP", "INR", "MXN", "CLP", "PEN", "ARS", "BRL", "CAD",
                   "AUD", "CHF", "JPY", "CNY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "ZAR")
_MONTHS = {
    **dict.fromkeys(("january", "jan", "enero", "ene", "janvier", "janv", "januar", "jän",
                     "janeiro", "gennaio", "gen"), 1),
    **dict.fromkeys(("february", "feb", "febrero", "février", "fevrier", "févr", "fevr", "februar",
                     "fevereiro", "fev", "febbraio"), 2),
    **dict.fromkeys(("march", "mar", "marzo", "mars", "märz", "marz", "mär", "março", "marco"),
                    3),
    **dict.fromkeys(("april", "apr", "abril", "abr", "avril", "avr", "aprile"), 4),
    **dict.fromkeys(("may", "mayo", "may.", "mai", "maio", "maggio", "mag"), 5),
    **dict.fromkeys(("june", "jun", "junio", "juin", "juni", "junho", "giugno", "giu"), 6),
    **dict.fromkeys(("july", "jul", "julio", "juillet", "juil", "juli", "julho", "luglio", "lug"),
                    7),
    **dict.fromkeys(("august", "aug", "agosto", "ago", "août", "aout", "aoû"), 8),
    **dict.fromkeys(("september", "sep", "sept", "septiembre", "setiembre", "septembre",
                     "setembro", "set", "settembre"), 9),
    **dict.fromkeys(("october", "oct", "octubre", "octobre", "oktober", "okt", "outubro", "out",
                     "ottobre", "ott"), 10),
    **dict.fromkeys(("november", "nov", "noviembre", "novembre", "novembro"), 11),
    **dict.fromkeys(("december", "dec", "diciembre", "dic", "décembre", "decembre", "dezember",
                     "dez", "dezembro", "dicembre", "déc"), 12),
}
_MONTH_WORD = r"[A-Za-zÀ-ÿ]{3,10}\.?"
_DATE = re.compile(
    r"(?<!\d)(?:"
    r"(?P<iso>\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
    r"|(?P<num>\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2}))"
    r"|(?P<dmy>\d{1,2}(?:\.|er|º|°)?\s(?:de\s)?" + _MONTH_WORD +
    r",?\s(?:de\s|del\s)?\d{4})"
    r"|(?P<dash>\d{1,2}[-\s]" + _MONTH_WORD + r"[-\s](?:\d{4}|\d{2}))"
    r"|(?P<mdy>" + _MONTH_WORD + r"\s\d{1,2}(?:st|nd|rd|th)?\s?,?\s\d{4})"
    r")(?!\d)"
)

# Labels: (regex, weight). The value follows the label on the same line, or sits on the next.
_LABELS: dict[str, list[tuple[str, float]]] = {
    "number": [
        (r"(?:n[úu]mero|no\.?|nro\.?|n[°º]|#)\s*(?:de\s+)?factura", 0.95),
        (r"factura\s+(?:electr[óo]nica\s+(?:de\s+venta\s+)?)?(?:n[úu]mero|no\.?|nro\.?|n[°º]|#)",
         0.95),
        (r"invoice\s*(?:number|no\.?|num\.?|#|id)", 0.95),
        (r"facture\s*(?:n[°º]|no\.?|num[ée]ro)", 0.95),
        (r"rechnungs?-?\s?(?:nr\.?|nummer)", 0.95),
        (r"rechnung\s+(?:nr\.?|nummer|no\.?)", 0.95),
        (r"fatura\s*(?:n[°º.o]|no\.?|n[úu]m(?:ero|\.)?)|n[úu]mero\s+da\s+fatura", 0.95),
        (r"fattura\s*(?:n[°º.r]?\.?|num(?:ero|\.)?)|(?:numero|n\.)\s+(?:della\s+)?fattura", 0.95),
        (r"num[ée]ro\s+(?:de\s+(?:la\s+)?)?facture", 0.95),
        (r"(?:^|\s)(?:n[°º]|no\.|nr\.?|núm\.|num\.)\s*(?:doc(?:umento?)?\.?)?\s*:?$", 0.6),
        (r"bill\s*(?:no\.?|number)", 0.85),
        (r"(?:nota\s+cr[ée]dito|nota\s+d[ée]bito|credit\s+note|debit\s+note)\s*"
         r"(?:n[úu]mero|no\.?|nro\.?|#)?", 0.8),
        (r"(?:^|\s)nr\.", 0.6),
        (r"^(?:n[úu]mero|number|nro\.?|no\.)\s*:", 0.8),
        (r"^(?:factura|invoice|facture|rechnung)(?:\s+electr[óo]nica(?:\s+de\s+venta)?)?", 0.7),
        (r"document\s*(?:no\.?|number)", 0.6),
    ],
    "issue_date": [
        (r"fecha\s+(?:de\s+)?(?:emisi[óo]n|expedici[óo]n|factura(?:ci[óo]n)?|generaci[óo]n)",
         0.95),
        (r"(?:invoice|issue|billing)\s+date|date\s+of\s+issue|date\s+issued", 0.95),
        (r"date\s+(?:de\s+)?(?:facture|facturation|d'[ée]mission)", 0.95),
        (r"rechnungsdatum|ausstellungsdatum", 0.95),
        (r"data\s+(?:de\s+|da\s+|di\s+|del(?:la)?\s+)?(?:emiss[ãa]o|emissione|fatura(?:ç[ãa]o)?"
         r"|fattura|documento)", 0.95),
        (r"(?:^|\s)data(?!\s*(?:de\s+|di\s+)?(?:venc|scad|pagamento|consegna|entrega))\s*:?", 0.65),
        (r"date\s*:|(?:^|\s)le\s*:", 0.7),
        (r"(?:^|\s)(?:fecha|date|datum)(?!\s*(?:de\s+)?(?:venc|due|d'[ée]ch|pago|entrega|pedido"
         r"|orden|of\s+order))", 0.7),
        (r"\svom", 0.55),
    ],
    "due_date": [
        (r"fecha\s+(?:de\s+)?(?:vencimiento|pago|l[íi]mite)|vencimiento|vence", 0.95),
        (r"due\s+date|payment\s+due|date\s+due|pay\s+by|due\s+on", 0.95),
        (r"[ée]ch[ée]ance|date\s+limite", 0.9),
        (r"f[äa]lligkeit(?:sdatum)?|f[äa]llig\s+am|zahlungsziel|zahlbar\s+bis|netto\s+bis", 0.85),
        (r"data\s+(?:de\s+|di\s+)?(?:vencimento|scadenza|pagamento)|scadenza|vencimento", 0.95),
    ],
    "total": [
        (r"valor\s+total|total\s+factura|total\s+general|gran\s+total|total\s+con\s+impuestos"
         r"|total\s+(?:iva\s+)?incluido", 0.95),
        (r"total\s+a\s+pagar", 0.9),
        (r"grand\s+total|invoice\s+total|total\s+(?:amount|for\s+this\s+invoice|due)"
         r"|total\s+incl", 0.9),
        (r"total\s+ttc|montant\s+ttc|net\s+[àa]\s+payer", 0.95),
        (r"total\s+(?:da\s+fatura|geral|a\s+pagar|com\s+iva)|valor\s+a\s+pagar", 0.95),
        (r"totale\s+(?:fattura|documento|da\s+pagare|complessivo|ivato|generale)"
         r"|importo\s+totale|netto\s+a\s+pagare|totale(?!\s*(?:imponibile|iva|imposta|netto))",
         0.9),
        (r"bruttosumme|bruttobetrag|gesamtbetrag(?!\s+der)|rechnungsbetrag|endbetrag"
         r"|gesamtsumme", 0.9),
        (r"amount\s+due|balance\s+due|importe\s+a\s+pagar|montant\s+d[ûu]", 0.8),
        (r"(?<![\w-])total(?!\s*(?:ht|hors|excl|net|sin|before|neto|tax|vat|iva|tva|impuesto"
         r"|de\s+(?:impuestos|descuentos|retenciones)|retenido|withh))", 0.6),
    ],
    "subtotal": [
        (r"sub-?\s?total|total\s+sin\s+iva|valor\s+antes\s+de\s+iva", 0.9),
        (r"base\s+gravable|base\s+imponible|valor\s+bruto", 0.7),
        (r"total\s+(?:excl|before\s+tax|net(?!\w))|net\s+(?:amount|total)|untaxed"
         r"|amount\s+before\s+tax|total\s+excluding", 0.9),
        (r"total\s+ht|montant\s+ht|sous-total", 0.95),
        (r"(?:totale\s+)?imponibile|totale\s+netto|total\s+(?:sem|s/)\s*iva|total\s+l[íi]quido"
         r"|base\s+tribut[áa]vel|valor\s+(?:sem|l[íi]quido)", 0.9),
        (r"nettobetrag|netto(?:summe)?(?!\s*(?:a|bis))|summe\s+positionen", 0.8),
        (r"(?:rechnungs|gesamt)?summe\s+ohne\s+ust|nettosumme|summe\s+netto|nettobetrag\s+gesamt"
         r"|zwischensumme|gesamtnettobetrag", 0.9),
    ],
    "tax": [
        (r"total\s+(?:iva|impuestos?)|valor\s+iva|iva\s+\d{1,2}\s?%|(?<![\w-])iva(?![\w-])", 0.8),
        (r"total\s+(?:tax|vat)|(?:sales\s+)?tax(?!\s*(?:id|no|number|\(%\)|rate|invoice|able))"
         r"|(?<![\w-])vat(?!\s*(?:id|no|number|reg|/tin|invoice))|(?<!\w)gst(?!\w|\s*statement)",
         0.75),
        (r"(?<!\w)tva(?!\s*(?:intra|acquitt|f?\d{5}))|montant\s+tva", 0.8),
        (r"steuerbetrag|mwst\.?-?betrag|ust\.?-?betrag"
         r"|(?:zzgl\.?\s+)?(?<!\w)(?:mwst|ust)\.?\s+\d", 0.85),
        (r"totale\s+(?:iva|imposta)|(?<!\w)imposta(?!\s+di\s+bollo)|valor\s+(?:do\s+)?iva"
         r"|total\s+(?:do\s+)?iva", 0.85),
        (r"umsatzsteuer(?!\s*-?\s*id)|\d{1,2}(?:[.,]\d+)?\s?%\s*(?:mwst|ust|iva|vat|tva)\b", 0.8),
    ],
    "payable": [
        (r"zahlbetrag|amount\s+due|balance\s+due|net\s+[àa]\s+payer|total\s+a\s+pagar", 0.9),
    ],
}
_SUPPLIER_HEADINGS = re.compile(
    r"^(?:emisor|vendedor|proveedor|raz[óo]n\s+social(?:\s+del\s+emisor)?|facturado\s+por"
    r"|supplier|seller|vendor|sold\s+by|from|issuer|issued\s+by|billed\s+by|verk[äa]ufer|lieferant"
    r"|rechnungssteller|fournisseur|vendeur|[ée]metteur)\b\s*:?\s*(?P<rest>.*)$", re.I)
_CUSTOMER_HEADINGS = re.compile(
    r"^(?:adquiri?ente|cliente|comprador|señor(?:es)?|facturar\s+a|customer|client|buyer"
    r"|bill(?:ed)?\s+to(?:\s+address)?|sold\s+to|invoice\s+to|attn|k[äa]ufer(?:/\w+)?"
    r"|rechnungsempf[äa]nger|leistungsempf[äa]nger|destinataire|factur[ée]\s+[àa])\b"
    r"\s*:?\s*(?P<rest>.*)$", re.I)
_NAME_LABEL = re.compile(r"^(?:name|nombre|raz[óo]n\s+social|nom|firma)\s*:\s*(?P<rest>.+)$", re.I)
_TAX_ID = re.compile(
    r"(?:(?P<nit>\bNIT|\bN\.I\.T\.?|\bRUT|\bRFC|\bCUIT|\bNIF|\bCIF)"
    r"|(?P<vat>USt\.?[ -]?Id(?:ent)?\.?[ -]?Nr\.?|UStId"
    r"|VAT(?:/TIN)?(?:\s*(?:ID|No\.?|Number|Reg\w*))?"
    r"|TVA(?:\s+intracom\w*)?|N[°º]\s*TVA|Tax\s*ID|TIN|GSTIN|Steuer-?Nr\.?|Steuernummer"
    r"|P\.?\s?IVA|Partita\s+IVA|CNPJ|NIPC|Contribuinte|C\.F\.|Codice\s+fiscale"
    r"|UID(?:-Nr\.?)?|MWST-Nr\.?|Num[ée]ro\s+de\s+TVA))"
    r"\s*(?:#|No\.?|n[°º])?\s*[:.]?\s*"
    r"(?P<id>(?-i:[A-Z]{2}\s?(?:\d{1,4}(?:[ ./-]\d{2,4}){1,5}(?![\w])|[0-9A-Z]{2,14}(?![\w])))"
    r"|[0-9][0-9./-]{4,16}[0-9](?:\s?-\s?\d)?|\d{1,4}(?: \d{2,4}){1,5}(?![\w]))",
    re.I,
)
_COMPANY_SUFFIX = re.compile(
    r"\b(?:S\.?A\.?S\.?|S\.?A\.?|Ltda\.?|LTDA|S\.?\s?L\.?|S\.?R\.?L\.?|Inc\.?|LLC|L\.?L\.?C\.?|Ltd\.?"
    r"|Limited|Corp\.?|Corporation|GmbH|AG|KG|SARL|SAS|S\.?C\.?|BV|B\.V\.|N\.V\.|PLC|Pvt\.?|E\.U\.)"
    r"(?:\W|$)")
_DOC_WORDS = re.compile(
    r"\b(?:factura(?:\s+electr[óo]nica)?(?:\s+de\s+venta)?|invoice|facture|rechnung|bill)\b",
    re.I)
_TABLE_HEADER = {
    "description": r"descripci[óo]n|description|d[ée]signation|beschreibung|product(?:\s+title)?"
                   r"|item|art[íi]culo|concepto|producto|libell[ée]|bezeichnung|detalle",
    "quantity": r"cantidad|cant\.?|qty|quantity|quantit[ée]|qt[ée]|menge|anzahl|nombre",
    "unit_price": r"precio(?:\s+unitario)?|valor\s+unitario|unit\s+price|price|prix"
                  r"|p\.u\.(?:\s+ht)?|einzelpreis|nettopreis|vk-preis|preis",
    "discount": r"desc(?:uento)?\.?\s?%?|disc\.?\s?%?|discount|rabatt(?:\s+%)?|remise",
    "tax": r"iva\s?%?|impuestos?|taxes|tax\s?\(%\)|tax|vat\s?%?|tva|mwst\.?|steuersatz",
    "amount": r"importe|valor\s+total|total|amount|montant(?:\s+ht)?|betrag|zeilenbetrag"
              r"|nettobetrag|subtotal",
}
_UNITS = {"kg", "g", "gr", "l", "lt", "ltr", "ml", "m", "m²", "m2", "m3", "cm", "mm", "km", "un",
          "und", "unid", "unidad", "unidades", "unit", "units", "pcs", "pc", "pz", "pza", "ea",
          "stk", "stück", "st", "h", "hr", "hrs", "hour", "hours", "hora", "horas", "día", "días",
          "day", "days", "mes", "meses", "month", "months", "lb", "oz", "gal", "t", "ton", "box",
          "caja", "paq", "set", "niu", "c62", "h87", "kgm", "mtr", "x"}


def extract_from_text(text: str, *, layout: str = "", words: list[Word] | None = None,
                      page_sizes: list[tuple[float, float]] | None = None) -> Extraction:
    """Read header fields and lines from an invoice's text with label heuristics.

    layout, when given, is the first page laid out with spaces (pdfplumber's layout mode): it
    lets side-by-side supplier and customer blocks be read column by column. words, when given,
    are the words with their positions: labels are then paired with the value to their right or
    below them (``app.einvoice.pdfwords``), and amounts are chosen so that subtotal + tax = total
    when candidates allow it.
    """
    text = text.translate(SPACES)
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    extraction = Extraction(source="text" if text.strip() else "none", text=text,
                            words=list(words or []), page_sizes=list(page_sizes or []))
    if not lines:
        return extraction
    style = _number_style(text)
    day_first = _day_first(text)
    candidates: dict[str, list[tuple[float, int, Any, str]]] = {}

    def offer(name: str, weight: float, index: int, value: Any, raw: str) -> None:
        if value is not None and value != "":
            candidates.setdefault(name, []).append((weight, index, value, raw))

    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        for name, labels in _LABELS.items():
            for pattern, weight in labels:
                match = re.search(pattern, line, re.I)
                if not match:
                    continue
                rest = line[match.end():]
                value, raw, same_line = _value_after(name, rest, style, day_first)
                if value is None:
                    value, raw = _value_below(name, line, match, following, style, day_first)
                    same_line = False
                offer(name, weight if same_line else weight * 0.8, index, value, raw)
                break
    if words:
        from app.einvoice import pdfwords

        pdfwords.pair_labels(
            pdfwords.lines_of(words), _LABELS,
            lambda name, rest: _value_after(name, rest, style, day_first), offer,
            table_header=_is_table_header)
    _parties(_column_blocks(layout) + [_SECTION_BREAK] + lines, offer)
    _currency(text, lines, offer)
    _first_date_fallback(lines, day_first, offer)

    for name in (*FIELDS, *EXTRA_FIELDS):
        chosen = _choose(name, candidates.get(name, []))
        if chosen is not None:
            extraction.fields[name] = chosen
    _choose_triple(extraction, candidates)
    _cross_check(extraction)
    extraction.lines = _line_table(lines, style)
    return extraction


def _choose(name: str, found: list[tuple[float, int, Any, str]]) -> Field | None:
    if not found:
        return None
    best_weight = max(weight for weight, *_ in found)
    best = [c for c in found if c[0] >= best_weight - 1e-9]
    # Totals come last on an invoice; identities and dates first.
    pick = best[-1] if name in AMOUNT_FIELDS else best[0]
    agreeing = sum(1 for c in found if c[2] == pick[2])
    confidence = min(0.99, pick[0] + 0.05 * (agreeing - 1))
    return Field(pick[2], round(confidence, 2), pick[3])


def _is_table_header(line: str) -> bool:
    """Tell whether a line names three or more columns of a line table."""
    return sum(1 for pattern in _TABLE_HEADER.values()
               if re.search(rf"(?<!\w)(?:{pattern})(?!\w)", line, re.I)) >= 3


def _choose_triple(extraction: Extraction,
                   candidates: dict[str, list[tuple[float, int, Any, str]]]) -> None:
    """Prefer the subtotal, tax and total candidates that add up (subtotal + tax = total).

    Only candidates close to each field's best weight are tried, so a stray figure that happens
    to add up does not beat a well-labelled one; the combination with the highest total weight
    wins, and the three fields take its values.
    """
    def near_best(name: str) -> list[tuple[float, int, Any, str]]:
        found = [c for c in candidates.get(name, []) if isinstance(c[2], Decimal)]
        if not found:
            return []
        best = max(c[0] for c in found)
        unique: dict[Decimal, tuple[float, int, Any, str]] = {}
        for c in found:
            if c[0] >= best - 0.3 and (c[2] not in unique or c[0] > unique[c[2]][0]):
                unique[c[2]] = c
        return list(unique.values())[:12]

    subtotals, taxes, totals = near_best("subtotal"), near_best("tax"), near_best("total")
    best_score, best_triple = 0.0, None
    for total in totals:
        for subtotal in subtotals:
            for tax in taxes:
                if total[2] <= 0 or not amounts_add_up(subtotal[2], tax[2], total[2]):
                    continue
                if subtotal[2] == total[2] and tax[2] != 0:
                    continue
                score = total[0] + subtotal[0] + tax[0]
                if score > best_score:
                    best_score, best_triple = score, (subtotal, tax, total)
    if best_triple is None:
        return
    for name, chosen in zip(("subtotal", "tax", "total"), best_triple, strict=True):
        extraction.fields[name] = Field(chosen[2], max(0.95, chosen[0]), chosen[3])


def amounts_add_up(subtotal: Any, tax: Any, total: Any) -> bool:
    """Tell whether subtotal + tax = total to the cent (False unless all three are Decimals)."""
    if not all(isinstance(v, Decimal) for v in (subtotal, tax, total)):
        return False
    return abs(subtotal + tax - total) <= Decimal("0.01")


def _cross_check(extraction: Extraction) -> None:
    """Raise confidence when subtotal + tax = total; fill an absent one from the other two."""
    fields = extraction.fields
    subtotal, tax, total = (extraction.value(n) for n in ("subtotal", "tax", "total"))
    if subtotal is not None and tax is not None and total is not None:
        if amounts_add_up(subtotal, tax, total):
            for name in ("subtotal", "tax", "total"):
                fields[name].confidence = max(fields[name].confidence, 0.95)
    elif total is not None and tax is not None and subtotal is None:
        fields["subtotal"] = Field(total - tax, 0.5, "total - tax")
    elif total is not None and subtotal is not None and tax is None:
        if subtotal <= total:
            fields["tax"] = Field(total - subtotal, 0.4, "total - subtotal")
    elif total is not None and subtotal is None and tax is None:
        # No tax anywhere: the untaxed amount is most likely the total itself.
        fields["subtotal"] = Field(total, 0.3, "total, no tax found")


def _value_after(name: str, rest: str, style: str, day_first: bool
                 ) -> tuple[Any, str, bool]:
    rest = rest.strip()
    if name in AMOUNT_FIELDS:
        amount, raw = _last_amount(rest, style)
        return amount, raw, amount is not None
    if name in DATE_FIELDS:
        match = _DATE.search(rest)
        if match:
            return parse_date(match.group(0), day_first=day_first), match.group(0), True
        return None, "", False
    if name == "number":
        token = _identifier(rest)
        return token, token or "", token is not None
    return None, "", False


def _value_below(name: str, line: str, match: re.Match, following: str, style: str,
                 day_first: bool) -> tuple[Any, str]:
    """Read a value from the next line: the column under the label in a header/value row."""
    if not following:
        return None, ""
    labels = [part for part in re.split(r"(?<=:)\s+", line) if part.strip()]
    position = next((i for i, part in enumerate(labels)
                     if re.search(re.escape(match.group(0).strip()), part, re.I)), 0)
    if name in DATE_FIELDS:
        dates = list(_DATE.finditer(following))
        if len(dates) > position:
            raw = dates[position].group(0)
            return parse_date(raw, day_first=day_first), raw
        return None, ""
    if name in AMOUNT_FIELDS:
        amount, raw = _last_amount(following, style) if len(labels) == 1 else (None, "")
        return amount, raw
    if name == "number":
        if len(labels) > 1:
            tokens = following.split()
            return (tokens[position], tokens[position]) if len(tokens) == len(labels) and \
                _identifier(tokens[position]) else (None, "")
        token = _identifier(following) if len(following.split()) <= 2 else None
        return token, token or ""
    return None, ""


def _identifier(text: str) -> str | None:
    """Return the first token that looks like a document number (it has a digit)."""
    text = re.sub(r"^[\s:#.\-–]*(?:(?:no|nr|n[°º]|number|num|número|nro)\b\.?[\s:#.]*)?", "",
                  text, flags=re.I)
    text = text.lstrip(":# ")
    for token in text.split()[:2]:
        token = token.strip(".,;:()")
        if re.fullmatch(r"#?[A-Za-z0-9][A-Za-z0-9/_.\-]{0,39}", token) and \
                re.search(r"\d", token) and not _DATE.fullmatch(token):
            return token.lstrip("#")
        if token.lower() in ("vom", "del", "de", "of", "du", "fecha", "date"):
            break
    return None


def _number_style(text: str) -> str:
    """Return ',' or '.': which mark the document uses for decimals."""
    comma = len(re.findall(r"\d,\d{2}(?!\d)", text))
    point = len(re.findall(r"\d\.\d{2}(?!\d)", text))
    return "," if comma > point else "."


def parse_amount(raw: str, style: str = ".") -> Decimal | None:
    """Parse an amount written in es/en/fr/de/ch style ('1.785.000,00', '1,785.00', '45,93',
    "1'234.50", '1 785 000,00'), None when it is not one: ``app.numbers.parse_number`` with the
    document's decimal mark (``style``, from ``_number_style``) reading a lone '1.785'."""
    text = raw.replace(" ", "").replace("'", "")  # spaces and apostrophes group thousands
    try:
        return parse_number(text, decimal_mark=style)
    except ValueError:
        return None


def _last_amount(text: str, style: str) -> tuple[Decimal | None, str]:
    """Return the last amount on a line (ignoring percentages, dates and bare years)."""
    text_wo_dates = _DATE.sub(" ", text)
    found = None
    for match in _AMOUNT.finditer(text_wo_dates):
        after = text_wo_dates[match.end():match.end() + 2]
        if _PERCENT_AFTER.match(after):
            continue
        raw = match.group(0)
        symbol_before = re.search(r"[$€£₹]\s*$", text_wo_dates[:match.start()])
        if re.fullmatch(r"-?\d{1,2}|-?\d{5,}", raw) and not symbol_before:
            continue  # a footnote mark, a day, a rate, a phone or an id number: not money
        found = raw
    if found is None:
        return None, ""
    return parse_amount(found, style), found


def _day_first(text: str) -> bool:
    """Guess whether numeric dates are day-first (most of the world) or month-first (US)."""
    for match in re.finditer(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](?:\d{4}|\d{2})(?!\d)", text):
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            return True
        if second > 12 >= first:
            return False
    return True


def parse_date(raw: str, *, day_first: bool = True) -> dt.date | None:
    """Parse a date written as ISO, dd/mm/yyyy (or mm/dd with day_first=False), or with words."""
    raw = raw.strip()
    try:
        if re.fullmatch(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", raw):
            year, month, day = (int(p) for p in re.split(r"[-/.]", raw))
            return dt.date(year, month, day)
        numeric = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})", raw)
        if numeric:
            a, b, year = (int(p) for p in numeric.groups())
            if year < 100:
                year += 2000
            day, month = (a, b) if (day_first and b <= 12) or a > 12 else (b, a)
            return dt.date(year, month, day)
        words = re.findall(r"[A-Za-zÀ-ÿ]+\.?|\d+", re.sub(r"(?<=\d)(?:st|nd|rd|th|er)\b", "", raw))
        numbers = [int(w) for w in words if w.isdigit()]
        months = [_MONTHS.get(w.lower().rstrip(".")) for w in words if not w.isdigit()]
        months = [m for m in months if m]
        if len(numbers) == 2 and months:
            day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
            return dt.date(year, months[0], day)
    except ValueError:
        return None
    return None


def _first_date_fallback(lines: list[str], day_first: bool, offer) -> None:
    for index, line in enumerate(lines[:40]):
        match = _DATE.search(line)
        if match:
            offer("issue_date", 0.3, index, parse_date(match.group(0), day_first=day_first),
                  match.group(0))
            return


def _currency(text: str, lines: list[str], offer) -> None:
    for index, line in enumerate(lines):
        match = re.search(r"(?:moneda|divisa|currency|devise|w[äa]hrung)\s*:?\s*([A-Z]{3})\b",
                          line, re.I)
        if match and match.group(1).upper() in _ISO_CURRENCIES:
            offer("currency", 0.95, index, match.group(1).upper(), match.group(0))
    counts = {code: len(re.findall(rf"(?<![A-Z]){code}(?![A-Z])", text))
              for code in _ISO_CURRENCIES}
    code, count = max(counts.items(), key=lambda item: item[1])
    if count:
        offer("currency", 0.8, 0, code, code)
    for symbol, code in _CURRENCY_SYMBOLS:
        if symbol in text:
            offer("currency", 0.7, 0, code, symbol)
            return
    if re.search(r"US\s*dollars?|d[óo]lares", text, re.I):
        offer("currency", 0.7, 0, "USD", "dollars")
    elif re.search(r"pesos\s+colombianos|\bNIT\b", text):
        offer("currency", 0.6, 0, "COP", "NIT / pesos")
    elif "$" in text:
        offer("currency", 0.4, 0, "USD", "$")


_SECTION_BREAK = "\x00"


def _column_blocks(layout: str) -> list[str]:
    """Return side-by-side supplier/customer blocks as two runs of lines, left then right."""
    rows = layout.splitlines()[:200]
    for at, row in enumerate(rows):
        columns = [(m.start(), m.group(0)) for m in re.finditer(r"\S+(?: \S+)*", row)]
        if len(columns) != 2:
            continue
        (_, left_head), (split, right_head) = columns
        pair = (_SUPPLIER_HEADINGS.match(left_head) and _CUSTOMER_HEADINGS.match(right_head)) or \
            (_CUSTOMER_HEADINGS.match(left_head) and _SUPPLIER_HEADINGS.match(right_head))
        if not pair:
            continue
        left, right, blanks = [left_head], [right_head], 0
        for line in rows[at + 1:at + 30]:
            if not line.strip():
                blanks += 1
                if blanks > 1:
                    break
                continue
            blanks = 0
            if split < len(line) and not line[split - 1].isspace() and \
                    not line[split].isspace():
                break  # a word runs across the gutter: the blocks are over
            if line[:split].strip():
                left.append(" ".join(line[:split].split()))
            if line[split:].strip():
                right.append(" ".join(line[split:].split()))
        return left + [_SECTION_BREAK] + right
    return []


def _parties(lines: list[str], offer) -> None:
    """Find supplier and customer names and tax ids, tracking which block each line is in."""
    section = None
    seen_name = {"supplier": False, "customer": False}
    for index, line in enumerate(lines):
        if line == _SECTION_BREAK:
            section, seen_name = None, {"supplier": False, "customer": False}
            continue
        supplier = _SUPPLIER_HEADINGS.match(line)
        customer = _CUSTOMER_HEADINGS.match(line)
        heading = "supplier" if supplier else "customer" if customer else None
        if heading:
            rest = (supplier or customer).group("rest").strip(" :,")
            if _SUPPLIER_HEADINGS.match(rest) or _CUSTOMER_HEADINGS.match(rest):
                section = None  # two headings side by side: columns, read from the layout
                continue
            section = heading
            name = _clean_name(rest)
            if name and not _TAX_ID.search(rest):
                offer(f"{heading}_name", 0.85, index, name, rest)
                seen_name[heading] = True
            elif not rest and index + 1 < len(lines):
                below = lines[index + 1]
                if ":" not in below and not _TAX_ID.search(below) and _clean_name(below):
                    offer(f"{heading}_name", 0.75, index, _clean_name(below), below)
        elif section and not seen_name[section]:
            labelled = _NAME_LABEL.match(line)
            if labelled:
                offer(f"{section}_name", 0.85, index, _clean_name(labelled.group("rest")), line)
                seen_name[section] = True
        for match in _TAX_ID.finditer(line):
            tax_id = _clean_tax_id(match)
            if not tax_id:
                continue
            owner = section or "supplier"
            weight = 0.8 if section else 0.6
            if match.group("nit") is None and re.match(r"steuer", match.group(0), re.I):
                weight -= 0.1  # a national tax number: the VAT id is the better key
            offer(f"{owner}_tax_id", weight, index, tax_id, match.group(0))
    # The page's own lines follow the last break (the column blocks come before it).
    breaks = [i for i, line in enumerate(lines) if line == _SECTION_BREAK]
    lines = lines[breaks[-1] + 1:] if breaks else lines
    if not lines:
        return
    # Whoever holds the bank account the invoice asks to be paid into is the supplier.
    for index, line in enumerate(lines):
        holder = re.search(r"(?:titular\s+(?:de\s+la\s+)?cuenta|account\s+(?:holder|name)"
                           r"|titulaire\s+du\s+compte|kontoinhaber)\s*:?\s*(?P<name>[^,;|–]+)",
                           line, re.I)
        if holder:
            name = _clean_name(re.split(r"\s[-–]\s|\s{2,}", holder.group("name"))[0])
            if name:
                offer("supplier_name", 0.5, index, name, holder.group(0))
                break
    # Without headings: a company-looking line near the top is probably the issuer.
    for index, line in enumerate(lines[:6]):
        first = re.split(r"\s[-–|·]\s", line)[0]
        if _COMPANY_SUFFIX.search(first) and not _CUSTOMER_HEADINGS.match(first):
            name = _clean_name(first)
            if name:
                offer("supplier_name", 0.6, index, name, line)
                break
    first = _clean_name(_DOC_WORDS.sub("", lines[0]))
    if first and not re.search(r"\d{3}", first) and len(first) > 2:
        offer("supplier_name", 0.35, 0, first, lines[0])


def _clean_name(text: str) -> str:
    text = _DOC_WORDS.sub("", text) if _DOC_WORDS.fullmatch(text.strip()) else text
    text = text.strip(" :,;-–|")
    if not re.search(r"[A-Za-zÀ-ÿ]{2}", text) or len(text) > 80:
        return ""
    return text


def _clean_tax_id(match: re.Match) -> str:
    value = match.group("id").strip(" ./-")
    if match.group("nit"):
        value = re.sub(r"[\s.]", "", value)
    if len(re.sub(r"\D", "", value)) < 5:
        return ""
    return value


def _normalise_words(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _line_table(lines: list[str], style: str) -> list[ExtractedLine]:
    """Read the rows under the first line that looks like a table heading."""
    header_at, order = None, []
    for index, line in enumerate(lines):
        positions, taken = [], []
        for column, pattern in _TABLE_HEADER.items():
            for match in re.finditer(rf"(?<!\w)(?:{pattern})(?!\w)", line, re.I):
                if not any(a <= match.start() < b for a, b in taken):
                    positions.append((match.start(), column))
                    taken.append(match.span())
                    if column != "tax":
                        break
        columns = [c for _, c in sorted(positions)]
        if len(columns) >= 3 and "description" in columns and (
                "amount" in columns or "unit_price" in columns):
            header_at, order = index, columns
            break
    if header_at is None:
        return []
    numeric_columns = [c for c in order[order.index("description") + 1:]]
    quantity_first = order.index("description") > 0 and order[0] == "quantity"
    stop = re.compile(r"^(?:sub-?\s?total|total|summe|gesamt|umsatzsteuer|iva|tax|vat|tva"
                      r"|impuestos?|retenciones|taxes|notas|notes|payment|forma\s+de\s+pago"
                      r"|montant|importe|valor\s+total|belegsummen|positionssumme)\b", re.I)
    rows: list[ExtractedLine] = []
    body = lines[header_at + 1:header_at + 2000]
    for position, line in enumerate(body):
        if re.match(r"sub-?\s?total|zwischensumme|sous-total", line, re.I):
            continue
        if stop.match(line) or len(rows) >= 500:
            break
        tokens = line.split()
        following = body[position + 1] if position + 1 < len(body) else ""
        if _PERCENT_TOKEN.fullmatch(tokens[-1]) or tokens[-1] == "%" or tokens[-1].isdigit():
            # The amount may sit alone on the next line (under a code or GTIN).
            tail = following.split()
            if tail and all(re.fullmatch(r"[\d.,]+", t) for t in tail) and \
                    re.search(r"[.,]\d{2}$", tail[-1]):
                tokens += tail[-1:]
        row = _table_row(tokens, numeric_columns, quantity_first, style)
        if row is not None:
            rows.append(row)
    return rows


_PERCENT_TOKEN = re.compile(r"-?\d+(?:[.,]\d+)?%")
_MONEY_TOKEN = re.compile(r"-?\d{1,3}(?:([.,' ])\d{3})*(?:[.,]\d{1,4})?|-?\d+(?:[.,]\d{1,4})?")
_SYMBOL_TOKEN = re.compile(r"[$€£₹¥]|US\$|R\$|[A-Z]{3}|Rs\.?")


def _table_row(tokens: list[str], columns: list[str], quantity_first: bool,
               style: str) -> ExtractedLine | None:
    """Split one row into description and numbers, numbers mapped to the heading's columns."""
    values: list[str] = []
    unit = ""
    index = len(tokens)
    money_columns = {"unit_price", "amount", "discount"}
    while index > 0 and len(values) < len(columns):
        token = tokens[index - 1].replace("$", "").replace("€", "") if len(tokens[index - 1]) > 1 \
            else tokens[index - 1]
        if token in ("%",) or _SYMBOL_TOKEN.fullmatch(tokens[index - 1]):
            index -= 1
            continue
        if token.lower().rstrip(".") in _UNITS and values and not unit:
            unit = token
            index -= 1
            continue
        if _PERCENT_TOKEN.fullmatch(token) or (index < len(tokens) and tokens[index] == "%"
                                               and _MONEY_TOKEN.fullmatch(token)):
            values.insert(0, "%")
            index -= 1
            continue
        if _MONEY_TOKEN.fullmatch(token):
            column = columns[len(columns) - len(values) - 1]
            if column in money_columns and not re.search(r"[.,]\d{2,4}$", token):
                break
            values.insert(0, token)
            index -= 1
            continue
        break
    if not values or values[-1] == "%" or not re.search(r"[.,]\d{2}$", values[-1]):
        return None
    words = tokens[:index]
    quantity = None
    if quantity_first:
        leading = [i for i, w in enumerate(words[:2]) if re.fullmatch(r"\d+(?:[.,]\d+)?", w)]
        if leading:
            quantity = parse_amount(words[leading[-1]], style)
            words = words[leading[-1] + 1:]
    elif words and re.fullmatch(r"\d{1,3}", words[0]) and len(words) > 1:
        words = words[1:]  # a position number
    description = " ".join(words).strip(" -–")
    if not re.search(r"[A-Za-zÀ-ÿ]{2}", description):
        return None
    mapped = dict(zip(columns[len(columns) - len(values):], values, strict=True))
    if quantity is None and mapped.get("quantity", "%") != "%":
        quantity = parse_amount(mapped["quantity"], style)
    price = mapped.get("unit_price")
    return ExtractedLine(
        description=description[:300],
        quantity=quantity,
        unit=unit,
        unit_price=parse_amount(price, style) if price and price != "%" else None,
        amount=parse_amount(values[-1], style),
        confidence=0.6 if len(values) == len(columns) else 0.4,
    )
