"""Numbers as people write them: the one reader of the number text typed in a form or a search
box, found in an imported file's column, or read off a supplier's PDF.

Text is digits with an optional leading sign (``-``, ``+`` or the minus sign ``−``), and ``.``
and ``,`` read by these rules (``parse_number``):

- both ``.`` and ``,``: the last one is the decimal separator and the other groups thousands
  (``1.234,50`` and ``1,234.50`` are 1234.5);
- one separator several times: thousands, in groups of three (``1.000.000``, ``1,000,000``);
- one separator once, followed by anything but three digits: decimal (``1,5``, ``1.5``,
  ``1234,567``, ``0,500``);
- one separator once, between one to three digits (not starting with 0) and exactly three:
  ambiguous (``1.000``, ``1,000``), read by ``decimal_mark``, the decimal separator in force:
  with ``"."`` ``1.000`` is 1 and ``1,000`` is 1000; with ``","`` ``1.000`` is 1000 and
  ``1,000`` is 1; with None (nothing tells which, and the reader writes a decimal comma) both
  are 1000 — a Colombian ``1.000`` is one thousand. ``decimal_mark_of`` finds the mark a set of
  values shows.

A space, a no-break space, a thin space or a narrow no-break space may group thousands too
(``1 000 000``, ``1 000,5``). Exponents (``1e3``), ``NaN``, ``Infinity``, a separator at the
end (``5.``), misplaced groups (``1.2.3``), any other character and text longer than
``MAX_NUMBER_TEXT`` are not numbers.

Two stricter readings for text whose format is known: ``fixed_mark`` (a bank export's column
said to use a decimal comma, say) makes ``decimal_mark`` the only decimal separator and the
other one only a thousands separator (``1,234.5`` is then not a number with a decimal comma);
``thousands=False`` (an amount field that asks for one decimal point) takes no thousands
separator at all.

No Flask, no database, nothing of the app: the e-invoice library, the statement readers, the
services and the web layer all read numbers through this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["MAX_NUMBER_TEXT", "NumberCell", "decimal_mark_of", "parse_number", "shown_mark"]

# The longest number text read: 40 characters hold any price or quantity with its separators.
MAX_NUMBER_TEXT = 40
#: Spaces that may group thousands: space, no-break, thin and narrow no-break space.
GROUP_SPACES = " \u00a0\u2009\u202f"
_MINUS = ("-", "\u2212")

_SPACED = re.compile(rf"[0-9]{{1,3}}(?:[{GROUP_SPACES}][0-9]{{3}})+(?:[.,][0-9]+)?")
_GROUPED = {mark: re.compile(rf"[1-9][0-9]{{0,2}}(?:\{mark}[0-9]{{3}})*") for mark in ".,"}
_DIGITS_AND_MARKS = re.compile(r"[0-9.,]*[0-9][0-9.,]*")


class NumberCell(str):
    """A workbook's number cell as ``app.spreadsheets.read_table`` gives it: the text of the
    number (plain digits and a point, never an exponent) that also keeps the number itself, so
    a reader never takes a typed ``1.234`` for one thousand two hundred and thirty-four."""

    number: Decimal

    def __new__(cls, number: Decimal) -> NumberCell:
        cell = super().__new__(cls, format(number, "f"))
        cell.number = number
        return cell


def parse_number(
    raw: Any, *, decimal_mark: str | None = ".", fixed_mark: bool = False,
    thousands: bool = True,
) -> Decimal | None:
    """Read a number as people write it (the module's rules); None when it is empty (None or
    blank text), ValueError when it is not a number.

    ``decimal_mark`` (``"."``, ``","`` or None) reads an ambiguous ``1.000``/``1,000``. With
    ``fixed_mark`` it is the only decimal separator and the other one only groups thousands;
    with ``thousands=False`` nothing groups thousands (``1.000`` is then 1 with a point, and
    with ``fixed_mark`` a comma is refused). A typed value (an int, a float, a Decimal or a
    ``NumberCell``) is taken as the number it is, whatever the rest says; a bool and a
    non-finite value are not numbers.
    """
    if decimal_mark not in (".", ",", None):
        raise TypeError(f"decimal_mark is '.', ',' or None, not {decimal_mark!r}")
    if fixed_mark and decimal_mark is None:
        raise TypeError("fixed_mark needs a decimal_mark")
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, NumberCell):
        value = raw.number
    elif isinstance(raw, int | Decimal):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    else:
        return _number_text(str(raw), decimal_mark, fixed_mark=fixed_mark, thousands=thousands)
    if not value.is_finite():
        raise ValueError(raw)
    return value


def shown_mark(value: str) -> str | None:
    """The decimal separator one number text shows beyond doubt (``","`` for ``1,5``,
    ``1.234,5`` or ``1.000.000``; ``"."`` for ``1.5``, ``1,234.5`` or ``1,000,000``), or None
    (``1.000``, ``12``, not a number)."""
    text = value.strip()
    if not text or len(text) > MAX_NUMBER_TEXT:
        return None
    text = _sign(text)[1]
    shape = _shape(text)
    if shape is None:
        return None
    whole, separator, fraction = shape
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        return separator
    if dots + commas > 1:
        return "," if dots else "."  # 1.000.000 groups with dots: the decimal is a comma
    if separator and not _ambiguous(whole, fraction):
        return separator
    return None


def decimal_mark_of(values: Iterable[Any], *, decimal_comma: bool) -> str | None:
    """The decimal separator a file's numbers show: ``","`` or ``"."``, whichever more of its
    text values show (``shown_mark``; typed cells show nothing). When none shows it (or as many
    show each): ``"."`` for a reader who writes a decimal point, None for one who writes a
    decimal comma (``decimal_comma``: the reader's language), for ``parse_number``."""
    votes = {".": 0, ",": 0}
    for value in values:
        if isinstance(value, str) and not isinstance(value, NumberCell):
            mark = shown_mark(value)
            if mark is not None:
                votes[mark] += 1
    if votes["."] != votes[","]:
        return "." if votes["."] > votes[","] else ","
    return None if decimal_comma else "."


# ------------------------------------------------------------------------------------ the rules


def _number_text(
    raw: str, decimal_mark: str | None, *, fixed_mark: bool, thousands: bool
) -> Decimal | None:
    text = raw.strip()
    if not text:
        return None
    if len(text) > MAX_NUMBER_TEXT:
        raise ValueError(raw)
    sign, text = _sign(text)
    if fixed_mark:
        assert decimal_mark is not None
        shape = _fixed_shape(text, decimal_mark, thousands=thousands)
    else:
        shape = _shape(text, thousands=thousands)
    if shape is None:
        raise ValueError(raw)
    whole, separator, fraction = shape
    if separator and thousands and _ambiguous(whole, fraction) and decimal_mark != separator:
        return Decimal(f"{sign}{whole}{fraction}")  # a lone group of thousands: 1.000
    if separator:
        return Decimal(f"{sign}{whole or '0'}.{fraction}")
    return Decimal(f"{sign}{whole}")


def _ambiguous(whole: str, fraction: str) -> bool:
    """Whether ``whole``, a lone separator and ``fraction`` could be thousands or decimals."""
    return len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0"


def _sign(text: str) -> tuple[str, str]:
    if text[:1] in (*_MINUS, "+"):
        return ("" if text[0] == "+" else "-"), text[1:]
    return "", text


def _unspaced(text: str, thousands: bool) -> str:
    if thousands and _SPACED.fullmatch(text):
        return re.sub(f"[{GROUP_SPACES}]", "", text)
    return text


def _shape(text: str, *, thousands: bool = True) -> tuple[str, str, str] | None:
    """``text`` (no sign) as (whole digits, the separator of a lone ``.`` or ``,`` or "", the
    digits after it) with thousands separators taken out; None when it is not a number."""
    text = _unspaced(text, thousands)
    if not _DIGITS_AND_MARKS.fullmatch(text):
        return None
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        if not thousands:
            return None
        mark = "," if text.rfind(",") > text.rfind(".") else "."
        whole, _, fraction = text.rpartition(mark)
        group = "." if mark == "," else ","
        if not fraction or not _GROUPED[group].fullmatch(whole):
            return None
        return whole.replace(group, ""), mark, fraction
    if not dots and not commas:
        return text, "", ""
    separator = "." if dots else ","
    if dots + commas > 1:
        if not thousands or not _GROUPED[separator].fullmatch(text):
            return None
        return text.replace(separator, ""), "", ""
    whole, _, fraction = text.partition(separator)
    if not fraction:
        return None  # "5." or ","
    return whole, separator, fraction


def _fixed_shape(text: str, mark: str, *, thousands: bool) -> tuple[str, str, str] | None:
    """``_shape`` when ``mark`` is the only decimal separator and the other one only groups
    thousands (when ``thousands`` allows any)."""
    text = _unspaced(text, thousands)
    if not _DIGITS_AND_MARKS.fullmatch(text):
        return None
    group = "," if mark == "." else "."
    whole, separator, fraction = text.partition(mark)
    if separator and not fraction.isdigit():
        return None  # "5.", "1.5.6", "1.5,6"
    if group in whole:
        if not thousands or not _GROUPED[group].fullmatch(whole):
            return None
        whole = whole.replace(group, "")
    return whole, separator, fraction
