"""A party's fiscal data (RUT): person type, responsibilities, tax scheme and address.

Companies keep theirs on the company page; issuing writes it for the supplier, and for a
partner customer. Codes are checked against DIAN's lists (``einvoice.codelists``), read in
place from ``DIAN_CODE_LISTS_DIR``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.einvoice import codelists
from app.einvoice import model as ubl
from app.extensions import db
from app.models import Company, User
from app.services import audit
from app.services.errors import FieldErrors, NotFound

DEFAULT_RESPONSIBILITIES = ("R-99-PN",)
DEFAULT_TAX_SCHEME = "ZZ"
_MUNICIPALITY = re.compile(r"^\s*(\d{5})(?:\s*[—–-]?\s*(.*?))?\s*$")


@dataclass
class FiscalData:
    """One party's fiscal data, checked: what the XML writes."""

    person_type: str
    responsibilities: list[str] = field(default_factory=list)
    tax_scheme: str = DEFAULT_TAX_SCHEME
    address_line: str = ""
    municipality_code: str = ""
    municipality_name: str = ""
    department_code: str = ""
    department_name: str = ""
    postal_code: str = ""

    def address(self, country: str = "CO") -> ubl.Address:
        """Return the engine's address for these data."""
        return ubl.Address(
            lines=[self.address_line],
            city=self.municipality_name,
            city_code=self.municipality_code,
            subdivision=self.department_name,
            subdivision_code=self.department_code,
            postal_zone=self.postal_code,
            country=country,
        )


def code_lists() -> codelists.CodeLists:
    """Return DIAN's code lists as configured (or the constants standing in for them)."""
    return codelists.load(current_app.config.get("DIAN_CODE_LISTS_DIR") or None)


def municipality_label(code: str, name: str) -> str:
    """Return how a municipality is typed and shown: "11001 — Bogotá, D.C."."""
    return f"{code} — {name}" if code else ""


def municipality_options() -> list[str]:
    """Return every municipality of DIAN's list as the form's datalist shows it."""
    return [municipality_label(c, n) for c, n in code_lists().municipalities.items()]


def check_fiscal_data(
    *,
    person_type: str,
    responsibilities: list[str],
    tax_scheme: str,
    address_line: str,
    municipality: str,
    postal_code: str = "",
    prefix: str = "",
) -> FiscalData:
    """Check typed fiscal data against DIAN's lists, or raise FieldErrors naming each input."""
    lists = code_lists()
    errors: dict[str, list[Any]] = {}
    person_type = (person_type or "").strip()
    if person_type not in lists.person_types:
        errors[prefix + "person_type"] = [_l("Choose persona jurídica or persona natural.")]
    codes = [c.strip().upper() for c in responsibilities or [] if c and c.strip()]
    unknown = [c for c in codes if c not in lists.responsibilities]
    if unknown:
        errors[prefix + "tax_responsibilities"] = [
            _l(
                "%(codes)s is not one of DIAN's fiscal responsibilities.",
                codes=", ".join(unknown),
            )
        ]
    elif not codes:
        errors[prefix + "tax_responsibilities"] = [
            _l("Choose at least one fiscal responsibility (R-99-PN when none applies).")
        ]
    tax_scheme = (tax_scheme or "").strip().upper()
    if tax_scheme not in lists.tax_schemes:
        errors[prefix + "tax_scheme"] = [_l("Choose one of the tax schemes offered.")]
    address_line = " ".join((address_line or "").split())
    if not address_line:
        errors[prefix + "address_line"] = [_l("Enter the address as it is in the RUT.")]
    elif len(address_line) > 200:
        errors[prefix + "address_line"] = [_l("An address has at most 200 characters.")]
    code = name = ""
    match = _MUNICIPALITY.match(municipality or "")
    if match is None:
        errors[prefix + "municipality"] = [
            _l("Enter the municipality's 5-digit DIVIPOLA code, e.g. 11001 for Bogotá.")
        ]
    else:
        code, typed = match.group(1), (match.group(2) or "").strip()
        if lists.municipalities:
            name = lists.municipalities.get(code, "")
            if not name:
                errors[prefix + "municipality"] = [
                    _l("%(code)s is not a municipality in DIAN's list.", code=code)
                ]
        elif code[:2] not in lists.departments:
            errors[prefix + "municipality"] = [
                _l("%(code)s does not start with a department's code.", code=code)
            ]
        else:  # no list on this server: the department is checked, the name is as typed
            name = typed[:100]
    postal_code = (postal_code or "").strip()
    if postal_code and not re.fullmatch(r"\d{6}", postal_code):
        errors[prefix + "postal_code"] = [_l("A postal code has 6 digits.")]
    elif postal_code and lists.postal_codes and postal_code not in lists.postal_codes:
        errors[prefix + "postal_code"] = [
            _l("%(code)s is not a postal code in DIAN's list.", code=postal_code)
        ]
    if errors:
        raise FieldErrors(errors)
    return FiscalData(
        person_type=person_type,
        responsibilities=list(dict.fromkeys(codes)),
        tax_scheme=tax_scheme,
        address_line=address_line,
        municipality_code=code,
        municipality_name=name,
        department_code=code[:2],
        department_name=lists.departments.get(code[:2], ""),
        postal_code=postal_code,
    )


def update_fiscal_profile(
    company_id: int,
    *,
    person_type: str,
    responsibilities: list[str],
    tax_scheme: str,
    address_line: str,
    municipality: str,
    postal_code: str = "",
    actor: User,
) -> Company:
    """Store the company's fiscal data (what its issued invoices say about it)."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound(_l("That company is not on the network."))
    data = check_fiscal_data(
        person_type=person_type,
        responsibilities=responsibilities,
        tax_scheme=tax_scheme,
        address_line=address_line,
        municipality=municipality,
        postal_code=postal_code,
    )
    store_fiscal_data(company, data)
    db.session.flush()
    audit.record_event(
        actor,
        company.id,
        "company.fiscal_updated",
        company,
        {
            "person_type": data.person_type,
            "responsibilities": company.tax_responsibilities,
            "tax_scheme": data.tax_scheme,
            "municipality": data.municipality_code,
        },
    )
    return company


def store_fiscal_data(company: Company, data: FiscalData) -> None:
    """Copy checked fiscal data onto the company (responsibilities ';'-joined, as DIAN writes)."""
    company.person_type = data.person_type
    company.tax_responsibilities = ";".join(data.responsibilities)
    company.tax_scheme = data.tax_scheme
    company.address_line = data.address_line
    company.municipality_code = data.municipality_code
    company.municipality_name = data.municipality_name
    company.postal_code = data.postal_code or None


def missing_fiscal_data(company: Company) -> list[Any]:
    """Name what the company's fiscal profile still lacks (empty when it is complete)."""
    missing = []
    if not company.person_type:
        missing.append(_l("person type"))
    if not company.tax_responsibilities:
        missing.append(_l("fiscal responsibilities"))
    if not company.tax_scheme:
        missing.append(_l("tax scheme"))
    if not company.address_line:
        missing.append(_l("address"))
    if not (company.municipality_code and company.municipality_name):
        missing.append(_l("municipality"))
    return missing


def company_fiscal_data(company: Company) -> FiscalData | None:
    """Return the company's stored fiscal data, or None while its profile is incomplete."""
    if missing_fiscal_data(company):
        return None
    code = company.municipality_code or ""
    return FiscalData(
        person_type=company.person_type or "",
        responsibilities=[c for c in (company.tax_responsibilities or "").split(";") if c],
        tax_scheme=company.tax_scheme or DEFAULT_TAX_SCHEME,
        address_line=company.address_line or "",
        municipality_code=code,
        municipality_name=company.municipality_name or "",
        department_code=code[:2],
        department_name=code_lists().departments.get(code[:2], ""),
        postal_code=company.postal_code or "",
    )
