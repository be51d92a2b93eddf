"""A company as the parties of the ordering documents (Order, OrderResponse, DespatchAdvice,
Catalogue) name it.

Peppol wants an electronic address (cbc:EndpointID) from its EAS code list, and its rules
refuse a scheme outside it; none of its schemes is Colombia's NIT (nor Mexico's RFC or Chile's
RUT). The portal is the network both parties are on, so a company's address is its participant
id on this network under scheme 0203, "eDelivery Network Participant identifier" — the one
scheme of the list that names no national register and no number format (0088 GLN, 0060
DUNS… are other registers' numbers, whose check digits a receiver would test against a NIT):
the country and the compact tax id (``CO9001234567``). The tax id itself goes in
``PartyIdentification`` and ``PartyLegalEntity``, as DIAN's documents carry it. The API reads
the address back to find a company (``app/blueprints/api/order_input.py``).
"""

from __future__ import annotations

from app.einvoice.ordering_writer import Party, PostalAddress
from app.models import Company

PARTICIPANT_SCHEME = "0203"


def participant_id(company: Company) -> str:
    return f"{company.country}{company.tax_id}"


def ordering_party(company: Company) -> Party:
    address = PostalAddress(
        country=company.country,
        street=(company.address_line or "")[:200],
        city=(company.municipality_name or "")[:100],
        postal_zone=(company.postal_code or "")[:10],
    )
    return Party(
        name=company.legal_name,
        endpoint_id=participant_id(company),
        endpoint_scheme=PARTICIPANT_SCHEME,
        id=company.tax_id,
        trade_name=company.trade_name or "",
        legal_id=company.tax_id,
        address=address,
        email=company.contact_email or "",
    )
