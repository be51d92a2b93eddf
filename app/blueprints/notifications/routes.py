"""The bell: the list of notifications, marking them read, the bell fragment and preferences."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from app.blueprints.auth.forms import EmptyForm
from app.blueprints.notifications import bp
from app.extensions import db
from app.services import notifications
from app.services.disputes import disputes
from app.services.errors import NotFound
from app.web.auth import company, require_permission, user
from app.web.htmx import is_htmx, render

PAGE_SIZE = 50


def _bell_context() -> dict:
    acting, me = company(), user()
    return {
        "unread": notifications.unread_count(acting.id, me.id),
        "items": notifications.latest(acting.id, me.id),
        "title_of": notifications.title,
        "dispute_counts": disputes.nav_counts(acting.id, me.id),
    }


@bp.route("")
@require_permission("company.view")
def index():
    acting, me = company(), user()
    return render(
        "notifications/index.html",
        items=notifications.latest(acting.id, me.id, limit=PAGE_SIZE),
        unread=notifications.unread_count(acting.id, me.id),
        title_of=notifications.title,
        form=EmptyForm(),
    )


@bp.route("/bell")
@require_permission("company.view")
def bell():
    return render("notifications/_bell.html", **_bell_context())


@bp.route("/<int:notification_id>/read", methods=["POST"])
@require_permission("company.view")
def read(notification_id: int):
    try:
        row = notifications.mark_read(company().id, user().id, notification_id)
    except NotFound:
        abort(404)
    db.session.commit()
    if is_htmx():
        return render("notifications/_bell.html", **_bell_context())
    if row.document_id is not None and request.form.get("open") == "1":
        return redirect(f"/documents/{row.document_id}", code=303)
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/read-all", methods=["POST"])
@require_permission("company.view")
def read_all():
    notifications.mark_all_read(company().id, user().id)
    db.session.commit()
    if is_htmx():
        return render("notifications/_bell.html", **_bell_context())
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/preferences", methods=["GET", "POST"])
@require_permission("company.view")
def preferences():
    acting, me = company(), user()
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        chosen = {
            code: (
                request.form.get(f"{code}-in_app") == "on",
                request.form.get(f"{code}-email") == "on",
            )
            for code in notifications.KINDS
        }
        notifications.set_preferences(acting.id, me.id, chosen)
        db.session.commit()
        flash(_("Your notification preferences were saved."), "success")
        return redirect(url_for("notifications.preferences"), code=303)
    return render(
        "notifications/preferences.html",
        kinds=notifications.KINDS,
        chosen=notifications.preferences(acting.id, me.id),
        form=form,
    )
