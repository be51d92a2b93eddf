"""Inbox pages at scale: server time of the first and a filtered page, and throughput under load.

For SQLite (a throwaway file in a temporary folder) and PostgreSQL (a throwaway database
``portal_bench`` on BENCH_DATABASE_URL, else on postgresql+psycopg://postgres@127.0.0.1:5432 when a
server answers there; skipped with a line otherwise):
  1. the schema (migrations), the demo data and N bulk documents (``flask demo bulk``), timed;
     with --keep the databases stay (SQLite under instance/bench/, one file per N; PostgreSQL's
     ``portal_bench``) and the next --keep run with the same N reuses them, migrated to head;
  2. server time of /inbox/received as buyer@demo.test through the Flask test client, over
     --requests requests each: the first page, and a filtered page (one counterparty, a 90-day
     date range, one status): p50 and p95, "rendered" (a plain GET: the tray read and rendered,
     nothing kept anywhere — the first view after any change, or another user's) against the
     target p95 < 25 ms, and "revalidated" (the browser's repeat view: If-None-Match with the
     page's ETag, answered 304 Not Modified);
  3. throughput under load: the app under gunicorn (2 workers, gthread, 4 threads) on a free
     127.0.0.1 port, 8 concurrent keep-alive connections for --seconds each against /healthz,
     the rendered Inbox page and its revalidation, and for scale two plain signed-in pages (the
     change-password form, the team list): requests per second, and each page's ratio to
     /healthz (target for the rendered Inbox page ≥ 1/6).
N is --documents, else BENCH_DOCUMENTS, else 1,000,000.
Run: ``.venv/bin/python -m benchmarks.inbox_pages`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DOCUMENTS = 1_000_000
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "portal_bench"
#: The targets: a rendered page's p95 server time, and its throughput against /healthz's.
TARGET_P95_MS = 25
TARGET_RATIO = 1 / 6
#: Where --keep keeps the SQLite databases (one file per N) between runs.
KEEP_DIR = ROOT / "instance" / "bench"
BUYER = "buyer@demo.test"
SECRET = "inbox-pages-benchmark-secret"  # noqa: S105 (a throwaway database)
WSGI = '''
from app import create_app
app = create_app("production", DATABASE_URL={url!r}, JOBS_IN_PROCESS=False, MAIL_DIR={mail!r})
'''


def _documents(value: int | None) -> int:
    if value is not None:
        return value
    return int(os.environ.get("BENCH_DOCUMENTS", DEFAULT_DOCUMENTS))


def _env(instance: Path) -> None:
    os.environ["INSTANCE_PATH"] = str(instance)
    os.environ["SECRET_KEY"] = SECRET
    os.environ["JOBS_IN_PROCESS"] = "0"


# ------------------------------------------------------------------------------------ databases


def postgres_server() -> str | None:
    """Return the URL of a reachable PostgreSQL server (its maintenance database), or None."""
    from sqlalchemy import create_engine, text

    url = os.environ.get("BENCH_DATABASE_URL") or LOCAL_POSTGRES
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 (any failure means: no server to use)
        print(f"PostgreSQL: not reachable at {_hide_password(url)} ({type(error).__name__})")
        return None
    return url


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _recreate_postgres(server: str, *, drop_only: bool = False, keep: bool = False) -> str:
    """Drop and create the benchmark's database (with keep: create it only if it is missing)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": BENCH_DB}
        ).first()
        if not (keep and exists):
            conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        if not drop_only and not (keep and exists):
            conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
    engine.dispose()
    return make_url(server).set(database=BENCH_DB).render_as_string(hide_password=False)


# ------------------------------------------------------------------------------------- filling


class StaleDatabase(Exception):
    """A kept database holds another number of documents than asked for."""


def _bulk_count(app) -> int:
    """Return how many bulk documents (numbers FVB…, NCB…, NDB…) the database holds."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        count = db.session.execute(
            text("SELECT count(*) FROM documents WHERE substr(number, 3, 1) = 'B'")
        ).scalar_one()
        db.session.remove()
    return int(count)


def build(url: str, n: int, partners: int, instance: Path, *, reuse: bool = False):
    """Migrate the database at url, load the demo and n bulk documents; return the app.

    With reuse, a database that already holds the demo and n bulk documents (one kept by an
    earlier --keep run) is only migrated to the current head and used as it is.
    """
    from sqlalchemy import text

    from app import create_app
    from app.cli import upgrade_database
    from app.config import BASE_DIR
    from app.extensions import db
    from app.services import demo

    start = time.perf_counter()
    upgrade_database(url)
    app = create_app(
        "production", DATABASE_URL=url, JOBS_IN_PROCESS=False, MAIL_DIR=instance / "mail"
    )
    if reuse:
        found = _bulk_count(app)
        if found == n:
            print(f"  reusing the kept database ({found:,} bulk documents, migrated to head): "
                  f"{time.perf_counter() - start:.1f} s")
            return app
        if found:
            raise StaleDatabase(f"the kept database holds {found:,} bulk documents, not {n:,}")
    with app.app_context():
        demo.load_demo(BASE_DIR / "fixtures" / "demo.json")
        print(f"  schema and demo data: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        step = max(n // 10, demo.BULK_BATCH)

        def progress(done: int, total: int) -> None:
            if done == total or done % step < demo.BULK_BATCH:
                elapsed = time.perf_counter() - start
                print(f"  {done:>9,}/{total:,} documents  {elapsed:6.1f} s  "
                      f"({done / elapsed:,.0f}/s)", flush=True)

        demo.load_bulk(n, partners, progress=progress)
        start = time.perf_counter()
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE")
                )
            else:
                conn.execute(text("ANALYZE"))
                conn.commit()
        print(f"  ANALYZE: {time.perf_counter() - start:.1f} s")
        db.session.remove()
    return app


# ------------------------------------------------------------------------------- server time


def _signed_in_client(app):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Membership, User
    from app.tenancy import unscoped

    with app.app_context():
        user = db.session.scalars(unscoped(select(User).where(User.email == BUYER))).one()
        company_id = db.session.scalars(
            unscoped(select(Membership.company_id).where(Membership.user_id == user.id))
        ).first()
        user_id = user.get_id()
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["company_id"] = company_id
    return client, company_id


def _filtered_query(app, company_id: int) -> str:
    """A counterparty (the bulk partner with most documents), a 90-day range, one status."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Document
    from app.tenancy import unscoped

    with app.app_context():
        sender = db.session.execute(
            unscoped(
                select(Document.sender_company_id, func.count())
                .where(Document.receiver_company_id == company_id)
                .group_by(Document.sender_company_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).first()
        db.session.remove()
    today = dt.date.today()
    return urlencode(
        {
            "counterparty": sender[0] if sender else "",
            "date_from": (today - dt.timedelta(days=270)).isoformat(),
            "date_to": (today - dt.timedelta(days=180)).isoformat(),
            "status": "accepted",
        }
    )


def server_times(client, url: str, requests: int, *, revalidate: bool = False
                 ) -> tuple[float, float, int]:
    """Return the median and p95 (ms) of requests GETs of url, and the size of the last body.

    Rendered: a plain GET each time (nothing kept anywhere: read and rendered, as the first view
    after a change or by another user). Revalidated: each GET sends the ETag of the page it got
    (If-None-Match) and must be answered 304 Not Modified.
    """
    headers = {}
    if revalidate:
        etag = client.get(url).headers.get("ETag")
        if not etag:
            raise RuntimeError(f"GET {url}: no ETag")
        headers["If-None-Match"] = etag
    expected = 304 if revalidate else 200
    for _ in range(10):  # warm up: templates compiled, pool filled
        client.get(url, headers=headers)
    times = []
    body = b""
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != expected:
            raise RuntimeError(f"GET {url}: {response.status_code}, not {expected}")
        body = response.data
    return statistics.median(times), _p95(times), len(body)


def _dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]


# ---------------------------------------------------------------------------------- under load


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, instance: Path) -> tuple[subprocess.Popen, int]:
    """Start the app under gunicorn (2 workers, gthread, 4 threads) on a free 127.0.0.1 port."""
    (instance / "bench_wsgi.py").write_text(
        WSGI.format(url=url, mail=str(instance / "mail")), encoding="utf-8"
    )
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn), "-w", "2", "-k", "gthread", "--threads", "4",
        "-b", f"127.0.0.1:{port}", "--chdir", str(instance), "--pythonpath", str(ROOT),
        "--log-level", "warning", "--keep-alive", "30", "bench_wsgi:app",
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(command, env=env, cwd=str(instance))  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                # Both workers up: a few more answers before measuring.
                time.sleep(1.0)
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def drive(port: int, path: str, headers: dict[str, str], *, connections: int,
          seconds: float, expect: int = 200) -> tuple[float, int]:
    """Keep connections keep-alive GET loops on path for seconds; return requests/s, errors
    (answers other than expect)."""
    counts = [0] * connections
    errors = [0] * connections
    start_line = threading.Barrier(connections + 1)
    stop = threading.Event()

    def loop(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_line.wait()
        while not stop.is_set():
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == expect:
                    counts[index] += 1
                else:
                    errors[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return sum(counts) / elapsed, sum(errors)


# ------------------------------------------------------------------------------------- running


def run_database(label: str, url: str, args: argparse.Namespace, instance: Path, *,
                 fresh: Callable[[], object]) -> None:
    """Fill (or reuse a kept one), measure and load one database; fresh() empties it."""
    n = args.documents
    print(f"{label}: {n:,} documents across {args.partners} partners")
    try:
        app = build(url, n, args.partners, instance, reuse=args.keep)
    except StaleDatabase as error:
        print(f"  {error}: building it again")
        fresh()
        app = build(url, n, args.partners, instance)
    if args.build_only:
        _dispose(app)
        return
    client, company_id = _signed_in_client(app)
    first = "/inbox/received"
    filtered = first + "?" + _filtered_query(app, company_id)
    print(f"  server time over {args.requests} requests (Flask test client), "
          f"target: rendered p95 < {TARGET_P95_MS} ms:")
    for name, path in (("first page", first), ("filtered page", filtered)):
        for how in ("rendered", "revalidated"):
            median, p95, size = server_times(client, path, args.requests,
                                             revalidate=how == "revalidated")
            verdict = ""
            if how == "rendered":
                verdict = "ok" if p95 < TARGET_P95_MS else "OVER TARGET"
                verdict = (f"{size / 1024:4.0f} KiB  p95/target {p95 / TARGET_P95_MS:4.2f}  "
                           f"{verdict}")
            print(f"    {name + ', ' + how:<28} p50 {median:6.1f} ms   p95 {p95:6.1f} ms   "
                  f"{verdict}".rstrip())
    print(f"    (filtered: {filtered})")
    _dispose(app)

    cookie_name = app.config.get("SESSION_COOKIE_NAME", "session")
    cookie = client.get_cookie(cookie_name)
    headers = {"Cookie": f"{cookie_name}={cookie.value}" if cookie else ""}
    etag = client.get(first).headers["ETag"]
    server, port = start_server(url, instance)
    try:
        print(f"  under load: gunicorn -w 2 -k gthread --threads 4 on 127.0.0.1:{port}, "
              f"{args.connections} keep-alive connections × {args.seconds:.0f} s each:")
        rates = {}
        for name, path, extra, expect in (
            ("/healthz", "/healthz", {}, 200),
            ("Inbox page, rendered", first, headers, 200),
            ("Inbox page, revalidated (304)", first, {**headers, "If-None-Match": etag}, 304),
            # For scale, two other signed-in pages: the layout around a three-field form (one
            # query: the user), and the team's short list (two).
            ("Change password (a form)", "/auth/password", headers, 200),
            ("Team (a short list)", "/team/", headers, 200),
        ):
            rate, errors = drive(port, path, extra, connections=args.connections,
                                 seconds=args.seconds, expect=expect)
            rates[name] = rate
            print(f"    {name:<30} {rate:8,.0f} requests/s  ({errors} other answers)")
    finally:
        stop_server(server)
    health = rates["/healthz"]
    for name in ("Inbox page, rendered", "Inbox page, revalidated (304)",
                 "Change password (a form)", "Team (a short list)"):
        ratio = rates[name] / health if health else 0.0
        line = f"    {name + ' / healthz':<40} 1/{1 / ratio if ratio else float('inf'):.1f}"
        if name.endswith("rendered"):
            verdict = "ok" if ratio >= TARGET_RATIO else "UNDER TARGET"
            line += (f"  (target ≥ 1/{1 / TARGET_RATIO:.0f}: {ratio / TARGET_RATIO:.2f}× it) "
                     f"{verdict}")
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=None,
                        help="documents per database (default BENCH_DOCUMENTS or 1,000,000)")
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the databases (SQLite in {KEEP_DIR}, PostgreSQL {BENCH_DB}) "
                             "and reuse them when they hold the same number of documents")
    parser.add_argument("--build-only", action="store_true",
                        help="only build (or check) the databases; measure nothing")
    args = parser.parse_args(argv)
    args.documents = _documents(args.documents)
    print(f"Inbox pages at N = {args.documents:,} documents "
          f"(--documents, else BENCH_DOCUMENTS, else {DEFAULT_DOCUMENTS:,})")
    with tempfile.TemporaryDirectory(prefix="inbox-bench-") as folder:
        instance = Path(folder)
        (instance / "mail").mkdir()
        _env(instance)
        total = time.perf_counter()
        if not args.postgres_only:
            if args.keep:
                KEEP_DIR.mkdir(parents=True, exist_ok=True)
                path = KEEP_DIR / f"inbox-pages-{args.documents}.sqlite"
            else:
                path = instance / "bench.db"
            run_database("SQLite", f"sqlite:///{path}", args, instance,
                         fresh=lambda: path.unlink(missing_ok=True))
            print(f"  SQLite total: {time.perf_counter() - total:.0f} s")
        if args.sqlite_only:
            return 0
        server = postgres_server()
        if server is None:
            print("PostgreSQL: skipped (set BENCH_DATABASE_URL to a server to include it)")
            return 0
        total = time.perf_counter()
        try:
            url = _recreate_postgres(server, keep=args.keep)
            run_database("PostgreSQL", url, args, instance,
                         fresh=lambda: _recreate_postgres(server))
        except Exception as error:  # noqa: BLE001 (a broken server is a line, not a crash)
            print(f"PostgreSQL: failed: {type(error).__name__}: {error}")
        finally:
            if not args.keep:
                try:
                    _recreate_postgres(server, drop_only=True)
                except Exception as error:  # noqa: BLE001
                    print(f"PostgreSQL: could not drop {BENCH_DB}: {error}")
        print(f"  PostgreSQL total: {time.perf_counter() - total:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
