"""Issuing in the portal (for companies with no ERP): numbering ranges, invoices and notes.

The portal builds the canonical ``einvoice.model.Document`` from what the user typed, takes the
next number of the company's active numbering range (a compare-and-set UPDATE, so two issues
never share a number), lets the engine write the DIAN XML (``writer``), signs it with the
company's certificate, and submits the signed bytes through ``storing.submit_xml`` — the very
path an uploaded file takes, so routing, duplicates and notifications apply unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import humanize
from app.einvoice import model as ubl
from app.einvoice import writer
from app.einvoice.signature import sign_document
from app.extensions import db
from app.models import Company, Document, NumberingRange, User
from app.models.document import DEBIT_NOTE, INVOICE
from app.services import audit, certificates, fiscal
from app.services.documents import queries, reading, storing
from app.services.errors import DomainError, FieldErrors, NotFound
from app.taxids import TaxIdError, compact_tax_id
from app.tenancy import unscoped

COLOMBIA = dt.timezone(dt.timedelta(hours=-5))
_CENT = Decimal("0.01")

#: The taxes a line may carry: code → (DIAN TipoImpuesto, percent, label).
TAXES: dict[str, tuple[str, str, str]] = {
    "IVA19": ("01", "19.00", "IVA 19 %"),
    "IVA5": ("01", "5.00", "IVA 5 %"),
    "IVA0": ("01", "0.00", "IVA 0 %"),
    "INC8": ("04", "8.00", "INC 8 %"),
}
#: Withholdings on the whole invoice: code → (scheme, percent, label, base: "lines" or "iva").
WITHHOLDINGS: dict[str, tuple[str, str, str, str]] = {
    "RETEFUENTE25": ("06", "2.50", "ReteFuente 2,5 %", "lines"),
    "RETEFUENTE4": ("06", "4.00", "ReteFuente 4 %", "lines"),
    "RETEIVA15": ("05", "15.00", "ReteIVA 15 %", "iva"),
    "RETEICA": ("07", "0.966", "ReteICA 9,66 ‰", "lines"),
}
#: DIAN's payment means (MediosPago) offered in the form.
PAYMENT_MEANS = {
    "10": "Efectivo",
    "42": "Consignación bancaria",
    "47": "Transferencia",
    "48": "Tarjeta crédito",
}


@dataclass
class LineInput:
    """One line as typed: description, quantity, unit price, tax code and discount."""

    description: str
    quantity: Any
    unit_price: Any
    tax: str = "IVA19"
    discount: Any = "0"
    item_code: str = ""  # the seller's item id (from an order or the catalog)
    unit_code: str = "94"


@dataclass
class CustomerInput:
    """A partner company (by id) or any customer (country, tax id, name, e-mail).

    The fiscal data (address, municipality, person type, responsibilities, tax scheme) are used
    for a customer typed by hand, or a partner whose own fiscal profile is incomplete.
    """

    company_id: int | None = None
    country: str = "CO"
    tax_id: str = ""
    name: str = ""
    email: str = ""
    address_line: str = ""
    municipality: str = ""
    person_type: str = "1"
    responsibilities: list[str] = field(
        default_factory=lambda: list(fiscal.DEFAULT_RESPONSIBILITIES)
    )
    tax_scheme: str = fiscal.DEFAULT_TAX_SCHEME


@dataclass
class Totals:
    """What the live totals show."""

    document: ubl.Document
    withholdings: Decimal = Decimal("0")
    taxes: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    #: For a credit note: what the invoice still owes, which the note may not exceed.
    open_balance: Decimal | None = None
    #: Why the note would be refused as it stands (above the open balance), if it would.
    refusal: DomainError | None = None

    @property
    def totals(self) -> ubl.MonetaryTotals:
        """Return the document's monetary totals."""
        return self.document.totals


# ----------------------------------------------------------------------------- numbering


def active_range(company_id: int) -> NumberingRange | None:
    """Return the company's numbering range in use, if any."""
    return db.session.scalars(
        select(NumberingRange)
        .where(NumberingRange.company_id == company_id, NumberingRange.active.is_(True))
        .order_by(NumberingRange.id.desc())
    ).first()


def configure_numbering(
    company_id: int,
    *,
    prefix: str,
    range_from: int,
    range_to: int,
    resolution: str,
    valid_from: dt.date,
    valid_to: dt.date,
    technical_key: str,
    actor: User,
) -> NumberingRange:
    """Store a DIAN numbering range as the company's active one (the previous one retires)."""
    errors: dict[str, list[Any]] = {}
    prefix = (prefix or "").strip().upper()
    if len(prefix) > 4 or not prefix.isalnum() and prefix:
        errors["prefix"] = [_l("A prefix has at most 4 letters or digits.")]
    if range_from is None or range_from < 0:
        errors["range_from"] = [_l("Enter the first number of the range.")]
    if range_to is None or range_from is not None and range_to < range_from:
        errors["range_to"] = [_l("The last number must not be below the first.")]
    if not (resolution or "").strip():
        errors["resolution"] = [_l("Enter the resolution number.")]
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = [_l("The range must end after it starts.")]
    if not (technical_key or "").strip():
        errors["technical_key"] = [_l("Enter the technical key DIAN gave for this range.")]
    if errors:
        raise FieldErrors(errors)
    previous = active_range(company_id)
    if previous is not None:
        previous.active = False
    numbering = NumberingRange(
        company_id=company_id,
        prefix=prefix,
        range_from=range_from,
        range_to=range_to,
        next_number=range_from,
        resolution=resolution.strip(),
        valid_from=valid_from,
        valid_to=valid_to,
        technical_key_encrypted=certificates.encrypt(technical_key.strip().encode()),
        created_by_id=actor.id,
    )
    db.session.add(numbering)
    db.session.flush()
    audit.record_event(
        actor,
        company_id,
        "numbering.configured",
        numbering,
        {"prefix": prefix, "from": range_from, "to": range_to, "resolution": numbering.resolution},
    )
    return numbering


def _take_number(company_id: int, today: dt.date) -> tuple[NumberingRange, int]:
    """Take the next consecutive of the active range, atomically, or refuse with a reason."""
    for _attempt in range(5):
        numbering = active_range(company_id)
        if numbering is None:
            raise DomainError(_l("Configure the company's numbering range before issuing."))
        db.session.refresh(numbering)
        if not numbering.valid_from <= today <= numbering.valid_to:
            raise DomainError(
                _l(
                    "The numbering range (resolution %(resolution)s) is valid from %(start)s to "
                    "%(end)s: configure a current one.",
                    resolution=numbering.resolution,
                    start=numbering.valid_from.isoformat(),
                    end=numbering.valid_to.isoformat(),
                )
            )
        number = numbering.next_number
        if number > numbering.range_to:
            raise DomainError(
                _l(
                    "The numbering range %(prefix)s%(start)s–%(prefix)s%(end)s is used up: "
                    "configure a new one.",
                    prefix=numbering.prefix,
                    start=numbering.range_from,
                    end=numbering.range_to,
                )
            )
        # Compare-and-set: only one of two concurrent issues moves the counter from this value.
        taken = db.session.execute(
            update(NumberingRange)
            .where(NumberingRange.id == numbering.id, NumberingRange.next_number == number)
            .values(next_number=number + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 1:
            db.session.refresh(numbering)
            return numbering, number
    raise DomainError(_l("Too many invoices are being issued at once: try again."))


# ----------------------------------------------------------------------------- building


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None
    return number if number is not None and number.is_finite() else None


def _build_lines(
    lines: list[LineInput], *, taxes: dict[str, tuple[str, str, str]] = TAXES
) -> list[ubl.Line]:
    """Turn typed lines into engine lines, or raise FieldErrors naming each bad input."""
    errors: dict[str, list[Any]] = {}
    built: list[ubl.Line] = []
    for index, line in enumerate(lines):
        name = f"lines-{index}-"
        quantity, price = _decimal(line.quantity), _decimal(line.unit_price)
        discount = _decimal(line.discount or "0")
        if not (line.description or "").strip():
            errors[name + "description"] = [_l("Describe what is sold.")]
        if quantity is None or quantity <= 0:
            errors[name + "quantity"] = [_l("The quantity must be a number above zero.")]
        if price is None or price < 0:
            errors[name + "unit_price"] = [_l("The unit price must be a number, zero or more.")]
        if line.tax not in taxes:
            errors[name + "tax"] = [_l("Choose one of the taxes offered.")]
        if discount is None or discount < 0:
            errors[name + "discount"] = [_l("The discount must be a number, zero or more.")]
        if any(key.startswith(name) for key in errors):
            continue
        gross = (quantity * price).quantize(_CENT)
        discount = discount.quantize(_CENT)
        if discount > gross:
            errors[name + "discount"] = [_l("The discount cannot exceed the line's amount.")]
            continue
        allowances = (
            [
                ubl.AllowanceCharge(
                    charge=False,
                    amount=discount,
                    base_amount=gross,
                    percent=(discount * 100 / gross).quantize(_CENT),
                    reason="Descuento",
                )
            ]
            if discount
            else []
        )
        net = gross - discount
        scheme, percent, _label = taxes[line.tax]
        built.append(
            ubl.Line(
                id=str(len(built) + 1),
                quantity=quantity,
                unit_code=(line.unit_code or "94")[:10],
                line_extension=net,
                description=line.description.strip()[:300],
                seller_item_id=(line.item_code or "").strip()[:100],
                # DIAN's scheme 999 is the issuer's own code: the item's, else the line's number.
                standard_item_id=(line.item_code or "").strip()[:100] or f"L{len(built) + 1}",
                standard_item_scheme="999",
                price=price,
                base_quantity=Decimal("1"),
                allowance_charges=allowances,
                tax_totals=[writer.line_tax(scheme, percent, net)],
            )
        )
    if not lines and not errors:
        errors["lines"] = [_l("Add at least one line.")]
    if errors:
        raise FieldErrors(errors)
    return built


def _withholdings(doc: ubl.Document, codes: list[str]) -> list[ubl.TaxTotal]:
    totals = []
    for code in codes:
        if code not in WITHHOLDINGS:
            raise DomainError(_l("Choose one of the withholdings offered."), field="withholdings")
        scheme, percent, _label, base_on = WITHHOLDINGS[code]
        base = (
            doc.tax_amount("01") if base_on == "iva" else doc.totals.line_extension or Decimal("0")
        )
        totals.append(writer.line_tax(scheme, percent, base))
    return totals


def compute(lines: list[LineInput], *, withholdings: list[str] = ()) -> Totals:
    """Compute an invoice's taxes and totals from typed lines (the engine's arithmetic)."""
    doc = ubl.Document(document_type=ubl.DocumentType.INVOICE, lines=_build_lines(lines))
    writer.compute_totals(doc)
    doc.withholding_totals = _withholdings(doc, list(withholdings))
    taxes = [
        (
            f"{writer.TAX_SCHEME_NAMES.get(s.scheme_id, s.scheme_id)} {s.percent.normalize():f} %",
            s.taxable_amount or Decimal("0"),
            s.tax_amount,
        )
        for total in doc.tax_totals + doc.withholding_totals
        for s in total.subtotals
    ]
    held = sum((t.tax_amount for t in doc.withholding_totals), Decimal("0"))
    return Totals(doc, withholdings=held, taxes=taxes)


def _party(
    country: str, compact: str, name: str, data: fiscal.FiscalData, email: str = ""
) -> ubl.Party:
    """Return an engine party for a compact tax id (a NIT is written without its digit)."""
    nit, digit = (compact[:-1], compact[-1]) if country == "CO" else (compact, "")
    return ubl.Party(
        name=name,
        registration_name=name,
        tax_id=nit,
        check_digit=digit,
        id_scheme="31",
        legal_id=nit,
        legal_check_digit=digit,
        account_type=data.person_type,
        tax_level_codes=list(data.responsibilities),
        tax_scheme=data.tax_scheme,
        email=email,
        address=data.address(country),
    )


def supplier_party(company: Company) -> ubl.Party:
    """Return the issuing company as the supplier, or refuse while its fiscal data are missing."""
    data = fiscal.company_fiscal_data(company)
    if data is None:
        raise DomainError(
            _l(
                "Fill in the company's fiscal data (%(missing)s) on the company page "
                "(Company → Fiscal data) before issuing.",
                missing=", ".join(str(m) for m in fiscal.missing_fiscal_data(company)),
            )
        )
    return _party(company.country, company.tax_id, company.legal_name, data, company.contact_email)


def _typed_fiscal_data(customer: CustomerInput) -> fiscal.FiscalData:
    """Check the customer's fiscal data as typed on the form (fields named customer_*)."""
    return fiscal.check_fiscal_data(
        person_type=customer.person_type,
        responsibilities=customer.responsibilities,
        tax_scheme=customer.tax_scheme,
        address_line=customer.address_line,
        municipality=customer.municipality,
        prefix="customer_",
    )


def _customer(company_id: int, customer: CustomerInput) -> ubl.Party:
    if customer.company_id:
        partner = db.session.scalars(
            unscoped(select(Company).where(Company.id == customer.company_id))
        ).first()
        if partner is None or partner.id == company_id:
            raise DomainError(_l("Choose one of your customers."), field="customer_id")
        # A partner's own profile wins; while it is incomplete, the issuer types the data.
        data = fiscal.company_fiscal_data(partner)
        if data is None:
            try:
                data = _typed_fiscal_data(customer)
            except FieldErrors as error:
                note = _l(
                    "%(name)s has not filled in its fiscal data yet: enter its address and "
                    "municipality below.",
                    name=partner.legal_name,
                )
                raise FieldErrors({"customer_id": [note], **error.errors}) from None
        return _party(
            partner.country,
            partner.tax_id,
            partner.legal_name,
            data,
            customer.email or partner.contact_email,
        )
    errors: dict[str, list[Any]] = {}
    country = (customer.country or "CO").upper()
    try:
        compact = compact_tax_id(country, customer.tax_id or "")
    except TaxIdError as error:
        compact = ""
        errors["customer_tax_id"] = [
            _l("This tax id's check digit is wrong.")
            if error.reason == "checksum"
            else _l("Enter the customer's tax id (or choose a partner).")
        ]
    if not (customer.name or "").strip():
        errors["customer_name"] = [_l("Enter the customer's name.")]
    data = None
    try:
        data = _typed_fiscal_data(customer)
    except FieldErrors as error:
        errors.update(error.errors)
    if errors:
        raise FieldErrors(errors)
    return _party(
        country, compact, customer.name.strip()[:200], data, (customer.email or "").strip()
    )


def software_configured() -> bool:
    """Tell whether the portal has a DIAN software (id and PIN) to write documents with."""
    software = _software()
    return bool(software.id and software.pin)


def _software() -> writer.Software:
    config = current_app.config
    return writer.Software(
        id=config["DIAN_SOFTWARE_ID"],
        pin=config["DIAN_SOFTWARE_PIN"],
        provider_nit=config["DIAN_SOFTWARE_PROVIDER_NIT"],
    )


def _now() -> dt.datetime:
    return dt.datetime.now(COLOMBIA)


def _sign_and_submit(company_id: int, data: bytes, *, filename: str, actor: User) -> Document:
    """Sign with the company's certificate and send through the Inbox, or refuse with why."""
    try:
        keys = certificates.signing_material(company_id)
    except NotFound:
        raise DomainError(
            _l(
                "Upload the company's signing certificate (Company → Certificate) "
                "before issuing documents."
            )
        ) from None
    signed = sign_document(data, key=keys.key, certificate=keys.certificate, chain=keys.chain)
    submission = storing.submit_xml(company_id, filename=filename, data=signed, actor=actor)
    if not submission.accepted or submission.document is None:
        details = "; ".join(f.message() for f in submission.findings if f.severity == "error")
        raise DomainError(
            submission.message
            or _l(
                "The engine refused the document: %(details)s",
                details=details or submission.outcome,
            )
        )
    return submission.document


# ----------------------------------------------------------------------------- issuing


def issue_invoice(
    company_id: int,
    *,
    customer: CustomerInput,
    lines: list[LineInput],
    withholdings: list[str] = (),
    due_date: dt.date | None = None,
    payment_means: str = "10",
    notes: str = "",
    order_reference: str = "",
    actor: User,
) -> Document:
    """Write, sign and send an invoice with the next number of the company's range (naming the
    buyer's order in ``cac:OrderReference`` when it answers one)."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound(_l("That company is not on the network."))
    supplier = supplier_party(company)
    errors: dict[str, list[Any]] = {}
    party = totals = None
    try:
        party = _customer(company_id, customer)
    except FieldErrors as error:
        errors.update(error.errors)
    except DomainError as error:
        errors[error.field or ""] = [error.message]
    try:
        totals = compute(lines, withholdings=withholdings)
    except FieldErrors as error:
        errors.update(error.errors)
    except DomainError as error:
        errors[error.field or ""] = [error.message]
    if payment_means not in PAYMENT_MEANS:
        errors["payment_means"] = [_l("Choose one of the payment means offered.")]
    now = _now()
    if due_date is not None and due_date < now.date():
        errors["due_date"] = [_l("The due date cannot be before today.")]
    if errors:
        raise FieldErrors(errors)
    numbering, consecutive = _take_number(company_id, now.date())
    doc = totals.document
    doc.number = f"{numbering.prefix}{consecutive}"
    _stamp(doc, supplier, party, now, due_date=due_date, payment_means=payment_means, notes=notes)
    if order_reference.strip():
        doc.order_reference = ubl.DocumentReference(id=order_reference.strip()[:100])
    technical_key = certificates.decrypt(numbering.technical_key_encrypted).decode()
    range_ = writer.Numbering(
        prefix=numbering.prefix,
        resolution=numbering.resolution,
        range_from=numbering.range_from,
        range_to=numbering.range_to,
        start_date=numbering.valid_from,
        end_date=numbering.valid_to,
        technical_key=technical_key,
    )
    try:
        data = writer.write_invoice(
            doc,
            numbering=range_,
            software=_software(),
            environment=current_app.config["DIAN_ENVIRONMENT"],
        )
    except writer.WriterError as error:
        raise DomainError(str(error)) from None
    return _sign_and_submit(company_id, data, filename=f"{doc.number}.xml", actor=actor)


def _next_note_number(company_id: int, kind: ubl.DocumentType) -> str:
    """Return the next NC/ND number: one after the highest the company ever sent, by any way.

    DIAN authorises numbering ranges for invoices only; a note's number is the issuer's own
    sequence. Notes the company uploaded as XML (from its ERP) count too, so an issued note never
    takes a number already used.
    """
    prefix = "NC" if kind is ubl.DocumentType.CREDIT_NOTE else "ND"
    numbers = db.session.scalars(
        select(Document.number).where(
            Document.sender_company_id == company_id,
            Document.document_type == kind.value,
            Document.number.startswith(prefix),
        )
    )
    used = [int(n[len(prefix) :]) for n in numbers if n[len(prefix) :].isdigit()]
    return f"{prefix}{max(used, default=0) + 1}"


def _stamp(
    doc: ubl.Document,
    supplier: ubl.Party,
    customer: ubl.Party,
    now: dt.datetime,
    *,
    due_date: dt.date | None,
    payment_means: str,
    notes: str,
) -> None:
    """Fill the header: parties, date and time (Colombia), currency, payment and notes."""
    doc.issue_date = now.date()
    doc.issue_time = now.strftime("%H:%M:%S-05:00")
    doc.currency = "COP"
    doc.due_date = due_date
    doc.supplier = supplier
    doc.customer = customer
    doc.payment_means = [
        ubl.PaymentMeans(id="2" if due_date else "1", code=payment_means, due_date=due_date)
    ]
    doc.notes = [notes.strip()[:2000]] if (notes or "").strip() else []


def sent_invoice(company_id: int, document_id: int) -> Document:
    """Return an invoice the company sent (for a note), or raise NotFound."""
    document = queries.get_document(company_id, document_id)
    if document.sender_company_id != company_id or document.document_type != INVOICE:
        raise NotFound(_l("That document does not exist."))
    return document


def invoice_lines(company_id: int, document_id: int) -> list[LineInput]:
    """Return a sent invoice's lines as typed lines, to pre-fill a note."""
    canonical = reading.canonical_document(sent_invoice(company_id, document_id))
    found = []
    for line in canonical.lines if canonical else []:
        percent = line.tax_totals[0].subtotals[0].percent if line.tax_totals else None
        scheme = line.tax_totals[0].scheme_id if line.tax_totals else ""
        tax = next(
            (
                code
                for code, (s, p, _label) in TAXES.items()
                if s == scheme and percent is not None and Decimal(p) == percent
            ),
            "IVA0",
        )
        discount = sum((a.amount for a in line.allowance_charges if not a.charge), Decimal("0"))
        found.append(
            LineInput(line.description or line.name, line.quantity, line.price, tax, discount)
        )
    return found


# ------------------------------------------------------------------ credit notes for an amount


def _with_tax(net: Decimal, tax: str) -> Decimal:
    """Return a line's net amount plus its tax, rounded as the engine rounds it."""
    scheme, percent, _label = TAXES[tax]
    return net + writer.line_tax(scheme, percent, net).tax_amount


def _net_for(total: Decimal, tax: str) -> Decimal | None:
    """Return the net (in cents) whose total with the tax is exactly total, if there is one.

    A net in cents does not reach every total: at 19 % one more cent of net adds a cent of tax
    about one time in five, so the total jumps two cents and skips one.
    """
    guess = (total * 100 / (100 + Decimal(TAXES[tax][1]))).quantize(_CENT, ROUND_HALF_UP)
    for step in (0, -1, 1, -2, 2):
        net = guess + step * _CENT
        if net >= 0 and _with_tax(net, tax) == total:
            return net
    return None


def _net_of(line: LineInput) -> Decimal:
    quantity, price = _decimal(line.quantity) or Decimal("0"), _decimal(line.unit_price)
    gross = (quantity * (price or Decimal("0"))).quantize(_CENT)
    return gross - (_decimal(line.discount or "0") or Decimal("0")).quantize(_CENT)


def _whole_units(line: LineInput, share: Decimal) -> LineInput | None:
    """Return the line's whole units worth exactly share with tax, at the invoice's price."""
    quantity, price = _decimal(line.quantity), _decimal(line.unit_price)
    discount = (_decimal(line.discount or "0") or Decimal("0")).quantize(_CENT)
    if not quantity or quantity <= 0 or price is None or share <= 0:
        return None
    unit = _with_tax(_net_of(line), line.tax) / quantity
    if unit <= 0:
        return None
    guess = (share / unit).to_integral_value(ROUND_HALF_UP)
    for units in (guess, guess - 1, guess + 1):
        if not 1 <= units <= quantity:
            continue
        # Units not delivered take their part of the line's discount.
        part = (discount * units / quantity).quantize(_CENT, ROUND_HALF_UP)
        if _with_tax((units * price).quantize(_CENT) - part, line.tax) == share:
            return LineInput(line.description, units, price, line.tax, part)
    return None


def _shares(amount: Decimal, values: list[Decimal]) -> list[Decimal]:
    """Split amount in cents proportionally to values (largest remainders take the odd cents)."""
    cents = int((amount / _CENT).to_integral_value(ROUND_HALF_UP))
    whole = sum(values, Decimal("0"))
    if whole <= 0:
        values, whole = [Decimal("1")] * len(values), Decimal(len(values))
    exact = [cents * v / whole for v in values]
    floors = [int(e.to_integral_value(ROUND_FLOOR)) for e in exact]
    by_remainder = sorted(range(len(values)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in by_remainder[: cents - sum(floors)]:
        floors[i] += 1
    return [Decimal(c) * _CENT for c in floors]


def agreed_credit_lines(
    company_id: int,
    invoice_id: int,
    *,
    dispute_id: int,
    line_numbers: list[int],
    amount: Decimal | None,
    description: str = "",
) -> tuple[list[LineInput], str]:
    """Return the lines and note that pre-fill the credit note a dispute agreed on.

    The agreed amount is what the buyer's balance goes down by, taxes included: the lines add
    up to it exactly with their taxes (``credit_lines_for_amount``). Named invoice lines
    (line_numbers, from 1) share it in proportion to their value (whole units at the invoice's
    price when that is what it comes to); without named lines, one value line per tax of the
    invoice does. Without an amount, the named lines are credited as invoiced.
    """
    invoiced = invoice_lines(company_id, invoice_id)
    note = str(_l("Credit note agreed in dispute #%(id)s.", id=dispute_id))
    if description:
        note += " " + description
    chosen = [invoiced[n - 1] for n in line_numbers if 0 < n <= len(invoiced)]
    if amount is None:  # a credit of the named lines as invoiced
        return chosen, note
    if not chosen:
        chosen = adjustment_lines(
            invoiced, text=str(_l("Adjustment agreed in dispute #%(id)s", id=dispute_id))
        )
    lines = credit_lines_for_amount(
        chosen, amount, rounding_text=str(_l("Rounding to the agreed amount"))
    )
    return lines, note


def credit_lines_for_amount(
    lines: list[LineInput], amount: Decimal, *, rounding_text: str
) -> list[LineInput]:
    """Return credit-note lines whose total with their taxes is exactly amount.

    The amount is split over the lines in proportion to their value with tax (so each tax rate
    keeps its part). A line's share that is whole units at the invoice's price (units not
    delivered) is credited as those units; any other share as one unit of an adjusted price.
    A share no net in cents reaches gives its odd cent to the next line; the last line, if it
    cannot take it either, is followed by a one-cent line at its tax (no tax on one cent).
    """
    lines = [line for line in lines if line.tax in TAXES]
    amount = Decimal(amount).quantize(_CENT)
    if not lines or amount <= 0:
        return []
    shares = _shares(amount, [_with_tax(_net_of(line), line.tax) for line in lines])
    credited: list[LineInput] = []
    carry = Decimal("0")
    for line, share in zip(lines, shares, strict=True):
        share += carry
        carry = Decimal("0")
        if share <= 0:
            continue
        units = _whole_units(line, share)
        if units is not None:
            credited.append(units)
            continue
        net = _net_for(share, line.tax)
        if net is None:  # unreachable: one cent less here, one more on the next line
            net, carry = _net_for(share - _CENT, line.tax), _CENT
        assert net is not None
        credited.append(LineInput(line.description, Decimal("1"), net, line.tax))
    if carry:
        tax = credited[-1].tax if credited else lines[-1].tax
        tax = tax if _net_for(carry, tax) == carry else "IVA0"
        credited.append(LineInput(rounding_text, Decimal("1"), carry, tax))
    return credited


def adjustment_lines(lines: list[LineInput], *, text: str) -> list[LineInput]:
    """Return one value line per tax of an invoice's lines (an amount not tied to a line)."""
    by_tax: dict[str, Decimal] = {}
    for line in lines:
        if line.tax in TAXES:
            by_tax[line.tax] = by_tax.get(line.tax, Decimal("0")) + _net_of(line)
    return [LineInput(text, Decimal("1"), net, tax) for tax, net in by_tax.items()] or [
        LineInput(text, Decimal("1"), Decimal("0"), "IVA19")
    ]


def open_balance(company_id: int, invoice: Document) -> Decimal:
    """Return what a credit note may still take off an invoice: the invoice's open balance as
    the Inbox keeps it (its total less the credit notes linked to it), plus the debit notes
    that raised what is owed (each kept as a balance of its own)."""
    db.session.refresh(invoice, ["open_balance"])  # read after the caller's lock, if any
    debited = db.session.scalar(
        select(func.coalesce(func.sum(Document.payable), 0)).where(
            Document.related_document_id == invoice.id,
            Document.sender_company_id == company_id,
            Document.document_type == DEBIT_NOTE,
        )
    )
    return max(invoice.open_balance + Decimal(debited), Decimal("0")).quantize(_CENT)


def _over_balance(totals: Totals, invoice: Document) -> DomainError | None:
    balance = totals.open_balance
    payable = totals.totals.payable or Decimal("0")
    if balance is None or payable <= balance:
        return None
    return DomainError(
        _l(
            "This credit note (%(total)s) is larger than what invoice %(number)s still owes: "
            "its open balance is %(balance)s.",
            total=humanize.money(payable, invoice.currency, locale=get_locale()),
            number=invoice.number,
            balance=humanize.money(balance, invoice.currency, locale=get_locale()),
        )
    )


def compute_note(company_id: int, *, document_id: int, kind: str, lines: list[LineInput]) -> Totals:
    """Compute a note's totals for the live view; a credit note's carry the invoice's open
    balance and, above it, the refusal that issuing it would meet."""
    invoice = sent_invoice(company_id, document_id)
    totals = compute(lines)
    if kind == "credit":
        totals.open_balance = open_balance(company_id, invoice)
        totals.refusal = _over_balance(totals, invoice)
    return totals


def _lock_invoice(invoice_id: int) -> None:
    # A no-op UPDATE takes the row lock on PostgreSQL; SQLite serialises writers anyway.
    db.session.execute(
        update(Document)
        .where(Document.id == invoice_id)
        .values(open_balance=Document.open_balance)
        .execution_options(synchronize_session=False)
    )


def _issue_note(
    kind: ubl.DocumentType,
    company_id: int,
    document_id: int,
    *,
    reason: str,
    lines: list[LineInput],
    notes: str,
    actor: User,
) -> Document:
    invoice = sent_invoice(company_id, document_id)
    concepts = (
        writer.CREDIT_NOTE_CONCEPTS
        if kind is ubl.DocumentType.CREDIT_NOTE
        else writer.DEBIT_NOTE_CONCEPTS
    )
    errors: dict[str, list[Any]] = {}
    if reason not in concepts:
        errors["reason"] = [_l("Choose one of DIAN's reasons.")]
    totals = None
    try:
        totals = compute(lines)
    except FieldErrors as error:
        errors.update(error.errors)
    if errors:
        raise FieldErrors(errors)
    assert totals is not None
    if kind is ubl.DocumentType.CREDIT_NOTE:
        # Locked, so two notes issued at once cannot both fit the same balance.
        _lock_invoice(invoice.id)
        totals.open_balance = open_balance(company_id, invoice)
        over = _over_balance(totals, invoice)
        if over is not None:
            raise over
    canonical = reading.canonical_document(invoice)
    if canonical is None:
        raise DomainError(_l("This invoice has no XML to reference."))
    supplier = supplier_party(db.session.get(Company, company_id))
    doc = totals.document
    doc.document_type = kind
    doc.number = _next_note_number(company_id, kind)
    now = _now()
    _stamp(doc, supplier, canonical.customer, now, due_date=None, payment_means="10", notes=notes)
    doc.discrepancies = [
        ubl.Discrepancy(
            reference_id=invoice.number, code=reason, description=concepts.get(reason, "")
        )
    ]
    doc.billing_references = [
        ubl.DocumentReference(
            id=invoice.number,
            uuid=invoice.cufe or "",
            uuid_scheme="CUFE-SHA384",
            issue_date=invoice.issue_date,
        )
    ]
    write = (
        writer.write_credit_note
        if kind is ubl.DocumentType.CREDIT_NOTE
        else writer.write_debit_note
    )
    try:
        data = write(doc, software=_software(), environment=current_app.config["DIAN_ENVIRONMENT"])
    except writer.WriterError as error:
        raise DomainError(str(error)) from None
    return _sign_and_submit(company_id, data, filename=f"{doc.number}.xml", actor=actor)


def issue_credit_note(
    company_id: int,
    *,
    document_id: int,
    reason: str,
    lines: list[LineInput],
    notes: str = "",
    actor: User,
) -> Document:
    """Write, sign and send a credit note against a sent invoice (it lowers its balance)."""
    return _issue_note(
        ubl.DocumentType.CREDIT_NOTE,
        company_id,
        document_id,
        reason=reason,
        lines=lines,
        notes=notes,
        actor=actor,
    )


def issue_debit_note(
    company_id: int,
    *,
    document_id: int,
    reason: str,
    lines: list[LineInput],
    notes: str = "",
    actor: User,
) -> Document:
    """Write, sign and send a debit note against a sent invoice."""
    return _issue_note(
        ubl.DocumentType.DEBIT_NOTE,
        company_id,
        document_id,
        reason=reason,
        lines=lines,
        notes=notes,
        actor=actor,
    )
