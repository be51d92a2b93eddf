"""Tax ids of the countries the portal serves, validated with python-stdnum (shown to a person
through ``app.humanize.tax_id``)."""

from __future__ import annotations

from stdnum.cl import rut
from stdnum.co import nit
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.mx import rfc

MODULES = {"CO": nit, "CL": rut, "MX": rfc}
COUNTRIES = {"CO": "Colombia", "CL": "Chile", "MX": "México"}
KIND = {"CO": "NIT", "CL": "RUT", "MX": "RFC"}


class TaxIdError(ValueError):
    """A tax id that is not valid; ``reason`` is checksum, length, format or country."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compact_tax_id(country: str, value: str) -> str:
    """Return the tax id in its compact form, check digit included, or raise TaxIdError."""
    module = MODULES.get((country or "").upper())
    if module is None:
        raise TaxIdError("country")
    try:
        if module is rfc:
            return rfc.validate(value, validate_check_digits=True)
        return module.validate(value)
    except InvalidChecksum:
        raise TaxIdError("checksum") from None
    except InvalidLength:
        raise TaxIdError("length") from None
    except (InvalidFormat, InvalidComponent):
        raise TaxIdError("format") from None
    except StdnumError:
        raise TaxIdError("format") from None


def search_digits(value: str) -> str:
    """Return the characters of a typed tax id that a compact id can start with."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


def tax_id_from_document(country: str, number: str, check_digit: str = "") -> str:
    """Return the compact tax id of a party as a document writes it, or raise TaxIdError.

    A DIAN document writes a NIT without its check digit and puts the digit in ``schemeID``;
    when that attribute is missing the digit is computed, so both forms meet a registered id.
    """
    country = (country or "").upper()
    value = number.strip()
    if country == "CO":
        digits = "".join(ch for ch in value if ch.isdigit())
        if not digits:
            raise TaxIdError("format")
        value = digits + (check_digit.strip() or nit.calc_check_digit(digits))
    return compact_tax_id(country, value)
