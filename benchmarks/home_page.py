"""The signed-in home at scale: server time of / as buyer@demo.test (the payables and
receivables figures, the chart's table, the checklist) through the Flask test client.

Reads a database built by the Inbox benchmark (``--keep`` keeps it under instance/bench/): pass
a COPY of it, it is migrated to head. p50 and p95 over --requests requests, for each role
(the owner reads both sides, a payables clerk one).
Run: ``.venv/bin/python -m benchmarks.home_page instance/bench-copy.sqlite``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.inbox_pages import _env, _signed_in_client, server_times  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a copy of a kept Inbox benchmark database")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args(argv)
    if not args.database.exists():
        print(f"{args.database}: no such database", file=sys.stderr)
        return 1
    url = f"sqlite:///{args.database.resolve()}"
    with tempfile.TemporaryDirectory() as instance:
        _env(Path(instance))
        from sqlalchemy import func, select, text, update

        from app import create_app
        from app.cli import upgrade_database
        from app.extensions import db
        from app.models import Document, Membership
        from app.tenancy import unscoped

        upgrade_database(url)
        app = create_app(
            "production", DATABASE_URL=url, JOBS_IN_PROCESS=False, MAIL_DIR=Path(instance) / "mail"
        )
        with app.app_context():
            documents = db.session.scalar(unscoped(select(func.count()).select_from(Document)))
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        client, company_id = _signed_in_client(app)
        print(f"home page, {documents:,} documents, {args.requests} requests (Flask test client)")
        for role in ("owner", "payables", "receivables"):
            with app.app_context():
                db.session.execute(
                    update(Membership)
                    .where(Membership.company_id == company_id)
                    .values(role=role)
                    .execution_options(synchronize_session=False)
                )
                db.session.commit()
            median, p95, size = server_times(client, "/", args.requests)
            print(f"  {role:<12} p50 {median:7.1f} ms   p95 {p95:7.1f} ms   {size:,} bytes")
        with app.app_context():
            db.session.execute(
                update(Membership).where(Membership.company_id == company_id).values(role="owner")
            )
            db.session.commit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
