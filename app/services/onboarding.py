"""What a new company still has to set up, in one place: the home's checklist and the issuing
pages' "what still blocks issuing" both read ``checklist``.

Five steps: the fiscal profile, the signing certificate and the numbering range (what issuing
needs: ``Step.blocks`` names what each one blocks — an invoice needs all three; a credit or
debit note the first two, DIAN authorising numbering ranges for invoices only), a first
partner (a connection or an invitation, pending or active) and a first colleague (another
active member, or an invitation not yet answered).
Each step names the endpoint (and anchor) of the page where it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Company, Membership, Partnership, TeamInvitation, utcnow
from app.models.network import DECLINED
from app.services import certificates, fiscal, issuing

INVOICE, NOTE = "invoice", "note"


@dataclass(frozen=True)
class Step:
    """One step of the checklist: done or not, and where it is done."""

    key: str
    label: LazyString
    done: bool
    endpoint: str
    anchor: str = ""
    blocks: tuple[str, ...] = ()
    """What the company cannot issue while the step is not done (INVOICE, NOTE)."""
    details: tuple[Any, ...] = ()
    """What is still missing, in words (the fiscal profile's empty fields)."""


@dataclass(frozen=True)
class Checklist:
    """The company's setup steps, in the order they are best done."""

    steps: tuple[Step, ...]

    @property
    def done(self) -> int:
        """Return how many steps are done."""
        return sum(1 for step in self.steps if step.done)

    @property
    def total(self) -> int:
        """Return how many steps there are."""
        return len(self.steps)

    @property
    def complete(self) -> bool:
        """True when every step is done."""
        return self.done == self.total

    def blocking(self, kind: str) -> tuple[Step, ...]:
        """Return the steps not done that issuing kind (INVOICE or NOTE) needs (empty when the
        company can issue it)."""
        return tuple(s for s in self.steps if kind in s.blocks and not s.done)


def checklist(company_id: int) -> Checklist:
    """Return the company's setup checklist (five small look-ups, each by an indexed column)."""
    company = db.session.get(Company, company_id)
    missing = fiscal.missing_fiscal_data(company) if company is not None else [_l("everything")]
    steps = (
        Step(
            "fiscal",
            _l("Fill in the fiscal profile"),
            not missing,
            "company.edit",
            anchor="fiscal-data",
            blocks=(INVOICE, NOTE),
            details=tuple(missing),
        ),
        Step(
            "certificate",
            _l("Upload the signing certificate"),
            certificates.active_certificate(company_id) is not None,
            "company.certificate",
            blocks=(INVOICE, NOTE),
        ),
        Step(
            "numbering",
            _l("Configure the numbering range"),
            issuing.active_range(company_id) is not None,
            "issuing.numbering",
            blocks=(INVOICE,),
        ),
        Step(
            "partner", _l("Connect with a first partner"), _has_partner(company_id), "network.index"
        ),
        Step("colleague", _l("Invite a first colleague"), _has_colleague(company_id), "team.index"),
    )
    return Checklist(steps)


def _has_partner(company_id: int) -> bool:
    found = db.session.scalar(
        select(Partnership.id)
        .where(
            or_(
                Partnership.supplier_id == company_id,
                Partnership.customer_id == company_id,
                Partnership.requested_by_id == company_id,
            ),
            Partnership.status != DECLINED,
        )
        .limit(1)
    )
    return found is not None


def _has_colleague(company_id: int) -> bool:
    members = db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.company_id == company_id, Membership.active.is_(True))
    )
    if (members or 0) > 1:
        return True
    invited = db.session.scalar(
        select(TeamInvitation.id)
        .where(
            TeamInvitation.company_id == company_id,
            TeamInvitation.accepted_at.is_(None),
            TeamInvitation.revoked_at.is_(None),
            TeamInvitation.expires_at > utcnow(),
        )
        .limit(1)
    )
    return invited is not None
