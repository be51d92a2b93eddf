"""The application factory: config → extensions → tenancy → blueprints → cli.

Imported lazily by ``app/__init__.py`` so that ``import app.einvoice`` (the document engine) and
``app.taxids`` never load Flask or SQLAlchemy.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app import i18n, realtime, tenancy
from app.config import Config, load_config
from app.extensions import babel, csrf, db, limiter, login_manager, socketio
from app.models import User
from app.permissions import ROLE_LABELS
from app.services import accounts, reactions
from app.web import formatting
from app.web.auth import can, membership
from app.web.errors import register_error_handlers
from app.web.findings import finding_message
from app.web.headers import apply_cache_and_server_policy
from app.web.navigation import icon, is_current, main_menu, main_navigation


def create_app(config: Config | str | None = None, **overrides: Any) -> Flask:
    """Build the portal application."""
    settings = config if isinstance(config, Config) else load_config(config)
    app = Flask("app", instance_path=str(settings.INSTANCE_DIR))
    app.config.from_object(settings)
    app.config.update(overrides)
    # Inside ProxyFix, so it sees the scheme the proxy reports.
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    _init_extensions(app)
    _register_reactions()
    _init_tenancy(app)
    _init_security_headers(app)
    _init_templates(app)
    register_error_handlers(app)
    _register_blueprints(app)
    _register_cli(app)
    _init_jobs(app)
    return app


def _register_reactions() -> None:
    # Which area handles which domain event (app/services/reactions.py): every app has them,
    # whether it serves pages, runs a CLI command or a job worker, or backs a test.
    reactions.register()


def _select_locale() -> str | None:
    if not has_request_context():
        return None  # a job or CLI command building a message: Babel's default locale
    languages = ["es", "en"]
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    m = membership()
    if m is not None:
        return m.company.locale
    return request.accept_languages.best_match(languages) or "es"


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app, locale_selector=_select_locale, timezone_selector=formatting.user_timezone
    )
    i18n.install_in_templates(app.jinja_env)  # the same gettext, found faster
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    socketio.init_app(
        app,
        # The Redis message queue when SOCKETIO_MESSAGE_QUEUE is set (Flask-SocketIO reads its
        # message_queue only to build a manager, so it is not passed); sockets whose access
        # ended hear nothing and are closed in every process.
        client_manager=realtime.client_manager(app.config["SOCKETIO_MESSAGE_QUEUE"]),
        async_mode="threading",
        cors_allowed_origins=None,  # Engine.IO accepts same-origin connections only
        manage_session=False,
    )

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # The id carries the session version; a bumped version ends this session.
        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        found = accounts.signed_in(int(user_id), int(version))
        if found is None:
            return None
        # Read with the user in the same query: the acting membership, the company switcher
        # and the Inbox's ETags use them (bind_acting_company, app.web.auth.tray_version).
        g.memberships = (found.user.id, found.memberships)
        g.tray_versions = found.tray_versions
        return found.user


def _init_tenancy(app: Flask) -> None:
    """Bind the acting company and user for each request (tenancy's first binding place)."""

    @app.before_request
    def bind_acting_company() -> None:
        g.membership = None
        acting = tenancy.Acting(ip=request.remote_addr, user_agent=request.user_agent.string)
        # The API never acts through the session cookie: require_token binds the token's company.
        if request.endpoint == "static" or request.blueprint == "api":
            g.tenancy_token = tenancy.bind(acting)
            return
        if current_user.is_authenticated:
            loaded = g.get("memberships")
            if loaded and loaded[0] == current_user.id:
                memberships = loaded[1]
            else:
                memberships = accounts.memberships_of(current_user.id)
            m = accounts.active_membership(
                current_user, session.get("company_id"), memberships=memberships
            )
            g.membership = m
            g.memberships = (current_user.id, memberships)  # the page's company switcher
            acting = tenancy.Acting(
                company_id=m.company_id if m else None,
                user_id=current_user.id,
                ip=acting.ip,
                user_agent=acting.user_agent,
            )
            if m is not None and session.get("company_id") != m.company_id:
                # Only on a change: a write re-signs and re-sends the cookie on every response.
                session["company_id"] = m.company_id
        g.tenancy_token = tenancy.bind(acting)

    @app.teardown_request
    def unbind_acting_company(_exc: BaseException | None) -> None:
        token = g.pop("tenancy_token", None)
        if token is not None:
            tenancy.unbind(token)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _init_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return apply_cache_and_server_policy(response)  # no-store but static files; no Server


class SecureCookiesOverHttps:
    """Mark every cookie Secure when the portal is served over HTTPS.

    A WSGI wrapper rather than an after_request hook: Flask writes the session cookie, and
    Flask-Login the remember cookie, after the app's own after_request hooks have run.
    """

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            headers = [
                (name, value + "; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _init_templates(app: Flask) -> None:
    formatting.register(app)
    app.jinja_env.filters["finding_message"] = finding_message
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
    app.jinja_env.globals.update(
        main_navigation=main_navigation, is_current=is_current, icon=icon, main_menu=main_menu
    )

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        m = membership()
        memberships = _my_memberships()
        return {
            "active_membership": m,
            "active_company": m.company if m else None,
            "my_memberships": memberships,
            "dev_mail": app.config["ENV_NAME"] == "development",
        }


def _my_memberships() -> list[Any]:
    """Return the signed-in user's memberships for the company switcher.

    A GET reuses the list the request started with (one query fewer on every page); any other
    method may have changed them, so it reads them again.
    """
    if not current_user.is_authenticated:
        return []
    loaded = g.get("memberships")
    if loaded and loaded[0] == current_user.id and request.method in ("GET", "HEAD"):
        return loaded[1]
    return accounts.memberships_of(current_user.id)


def _register_blueprints(app: Flask) -> None:
    from app.blueprints.api import bp as api_bp
    from app.blueprints.audit import bp as audit_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.catalog import bp as catalog_bp
    from app.blueprints.company import bp as company_bp
    from app.blueprints.dev import bp as dev_bp
    from app.blueprints.disputes import bp as disputes_bp
    from app.blueprints.documents import bp as documents_bp
    from app.blueprints.inbox import bp as inbox_bp
    from app.blueprints.issuing import bp as issuing_bp
    from app.blueprints.main import bp as main_bp
    from app.blueprints.network import bp as network_bp
    from app.blueprints.notifications import bp as notifications_bp
    from app.blueprints.orders import bp as orders_bp
    from app.blueprints.payments import bp as payments_bp
    from app.blueprints.payments import webhooks_bp as gateway_webhooks_bp
    from app.blueprints.reconciliation import bp as reconciliation_bp
    from app.blueprints.sandbox_gateway import bp as sandbox_gateway_bp
    from app.blueprints.team import bp as team_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(company_bp)
    app.register_blueprint(network_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(issuing_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(disputes_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(reconciliation_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(orders_bp)
    csrf.exempt(gateway_webhooks_bp)  # signed by the gateway (verified by its adapter)
    app.register_blueprint(gateway_webhooks_bp)
    # The sandbox gateway's hosted checkout: no sign-in (the payer may have no account).
    app.register_blueprint(sandbox_gateway_bp)
    csrf.exempt(api_bp)  # bearer tokens, not cookies: a forged cross-site request carries none
    app.register_blueprint(api_bp)
    if app.config["ENV_NAME"] == "development":
        app.register_blueprint(dev_bp)


def _register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


def _init_jobs(app: Flask) -> None:
    from app import jobs

    jobs.init_app(app)
