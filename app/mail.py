"""Outgoing e-mail: rendered from templates in the recipient's language and sent after commit.

With MAIL_SERVER set, mail goes through SMTP. Without it, each message is written to
``MAIL_DIR`` (``instance/mail/``) as an ``.eml`` file, which /dev/mail lists in development.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale

from app.db import after_commit
from app.extensions import db
from app.models import utcnow


def send_mail(to: str, template: str, *, locale: str | None, **context: Any) -> None:
    """Queue an e-mail from templates mail/<template>_subject.txt and mail/<template>.txt."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    # Render now, inside the transaction: rendering may query (lazy loads, the templates'
    # context processors) and no SQL can run once the commit is under way. Only the delivery
    # waits for the commit. No app context of our own is pushed: popping it would run the
    # app's teardown, which removes the very session in use.
    if has_request_context():
        message = _render(to, template, locale, context)
    else:
        base = app.config.get("BASE_URL", "http://127.0.0.1:5000")
        with app.test_request_context(base_url=base):  # reuses the current app context
            message = _render(to, template, locale, context)

    def deliver() -> None:
        _deliver(message)

    after_commit(db.session(), deliver)


def _render(to: str, template: str, locale: str | None, context: dict[str, Any]) -> EmailMessage:
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = render_template(f"mail/{template}_subject.txt", **context).strip()
        body = render_template(f"mail/{template}.txt", **context)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="portal.local")
    message.set_content(body)
    return message


def _deliver(message: EmailMessage) -> None:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return
    folder = Path(config["MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    recipient = "".join(c if c.isalnum() else "_" for c in message["To"])[:60]
    (folder / f"{stamp}-{recipient}.eml").write_bytes(bytes(message))


def outbox(folder: Path) -> list[Path]:
    """Return the .eml files written to the mail folder, newest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.eml"), reverse=True)
