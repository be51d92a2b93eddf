"""Learn where one supplier's PDFs keep their fields, and read the next PDF with that layout.

``learn_layout(extraction, values)`` takes the values a person confirmed for a PDF (the review
form) and finds, for each field, the words that carry it: it remembers the label text just
before or above those words, the value's offset from the label, and its position on the page
(normalised by the page size), as plain JSON. ``apply_layout(extraction, hints)`` reads a new PDF
of the same supplier: for each hinted field it looks for the same label and takes the words at the
same offset, else the words at the same place on the page; a value of the right type (an amount,
a date, a number with a digit, a currency code…) replaces what the heuristics chose, anything
else leaves the heuristics' value alone.

``supplier_key(extraction)`` names the supplier: ``tax:<id>`` from the supplier's tax id, else
``head:<hash>`` of the first page's header words (letters only, so dates and numbers that change
from one invoice to the next do not change the key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from decimal import Decimal
from typing import Any

from app.einvoice.pdfextract import (
    _LABELS,
    _MONEY_TOKEN,
    _SYMBOL_TOKEN,
    AMOUNT_FIELDS,
    DATE_FIELDS,
    Extraction,
    Field,
    Word,
    _day_first,
    _identifier,
    _number_style,
    amounts_add_up,
    parse_amount,
    parse_date,
)
from app.einvoice.pdfwords import Cell, Line, clean, lines_of

VERSION = 1
#: The most words a value may span (an amount like "1 234 567,89", a company name).
MAX_SPAN = 8
_ISO = re.compile(r"^[A-Z]{3}$")
#: A currency code or symbol before or after an amount ("€ 1.234,56", "1,234.56 USD").
_SYMBOL_AROUND = re.compile(rf"^(?:{_SYMBOL_TOKEN.pattern})\s*|\s*(?:{_SYMBOL_TOKEN.pattern})$")
_TEXT_FIELDS = ("supplier_name", "customer_name")
_TAX_ID_FIELDS = ("supplier_tax_id", "customer_tax_id")
FIELD_NAMES = frozenset(("supplier_name", "supplier_tax_id", "customer_name", "customer_tax_id",
                         "number", "issue_date", "due_date", "currency", "subtotal", "tax",
                         "total", "payable"))


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", str(text)).upper()


def _label_text(text: str) -> str:
    """A label as remembered: letters only, lower case (digits and values dropped)."""
    return " ".join(re.sub(r"[^a-z]+", " ", _plain(text)).split())[:60]


def supplier_key(extraction: Extraction) -> str:
    """Return ``tax:<id>`` or ``head:<hash>`` for the supplier of this PDF ('' when neither)."""
    tax_id = extraction.value("supplier_tax_id")
    if tax_id and len(_compact(tax_id)) >= 5:
        return f"tax:{_compact(tax_id)[:60]}"
    return header_key(extraction)


def header_key(extraction: Extraction) -> str:
    """Return ``head:<hash>`` of the letters in the top sixth of the first page ('' if none)."""
    if not extraction.words or not extraction.page_sizes:
        return ""
    height = extraction.page_sizes[0][1] or 1.0
    top = [w for w in extraction.words if w.page == 0 and w.top < height / 6]
    letters = [_label_text(w.text) for w in sorted(top, key=lambda w: (round(w.top), w.x0))]
    letters = [w for w in letters if len(w) >= 3][:40]
    if len(letters) < 2:
        return ""
    return "head:" + hashlib.sha256(" ".join(letters).encode()).hexdigest()[:40]


# ------------------------------------------------------------------------------ typing values


def _read(name: str, text: str, style: str, day_first: bool) -> Any:
    """Read text as the field's type; None when it is not one."""
    text = clean(text).strip(" :;")
    if not text:
        return None
    if name in AMOUNT_FIELDS:
        body = _SYMBOL_AROUND.sub("", text)
        if not _MONEY_TOKEN.fullmatch(body):
            return None
        return parse_amount(body, style)
    if name in DATE_FIELDS:
        return parse_date(text, day_first=day_first)
    if name == "currency":
        code = text.upper().strip(".")
        return code if _ISO.match(code) else None
    if name == "number":
        token = _identifier(text)
        return token if token and len(text.split()) <= 2 else None
    if name in _TAX_ID_FIELDS:
        return text if len(re.sub(r"\D", "", text)) >= 5 and len(text) <= 30 else None
    return text if re.search(r"[A-Za-zÀ-ÿ]{2}", text) and len(text) <= 120 else None


def _same(name: str, found: Any, value: Any) -> bool:
    if found is None or value in (None, ""):
        return False
    if name in AMOUNT_FIELDS:
        return abs(Decimal(str(found)) - Decimal(str(value))) < Decimal("0.005")
    if name in DATE_FIELDS:
        value = value if isinstance(value, dt.date) else parse_date(str(value))
        return found == value
    if name in _TEXT_FIELDS:
        return _plain(found) == _plain(value)
    return _compact(found) == _compact(value)


def _spans(line: Line):
    """Every run of consecutive words within one cell of a line (shortest first)."""
    for cell in line.cells:
        words = cell.words
        for size in range(1, min(MAX_SPAN, len(words)) + 1):
            for start in range(0, len(words) - size + 1):
                yield cell, start, words[start:start + size]


# ------------------------------------------------------------------------------ learning


def learn_layout(extraction: Extraction, values: dict[str, Any],
                 previous: dict | None = None) -> dict:
    """Return the hints JSON: for each field whose confirmed value is on the page, where it is.

    Fields not found on the page keep what ``previous`` (the supplier's earlier hints) said.
    """
    hints: dict[str, Any] = {"version": VERSION, "fields": {}}
    if previous and previous.get("version") == VERSION:
        hints["fields"].update(previous.get("fields", {}))
    if not extraction.words or not extraction.page_sizes:
        return hints
    style, day_first = _number_style(extraction.text), _day_first(extraction.text)
    lines = lines_of(extraction.words)
    for name, value in values.items():
        if value in (None, ""):
            continue
        best = None
        for at, line in enumerate(lines):
            for cell, start, span in _spans(line):
                if not _same(name, _read(name, " ".join(w.text for w in span), style,
                                         day_first), value):
                    continue
                label, label_word = _label_before(lines, at, cell, start)
                score = _label_score(name, label) + (0.1 if label else 0.0)
                if best is None or score > best[0]:
                    best = (score, span, label, label_word)
        if best is None:
            continue
        _, span, label, label_word = best
        hints["fields"][name] = _hint(extraction, span, label, label_word)
    return hints


def _label_score(name: str, label: str) -> float:
    for pattern, weight in _LABELS.get(name, []):
        if re.search(pattern, label, re.I):
            return weight
    return 0.0


def _label_before(lines: list[Line], at: int, cell: Cell, start: int
                  ) -> tuple[str, Word | None]:
    """The label of a value: words before it in its cell, the cell to its left, or above it."""
    if start > 0:
        before = cell.words[:start]
        text = _label_text(" ".join(w.text for w in before))
        if text:
            return text, before[0]
    line = lines[at]
    left = [c for c in line.cells if c.x1 <= cell.x0 + 0.5]
    if left:
        text = _label_text(left[-1].text)
        if text:
            return text, left[-1].words[0]
    value_x0, value_x1 = cell.words[start].x0, cell.x1
    for above in reversed(lines[max(0, at - 3):at]):
        if above.page != line.page:
            break
        column = [c for c in above.cells if c.x0 - 2 <= value_x1 and value_x0 - 2 <= c.x1]
        if column:
            nearest = min(column, key=lambda c: abs(c.x0 - value_x0))
            text = _label_text(nearest.text)
            if text:
                return text, nearest.words[0]
            break
    return "", None


def _hint(extraction: Extraction, span: list[Word], label: str, label_word: Word | None
          ) -> dict[str, Any]:
    first = span[0]
    width, height = extraction.page_sizes[min(first.page, len(extraction.page_sizes) - 1)]
    hint = {"page": first.page, "x": round(first.x0 / width, 4), "y": round(first.top / height, 4),
            "words": len(span), "label": label}
    if label_word is not None:
        hint["dx"] = round((first.x0 - label_word.x0) / width, 4)
        hint["dy"] = round((first.top - label_word.top) / height, 4)
    return hint


# ------------------------------------------------------------------------------ applying


def apply_layout(extraction: Extraction, hints: dict | None) -> list[str]:
    """Override the extraction's fields with the values at the hinted places; return which.

    A value found at its label's offset replaces the heuristics' value; one found only at the
    same place on the page (the label is not there) fills a field the heuristics left empty or
    unsure. Amounts from the layout that break subtotal + tax = total where the heuristics' own
    amounts kept it are not used.
    """
    if not hints or hints.get("version") != VERSION or not extraction.words \
            or not extraction.page_sizes:
        return []
    style, day_first = _number_style(extraction.text), _day_first(extraction.text)
    lines = lines_of(extraction.words)
    before = {name: extraction.fields.get(name) for name in ("subtotal", "tax", "total")}
    applied = []
    for name, hint in hints.get("fields", {}).items():
        if not isinstance(hint, dict) or name not in FIELD_NAMES:
            continue
        value, raw, anchored = _value_at_hint(extraction, lines, name, hint, style, day_first)
        if value is None:
            continue
        if not anchored and extraction.confidence(name) >= 0.6:
            continue
        extraction.fields[name] = Field(value, 0.97 if anchored else 0.7, f"layout: {raw}")
        applied.append(name)
    if _adds_up(before) and not _adds_up({n: extraction.fields.get(n) for n in before}):
        for name, field in before.items():
            if field is not None:
                extraction.fields[name] = field
            applied = [a for a in applied if a != name]
    return applied


def _adds_up(fields: dict[str, Field | None]) -> bool:
    return amounts_add_up(*(f.value if f is not None else None for f in fields.values()))


def _value_at_hint(extraction: Extraction, lines: list[Line], name: str, hint: dict,
                   style: str, day_first: bool) -> tuple[Any, str, bool]:
    """Return (value, raw text, whether it was found at its label's offset)."""
    page = int(hint.get("page", 0))
    if page >= len(extraction.page_sizes):
        return None, "", False
    width, height = extraction.page_sizes[page]
    size = max(1, min(MAX_SPAN, int(hint.get("words", 1))))
    absolute = (float(hint.get("x", 0)) * width, float(hint.get("y", 0)) * height)
    label = hint.get("label") or ""
    if label and "dx" in hint:
        targets = [(a.x0 + float(hint["dx"]) * width, a.top + float(hint["dy"]) * height)
                   for a in _find_label(lines, page, label)]
        # Where the label repeats (two "NIT" blocks), the one nearest the learned place first.
        targets.sort(key=lambda t: abs(t[0] - absolute[0]) + abs(t[1] - absolute[1]))
        for x, y in targets:
            found = _read_near(lines, page, x, y, size, name, style, day_first, width, height)
            if found[0] is not None:
                return (*found, True)
    found = _read_near(lines, page, *absolute, size, name, style, day_first, width, height)
    return (*found, False)


def _find_label(lines: list[Line], page: int, label: str) -> list[Word]:
    """Where the label's text starts on the page: the label words, then no further word."""
    wanted = label.split()
    found = []
    for line in lines:
        if line.page != page:
            continue
        for cell in line.cells:
            plain = [_label_text(w.text) for w in cell.words]
            for start in range(len(cell.words)):
                got, end = [], start
                while end < len(plain) and len(got) < len(wanted):
                    got.extend(plain[end].split())
                    end += 1
                if got != wanted:
                    continue
                if end < len(plain) and plain[end]:
                    continue  # the label goes on ("Totale imponibile" is not "Totale")
                found.append(cell.words[start])
    return found[:8]


def _read_near(lines: list[Line], page: int, x: float, y: float, size: int, name: str,
               style: str, day_first: bool, width: float, height: float) -> tuple[Any, str]:
    """Read the value whose first word is nearest (x, y), within a small box around it."""
    best = None
    for line in lines:
        if line.page != page or abs(line.top - y) > max(0.012 * height, line.height):
            continue
        for cell in line.cells:
            for start, word in enumerate(cell.words):
                distance = abs(word.x0 - x) + 3 * abs(word.top - y)
                if abs(word.x0 - x) <= 0.06 * width and (best is None or distance < best[0]):
                    best = (distance, cell, start)
    if best is None:
        return None, ""
    _, cell, start = best
    # The same number of words first, then shorter and longer runs from the same word.
    for count in (size, *range(size - 1, 0, -1), *range(size + 1, MAX_SPAN + 1)):
        span = cell.words[start:start + count]
        if len(span) < count:
            continue
        raw = " ".join(w.text for w in span)
        value = _read(name, raw, style, day_first)
        if value is not None:
            return value, raw
    return None, ""
