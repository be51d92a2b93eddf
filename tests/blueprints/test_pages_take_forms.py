"""Every page that takes a POST takes a form: a JSON body is refused with a message, never a 500.

Flask-WTF reads a JSON body as the form's data, and a list, a number or a string there broke
every form with a TypeError. Only the API (/api/v1) takes JSON.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import login

BODIES = ["[1, 2]", '"text"', "3", "null", '{"email": {"x": 1}}', '{"csrf_token": [1]}', "{broken"]


def _post_paths(app) -> list[str]:
    """One concrete path per POST rule outside the API (integer arguments as 1, others as x).

    The gateways' webhooks take JSON by design (tests/services/payments/test_*_flow.py)."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        if rule.endpoint == "gateway_webhooks.receive":
            continue
        path = re.sub(r"<int:[^>]+>", "1", rule.rule)
        paths.add(re.sub(r"<[^>]+>", "x", path))
    return sorted(paths)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "owner"])
def test_is_a_json_body_refused_on_every_page_with_a_message(app, client, company, owner,
                                                             signed_in):
    if signed_in:
        login(client, owner, company)
    paths = _post_paths(app)
    assert len(paths) > 20  # the walk found the app's forms
    for path in paths:
        for body in BODIES:
            response = client.post(path, data=body, content_type="application/json")
            assert response.status_code == 415, (path, body, response.status_code)
            assert "no JSON" in response.get_data(as_text=True) or "not JSON" in (
                response.get_data(as_text=True)
            ), path


def test_does_a_form_still_post_as_a_form(client, company, owner):
    response = client.post("/auth/login", data={"email": owner.email, "password": "wrong"})
    assert response.status_code in (200, 422)
