from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import abort, current_app

from app.blueprints.dev import bp
from app.mail import outbox
from app.web.htmx import render


def _read(path: Path):
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return {
        "name": path.name,
        "to": message["To"],
        "subject": message["Subject"],
        "date": message["Date"],
        "body": message.get_body(preferencelist=("plain",)).get_content(),
    }


@bp.route("/mail")
def mail_index():
    folder = Path(current_app.config["MAIL_DIR"])
    return render("dev/mail.html", messages=[_read(p) for p in outbox(folder)[:100]])


@bp.route("/mail/<name>")
def mail_show(name):
    folder = Path(current_app.config["MAIL_DIR"])
    path = folder / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        abort(404)
    return render("dev/mail_show.html", message=_read(path))
