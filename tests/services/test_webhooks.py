"""Does a company's ERP hear about documents and events, signed, retried, and only its own?"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import ipaddress
import json
import socket
import ssl
import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import WebhookDelivery, WebhookEndpoint, utcnow
from app.models.webhook import DOCUMENT_RECEIVED, EVENT_RECORDED
from app.services import webhooks
from app.services.errors import FieldErrors
from app.services.lifecycle import transitions
from app.tenancy import acting_as, unscoped
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import give_certificate, signed_invoice, submit


class Receiver:
    """An ERP on 127.0.0.1 that records what it is sent and answers the statuses it is told."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:  # somewhere a webhook must never be led
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def erp():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(autouse=True)
def _deliveries_wait_for_the_sweep(held_jobs):
    """These tests drive deliver_due (the sweep, the CLI) by hand; tests/jobs/test_tasks.py
    shows the delivery leaving right after the commit."""


@pytest.fixture(autouse=True)
def _no_official_rules(app, monkeypatch, no_official_rules):
    # The test ERP listens on 127.0.0.1, which only this development setting allows.
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", True)


@pytest.fixture
def supplier():
    company = make_company("Proveedor WH")
    give_certificate(company)
    return company


@pytest.fixture
def customer():
    company = make_company("Cliente WH")
    give_certificate(company)
    return company


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="owner", name="Sara Vendedora")


@pytest.fixture
def buyer(customer):
    return make_user(customer, role="owner", name="Bruno Comprador")


def _endpoint(company, user, url, events=(DOCUMENT_RECEIVED, EVENT_RECORDED)):
    with acting_as(company.id, user.id):
        endpoint, secret = webhooks.create_endpoint(
            company.id, url=url, events=list(events), actor=user
        )
        db.session.commit()
    return endpoint, secret


def _deliveries(company=None) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if company is not None:
        stmt = stmt.where(WebhookDelivery.company_id == company.id)
    return list(
        db.session.scalars(unscoped(stmt).execution_options(populate_existing=True)).unique()
    )


def _send_invoice(supplier, seller, customer, number="SETP990000001"):
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id, number=number))
    assert result.accepted
    return result.document


def test_does_the_receivers_erp_get_a_signed_post_it_can_verify(
    erp, supplier, seller, customer, buyer
):
    _endpoint_row, secret = _endpoint(customer, buyer, erp.url)
    document = _send_invoice(supplier, seller, customer)
    report = webhooks.deliver_due(utcnow())
    assert len(report.delivered) == 1 and len(erp.requests) == 1
    sent = erp.requests[0]
    timestamp = sent["headers"]["X-Portal-Timestamp"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + sent["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(sent["headers"]["X-Portal-Signature"], expected)
    payload = json.loads(sent["body"])
    assert payload["type"] == DOCUMENT_RECEIVED
    assert payload["data"]["document"]["id"] == document.id
    (delivery,) = _deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert delivery.last_status_code == 200
    # Run again: nothing is sent twice.
    assert webhooks.deliver_due(utcnow()).delivered == [] and len(erp.requests) == 1


def test_does_a_forged_signature_not_verify(erp, supplier, seller, customer, buyer):
    _endpoint(customer, buyer, erp.url)
    _send_invoice(supplier, seller, customer)
    webhooks.deliver_due(utcnow())
    sent = erp.requests[0]
    forged = webhooks.sign(
        "whsec_wrong", sent["headers"]["X-Portal-Timestamp"], sent["body"].decode()
    )
    assert forged != sent["headers"]["X-Portal-Signature"]


def test_is_a_failed_delivery_retried_with_backoff_until_delivered(
    erp, supplier, seller, customer, buyer
):
    _endpoint(customer, buyer, erp.url)
    _send_invoice(supplier, seller, customer)
    erp.statuses = [500, 503]
    start = utcnow()
    assert webhooks.deliver_due(start).failed
    (delivery,) = _deliveries()
    assert delivery.attempts == 1 and delivery.last_status_code == 500
    assert (
        delivery.next_attempt_at
        == start.replace(microsecond=start.microsecond) + (webhooks.BACKOFF[0])
    )
    # Not due yet: nothing is sent.
    assert webhooks.deliver_due(start + dt.timedelta(seconds=30)).failed == []
    assert len(erp.requests) == 1
    assert webhooks.deliver_due(start + dt.timedelta(minutes=1)).failed
    (delivery,) = _deliveries()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at == start + dt.timedelta(minutes=1) + webhooks.BACKOFF[1]
    later = start + dt.timedelta(minutes=7)
    assert webhooks.deliver_due(later).delivered
    (delivery,) = _deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert len(erp.requests) == 3


def test_does_the_portal_give_up_after_six_attempts(erp, supplier, seller, customer, buyer):
    _endpoint(customer, buyer, erp.url, events=(DOCUMENT_RECEIVED,))
    _send_invoice(supplier, seller, customer)
    erp.statuses = [500] * 10
    now = utcnow()
    for _ in range(10):
        webhooks.deliver_due(now)
        now += dt.timedelta(days=1)
    (delivery,) = _deliveries()
    assert delivery.attempts == webhooks.MAX_ATTEMPTS == 6
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert len(erp.requests) == 6


def test_is_an_unreachable_erp_retried(supplier, seller, customer, buyer):
    erp = Receiver()
    url = erp.url
    erp.close()  # nobody listens there any more
    _endpoint(customer, buyer, url)
    _send_invoice(supplier, seller, customer)
    assert webhooks.deliver_due(utcnow()).failed
    (delivery,) = _deliveries()
    assert delivery.last_status_code is None and delivery.last_error
    assert delivery.status == "pending"


def test_do_both_parties_hear_of_an_event(erp, supplier, seller, customer, buyer):
    _endpoint(customer, buyer, erp.url)
    _endpoint(supplier, seller, erp.url, events=(EVENT_RECORDED,))
    document = _send_invoice(supplier, seller, customer)
    with acting_as(customer.id, buyer.id):
        transitions.record_event(customer.id, document_id=document.id, code="030", actor=buyer)
        db.session.commit()
    kinds = sorted((d.company_id, d.event_type) for d in _deliveries())
    assert kinds == sorted(
        [
            (customer.id, DOCUMENT_RECEIVED),
            (customer.id, EVENT_RECORDED),
            (supplier.id, EVENT_RECORDED),
        ]
    )
    webhooks.deliver_due(utcnow())
    events = [json.loads(r["body"]) for r in erp.requests if b"event_recorded" in r["body"]]
    assert {e["data"]["event"]["code"] for e in events} == {"030"}
    assert len(events) == 2


def test_does_a_rolled_back_submission_announce_nothing(erp, supplier, seller, customer, buyer):
    from app.services.documents import storing

    _endpoint(customer, buyer, erp.url)
    with acting_as(supplier.id, seller.id):
        storing.submit_xml(
            supplier.id,
            filename="f.xml",
            data=signed_invoice(supplier, customer.tax_id),
            actor=seller,
        )
        db.session.rollback()
    assert _deliveries() == []


def test_does_a_company_without_endpoints_get_no_deliveries(supplier, seller, customer):
    _send_invoice(supplier, seller, customer)
    assert _deliveries() == []


def test_is_a_loopback_erp_called_only_with_the_development_setting(
    app, monkeypatch, erp, supplier, seller, customer, buyer
):
    """127.0.0.1 is refused at registration and at delivery unless WEBHOOK_ALLOW_LOOPBACK."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    with acting_as(customer.id, buyer.id), pytest.raises(FieldErrors) as refused:
        webhooks.create_endpoint(customer.id, url=erp.url, events=[DOCUMENT_RECEIVED], actor=buyer)
    assert "127.0.0.1" in str(refused.value.errors["url"][0])
    db.session.rollback()
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", True)
    _endpoint(customer, buyer, erp.url)  # registered while allowed...
    _send_invoice(supplier, seller, customer)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    assert webhooks.deliver_due(utcnow()).failed  # ...refused when it no longer is
    (delivery,) = _deliveries()
    assert delivery.last_error.startswith("refused:") and "127.0.0.1" in delivery.last_error
    assert erp.requests == []
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", True)
    assert webhooks.deliver_due(utcnow() + dt.timedelta(minutes=1)).delivered
    assert len(erp.requests) == 1


def test_is_a_redirect_never_followed(erp, supplier, seller, customer, buyer):
    _endpoint(customer, buyer, erp.url)
    _send_invoice(supplier, seller, customer)
    erp.statuses = [302]
    assert webhooks.deliver_due(utcnow()).failed
    (delivery,) = _deliveries()
    assert delivery.last_status_code == 302 and delivery.last_error == "HTTP 302"
    assert len(erp.requests) == 1


@pytest.mark.parametrize(
    "url",
    ["ftp://erp.example.com/x", "file:///etc/passwd", "javascript:alert(1)", "erp.example.com"],
)
def test_is_an_address_that_is_not_http_refused(customer, buyer, url):
    with acting_as(customer.id, buyer.id), pytest.raises(FieldErrors) as refused:
        webhooks.create_endpoint(customer.id, url=url, events=[DOCUMENT_RECEIVED], actor=buyer)
    assert "url" in refused.value.errors


# The admin page


def test_does_an_admin_see_the_secret_once_and_the_delivery_log(
    client, erp, supplier, seller, customer, buyer
):
    login(client, buyer, customer)
    response = client.post(
        "/company/webhooks", data={"url": erp.url, "events": [DOCUMENT_RECEIVED]}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert 'data-testid="new-webhook-secret"' in page and "whsec_" in page
    _send_invoice(supplier, seller, customer)
    erp.statuses = [500]
    webhooks.deliver_due(utcnow())
    listing = client.get("/company/webhooks").get_data(as_text=True)
    assert "whsec_" not in listing
    assert 'data-status="pending"' in listing and "HTTP 500" in listing


def test_is_a_non_http_address_refused_on_the_page(client, customer, buyer):
    login(client, buyer, customer)
    response = client.post(
        "/company/webhooks", data={"url": "ftp://erp.example.com/x", "events": [DOCUMENT_RECEIVED]}
    )
    assert response.status_code == 422
    assert _deliveries() == [] and "whsec_" not in response.get_data(as_text=True)


def test_can_an_admin_replay_a_delivery(client, erp, supplier, seller, customer, buyer):
    _endpoint(customer, buyer, erp.url)
    _send_invoice(supplier, seller, customer)
    webhooks.deliver_due(utcnow())
    (first,) = _deliveries()
    login(client, buyer, customer)
    response = client.post(f"/company/webhooks/deliveries/{first.id}/replay")
    assert response.status_code == 303
    # It leaves right after the commit (a job), so the message promises no delay.
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "se está enviando de nuevo" in page and "minuto" not in page
    assert webhooks.deliver_due(utcnow()).delivered
    assert len(erp.requests) == 2 and erp.requests[0]["body"] == erp.requests[1]["body"]
    assert [d.status for d in _deliveries()] == ["delivered", "delivered"]


def test_is_another_companys_delivery_a_404(client, erp, supplier, seller, customer, buyer):
    _endpoint(customer, buyer, erp.url)
    _send_invoice(supplier, seller, customer)
    (theirs,) = _deliveries()
    stranger = make_company("Ajena")
    login(client, make_user(stranger, role="owner"), stranger)
    assert client.post(f"/company/webhooks/deliveries/{theirs.id}/replay").status_code == 404
    assert len(_deliveries()) == 1


def test_may_only_api_managers_open_the_page(client, customer):
    login(client, make_user(customer, role="viewer"), customer)
    assert client.get("/company/webhooks").status_code == 403


def test_does_the_job_command_deliver(app, erp, supplier, seller, customer, buyer):
    _endpoint(customer, buyer, erp.url)
    _send_invoice(supplier, seller, customer)
    result = app.test_cli_runner().invoke(args=["jobs", "webhooks"])
    assert result.exit_code == 0, result.output
    assert "1 delivered" in result.output and len(erp.requests) == 1


# Where an endpoint may lead: the public internet only


PUBLIC = "93.184.215.14"  # never dialled: the tests below catch every connection first
#: What the fake resolver answers for a name (any other name is not found).
DNS = {
    "erp.example.net": [PUBLIC],
    "private.example.net": ["10.0.0.5"],
    "mixed.example.net": [PUBLIC, "127.0.0.1"],
    "v6private.example.net": ["fd00::1"],
    "mapped.example.net": ["::ffff:169.254.169.254"],
    "cgnat.example.net": ["100.64.12.1"],
}


@pytest.fixture
def resolver(monkeypatch):
    """A DNS that answers from DNS (and counts the questions); addresses answer themselves."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host not in DNS:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in DNS[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


HOSTILE_URLS = [
    "http://127.0.0.1/hooks",
    "http://127.0.0.1:8080/hooks",
    "http://localhost/hooks",
    "http://LOCALHOST./hooks",
    "http://app.localhost/hooks",
    "http://[::1]/hooks",
    "http://[::]/hooks",
    "http://0.0.0.0/hooks",
    "http://2130706433/hooks",
    "http://0x7f000001/hooks",
    "http://017700000001/hooks",
    "http://127.1/hooks",
    "http://0177.0.0.1/hooks",
    "http://10.0.0.5/hooks",
    "http://172.16.3.4/hooks",
    "http://192.168.1.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hooks",
    "http://192.0.0.8/hooks",
    "http://192.0.2.10/hooks",
    "http://198.18.0.1/hooks",
    "http://224.0.0.1/hooks",
    "http://240.0.0.1/hooks",
    "http://255.255.255.255/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://[::ffff:7f00:1]/hooks",
    "http://[::127.0.0.1]/hooks",
    "http://[2002:7f00:1::1]/hooks",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks",
    "http://[64:ff9b::a00:5]/hooks",
    "http://[fe80::1]/hooks",
    "http://[fd00::1]/hooks",
    "http://[ff02::1]/hooks",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://intranet/hooks",
    "http://erp.local/hooks",
    "http://private.example.net/hooks",
    "http://mixed.example.net/hooks",
    "http://v6private.example.net/hooks",
    "http://mapped.example.net/hooks",
    "http://cgnat.example.net/hooks",
    "http://nowhere.example.net/hooks",
    "https://user@erp.example.net/hooks",
    f"https://user:secret@{PUBLIC}/hooks",
    "https://erp.example.net@127.0.0.1/hooks",
    "http://erp.example.net\\@127.0.0.1/hooks",
    "http://erp.example.net:0/hooks",
    "http://erp.example.net:99999/hooks",
    "http://erp.example.net /hooks",
    f"gopher://{PUBLIC}/hooks",
    "file:///etc/passwd",
    "//erp.example.net/hooks",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_is_an_address_off_the_public_internet_refused_when_registered(
    app, monkeypatch, resolver, customer, buyer, url
):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    with acting_as(customer.id, buyer.id), pytest.raises(FieldErrors) as refused:
        webhooks.create_endpoint(customer.id, url=url, events=[DOCUMENT_RECEIVED], actor=buyer)
    (message,) = refused.value.errors["url"]
    assert len(str(message)) > 20
    db.session.rollback()
    assert db.session.scalars(unscoped(select(WebhookEndpoint))).all() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hooks",
        "http://2130706433/hooks",
        "http://[::ffff:7f00:1]/hooks",
        "http://private.example.net/hooks",
        "https://user@erp.example.net/hooks",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_does_the_page_refuse_it_with_a_message_and_store_nothing(
    app, monkeypatch, client, resolver, customer, buyer, url
):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    login(client, buyer, customer)
    response = client.post("/company/webhooks", data={"url": url, "events": [DOCUMENT_RECEIVED]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "whsec_" not in page
    assert any(word in page for word in ("privada", "pública", "usuario", "IPv4", "private"))
    assert db.session.scalars(unscoped(select(WebhookEndpoint))).all() == []


@pytest.mark.parametrize(
    "url",
    ["https://erp.example.net/hooks", f"https://{PUBLIC}:8443/h?x=1", "http://ERP.example.net./"],
)
def test_is_a_public_address_accepted(app, monkeypatch, resolver, customer, buyer, url):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    endpoint, _secret = _endpoint(customer, buyer, url, events=(DOCUMENT_RECEIVED,))
    assert endpoint.id and endpoint.url == url


def _dial_the_erp_instead(monkeypatch, erp) -> list[tuple[str, int]]:
    """Record every address the portal connects to, and connect it to the local ERP instead."""
    dialled: list[tuple[str, int]] = []

    def create_connection(address, timeout=None, *args, **kwargs):
        dialled.append(address)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(erp.server.server_address)  # an address: no lookup
        return sock

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return dialled


def test_does_delivery_connect_to_the_address_it_checked_when_dns_changes_its_answer(
    app, monkeypatch, resolver, erp, supplier, seller, customer, buyer
):
    """DNS rebinding: public when checked, 127.0.0.1 right after. The portal dials what it
    checked and asks DNS nothing more."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    port = erp.server.server_address[1]
    _endpoint(customer, buyer, f"http://erp.example.net:{port}/hooks")
    _send_invoice(supplier, seller, customer)
    answers = iter([[PUBLIC]])  # the delivery's check; any later question gets loopback

    class Rebinding(list):
        def __iter__(self):
            return iter(next(answers, ["127.0.0.1"]))

    monkeypatch.setitem(DNS, "erp.example.net", Rebinding())
    dialled = _dial_the_erp_instead(monkeypatch, erp)
    asked_before = len(resolver)
    assert webhooks.deliver_due(utcnow()).delivered
    assert dialled == [(PUBLIC, port)]
    assert resolver[asked_before:] == ["erp.example.net"]  # one lookup: the one checked
    (request,) = erp.requests
    assert request["headers"]["Host"] == f"erp.example.net:{port}"


def test_is_a_name_that_now_leads_to_a_private_address_not_called(
    app, monkeypatch, resolver, erp, supplier, seller, customer, buyer
):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    _endpoint(customer, buyer, "https://erp.example.net/hooks")
    _send_invoice(supplier, seller, customer)
    monkeypatch.setitem(DNS, "erp.example.net", ["169.254.169.254"])
    dialled = _dial_the_erp_instead(monkeypatch, erp)
    assert webhooks.deliver_due(utcnow()).failed
    (delivery,) = _deliveries()
    assert "169.254.169.254" in delivery.last_error and dialled == []


def _tls_erp(tmp_path, name: str):
    """An HTTPS ERP on 127.0.0.1 whose certificate names name (self-signed); its CA file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "erp.pem", tmp_path / "erp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    erp = Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    erp.server.socket = context.wrap_socket(erp.server.socket, server_side=True)
    return erp, str(cert_file)


@pytest.mark.parametrize(
    ("certificate_name", "delivered"), [("erp.example.net", True), ("other.example.net", False)]
)
def test_does_https_check_the_certificate_against_the_urls_host_while_dialling_the_address(
    app,
    monkeypatch,
    tmp_path,
    resolver,
    supplier,
    seller,
    customer,
    buyer,
    certificate_name,
    delivered,
):
    from app.services import outbound

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)
    erp, ca_file = _tls_erp(tmp_path, certificate_name)
    try:
        monkeypatch.setattr(outbound, "_ca_bundle", lambda: ca_file)
        port = erp.server.server_address[1]
        _endpoint(customer, buyer, f"https://erp.example.net:{port}/hooks")
        _send_invoice(supplier, seller, customer)
        dialled = _dial_the_erp_instead(monkeypatch, erp)
        report = webhooks.deliver_due(utcnow())
        assert dialled == [(PUBLIC, port)]
        (delivery,) = _deliveries()
        if delivered:
            assert report.delivered, delivery.last_error
            assert erp.requests[0]["headers"]["Host"] == f"erp.example.net:{port}"
        else:
            assert report.failed and "certificate" in delivery.last_error.lower()
            assert erp.requests == []
    finally:
        erp.close()


#: IANA's special-purpose ranges that are not globally reachable (IPv4 and IPv6 registries),
#: with multicast, 6to4, Teredo and the deprecated site-local and IPv4-compatible forms.
NOT_GLOBAL = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/29",
    "192.0.0.170/31",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/96",
    "::ffff:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/32",
    "2001:2::/48",
    "2001:db8::/32",
    "2002::/16",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
]


@pytest.mark.parametrize("network", NOT_GLOBAL)
def test_is_every_address_of_a_special_purpose_range_refused(network):
    """Whatever this Python's ipaddress calls global, none of these is ever dialled."""
    from app.services import outbound

    block = ipaddress.ip_network(network)
    for address in (block[0], block[1] if block.num_addresses > 1 else block[0], block[-1]):
        assert not outbound.is_public(address), address
        if not address.is_loopback:  # the development setting allows only loopback
            assert not outbound.is_public(address, allow_loopback=True), address


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808"]
)
def test_is_a_public_unicast_address_allowed(address):
    from app.services import outbound

    assert outbound.is_public(ipaddress.ip_address(address))
