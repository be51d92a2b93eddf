"""API ingestion of signed invoices: documents per second per core, beside the engine alone.

K distinct signed DIAN invoices (unique numbers, 2 lines, XAdES-EPES with a self-signed test
certificate of the supplier) between two registered companies on a throwaway SQLite database:
  (api)    POST /api/v1/documents with a bearer token, through the Flask test client (one process,
           one thread: per core), each invoice once — the whole request: auth, rate limit, ingest,
           routing, duplicate check, insert, audit, notification, webhook outbox, commit;
  (batch)  the same kind of invoices (other numbers) POSTed --batch (50) to a request, as
           several multipart parts named "file" (one token check, one api.call event, one
           commit per request; a file that fails is rolled back alone); every one must come
           back 201 in the 207;
  (engine) app.einvoice.engine.ingest on the same bytes (same rules folder setting);
and the portal's overhead, 1 − api/engine (target under 30 %), for single documents and for
batches. Each figure is the best of --rounds rounds (each round its own K invoices, since a
document can be sent once).
Run: ``.venv/bin/python -m benchmarks.api_ingest`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "api-ingest-benchmark-secret"  # noqa: S105 (a throwaway database)


def _make_app(instance: Path, name: str):
    from app import create_app
    from app.extensions import db
    from app.models import Base

    app = create_app(
        "production",
        DATABASE_URL=f"sqlite:///{instance / name}",
        JOBS_IN_PROCESS=False,
        MAIL_DIR=instance / "mail",
        API_RATE_LIMIT="1000000 per minute",
    )
    with app.app_context():
        Base.metadata.create_all(db.engine)
    return app


def _parties(app):
    """Create the supplier (with a signing certificate and an API token) and its customer."""
    from app import security
    from app.extensions import db
    from app.models import ApiToken, Company, Partnership, utcnow
    from app.models.api import SCOPES
    from app.models.network import ACTIVE
    from app.services import certificates

    with app.app_context():
        supplier = Company(legal_name="Proveedor Benchmark S.A.S.", country="CO",
                           tax_id="9012345677", contact_email="ventas@bench.test")
        customer = Company(legal_name="Cliente Benchmark S.A.S.", country="CO",
                           tax_id="9001234568", contact_email="compras@bench.test")
        db.session.add_all([supplier, customer])
        db.session.flush()
        db.session.add(Partnership(supplier_id=supplier.id, customer_id=customer.id,
                                   requested_by_id=customer.id, status=ACTIVE,
                                   responded_at=utcnow()))
        certificates.store_test_certificate(supplier.id, name=supplier.legal_name,
                                            nit=supplier.tax_id)
        plaintext, token_hash = security.new_secret_token()
        db.session.add(ApiToken(company_id=supplier.id, name="bench", prefix=plaintext[:8],
                                token_hash=token_hash, scopes=list(SCOPES)))
        db.session.commit()
        ids = supplier.id, customer.tax_id, supplier.tax_id
        db.session.remove()
    return ids, plaintext


def signed_invoices(app, supplier_id: int, supplier_nit: str, customer_nit: str,
                    k: int, *, first: int = 1) -> list[bytes]:
    """Return k signed invoices from the supplier to the customer, numbered from first on."""
    from app.einvoice.signature import sign_document
    from app.extensions import db
    from app.services import certificates
    from app.tenancy import acting_as
    from tests.einvoice.ubl_factory import make_valid_invoice

    with app.app_context(), acting_as(supplier_id):
        keys = certificates.signing_material(supplier_id)
        db.session.remove()
    return [
        sign_document(
            make_valid_invoice(2, number=f"SETP99{i:07d}", supplier_nit=supplier_nit[:-1],
                               customer_nit=customer_nit[:-1]),
            key=keys.key,
            certificate=keys.certificate,
        )
        for i in range(first, first + k)
    ]


def api_rate(app, token: str, invoices: list[bytes]) -> float:
    """POST each invoice once; return documents per second (every one must be accepted)."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    start = time.perf_counter()
    for i, data in enumerate(invoices):
        response = client.post("/api/v1/documents", data=data,
                               headers=headers | {"X-Filename": f"factura-{i}.xml"})
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/documents: {response.status_code} "
                               f"{response.get_data(as_text=True)[:300]}")
    return len(invoices) / (time.perf_counter() - start)


def batch_rate(app, token: str, invoices: list[bytes], size: int = 50) -> float:
    """POST the invoices size at a time as multipart "file" parts; return documents per second."""
    import io

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    for first in range(0, len(invoices), size):
        files = [(io.BytesIO(data), f"factura-{first + i}.xml")
                 for i, data in enumerate(invoices[first:first + size])]
        response = client.post("/api/v1/documents", data={"file": files}, headers=headers,
                               content_type="multipart/form-data")
        statuses = [r["status"] for r in (response.get_json() or {}).get("results", [])]
        if response.status_code != 207 or statuses != [201] * len(files):
            raise RuntimeError(f"POST /api/v1/documents (batch): {response.status_code} "
                               f"{response.get_data(as_text=True)[:300]}")
    return len(invoices) / (time.perf_counter() - start)


def engine_rate(invoices: list[bytes], rules_dir: str | None) -> float:
    from app.einvoice.engine import ingest

    start = time.perf_counter()
    for data in invoices:
        result = ingest(data, rules_dir=rules_dir)
        if not result.valid:
            raise RuntimeError("engine: an invoice is not valid")
    return len(invoices) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200, help="K distinct signed invoices")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=50, help="files per batch request")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="api-bench-") as folder:
        instance = Path(folder)
        (instance / "mail").mkdir()
        os.environ["INSTANCE_PATH"] = str(instance)
        os.environ["SECRET_KEY"] = SECRET
        os.environ["JOBS_IN_PROCESS"] = "0"
        app = _make_app(instance, "bench.db")
        (supplier_id, customer_nit, supplier_nit), token = _parties(app)
        start = time.perf_counter()
        rounds = [
            signed_invoices(app, supplier_id, supplier_nit, customer_nit, args.invoices,
                            first=1 + r * args.invoices)
            for r in range(2 * args.rounds)  # the second half for the batches
        ]
        invoices = rounds[0]
        print(f"API ingestion: {args.invoices} distinct signed invoices per round "
              f"({sum(map(len, invoices)) // len(invoices):,} bytes each, "
              f"{2 * args.rounds * args.invoices} signed in {time.perf_counter() - start:.1f} s), "
              f"best of {args.rounds} rounds, one core, SQLite")
        rules_dir = app.config.get("EINVOICE_RULES_DIR") or None
        engine_rate(invoices[:10], rules_dir)  # warm up
        apis, batches, engines = [], [], []
        for single, batch in zip(rounds[: args.rounds], rounds[args.rounds :], strict=True):
            engines.append(engine_rate(single, rules_dir))
            apis.append(api_rate(app, token, single))
            batches.append(batch_rate(app, token, batch, args.batch))
    api, batched, engine = max(apis), max(batches), max(engines)
    overhead = 1 - api / engine
    batch_overhead = 1 - batched / engine
    print(f"  (api)    POST /api/v1/documents   {api:8.1f} documents/s per core")
    print(f"  (batch)  … {args.batch} files a request  {batched:8.1f} documents/s per core")
    print(f"  (engine) engine.ingest alone      {engine:8.1f} documents/s per core"
          f"  (official rules: {'on' if rules_dir else 'off'})")
    verdict = "ok" if overhead < 0.30 else "over target"
    print(f"  portal overhead 1 − api/engine   {overhead:8.1%}  (target < 30 %) {verdict}")
    verdict = "ok" if batch_overhead < 0.30 else "over target"
    print(f"  batch overhead 1 − batch/engine  {batch_overhead:8.1%}  (target < 30 %) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
