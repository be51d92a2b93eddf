"""Caching and server headers: nothing a signed-in user saw is kept by a shared cache; no versions.

Every page and fragment a signed-in user can open, every API answer (errors and token failures
too) and every page that carries a CSRF token answers ``Cache-Control: no-store``, except the
Inbox's trays, which answer ``private, no-cache`` with an ETag (no shared cache keeps them, the
browser asks before each reuse: app/web/conditional.py); static files keep their caching; no
answer names the server software with a version, not even Werkzeug's development server that
``make run`` uses.
"""

from __future__ import annotations

import http.client
import io
import re
import threading
from pathlib import Path

import pytest
from flask import Response
from werkzeug.serving import make_server

from app.web.headers import QuietRequestHandler
from tests.conftest import bearer, login, make_api_token
from tests.test_tenancy import TOKEN_ROUTES, foreign_rows  # noqa: F401 (a fixture)

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"


def assert_no_store(response, what: str) -> None:
    cache = response.headers.get("Cache-Control", "")
    assert "no-store" in [part.strip() for part in cache.lower().split(",")], (
        f"{what} answered {response.status_code} with Cache-Control {cache!r}"
    )
    assert "public" not in cache.lower() and "max-age" not in cache.lower(), (what, cache)
    assert_no_server_version(response.headers.get("Server"), what)


#: Pages kept by the browser alone and revalidated on every view (app.web.conditional).
REVALIDATED = {"/inbox/received", "/inbox/sent"}


def assert_private_revalidated(response, what: str) -> None:
    cache = [part.strip() for part in response.headers.get("Cache-Control", "").lower().split(",")]
    assert cache == ["private", "no-cache"], (what, cache)
    assert response.headers.get("ETag", "").startswith('W/"'), what
    assert_no_server_version(response.headers.get("Server"), what)


def assert_no_server_version(server: str | None, what: str) -> None:
    assert server is None or not re.search(r"\d|werkzeug|python", server, re.I), (what, server)


def _walk(app, client, rows, *, api: bool, headers=None):
    """Yield (url, response) for every GET route (with our rows for its ids)."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/") != api:
            continue
        if rule.endpoint in TOKEN_ROUTES:
            values = {name: "not-a-valid-token" for name in rule.arguments}
        else:
            values = {name: rows[name] for name in rule.arguments}
        url = rule.build(values)[1]
        yield url, client.get(url, headers=headers or {})
        if not api:
            yield f"{url} (htmx)", client.get(url, headers={"HX-Request": "true"})


def test_is_every_page_a_signed_in_user_can_open_kept_out_of_caches(
    app,
    client,
    other_company,
    outsider,
    foreign_rows,  # noqa: F811
):
    """Walk every GET route as a signed-in owner (with their own rows): no-store on each."""
    login(client, outsider, other_company)
    statuses = []
    for url, response in _walk(app, client, foreign_rows, api=False):
        if url.split(" ")[0] in REVALIDATED and response.status_code == 200:
            assert_private_revalidated(response, f"GET {url}")
        else:
            assert_no_store(response, f"GET {url}")
        statuses.append(response.status_code)
    assert statuses.count(200) >= 30, statuses  # real pages, not only refusals


def test_is_every_api_answer_kept_out_of_caches(
    app,
    client,
    other_company,
    foreign_rows,  # noqa: F811
):
    """Every API GET with a token, and the API's refusals and errors: no-store."""
    _token, plaintext = make_api_token(other_company)
    statuses = []
    for url, response in _walk(app, client, foreign_rows, api=True, headers=bearer(plaintext)):
        assert_no_store(response, f"GET {url}")
        statuses.append(response.status_code)
        # Without a token, or with a wrong one: the 401 too.
        assert_no_store(client.get(url), f"GET {url} without a token")
        assert_no_store(
            client.get(url, headers=bearer("pt_wrong-token")), f"GET {url} with a wrong token"
        )
    assert statuses.count(200) >= 5, statuses


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/v1/documents", {"data": b"not xml", "content_type": "application/xml"}),
        ("POST", "/api/v1/documents", {"data": {"file": (b"<x/>", "a.xml")}}),
        ("POST", "/api/v1/documents/999999/events", {"json": {"code": "033"}}),
        ("POST", "/api/v1/documents/1/events", {"json": {"code": ["accept"]}}),
        ("GET", "/api/v1/no-such-thing", {}),
        ("DELETE", "/api/v1/documents", {}),
        ("GET", "/api/v1/documents?limit=banana", {}),
    ],
)
def test_are_api_posts_and_errors_kept_out_of_caches(app, client, company, method, path, kwargs):
    """POSTs, 404s, 405s and 422s of the API: no-store, with a token and without."""
    _token, plaintext = make_api_token(company)

    def send(**headers):
        fresh = dict(kwargs)
        if isinstance(fresh.get("data"), dict):  # a file part can be read once
            fresh["data"] = {k: (io.BytesIO(v[0]), v[1]) for k, v in fresh["data"].items()}
        return client.open(path, method=method, headers=headers, **fresh)

    assert_no_store(send(**bearer(plaintext)), f"{method} {path}")
    assert_no_store(send(), f"{method} {path} without a token")


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/register", "/auth/forgot", "/", "/no-such-page"]
)
def test_are_public_pages_with_a_csrf_token_kept_out_of_caches(client, path):
    """The sign-in page (and every page that carries a CSRF token) is not kept either."""
    assert_no_store(client.get(path), path)


def test_are_signed_in_posts_and_their_redirects_kept_out_of_caches(client, company, owner):
    """A POST's answer (a redirect, a 422 form) is not kept either."""
    login(client, owner, company)
    assert_no_store(client.post("/auth/password", data={}), "POST /auth/password")
    assert_no_store(client.post("/network/connect", data={}), "POST /network/connect")


def test_do_static_files_keep_their_caching(client):
    """Static files are the same for everyone: they may be cached (no no-store)."""
    css = next(p for p in STATIC.rglob("*.css"))
    response = client.get("/static/" + css.relative_to(STATIC).as_posix())
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_does_the_app_never_send_a_server_header(app, client):
    """No answer of the app has a Server header; one a view sets is dropped on the way out."""
    assert "Server" not in client.get("/auth/login").headers
    with app.test_request_context("/auth/login"):
        response = app.process_response(
            Response("x", headers={"Server": "Werkzeug/3.1.8 Python/3.11.7"})
        )
    assert "Server" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_does_the_development_server_name_no_version(app):
    """``make run`` serves through Werkzeug: its answers carry no ``Server: Werkzeug/x``."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in ("/auth/login", "/no-such-page", "/api/v1/documents"):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", path, headers={"Host": "portal.test"})
            answer = connection.getresponse()
            answer.read()
            connection.close()
            assert answer.getheader("Server") is None, (path, answer.getheader("Server"))
            assert "no-store" in (answer.getheader("Cache-Control") or ""), path
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_does_wsgi_py_run_the_quiet_handler():
    """The entry point ``make run`` uses passes the handler to the server it starts."""
    source = (Path(__file__).resolve().parents[1] / "wsgi.py").read_text()
    assert "request_handler=QuietRequestHandler" in source
