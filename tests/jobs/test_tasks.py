"""Background work: does it start right after the commit, only then, once, and never get lost?

Tests run tasks eagerly (``JOBS_IMMEDIATE``): a task runs the moment the relay enqueues it,
right after the commit that wrote its row, in a session of its own. ``held_jobs`` holds them
instead, for the tests that look at the state in between. Worker processes over Redis are in
tests/realtime/test_jobs_multiprocess.py.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import queue, tasks
from app.models import PdfUpload, WebhookDelivery, utcnow
from app.models.webhook import DOCUMENT_RECEIVED
from app.services import pdf_documents, webhooks
from app.tenancy import acting_as, unscoped
from tests.blueprints.test_pdf_upload import invoice_pdf
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import give_certificate, make_document, signed_invoice, submit
from tests.services.test_webhooks import Receiver


@pytest.fixture(autouse=True)
def _loopback_erp(app, monkeypatch, no_official_rules):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", True)


@pytest.fixture
def erp():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def parties():
    supplier, customer = make_company("Proveedora J"), make_company("Cliente J")
    give_certificate(supplier)
    return supplier, make_user(supplier, role="owner"), customer, make_user(customer, role="owner")


def _endpoint(company, user, url):
    with acting_as(company.id, user.id):
        webhooks.create_endpoint(company.id, url=url, events=[DOCUMENT_RECEIVED], actor=user)
        db.session.commit()


def _send(parties, number="SETP990000001"):
    supplier, seller, customer, _buyer = parties
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id, number=number))
    assert result.accepted
    return result.document


def _deliveries() -> list[WebhookDelivery]:
    stmt = unscoped(select(WebhookDelivery).order_by(WebhookDelivery.id))
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


def _upload(token: str) -> PdfUpload:
    stmt = unscoped(select(PdfUpload).where(PdfUpload.token == token))
    return db.session.scalars(stmt.execution_options(populate_existing=True)).one()


# --------------------------------------------------------------------------------- webhooks


def test_does_the_erp_hear_of_a_document_as_soon_as_it_is_committed(erp, parties):
    """No sweep, no CLI: the commit that writes the delivery row sends it."""
    _supplier, _seller, customer, buyer = parties
    _endpoint(customer, buyer, erp.url)
    document = _send(parties)
    assert len(erp.requests) == 1
    assert f'"id":{document.id}' in erp.requests[0]["body"].decode()
    (delivery,) = _deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_does_a_rolled_back_transaction_enqueue_nothing(held_jobs, erp, parties):
    from app.services.documents import storing

    supplier, seller, customer, buyer = parties
    _endpoint(customer, buyer, erp.url)
    with acting_as(supplier.id, seller.id):
        data = signed_invoice(supplier, customer.tax_id)
        storing.submit_xml(supplier.id, filename="f.xml", data=data, actor=seller)
        db.session.flush()
        db.session.rollback()
    assert held_jobs == [] and _deliveries() == []
    _send(parties)
    assert [task for task, _args in held_jobs] == [tasks.deliver_webhook]
    assert erp.requests == []  # held: not sent until a worker runs it
    held_jobs.run()
    assert len(erp.requests) == 1


def test_does_a_delivery_task_run_twice_send_once(held_jobs, erp, parties):
    _supplier, _seller, customer, buyer = parties
    _endpoint(customer, buyer, erp.url)
    _send(parties)
    ((task, args),) = held_jobs
    task(*args)
    task(*args)  # enqueued twice (the sweep and the relay, say)
    assert len(erp.requests) == 1
    assert _deliveries()[0].attempts == 1


def test_is_a_delivery_whose_worker_died_sent_again_after_its_lease(app, held_jobs, erp, parties):
    """A worker claimed it and was killed before the POST ended: the row still says pending."""
    _supplier, _seller, customer, buyer = parties
    _endpoint(customer, buyer, erp.url)
    _send(parties)
    (delivery,) = _deliveries()
    claimed_at = utcnow()
    lease = dt.timedelta(seconds=app.config["JOBS_LEASE_SECONDS"])
    db.session.execute(  # what the dead worker's claim left
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(next_attempt_at=claimed_at + lease)
    )
    db.session.commit()
    held_jobs.clear()
    assert webhooks.due_deliveries(claimed_at + lease - dt.timedelta(seconds=1)) == []
    assert webhooks.due_deliveries(claimed_at + lease) == [(customer.id, delivery.id)]
    assert webhooks.deliver_one(delivery.id, now=claimed_at + lease)
    assert len(erp.requests) == 1


def test_does_the_sweep_send_a_retry_once_it_is_due(held_jobs, erp, parties):
    _supplier, _seller, customer, buyer = parties
    _endpoint(customer, buyer, erp.url)
    _send(parties)
    erp.statuses = [500]
    held_jobs.run()  # the first attempt fails: retried in 1 minute
    (delivery,) = _deliveries()
    assert delivery.attempts == 1 and delivery.status == "pending"
    # Not due yet:
    assert tasks.sweep.call_local() == {
        "webhooks": 0,
        "pdf_uploads": 0,
        "gateway_events": 0,
        "sandbox_webhooks": 0,
        "statement_imports": 0,
    }
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
    )
    db.session.commit()
    assert tasks.sweep.call_local()["webhooks"] == 1  # enqueued, and run (eager)
    (delivery,) = _deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 2 and len(erp.requests) == 2


# ---------------------------------------------------------------------------- PDF extraction


def _post_pdf(client, data: bytes):
    return client.post(
        "/documents/upload-pdf",
        data={"file": (io.BytesIO(data), "factura.pdf")},
        content_type="multipart/form-data",
    )


def test_does_the_upload_answer_at_once_and_the_review_fill_in_when_extraction_is_done(
    client, held_jobs, parties
):
    supplier, seller, customer, _buyer = parties
    login(client, seller, supplier)
    answer = _post_pdf(client, invoice_pdf(customer))
    assert answer.status_code == 303
    review_url = answer.headers["Location"]
    token = review_url.rsplit("/", 1)[1]
    assert [task for task, _args in held_jobs] == [tasks.extract_pdf]
    assert _upload(token).state == "extracting"

    waiting = client.get(review_url).get_data(as_text=True)
    assert 'data-testid="pdf-extracting"' in waiting and "pdf-review-form" not in waiting
    # It asks again every 2 s (no socket needed), and at once when the socket says it is done.
    assert 'hx-trigger="every 2s, pdf-extracted from:body"' in waiting

    held_jobs.run()  # a worker extracts it
    fragment = client.get(review_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-testid="pdf-review-form"' in fragment and "<html" not in fragment
    assert "pdf-extracting" not in fragment  # it stops asking
    assert re.search(r'name="number"[^>]*value="FV-1001"', fragment)
    assert _upload(token).state == "ready"


def test_is_the_uploader_told_live_when_the_extraction_is_done(client, monkeypatch, parties):
    from app import realtime

    told = []
    monkeypatch.setattr(realtime, "notify_user", lambda *a: told.append(a))
    supplier, seller, customer, _buyer = parties
    login(client, seller, supplier)
    token = _post_pdf(client, invoice_pdf(customer)).headers["Location"].rsplit("/", 1)[1]
    assert told == [(seller.id, "pdf:extracted", {"token": token})]


def test_does_an_extraction_task_run_twice_read_the_pdf_once(held_jobs, monkeypatch, parties):
    from app.einvoice import pdfextract

    supplier, seller, customer, _buyer = parties
    with acting_as(supplier.id, seller.id):
        upload = pdf_documents.upload_pdf(
            supplier.id, filename="f.pdf", data=invoice_pdf(customer), actor=seller
        )
        db.session.commit()
    reads = []
    real = pdfextract.extract_pdf
    monkeypatch.setattr(pdfextract, "extract_pdf", lambda data: reads.append(1) or real(data))
    held_jobs.run()
    tasks.extract_pdf(supplier.id, upload.id)  # enqueued again by a sweep, say
    assert len(reads) == 1
    row = _upload(upload.token)
    assert row.state == "ready" and row.attempts == 1


def test_is_an_extraction_whose_worker_died_taken_up_by_the_sweep(held_jobs, parties):
    supplier, seller, customer, _buyer = parties
    with acting_as(supplier.id, seller.id):
        upload = pdf_documents.upload_pdf(
            supplier.id, filename="f.pdf", data=invoice_pdf(customer), actor=seller
        )
        db.session.commit()
    held_jobs.clear()  # the task was lost with its worker
    assert tasks.sweep.call_local()["pdf_uploads"] == 0  # still within its lease
    long_ago = utcnow() - dt.timedelta(minutes=10)
    db.session.execute(  # what a worker killed mid-extraction leaves
        update(PdfUpload).where(PdfUpload.id == upload.id).values(attempts=1, started_at=long_ago)
    )
    db.session.commit()
    assert tasks.sweep.call_local()["pdf_uploads"] == 1
    row = _upload(upload.token)
    assert row.state == "ready" and row.attempts == 2 and row.result["fields"]["number"]


def test_does_an_extraction_that_kills_every_worker_end_as_failed(client, held_jobs, parties):
    supplier, seller, customer, _buyer = parties
    login(client, seller, supplier)
    review_url = _post_pdf(client, invoice_pdf(customer)).headers["Location"]
    token = review_url.rsplit("/", 1)[1]
    held_jobs.clear()
    long_ago = utcnow() - dt.timedelta(minutes=10)
    db.session.execute(
        update(PdfUpload)
        .where(PdfUpload.token == token)
        .values(attempts=pdf_documents.MAX_EXTRACTION_ATTEMPTS, started_at=long_ago)
    )
    db.session.commit()
    tasks.sweep.call_local()
    assert _upload(token).state == "failed"
    page = client.get(review_url).get_data(as_text=True)
    assert (
        'data-testid="pdf-extraction-failed"' in page
        and "hx-trigger"
        not in page.split('data-testid="pdf-extraction-failed"')[1].split("</article>")[0]
    )


def test_is_an_upload_of_another_company_or_an_unknown_token_a_404(client, parties):
    supplier, seller, customer, buyer = parties
    login(client, seller, supplier)
    review_url = _post_pdf(client, invoice_pdf(customer)).headers["Location"]
    assert client.get("/documents/upload-pdf/" + "x" * 32).status_code == 404
    assert client.get("/documents/upload-pdf/..%2F..").status_code == 404
    login(client, buyer, customer)
    assert client.get(review_url).status_code == 404


def test_is_a_sent_pdfs_upload_forgotten_and_an_abandoned_one_after_a_day(client, parties):
    supplier, seller, customer, _buyer = parties
    with acting_as(supplier.id, seller.id):
        upload = pdf_documents.upload_pdf(
            supplier.id, filename="f.pdf", data=invoice_pdf(customer), actor=seller
        )
        db.session.commit()
    assert tasks.abandoned_pdf_uploads.call_local() == 0
    db.session.execute(
        update(PdfUpload)
        .where(PdfUpload.id == upload.id)
        .values(created_at=utcnow() - dt.timedelta(days=2))
    )
    db.session.commit()
    assert tasks.abandoned_pdf_uploads.call_local() == 1


# ----------------------------------------------------------------------- periodic and commands


def test_do_the_reminders_run_as_a_command_and_only_once(app):
    supplier, customer = make_company("Proveedora R"), make_company("Compradora R")
    make_user(customer, role="payables")
    make_document(supplier, customer, due_date=dt.date.today() - dt.timedelta(days=2))
    first = app.test_cli_runner().invoke(args=["jobs", "reminders"])
    assert first.exit_code == 0 and "1 overdue" in first.output, first.output
    again = app.test_cli_runner().invoke(args=["jobs", "reminders"])
    assert "0 overdue" in again.output


def test_does_the_worker_refuse_to_start_where_tasks_run_eagerly(app):
    result = app.test_cli_runner().invoke(args=["jobs", "worker"])
    assert result.exit_code != 0 and "JOBS_IMMEDIATE" in result.output


def test_does_no_consumer_run_inside_the_test_app(app):
    assert "jobs.consumer" not in app.extensions and queue.huey.immediate


def test_is_the_queue_on_redis_with_redis_url_and_in_the_instance_folder_without(
    app, tmp_path, monkeypatch
):
    class Settings:
        instance_path = str(tmp_path)
        config = {"JOBS_IMMEDIATE": False, "REDIS_URL": ""}

    try:
        queue.configure(Settings)
        assert isinstance(queue.huey.storage, SqliteStorage) and not queue.huey.immediate
        assert queue.huey.storage.filename == str(tmp_path / "jobs.db")
        Settings.config = {"JOBS_IMMEDIATE": False, "REDIS_URL": "redis://127.0.0.1:1/3"}
        queue.configure(Settings)
        assert isinstance(queue.huey.storage, RedisStorage)
    finally:
        queue.configure(app)
    assert queue.huey.immediate
