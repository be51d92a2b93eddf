"""DIAN's code lists (genericode ``.gc`` files of the Caja de herramientas) read where they are.

The lists are read in place from a folder laid out like DIAN's ``listas-de-valores`` (never
copied into the project). Without that folder, the small lists fall back to the constants
below; municipalities then have no list, and only their department (the first two digits of
the DIVIPOLA code) can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree

#: Where the lists sit inside a rules folder laid out like ``../shared/data``.
LISTS_SUBDIR = "dian/caja-herramientas-v1.9/listas-de-valores"

#: DIAN TipoOrganizacion (cbc:AdditionalAccountID).
PERSON_TYPES = {"1": "Persona Jurídica", "2": "Persona Natural"}
#: DIAN Departamentos (DIVIPOLA), used when the official list is not at hand.
DEPARTMENTS = {
    "05": "Antioquia", "08": "Atlántico", "11": "Bogotá", "13": "Bolívar", "15": "Boyacá",
    "17": "Caldas", "18": "Caquetá", "19": "Cauca", "20": "Cesar", "23": "Córdoba",
    "25": "Cundinamarca", "27": "Chocó", "41": "Huila", "44": "La Guajira", "47": "Magdalena",
    "50": "Meta", "52": "Nariño", "54": "Norte de Santander", "63": "Quindío",
    "66": "Risaralda", "68": "Santander", "70": "Sucre", "73": "Tolima",
    "76": "Valle del Cauca", "81": "Arauca", "85": "Casanare", "86": "Putumayo",
    "88": "San Andrés y Providencia", "91": "Amazonas", "94": "Guainía", "95": "Guaviare",
    "97": "Vaupés", "99": "Vichada",
}  # fmt: skip
#: DIAN TipoResponsabilidad as the Caja de herramientas v1.9 lists it.
RESPONSIBILITIES = {
    "O-13": "Gran contribuyente",
    "O-15": "Autorretenedor",
    "O-23": "Agente de retención IVA",
    "O-47": "Régimen simple de tributación",
    "ZZ": "No aplica",
}
#: R-99-PN ("No aplica – Otros") is in the Anexo técnico's table of responsibilities and in
#: the list DIAN's compiled validator (rule FAJ26) accepts, though not in the .gc file.
EXTRA_RESPONSIBILITIES = {"R-99-PN": "No aplica – Otros"}
#: The tributes a party can be registered for (cac:PartyTaxScheme/cac:TaxScheme).
PARTY_TAX_SCHEMES = {"01": "IVA", "04": "INC", "ZZ": "No aplica"}


@dataclass(frozen=True)
class CodeLists:
    """The lists a fiscal profile is checked against, and the folder they came from."""

    person_types: dict[str, str]
    responsibilities: dict[str, str]
    tax_schemes: dict[str, str]
    departments: dict[str, str]
    municipalities: dict[str, str] = field(default_factory=dict)
    postal_codes: frozenset[str] = frozenset()
    source: Path | None = None


def read_genericode(path: Path) -> dict[str, str]:
    """Return a genericode list's rows as code → name (the first two columns)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(str(path), parser)
    rows: dict[str, str] = {}
    for row in tree.iter("Row"):
        values = [" ".join((v.text or "").split()) for v in row.iter("SimpleValue")]
        if values and values[0]:
            rows[values[0]] = values[1] if len(values) > 1 else ""
    return rows


@lru_cache(maxsize=4)
def load(folder: str | None) -> CodeLists:
    """Return DIAN's lists from ``folder`` (a listas-de-valores folder), else the constants."""
    path = Path(folder) if folder else None
    if path is None or not (path / "Municipio-2.1.gc").is_file():
        return CodeLists(
            PERSON_TYPES,
            {**RESPONSIBILITIES, **EXTRA_RESPONSIBILITIES},
            PARTY_TAX_SCHEMES,
            DEPARTMENTS,
        )
    taxes = read_genericode(path / "TipoImpuesto-2.1.gc")
    return CodeLists(
        person_types=read_genericode(path / "TipoOrganizacion-2.1.gc"),
        responsibilities={
            **read_genericode(path / "TipoResponsabilidad-2.1.gc"),
            **EXTRA_RESPONSIBILITIES,
        },
        # DIAN's list of tributes also holds withholdings and special taxes: a party is
        # registered for IVA, INC or none (ZZ, whose name in the list is a placeholder).
        tax_schemes={code: PARTY_TAX_SCHEMES[code] for code in PARTY_TAX_SCHEMES if code in taxes},
        departments=read_genericode(path / "Departamentos-2.1.gc"),
        municipalities=read_genericode(path / "Municipio-2.1.gc"),
        postal_codes=frozenset(read_genericode(path / "CodigoPostal1.gc"))
        if (path / "CodigoPostal1.gc").is_file()
        else frozenset(),
        source=path,
    )
