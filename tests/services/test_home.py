"""The home's figures: what each counts, for whom, and at what cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models.dispute import ESCALATED, PROPOSED, RESOLVED
from app.services import home
from app.tenancy import acting_as
from tests.conftest import make_company
from tests.services.home_helpers import dispute, doc

# A Wednesday: this week runs to Sunday 2026-12-13.
TODAY = dt.date(2026, 12, 9)


@pytest.fixture
def me():
    return make_company("Yo")


@pytest.fixture
def partner():
    return make_company("Socio")


@pytest.fixture
def stranger():
    return make_company("Extraña")


def figures(company, *, role="owner", today=TODAY):
    with acting_as(company.id):
        return home.home_figures(company.id, role=role, today=today)


def payables(company, **kwargs):
    return figures(company, **kwargs).side(home.PAYABLES)


def receivables(company, **kwargs):
    return figures(company, **kwargs).side(home.RECEIVABLES)


@pytest.mark.parametrize(
    ("role", "sides"),
    [
        ("owner", ("payables", "receivables")),
        ("admin", ("payables", "receivables")),
        ("viewer", ("payables", "receivables")),
        ("payables", ("payables",)),
        ("receivables", ("receivables",)),
        ("sales", ("receivables",)),
        ("nobody", ()),
        (None, ()),
    ],
)
def test_which_sides_does_each_role_see(role, sides):
    """Does each role see the side it works (and a reader both, a stranger role none)?"""
    assert home.sides_for(role) == sides


def test_documents_waiting_for_each_dian_step_are_counted_by_step(me, partner, stranger):
    """Are received documents counted per missing step (030, 032, 033) and nothing else?"""
    for status, n in (("received", 3), ("acknowledged", 2), ("goods_received", 1)):
        for _ in range(n):
            doc(partner, me, status=status)
    doc(partner, me, status="accepted")
    doc(partner, me, status="claimed")
    doc(partner, me, status="tacitly_accepted")
    # Not mine to answer: what I sent, and what others exchanged.
    doc(me, partner, status="received")
    doc(partner, stranger, status="received")
    doc(stranger, partner, status="acknowledged")
    side = payables(me)
    assert side.figure("awaiting_030").count == 3
    assert side.figure("awaiting_032").count == 2
    assert side.figure("awaiting_033").count == 1


def test_sent_documents_not_accepted_and_claimed(me, partner, stranger):
    """Are sent documents not yet accepted, and claimed ones, counted, waiting ones included?"""
    doc(me, partner, status="received")
    doc(me, None, status="received")  # waiting for the customer to join
    doc(me, partner, status="acknowledged")
    doc(me, partner, status="goods_received")
    doc(me, partner, status="accepted")
    doc(me, partner, status="tacitly_accepted")
    doc(me, partner, status="claimed")
    doc(me, partner, status="claimed")
    doc(partner, me, status="received")  # received, not sent
    doc(stranger, partner, status="claimed")
    side = receivables(me)
    assert side.figure("not_accepted").count == 4
    assert side.figure("claimed").count == 2


def test_overdue_counts_only_open_invoices_past_their_due_date(me, partner, stranger):
    """Are paid, fully credited, not yet due, undated and note documents left out of overdue?"""
    past = TODAY - dt.timedelta(days=1)
    doc(partner, me, due=past, amount="100.00")
    doc(partner, me, due=TODAY - dt.timedelta(days=400), amount="50.50")
    doc(
        partner, me, due=past, amount="80.00", open_balance="30.00", payment_status="partially_paid"
    )
    doc(partner, me, due=past, payment_status="paid", open_balance="0.00")
    doc(partner, me, due=past, payment_status="paid")  # paid, whatever the balance says
    doc(partner, me, due=past, open_balance="0.00")  # fully credited
    doc(partner, me, due=TODAY)  # due today: not late yet
    doc(partner, me, due=None)
    doc(partner, me, due=past, document_type="DebitNote")
    doc(partner, me, due=past, document_type="CreditNote")
    doc(partner, stranger, due=past)
    doc(stranger, partner, due=past)
    overdue = payables(me).figure("overdue")
    assert overdue.count == 3
    assert overdue.amounts == {"COP": Decimal("180.50")}
    assert receivables(me).figure("overdue").count == 0
    assert receivables(partner).figure("overdue").count == 4  # its invoices to me and stranger


def test_overdue_is_judged_on_the_day_given(me, partner):
    """Does an invoice due yesterday become overdue at midnight UTC, not before?"""
    doc(partner, me, due=TODAY)
    assert payables(me, today=TODAY).figure("overdue").count == 0
    assert payables(me, today=TODAY + dt.timedelta(days=1)).figure("overdue").count == 1


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (dt.date(2026, 12, 7), dt.date(2026, 12, 7), dt.date(2026, 12, 13)),  # Monday
        (dt.date(2026, 12, 9), dt.date(2026, 12, 9), dt.date(2026, 12, 13)),  # Wednesday
        (dt.date(2026, 12, 13), dt.date(2026, 12, 13), dt.date(2026, 12, 13)),  # Sunday
        (dt.date(2026, 12, 28), dt.date(2026, 12, 28), dt.date(2027, 1, 3)),  # across the year
    ],
)
def test_this_week_runs_from_today_to_sunday(me, partner, today, first, last):
    """Is "due this week" today to Sunday, the day before and the Monday after left out?"""
    doc(partner, me, due=first, amount="1.00")
    doc(partner, me, due=last, amount="2.00")
    doc(partner, me, due=first - dt.timedelta(days=1), amount="4.00")  # overdue instead
    doc(partner, me, due=last + dt.timedelta(days=1), amount="8.00")  # next week
    data = figures(me, today=today)
    assert data.weeks[0] == home.Week(first, last)
    due = data.side(home.PAYABLES).figure("due_week")
    assert due.count == 2
    assert due.amounts == {"COP": Decimal("3.00")}
    assert due.params == {
        "type": "Invoice",
        "due_from": first.isoformat(),
        "due_to": last.isoformat(),
    }
    assert data.side(home.PAYABLES).due_by_week[1] == {"COP": Decimal("8.00")}


def test_eight_weeks_monday_to_sunday_and_nothing_beyond(me, partner):
    """Are amounts put in the week of their due date, eight weeks and no further?"""
    data = figures(me)
    assert len(data.weeks) == home.WEEKS == 8
    for before, after in zip(data.weeks, data.weeks[1:], strict=False):
        assert after.start == before.end + dt.timedelta(days=1)
        assert after.start.weekday() == 0 and after.end.weekday() == 6
    for index, week in enumerate(data.weeks):
        doc(me, partner, due=week.end, amount=f"{index + 1}.00")
    doc(me, partner, due=data.weeks[-1].end + dt.timedelta(days=1), amount="999.00")
    doc(me, partner, due=data.weeks[3].start, payment_status="paid", amount="500.00")
    side = receivables(me)
    assert [week.get("COP") for week in side.due_by_week] == [
        Decimal(f"{i}.00") for i in range(1, 9)
    ]


def test_amounts_are_never_added_across_currencies(me, partner):
    """Are COP and USD kept apart in each figure and week, most used currency first?"""
    past = TODAY - dt.timedelta(days=3)
    doc(partner, me, due=past, amount="1000.00", currency="COP")
    doc(partner, me, due=past, amount="10.25", currency="USD")
    doc(partner, me, due=past, amount="0.75", currency="USD")
    doc(partner, me, due=TODAY, amount="5.00", currency="EUR")
    doc(partner, me, due=TODAY + dt.timedelta(days=8), amount="7.00", currency="USD")
    data = figures(me)
    side = data.side(home.PAYABLES)
    assert side.figure("overdue").count == 3
    assert side.figure("overdue").amounts == {"COP": Decimal("1000.00"), "USD": Decimal("11.00")}
    assert side.figure("due_week").amounts == {"EUR": Decimal("5.00")}
    assert side.due_by_week[0] == {"EUR": Decimal("5.00")}
    assert side.due_by_week[1] == {"USD": Decimal("7.00")}
    assert data.currencies[0] == "USD" and set(data.currencies) == {"COP", "USD", "EUR"}
    assert all(isinstance(v, Decimal) for v in side.figure("overdue").amounts.values())


def test_a_company_with_nothing_draws_its_chart_in_pesos(me):
    """Does an empty company get zeros, no error, and COP as the chart's currency?"""
    data = figures(me)
    assert data.currencies == ["COP"]
    assert all(f.count == 0 for side in data.sides for f in side.figures)
    assert all(week == {} for side in data.sides for week in side.due_by_week)


def test_disputes_waiting_for_my_answer_by_side(me, partner, stranger):
    """Are active disputes waiting for me counted as buyer and as supplier, and no others?"""
    bought = doc(partner, me)
    sold = doc(me, partner)
    dispute(bought, waiting=me)
    dispute(doc(partner, me), waiting=me, status=PROPOSED)
    dispute(doc(partner, me), waiting=partner)  # my turn is over
    dispute(doc(partner, me), waiting=me, status=RESOLVED)
    dispute(sold, waiting=me, status=ESCALATED)
    dispute(doc(partner, stranger), waiting=stranger)
    data = figures(me)
    assert data.side(home.PAYABLES).figure("disputes").count == 2
    assert data.side(home.RECEIVABLES).figure("disputes").count == 1
    assert figures(partner).side(home.PAYABLES).figure("disputes").count == 0
    assert figures(partner).side(home.RECEIVABLES).figure("disputes").count == 1


def test_recently_received_lists_the_last_five_received(me, partner, stranger):
    """Are the five newest received documents listed, newest first, never sent or others'?"""
    for day in range(1, 8):
        doc(partner, me, issue_date=dt.date(2026, 11, day), number=f"R{day}")
    doc(me, partner, issue_date=dt.date(2026, 12, 1), number="SENT")
    doc(partner, stranger, issue_date=dt.date(2026, 12, 1), number="OTHER")
    recent = payables(me).recent
    assert [row.number for row in recent] == ["R7", "R6", "R5", "R4", "R3"]


def test_a_role_reads_only_its_sides(me, partner):
    """Does a payables clerk's home read no receivables, and a viewer's read both?"""
    doc(me, partner, status="claimed")
    assert [s.name for s in figures(me, role="payables").sides] == ["payables"]
    assert [s.name for s in figures(me, role="receivables").sides] == ["receivables"]
    assert [s.name for s in figures(me, role="viewer").sides] == ["payables", "receivables"]
    assert figures(me, role="nobody").sides == []


def test_the_figures_cost_a_fixed_few_statements(me, partner):
    """Does the home read its figures in the same few statements with 3 or 60 documents?"""

    def statements():
        seen = []

        def count(*_args):
            seen.append(1)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            figures(me)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    for i in range(3):
        doc(partner, me, due=TODAY + dt.timedelta(days=i), status="received")
    few = statements()
    for i in range(57):
        doc(partner, me, due=TODAY + dt.timedelta(days=i % 70 - 10), status="acknowledged")
        doc(me, partner, due=TODAY + dt.timedelta(days=i % 70 - 10), currency="USD")
    assert statements() == few <= 9
