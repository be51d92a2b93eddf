"""Words with positions: lines, cells, and label → value pairing by proximity.

A label ("Invoice No.", "Rechnungsnummer", "Fattura n.", "Total TTC" …, the vocabularies of
``pdfextract._LABELS`` in es, en, de, fr, pt and it) pairs with the value that follows it in the
same cell ("Invoice No: 123"), in the next cell to its right on the same line, or in the first
cell below it whose horizontal extent overlaps the label's (a header row over a value row). No
position or label here is tuned to one vendor: the same rules read every layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.einvoice.pdfextract import Word


@dataclass
class Cell:
    """Words of one line that sit close together (a gap wider than ~one letter height splits)."""

    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def page(self) -> int:
        return self.words[0].page


@dataclass
class Line:
    """Words on one baseline of one page, left to right, split into cells."""

    words: list[Word]
    cells: list[Cell]

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def height(self) -> float:
        return max(1.0, max(w.bottom - w.top for w in self.words))

    @property
    def page(self) -> int:
        return self.words[0].page


def clean(text: str) -> str:
    """Normalise spaces (str.split also splits at the no-break and thin spaces of fr/de/ch)."""
    return " ".join(text.split())


def lines_of(words: Iterable[Word]) -> list[Line]:
    """Group words into lines (same page, overlapping vertically) and lines into cells."""
    ordered = sorted((w for w in words if w.text.strip()),
                     key=lambda w: (w.page, round(w.top, 0), w.x0))
    rows: list[list[Word]] = []
    for word in ordered:
        if rows:
            row = rows[-1]
            top = min(w.top for w in row)
            height = max(w.bottom - w.top for w in row) or 1.0
            if word.page == row[0].page and abs(word.top - top) <= 0.45 * height:
                row.append(word)
                continue
        rows.append([word])
    lines = []
    for row in rows:
        row.sort(key=lambda w: w.x0)
        height = max(1.0, max(w.bottom - w.top for w in row))
        cells, current = [], [row[0]]
        for before, word in zip(row, row[1:], strict=False):
            if word.x0 - before.x1 > 1.1 * height:
                cells.append(Cell(current))
                current = []
            current.append(word)
        cells.append(Cell(current))
        lines.append(Line(row, cells))
    return lines


Offer = Callable[[str, float, int, object, str], None]
ValueReader = Callable[[str, str], tuple[object, str, bool]]


def _overlaps(a0: float, a1: float, b0: float, b1: float, slack: float = 2.0) -> bool:
    return a0 - slack <= b1 and b0 - slack <= a1


def pair_labels(lines: list[Line], labels: dict[str, list[tuple[str, float]]],
                read_value: ValueReader, offer: Offer, *, index_base: int = 0,
                table_header: Callable[[str], bool] = lambda text: False) -> None:
    """Offer each field's value found next to one of its labels (see the module docstring).

    A line that table_header says is the heading of the line table pairs nothing below it (its
    "Tax" or "Total" columns hold each line's figures, not the invoice's).
    """
    header_at = -10
    for at, line in enumerate(lines):
        if len(line.cells) >= 3 and table_header(clean(" ".join(w.text for w in line.words))):
            header_at = at
        # A heading may run over two or three rows ("Ohne" / "MwSt.").
        in_table_header = at - header_at <= 2
        for position, cell in enumerate(line.cells):
            text = clean(cell.text)
            for name, patterns in labels.items():
                for pattern, weight in patterns:
                    match = re.search(pattern, text, re.I)
                    if not match or match.start() > 3:
                        continue  # a label starts its cell
                    rest = text[match.end():]
                    value, raw, ok = read_value(name, rest)
                    if ok:
                        offer(name, weight + 0.02, index_base + at, value, raw)
                        break
                    if rest.strip(" :#.-–") and not _only_marks(rest):
                        continue  # the cell goes on with other words: not a label cell
                    found = _right_of(line, position, name, read_value)
                    if found is not None:
                        offer(name, weight + 0.01, index_base + at, *found)
                        break
                    if in_table_header or weight < 0.8:
                        break
                    label_x0, label_x1 = _label_span(cell, match, text)
                    found = _below(lines, at, label_x0, label_x1, name, read_value)
                    if found is not None:
                        offer(name, weight * 0.9, index_base + at, *found)
                    break


def _only_marks(text: str) -> bool:
    return not re.search(r"[\w]", text)


def _label_span(cell: Cell, match: re.Match, text: str) -> tuple[float, float]:
    """The horizontal extent of the matched label's words within its cell."""
    count = len(text[:match.end()].split())
    words = cell.words[:max(1, count)]
    return words[0].x0, words[-1].x1


def _right_of(line: Line, position: int, name: str, read_value: ValueReader
              ) -> tuple[object, str] | None:
    for cell in line.cells[position + 1:position + 2]:
        value, raw, ok = read_value(name, clean(cell.text))
        if ok:
            return value, raw
    return None


def _below(lines: list[Line], at: int, x0: float, x1: float, name: str,
           read_value: ValueReader) -> tuple[object, str] | None:
    line = lines[at]
    limit = line.top + 4 * line.height
    for below in lines[at + 1:at + 5]:
        if below.page != line.page or below.top > limit:
            return None
        column = [c for c in below.cells if _overlaps(x0, x1, c.x0, c.x1)]
        if not column:
            continue
        cell = min(column, key=lambda c: abs(c.x0 - x0))
        value, raw, ok = read_value(name, clean(cell.text))
        if ok:
            return value, raw
        return None
    return None
