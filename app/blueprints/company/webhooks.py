"""/company/webhooks: the ERP endpoints that receive signed events, and their delivery log."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from app.blueprints.company import bp
from app.blueprints.company.forms import WebhookEndpointForm
from app.extensions import db
from app.models import WebhookDelivery, WebhookEndpoint
from app.services import webhooks
from app.services.errors import DomainError
from app.tenancy import get_or_404
from app.web.auth import company, require_permission, user
from app.web.htmx import form_errors, render


@bp.route("/webhooks")
@require_permission("api.manage")
def webhooks_index():
    return _webhooks_page(WebhookEndpointForm(formdata=None))


@bp.route("/webhooks", methods=["POST"])
@require_permission("api.manage", confirmed=True)
def create_webhook():
    form = WebhookEndpointForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = webhooks.create_endpoint(
                company().id, url=form.url.data, events=form.events.data, actor=user()
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            # Shown in this response only, like an API token.
            response = _webhooks_page(
                WebhookEndpointForm(formdata=None), status=201, new_endpoint=endpoint, secret=secret
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return _webhooks_page(form, status=422)


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@require_permission("api.manage")
def delete_webhook(endpoint_id):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    webhooks.delete_endpoint(company().id, endpoint_id=endpoint.id, actor=user())
    db.session.commit()
    flash(_("The webhook %(url)s was removed.", url=endpoint.url), "info")
    return redirect(url_for("company.webhooks_index"), code=303)


@bp.route("/webhooks/deliveries/<int:delivery_id>/replay", methods=["POST"])
@require_permission("api.manage")
def replay_webhook_delivery(delivery_id):
    delivery = get_or_404(WebhookDelivery, delivery_id)
    webhooks.replay_delivery(company().id, delivery_id=delivery.id, actor=user())
    db.session.commit()
    flash(_("The event is being sent again: its result appears in the list below."), "info")
    return redirect(url_for("company.webhooks_index"), code=303)


def _webhooks_page(form, status=200, **context):
    return render(
        "company/webhooks.html",
        "company/_webhooks.html",
        status=status,
        form=form,
        company=company(),
        endpoints=db.session.scalars(webhooks.endpoints(company().id)).all(),
        deliveries=db.session.scalars(webhooks.deliveries(company().id)).unique().all(),
        event_labels=webhooks.EVENT_LABELS,
        **context,
    )
