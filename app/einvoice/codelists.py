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


# ------------------------------------------------------------------------------ names to read
# The codes a document carries, by name in Spanish (as DIAN's lists word them) and in English,
# for app.humanize. An unknown code is shown as given.

#: UN/ECE Recommendation 20 units (DIAN's UnidadesMedida), singular and plural names.
UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "94": {"es": ("unidad", "unidades"), "en": ("unit", "units")},
    "C62": {"es": ("unidad", "unidades"), "en": ("unit", "units")},
    "NIU": {"es": ("unidad", "unidades"), "en": ("unit", "units")},
    "EA": {"es": ("unidad", "unidades"), "en": ("each", "each")},
    "H87": {"es": ("pieza", "piezas"), "en": ("piece", "pieces")},
    "E48": {"es": ("servicio", "servicios"), "en": ("service", "services")},
    "ACT": {"es": ("actividad", "actividades"), "en": ("activity", "activities")},
    "KGM": {"es": ("kilogramo", "kilogramos"), "en": ("kilogram", "kilograms")},
    "GRM": {"es": ("gramo", "gramos"), "en": ("gram", "grams")},
    "MGM": {"es": ("miligramo", "miligramos"), "en": ("milligram", "milligrams")},
    "TNE": {"es": ("tonelada", "toneladas"), "en": ("tonne", "tonnes")},
    "LBR": {"es": ("libra", "libras"), "en": ("pound", "pounds")},
    "LTR": {"es": ("litro", "litros"), "en": ("litre", "litres")},
    "MLT": {"es": ("mililitro", "mililitros"), "en": ("millilitre", "millilitres")},
    "GLL": {"es": ("galón", "galones"), "en": ("gallon", "gallons")},
    "MTR": {"es": ("metro", "metros"), "en": ("metre", "metres")},
    "CMT": {"es": ("centímetro", "centímetros"), "en": ("centimetre", "centimetres")},
    "MMT": {"es": ("milímetro", "milímetros"), "en": ("millimetre", "millimetres")},
    "KMT": {"es": ("kilómetro", "kilómetros"), "en": ("kilometre", "kilometres")},
    "MTK": {"es": ("metro cuadrado", "metros cuadrados"),
            "en": ("square metre", "square metres")},
    "MTQ": {"es": ("metro cúbico", "metros cúbicos"), "en": ("cubic metre", "cubic metres")},
    "SEC": {"es": ("segundo", "segundos"), "en": ("second", "seconds")},
    "MIN": {"es": ("minuto", "minutos"), "en": ("minute", "minutes")},
    "HUR": {"es": ("hora", "horas"), "en": ("hour", "hours")},
    "DAY": {"es": ("día", "días"), "en": ("day", "days")},
    "WEE": {"es": ("semana", "semanas"), "en": ("week", "weeks")},
    "MON": {"es": ("mes", "meses"), "en": ("month", "months")},
    "ANN": {"es": ("año", "años"), "en": ("year", "years")},
    "KWH": {"es": ("kilovatio hora", "kilovatios hora"),
            "en": ("kilowatt hour", "kilowatt hours")},
    "BX": {"es": ("caja", "cajas"), "en": ("box", "boxes")},
    "PK": {"es": ("paquete", "paquetes"), "en": ("pack", "packs")},
    "PR": {"es": ("par", "pares"), "en": ("pair", "pairs")},
    "DZN": {"es": ("docena", "docenas"), "en": ("dozen", "dozen")},
    "SET": {"es": ("juego", "juegos"), "en": ("set", "sets")},
    "BG": {"es": ("bolsa", "bolsas"), "en": ("bag", "bags")},
    "BO": {"es": ("botella", "botellas"), "en": ("bottle", "bottles")},
    "ZZ": {"es": ("unidad acordada", "unidades acordadas"),
           "en": ("agreed unit", "agreed units")},
}
#: DIAN MediosPago (cac:PaymentMeans/cbc:PaymentMeansCode).
PAYMENT_MEANS: dict[str, dict[str, str]] = {
    "1": {"es": "Instrumento no definido", "en": "Not defined"},
    "2": {"es": "Crédito ACH", "en": "ACH credit"},
    "3": {"es": "Débito ACH", "en": "ACH debit"},
    "10": {"es": "Efectivo", "en": "Cash"},
    "20": {"es": "Cheque", "en": "Cheque"},
    "30": {"es": "Transferencia crédito", "en": "Credit transfer"},
    "31": {"es": "Transferencia débito", "en": "Debit transfer"},
    "42": {"es": "Consignación bancaria", "en": "Bank deposit"},
    "44": {"es": "Nota cambiaria", "en": "Bill of exchange"},
    "45": {"es": "Transferencia crédito bancario", "en": "Bank credit transfer"},
    "46": {"es": "Transferencia débito interbancario", "en": "Interbank debit transfer"},
    "47": {"es": "Transferencia débito bancaria", "en": "Bank debit transfer"},
    "48": {"es": "Tarjeta crédito", "en": "Credit card"},
    "49": {"es": "Tarjeta débito", "en": "Debit card"},
    "71": {"es": "Bonos", "en": "Bonds"},
    "72": {"es": "Vales", "en": "Vouchers"},
    "ZZZ": {"es": "Acuerdo mutuo", "en": "Mutually agreed"},
}
#: DIAN FormasPago (cac:PaymentMeans/cbc:ID).
PAYMENT_FORMS: dict[str, dict[str, str]] = {
    "1": {"es": "Contado", "en": "Cash"},
    "2": {"es": "Crédito", "en": "Credit"},
}
#: DIAN Tributos (cac:TaxScheme/cbc:ID): the short names Colombian invoices print.
TAX_SCHEMES: dict[str, dict[str, str]] = {
    "01": {"es": "IVA", "en": "VAT (IVA)"},
    "02": {"es": "IC", "en": "Consumption tax (IC)"},
    "03": {"es": "ICA", "en": "Industry and commerce tax (ICA)"},
    "04": {"es": "INC", "en": "National consumption tax (INC)"},
    "05": {"es": "ReteIVA", "en": "VAT withholding"},
    "06": {"es": "ReteRenta", "en": "Income tax withholding"},
    "07": {"es": "ReteICA", "en": "ICA withholding"},
    "08": {"es": "IC porcentual", "en": "Percentage consumption tax"},
    "20": {"es": "FtoHorticultura", "en": "Horticulture levy"},
    "21": {"es": "Timbre", "en": "Stamp duty"},
    "22": {"es": "INC bolsas", "en": "Plastic bag tax"},
    "23": {"es": "INCarbono", "en": "Carbon tax"},
    "24": {"es": "INCombustibles", "en": "Fuel tax"},
    "25": {"es": "Sobretasa combustibles", "en": "Fuel surcharge"},
    "26": {"es": "Sordicom", "en": "Sordicom"},
    "32": {"es": "ICL", "en": "Liquor consumption tax (ICL)"},
    "33": {"es": "INPP", "en": "Plastic packaging tax (INPP)"},
    "34": {"es": "IBUA", "en": "Sugary drinks tax (IBUA)"},
    "35": {"es": "ICUI", "en": "Ultra-processed food tax (ICUI)"},
    "ZA": {"es": "IVA e INC", "en": "VAT and INC"},
    "ZZ": {"es": "No aplica", "en": "Not applicable"},
}
#: DIAN TipoResponsabilidad (and R-99-PN) by name.
RESPONSIBILITY_NAMES: dict[str, dict[str, str]] = {
    "O-13": {"es": "Gran contribuyente", "en": "Large taxpayer"},
    "O-15": {"es": "Autorretenedor", "en": "Self-withholding agent"},
    "O-23": {"es": "Agente de retención IVA", "en": "VAT withholding agent"},
    "O-47": {"es": "Régimen simple de tributación", "en": "Simple tax regime"},
    "R-99-PN": {"es": "No aplica – Otros", "en": "Not applicable – other"},
    "ZZ": {"es": "No aplica", "en": "Not applicable"},
}
#: DIAN TipoOrganizacion by name.
PERSON_TYPE_NAMES: dict[str, dict[str, str]] = {
    "1": {"es": "Persona jurídica", "en": "Legal entity"},
    "2": {"es": "Persona natural", "en": "Natural person"},
}
#: DIAN TipoDocumentoIdentificacion by its short name.
ID_TYPES: dict[str, dict[str, str]] = {
    "11": {"es": "R.C.", "en": "Birth reg."},
    "12": {"es": "T.I.", "en": "Identity card"},
    "13": {"es": "C.C.", "en": "ID card"},
    "21": {"es": "T.E.", "en": "Foreigner card"},
    "22": {"es": "C.E.", "en": "Foreigner ID"},
    "31": {"es": "NIT", "en": "NIT"},
    "41": {"es": "Pasaporte", "en": "Passport"},
    "42": {"es": "Doc. extranjero", "en": "Foreign document"},
    "47": {"es": "PEP", "en": "PEP"},
    "50": {"es": "NIT extranjero", "en": "Foreign tax id"},
    "91": {"es": "NUIP", "en": "NUIP"},
}
