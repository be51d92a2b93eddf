"""Orders: the buyer's cart and orders, the supplier's tray of orders received, one order's page
(answer, confirm, cancel, deliveries, its UBL documents), and the buyer's match tolerances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from app import humanize
from app.blueprints.auth.forms import EmptyForm
from app.blueprints.orders import bp
from app.blueprints.orders.forms import CartFileForm, PlaceOrderForm, ToleranceForm
from app.extensions import db
from app.models.order import DESPATCH, LINE_STATUSES, ORDER_STATUSES, RECEIPT
from app.numbers import parse_number
from app.services.catalogs import search
from app.services.errors import DomainError, FieldErrors, NotFound
from app.services.orders import cart, matching, placing, queries, responding
from app.spreadsheets import MEDIA_TYPES, table_bytes
from app.web.auth import can, company, require_permission, user
from app.web.confirm import ask_first
from app.web.formatting import decimal_comma, input_decimal_mark
from app.web.htmx import form_errors, render

PLACE, SELL = "orders.place", "catalog.manage"


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _flash_error(error: DomainError) -> None:
    for messages in getattr(error, "errors", {None: [error.message]}).values():
        for message in messages:
            flash(str(message), "error")


# ------------------------------------------------------------------------------------ cart


@bp.post("/cart/add")
@require_permission(PLACE)
def add_to_cart() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    back = _safe_back(request.form.get("back")) or url_for("orders.view_cart")
    try:
        quantity = parse_number(request.form.get("quantity", "1"),
                                decimal_mark=input_decimal_mark()) or 0
        item_id = int(request.form.get("item", ""))
    except ValueError:
        flash(_("Give a quantity, like 10."), "error")
        return redirect(back, code=303)
    try:
        line = cart.add(company().id, item_id, quantity)
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(back, code=303)
    db.session.commit()
    flash(_("In your cart: %(quantity)s.",
            quantity=humanize.number(line.quantity, locale=get_locale())), "success")
    return redirect(back, code=303)


def _safe_back(url: str | None) -> str | None:
    """Only a path of this site (never another site's address)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return None


@bp.get("/cart")
@require_permission(PLACE)
def view_cart() -> ResponseReturnValue:
    return _cart_page()


def _cart_page(*, place_form: PlaceOrderForm | None = None, supplier_id: int | None = None,
               file_rows: list | None = None, status: int = 200) -> ResponseReturnValue:
    return render("orders/cart.html", carts=cart.carts(company().id, today=_today()),
                  place_form=place_form, failed_supplier=supplier_id, file_rows=file_rows,
                  file_form=CartFileForm(), button_form=EmptyForm(), today=_today(),
                  status=status)


@bp.post("/cart/update")
@require_permission(PLACE)
def update_cart() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        item_id = int(request.form.get("item", ""))
        quantity = parse_number(request.form.get("quantity", ""),
                                decimal_mark=input_decimal_mark())
    except ValueError:
        flash(_("Give a quantity, like 10."), "error")
        return redirect(url_for("orders.view_cart"), code=303)
    try:
        if not quantity:
            cart.remove(company().id, item_id)
        else:
            cart.add(company().id, item_id, quantity, replace=True)
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("orders.view_cart"), code=303)
    db.session.commit()
    return redirect(url_for("orders.view_cart"), code=303)


@bp.post("/cart/remove")
@require_permission(PLACE)
def remove_from_cart() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    cart.remove(company().id, request.form.get("item", type=int) or -1)
    db.session.commit()
    flash(_("The item left your cart."), "info")
    return redirect(url_for("orders.view_cart"), code=303)


@bp.post("/cart/place")
@require_permission(PLACE)
def place() -> ResponseReturnValue:
    form = PlaceOrderForm()
    supplier_id = int(form.supplier.data) if (form.supplier.data or "").isdigit() else None
    if supplier_id is None:
        abort(400)
    if form.validate_on_submit():
        details = placing.OrderInput(
            delivery_date=form.delivery_date.data,
            delivery_address=form.delivery_address.data or "",
            buyer_reference=form.buyer_reference.data or "",
            note=form.note.data or "",
        )
        try:
            order = placing.place_from_cart(company().id, supplier_id, details, actor=user(),
                                            today=_today())
        except NotFound:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("Order %(number)s was sent to %(supplier)s.", number=order.number,
                    supplier=queries.view(order.id).supplier.display_name), "success")
            return redirect(url_for("orders.show", order_id=order.id), code=303)
    return _cart_page(place_form=form, supplier_id=supplier_id, status=422)


@bp.post("/cart/file")
@require_permission(PLACE)
def cart_file() -> ResponseReturnValue:
    form = CartFileForm()
    supplier_id = int(form.supplier.data) if (form.supplier.data or "").isdigit() else None
    if supplier_id is None or not form.validate_on_submit():
        flash(_("Choose a supplier and a file."), "error")
        return redirect(url_for("orders.view_cart"), code=303)
    try:
        rows = placing.cart_from_file(company().id, supplier_id, form.file.data.read(),
                                      decimal_comma=decimal_comma())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("orders.view_cart"), code=303)
    db.session.commit()
    return _cart_page(file_rows=rows)


# ----------------------------------------------------------------------------------- lists


def _filters() -> queries.Filters:
    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    status = request.args.get("status", "")
    return queries.Filters(
        status=status if status in ORDER_STATUSES else "",
        partner=request.args.get("partner", type=int),
        query=request.args.get("q", "")[:60],
        since=day("since"), until=day("until"),
    )


def _list(side: str, template: str) -> ResponseReturnValue:
    filters = _filters()
    stmt = queries.orders(company().id, side=side, filters=filters)
    fmt = request.args.get("format")
    if fmt:
        if fmt not in MEDIA_TYPES:
            abort(404)
        rows = (
            (order.number, other.display_name, order.issue_date, order.delivery_date,
             _status_name(order.status), order.currency, order.payable, order.buyer_reference)
            for order, other in db.session.execute(stmt.limit(100_000))
        )
        header = (_("Number"), _("Customer") if side == "supplier" else _("Supplier"),
                  _("Date"), _("Deliver on"), _("Status"), _("Currency"), _("Total"),
                  _("Reference"))
        return Response(table_bytes(fmt, rows, header=header, title=_("Orders")),
                        mimetype=MEDIA_TYPES[fmt], headers={
                            "Content-Disposition": f'attachment; filename="orders.{fmt}"'})
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = db.session.execute(
        stmt.offset((page - 1) * queries.PAGE).limit(queries.PAGE + 1)).all()
    return render(template, "orders/_list.html", side=side, rows=rows[: queries.PAGE],
                  more=len(rows) > queries.PAGE, page_number=page, filters=filters,
                  partners=queries.partners(company().id, side=side),
                  statuses=ORDER_STATUSES, button_form=EmptyForm())


def _status_name(status: str) -> str:
    return str(queries.STATUS_NAMES.get(status, status))


@bp.get("/")
@require_permission(PLACE)
def index() -> ResponseReturnValue:
    return _list("buyer", "orders/index.html")


@bp.get("/received")
@require_permission(SELL)
def received() -> ResponseReturnValue:
    return _list("supplier", "orders/received.html")


@bp.post("/received/accept")
@require_permission(SELL)
def accept_selected() -> ResponseReturnValue:
    """Accept several orders as they were ordered."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = sorted({int(v) for v in request.form.getlist("order") if v.isdigit()})
    accepted, refused = responding.accept_as_ordered(company().id, ids, actor=user(),
                                                     today=_today())
    db.session.commit()
    flash(_("%(count)d orders accepted.", count=accepted), "success" if accepted else "info")
    for message in sorted({str(m) for m in refused}):
        flash(message, "error")
    return redirect(url_for("orders.received"), code=303)


# ------------------------------------------------------------------------------- one order


@bp.get("/<int:order_id>")
@require_permission("company.view")
def show(order_id: int) -> ResponseReturnValue:
    return _order_page(_order_or_404(order_id))


def _order_page(found: queries.OrderView, *, cancel_reason: str = "",
                cancel_error: object = None, status: int = 200) -> ResponseReturnValue:
    side = "supplier" if found.order.supplier_company_id == company().id else "buyer"
    return render("orders/show.html", "orders/_order.html", view=found, side=side,
                  line_statuses=LINE_STATUSES, status_name=_status_name,
                  can_sell=can(SELL), can_buy=can(PLACE), button_form=EmptyForm(),
                  today=_today(), cancel_reason=cancel_reason, cancel_error=cancel_error,
                  status=status)


def _order_or_404(order_id: int) -> queries.OrderView:
    found = queries.view(order_id)
    if found is None:
        abort(404)
    return found


@bp.post("/<int:order_id>/respond")
@require_permission(SELL)
def respond(order_id: int) -> ResponseReturnValue:
    found = _order_or_404(order_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    answers = {}
    for line in found.lines:
        prefix = f"line-{line.position}-"

        def day(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(request.form.get(name, ""))
            except ValueError:
                return None

        answers[line.position] = responding.Answer(
            status=request.form.get(prefix + "status", "accepted"),
            quantity=request.form.get(prefix + "quantity", ""),
            price=request.form.get(prefix + "price", ""),
            delivery_date=day(prefix + "date"),
            substitute_code=request.form.get(prefix + "substitute", "")[:100],
        )
    try:
        order = responding.respond(company().id, found.order.id, answers,
                                   note=request.form.get("note", "")[:2000], actor=user(),
                                   today=_today(), decimal_mark=input_decimal_mark())
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        _flash_error(error)
        return redirect(url_for("orders.show", order_id=order_id), code=303)
    db.session.commit()
    flash(_("Your answer was sent: the order is %(status)s.",
            status=_status_name(order.status).lower()), "success")
    return redirect(url_for("orders.show", order_id=order_id), code=303)


@bp.post("/<int:order_id>/confirm")
@require_permission(PLACE)
def confirm(order_id: int) -> ResponseReturnValue:
    _order_or_404(order_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        responding.confirm(company().id, order_id, actor=user())
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("You confirmed the supplier's changes: the order is agreed."), "success")
    return redirect(url_for("orders.show", order_id=order_id), code=303)


@bp.post("/<int:order_id>/cancel")
@require_permission(PLACE)
def cancel(order_id: int) -> ResponseReturnValue:
    found = _order_or_404(order_id)
    reason = request.form.get("reason", "")
    question = ask_first(
        _("Order %(number)s is cancelled and %(supplier)s is told.",
          number=found.order.number, supplier=found.supplier.display_name),
        title=_("Cancel order %(number)s?", number=found.order.number),
        button=_("Cancel the order"),
        back=url_for("orders.show", order_id=order_id),
        details=[_("Your reason: %(reason)s", reason=reason.strip())] if reason.strip() else [],
    )
    if question is not None:
        return question
    try:
        responding.cancel(company().id, order_id, reason=reason, actor=user())
    except NotFound:
        abort(404)
    except FieldErrors as error:  # the reason: the form again, with the text typed and why
        db.session.rollback()
        return _order_page(_order_or_404(order_id), cancel_reason=reason,
                           cancel_error=error.message, status=422)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The order was cancelled."), "info")
    return redirect(url_for("orders.show", order_id=order_id), code=303)


@bp.post("/<int:order_id>/deliveries")
@require_permission("company.view")
def record_delivery(order_id: int) -> ResponseReturnValue:
    found = _order_or_404(order_id)
    kind = request.form.get("kind")
    if kind not in (DESPATCH, RECEIPT):
        abort(400)
    if not can(SELL if kind == DESPATCH else PLACE):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        day = dt.date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        day = _today()
    quantities = {line.position: request.form.get(f"qty-{line.position}", "")
                  for line in found.lines}
    try:
        delivery = responding.record_delivery(
            company().id, order_id, quantities, kind=kind, day=day, today=_today(),
            note=request.form.get("note", ""), actor=user(),
            decimal_mark=input_decimal_mark())
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        _flash_error(error)
    else:
        db.session.commit()
        flash(_("Delivery %(number)s was recorded.", number=delivery.number), "success")
    return redirect(url_for("orders.show", order_id=order_id) + "#deliveries", code=303)


@bp.post("/<int:order_id>/reorder")
@require_permission(PLACE)
def reorder(order_id: int) -> ResponseReturnValue:
    _order_or_404(order_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        added, left = placing.reorder(company().id, order_id, today=_today())
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("%(count)d items went back in your cart.", count=added),
          "success" if added else "info")
    for message in left:
        flash(message, "error")
    return redirect(url_for("orders.view_cart"), code=303)


@bp.get("/<int:order_id>/document")
@require_permission("company.view")
def document(order_id: int) -> ResponseReturnValue:
    name, data = queries.document_of(order_id, request.args.get("kind", "order"),
                                     request.args.get("delivery", type=int))
    if not data:
        abort(404)
    return Response(data, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------------------- tolerances


@bp.route("/tolerances", methods=["GET", "POST"])
@require_permission(PLACE)
def tolerances() -> ResponseReturnValue:
    form = ToleranceForm()
    if form.validate_on_submit():
        supplier = int(form.supplier.data) if (form.supplier.data or "").isdigit() else None
        try:
            matching.set_tolerance(company().id, supplier,
                                   quantity_percent=form.quantity_percent.data or "0",
                                   price_percent=form.price_percent.data or "0",
                                   price_amount=form.price_amount.data or "0", actor=user(),
                                   decimal_mark=input_decimal_mark())
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("The tolerances are saved."), "success")
            return redirect(url_for("orders.tolerances"), code=303)
    return render("orders/tolerances.html", form=form,
                  rows=matching.tolerances(company().id),
                  suppliers=queries.partners(company().id, side="buyer"),
                  status=422 if form.is_submitted() else 200)


# ------------------------------------------------------------------------- the catalogs


@bp.get("/shop")
@require_permission(PLACE)
def shop() -> ResponseReturnValue:
    """Search the catalogs the buyer may order from; compare one item across suppliers."""
    wrong: list[str] = []  # a price filter that is not a price is left out, and said

    def amount(name: str):
        try:
            value = parse_number(request.args.get(name, "")[:30],
                                 decimal_mark=input_decimal_mark())
        except ValueError:
            value = Decimal(-1)
        if value is not None and value < 0:
            wrong.append(name)
            return None
        return value

    query = request.args.get("q", "")[:200]
    supplier = request.args.get("supplier", type=int)
    category = request.args.get("category", "")[:100]
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 400))
    found = search.search_items(
        company().id, query, supplier_id=supplier, category=category,
        price_min=amount("min"), price_max=amount("max"), limit=24, offset=(page - 1) * 24,
    )
    compared_id = request.args.get("compare", type=int)
    compared = search.compare(company().id, compared_id) if compared_id else []
    return render("orders/shop.html", "orders/_shop_results.html", found=found, q=query,
                  supplier=supplier, category=category, min=request.args.get("min", ""),
                  max=request.args.get("max", ""), wrong_prices=wrong, page_number=page,
                  compared=compared,
                  suppliers=queries.suppliers_to_order_from(company().id),
                  in_cart=cart.count(company().id), button_form=EmptyForm())
