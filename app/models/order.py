"""Orders a buyer places with a supplier, the supplier's answer, deliveries, and the buyer's cart
and three-way match tolerances.

An order and its lines are shared by its two companies (``SharedAccess``: buyer or supplier).
Its life: ``sent`` → the supplier answers ``accepted``, ``rejected`` or ``changed`` (accepted
with changes) → the buyer ``confirmed`` the changes or ``cancelled``. An order ``accepted`` or
``confirmed`` is agreed: it can be delivered and invoiced. The UBL documents written on the way
(Order, OrderResponse, DespatchAdvice) are kept as sent.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, SharedAccess, TenantScoped, utcnow

SENT, ACCEPTED, REJECTED, CHANGED, CONFIRMED, CANCELLED = (
    "sent", "accepted", "rejected", "changed", "confirmed", "cancelled",
)
ORDER_STATUSES = (SENT, ACCEPTED, REJECTED, CHANGED, CONFIRMED, CANCELLED)
AGREED = (ACCEPTED, CONFIRMED)

# A line's answer.
LINE_ACCEPTED, LINE_REJECTED, LINE_CHANGED = "accepted", "rejected", "changed"
LINE_STATUSES = (LINE_ACCEPTED, LINE_REJECTED, LINE_CHANGED)

# Deliveries: the supplier's despatch advice, or what the buyer received.
DESPATCH, RECEIPT = "despatch", "receipt"

QUANTITY = Numeric(20, 6)
MONEY = Numeric(20, 2)


class _Shared(SharedAccess):
    """Rows of an order: its buyer and its supplier read them."""

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        buyer, supplier = cls.buyer_company_id, cls.supplier_company_id  # type: ignore[attr-defined]
        return or_(buyer == company_id, supplier == company_id)


class Order(_Shared, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("buyer_company_id", "number"),
        Index("ix_orders_supplier_created", "supplier_company_id", "created_at", "id"),
        Index("ix_orders_buyer_created", "buyer_company_id", "created_at", "id"),
        Index("ix_orders_supplier_number", "supplier_company_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    supplier_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default=SENT)
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date]
    delivery_date: Mapped[date | None]
    delivery_address: Mapped[str] = mapped_column(Text, default="")
    buyer_reference: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    line_extension: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    tax_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    payable: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    # As sent: the buyer's UBL Order, the supplier's last OrderResponse.
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    response_xml: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    response_note: Mapped[str] = mapped_column(Text, default="")
    # The buyer's reason, when it cancelled (the supplier reads it with the order).
    cancel_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Where the order came from: the portal's cart, a file, the API (an ERP).
    origin: Mapped[str] = mapped_column(String(10), default="portal")
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # confirmed, cancelled or rejected

    @property
    def agreed(self) -> bool:
        return self.status in AGREED


class OrderLine(_Shared, Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    buyer_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    supplier_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="SET NULL")
    )
    # The item as ordered (a copy: the catalog may change or lose it).
    seller_item_id: Mapped[str] = mapped_column(String(100))
    standard_item_id: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(300))
    unit_code: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    price: Mapped[Decimal] = mapped_column(QUANTITY)
    tax_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    line_extension: Mapped[Decimal] = mapped_column(MONEY)
    # The supplier's answer (None until it answers).
    line_status: Mapped[str | None] = mapped_column(String(10))
    agreed_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    agreed_price: Mapped[Decimal | None] = mapped_column(QUANTITY)
    agreed_delivery_date: Mapped[date | None]
    substitute_seller_item_id: Mapped[str] = mapped_column(String(100), default="")
    substitute_name: Mapped[str] = mapped_column(String(300), default="")
    # Running totals of deliveries (what was invoiced is read from the invoices' lines).
    despatched_quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(0))
    received_quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(0))

    @property
    def final_quantity(self) -> Decimal:
        """What was agreed: the changed quantity, nothing when rejected, else as ordered."""
        if self.line_status == LINE_REJECTED:
            return Decimal(0)
        if self.line_status == LINE_CHANGED and self.agreed_quantity is not None:
            return self.agreed_quantity
        return self.quantity

    @property
    def final_price(self) -> Decimal:
        if self.line_status == LINE_CHANGED and self.agreed_price is not None:
            return self.agreed_price
        return self.price


class OrderDelivery(_Shared, Base):
    """A delivery of an order: the supplier's despatch advice or the buyer's receipt."""

    __tablename__ = "order_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    buyer_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    supplier_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(40))
    day: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    xml: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderDeliveryLine(_Shared, Base):
    __tablename__ = "order_delivery_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("order_deliveries.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    buyer_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    supplier_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)


class CartLine(TenantScoped, Base):
    """An item in a buyer's cart (one cart per supplier: the lines of that supplier)."""

    __tablename__ = "cart_lines"
    __table_args__ = (UniqueConstraint("company_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchTolerance(TenantScoped, Base):
    """How far a buyer lets an invoice stray from its order before calling it an exception:
    per supplier, or for every supplier (``supplier_company_id`` None). 0 means none."""

    __tablename__ = "match_tolerances"
    __table_args__ = (UniqueConstraint("company_id", "supplier_company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    quantity_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    price_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    price_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
