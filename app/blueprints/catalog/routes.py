"""The supplier's catalog: items, their pictures and customer prices, the suggestions of its own
invoices, and spreadsheets in and out."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.blueprints.auth.forms import EmptyForm
from app.blueprints.catalog import bp
from app.blueprints.catalog.forms import CustomerPriceForm, ImageForm, ImportForm, ItemForm
from app.extensions import db
from app.models.catalog import CatalogItem
from app.services.catalogs import documents, items, suggestions, transfer
from app.services.errors import DomainError, NotFound
from app.spreadsheets import MEDIA_TYPES
from app.tenancy import get_or_404
from app.web.auth import company, require_permission, user
from app.web.confirm import ask_first
from app.web.formatting import decimal_comma, input_decimal_mark, input_number
from app.web.htmx import form_errors, render

MANAGE = "catalog.manage"


def _own(item_id: int) -> CatalogItem:
    try:
        return items.own_item(company().id, item_id)
    except NotFound:
        abort(404)


@bp.get("/")
@require_permission(MANAGE)
def index() -> ResponseReturnValue:
    acting = company()
    query = request.args.get("q", "")[:100]
    category = request.args.get("category", "")[:100]
    shown = request.args.get("shown", "")
    published = {"published": True, "hidden": False}.get(shown)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    stmt = items.own_items(acting.id, query=query, category=category, published=published)
    rows = db.session.scalars(stmt.offset((page - 1) * items.PAGE).limit(items.PAGE + 1)).all()
    return render(
        "catalog/index.html", "catalog/_items.html",
        items=rows[: items.PAGE], more=len(rows) > items.PAGE, page_number=page, q=query,
        category=category, shown=shown, categories=items.categories_of(acting.id),
        import_form=ImportForm(), button_form=EmptyForm(),
    )


@bp.route("/items/new", methods=["GET", "POST"])
@require_permission(MANAGE)
def new_item() -> ResponseReturnValue:
    return _item_form(None)


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
@require_permission(MANAGE)
def item(item_id: int) -> ResponseReturnValue:
    return _item_form(_own(item_id))


def _item_form(found: CatalogItem | None) -> ResponseReturnValue:
    acting = company()
    customers = items.customers_of(acting.id)
    form = ItemForm(obj=found) if found is not None else ItemForm()
    form.customers.choices = customers
    if found is not None and request.method == "GET":
        form.customers.data = items.audience_of(found)
        form.price.data = input_number(found.price)
        form.tax_percent.data = input_number(found.tax_percent)
        form.min_quantity.data = input_number(found.min_quantity)
        form.pack_size.data = input_number(found.pack_size)
        form.lead_time_days.data = "" if found.lead_time_days is None else str(found.lead_time_days)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in items.FIELDS}
        values["customers"] = form.customers.data or []
        values["published"] = form.published.data
        try:
            checked = items.check_item(values, company_id=acting.id,
                                       decimal_mark=input_decimal_mark())
            saved = items.save_item(acting.id, checked, actor=user(),
                                    item_id=found.id if found else None)
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is saved.", name=saved.name), "success")
            return redirect(url_for("catalog.item", item_id=saved.id), code=303)
    prices = items.prices_of(acting.id, found.id) if found is not None else []
    price_form = CustomerPriceForm()
    price_form.customer.choices = customers
    return render(
        "catalog/item.html", item=found, form=form, prices=prices, price_form=price_form,
        image_form=ImageForm(), button_form=EmptyForm(),
        status=422 if form.is_submitted() else 200,
    )


@bp.post("/items/<int:item_id>/delete")
@require_permission(MANAGE)
def delete_item(item_id: int) -> ResponseReturnValue:
    found = _own(item_id)
    question = ask_first(
        _("%(name)s leaves your catalog; buyers no longer see it.", name=found.name),
        title=_("Delete %(name)s?", name=found.name),
        button=_("Delete the item"),
        back=url_for("catalog.item", item_id=found.id),
        details=[_("Orders and invoices that name it keep their copy of it.")],
    )
    if question is not None:
        return question
    items.delete_item(company().id, found.id, actor=user())
    db.session.commit()
    flash(_("The item was deleted."), "info")
    return redirect(url_for("catalog.index"), code=303)


@bp.post("/items/publish")
@require_permission(MANAGE)
def publish_items() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("item") if v.isdigit()]
    publish = request.form.get("action") != "withdraw"
    count = items.set_published(company().id, ids, published=publish, actor=user())
    db.session.commit()
    flash((_("%(count)d items published.", count=count) if publish
           else _("%(count)d items withdrawn.", count=count)), "success" if count else "info")
    return redirect(url_for("catalog.index"), code=303)


@bp.post("/items/<int:item_id>/image")
@require_permission(MANAGE)
def upload_image(item_id: int) -> ResponseReturnValue:
    found = _own(item_id)
    form = ImageForm()
    if form.validate_on_submit():
        try:
            items.set_image(company().id, found.id, form.image.data.read(), actor=user())
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("The picture is saved."), "success")
    else:
        flash(_("Choose a picture to send."), "error")
    return redirect(url_for("catalog.item", item_id=found.id), code=303)


@bp.post("/items/<int:item_id>/image/delete")
@require_permission(MANAGE)
def delete_image(item_id: int) -> ResponseReturnValue:
    found = _own(item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    items.remove_image(company().id, found.id, actor=user())
    db.session.commit()
    flash(_("The picture was removed."), "info")
    return redirect(url_for("catalog.item", item_id=found.id), code=303)


@bp.get("/items/<int:item_id>/image")
@require_permission("company.view")
def image(item_id: int) -> ResponseReturnValue:
    """An item's picture, for its supplier and the buyers the item is shown to."""
    found = get_or_404(CatalogItem, item_id)
    if not found.image or not found.image_type:
        abort(404)
    response = Response(found.image, mimetype=found.image_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.post("/items/<int:item_id>/prices")
@require_permission(MANAGE)
def add_price(item_id: int) -> ResponseReturnValue:
    found = _own(item_id)
    form = CustomerPriceForm()
    form.customer.choices = items.customers_of(company().id)
    if form.validate_on_submit():
        try:
            items.add_customer_price(
                company().id, found.id, customer_company_id=form.customer.data,
                price=form.price.data, valid_from=form.valid_from.data,
                valid_to=form.valid_to.data, actor=user(), decimal_mark=input_decimal_mark(),
            )
        except DomainError as error:
            db.session.rollback()
            for messages in getattr(error, "errors", {None: [error.message]}).values():
                for message in messages:
                    flash(str(message), "error")
        else:
            db.session.commit()
            flash(_("The customer's price is saved."), "success")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
    return redirect(url_for("catalog.item", item_id=found.id) + "#prices", code=303)


@bp.post("/prices/<int:price_id>/delete")
@require_permission(MANAGE)
def delete_price(price_id: int) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    item_id = request.form.get("item", type=int)
    try:
        items.remove_customer_price(company().id, price_id, actor=user())
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("The customer's price was removed."), "info")
    if item_id:
        return redirect(url_for("catalog.item", item_id=item_id) + "#prices", code=303)
    return redirect(url_for("catalog.index"), code=303)


# ------------------------------------------------------------------------- from the invoices


@bp.get("/suggestions")
@require_permission(MANAGE)
def suggestions_page() -> ResponseReturnValue:
    return render("catalog/suggestions.html",
                  review=suggestions.review(company().id), button_form=EmptyForm())


@bp.post("/suggestions")
@require_permission(MANAGE)
def decide_suggestions() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    keys = request.form.getlist("key")
    try:
        if request.form.get("action") == "set_aside":
            count = suggestions.set_aside(company().id, keys, actor=user())
            message = _("%(count)d suggestions set aside.", count=count)
        else:
            prices = {k: request.form.get(f"price-{k}", "") for k in keys}
            added, repriced = suggestions.publish(
                company().id, keys, actor=user(), prices=prices,
                visibility=request.form.get("visibility", "connected"),
                decimal_mark=input_decimal_mark(),
            )
            message = _("%(added)d items added and %(repriced)d prices changed in your catalog.",
                        added=added, repriced=repriced)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("catalog.suggestions_page"), code=303)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("catalog.suggestions_page"), code=303)


# ------------------------------------------------------------------------------ spreadsheets


@bp.post("/import")
@require_permission(MANAGE)
def import_file() -> ResponseReturnValue:
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        try:
            report = transfer.import_items(company().id, content=form.file.data.read(),
                                           actor=user(), decimal_comma=decimal_comma())
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
    return render("catalog/import.html", "catalog/_import_report.html", import_form=form,
                  report=report, status=200 if report else 422)


@bp.get("/export")
@require_permission(MANAGE)
def export() -> ResponseReturnValue:
    fmt = request.args.get("format", "xlsx")
    if fmt not in MEDIA_TYPES:
        abort(404)
    data = transfer.export_items(company().id, fmt)
    return Response(data, mimetype=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="catalog.{fmt}"'})


@bp.get("/catalogue.xml")
@require_permission(MANAGE)
def catalogue() -> ResponseReturnValue:
    """The published catalog as a Peppol Catalogue (UBL, T19): for one customer (what it sees,
    at its prices) when ``customer`` names one of the supplier's customers."""
    customer = request.args.get("customer", type=int)
    if customer is not None and customer not in {cid for cid, _ in
                                                  items.customers_of(company().id)}:
        abort(404)
    try:
        data = documents.catalogue_xml(company().id, receiver_company_id=customer)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(url_for("catalog.index"), code=303)
    return Response(data, mimetype="application/xml", headers={
        "Content-Disposition": 'attachment; filename="catalogue.xml"'})
