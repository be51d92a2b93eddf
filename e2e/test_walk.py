"""Every GET page, as every role, at a laptop's and a phone's size: fits, no console error, and
axe-core finds nothing serious (issue #12, "Accessible").

The pages are the URL map's GET rules (e2e/walk_data.py routes), not a list: a new page is walked
as soon as it exists. Only the rules in SKIP are left out, each with its reason. URL parameters
are filled from the demo data (e2e/walk_data.py setup): a member of Distribuidora Andina for each
role (made through the team service), and El Tornillo's owner for the supplier's side.

Per page, role and viewport (one test each, named page-role-viewport):
- an answer of 403 or 404 is recorded (the role may not see it, the company has no such thing)
  and nothing else is checked; any other error status fails;
- the document is no wider than the viewport (scrollWidth <= innerWidth + 1 px);
- no console error, no uncaught exception and no Content-Security-Policy violation;
- axe-core, once per page and viewport (the first role that sees the page, the owner first),
  reports no violation of impact serious or critical.

`pytest e2e/test_walk.py -s` prints the table page x viewport at the end.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, TIMEOUT_MS, _server_env
from playwright.sync_api import Browser, Error, Page, expect

HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe-core-4.14.1.min.js"
DEMO_PASSWORD = "demo-pass-2026"
VIEWPORTS = {"1366x768": (1366, 768), "390x844": (390, 844)}
SERIOUS = ("serious", "critical")

# Left out of the walk, by endpoint (or blueprint prefix ending in "."), with the reason.
SKIP = {
    "static": "files, not pages",
    "api.": "the ERP's JSON API, bearer tokens (tests/api)",
    "dev.": "the development outbox (only under APP_ENV=development)",
    "main.healthz": "JSON for load balancers",
    "main.favicon": "the icon browsers ask for on their own (an SVG file)",
    "audit.export_csv": "a file download",
    "audit.export_xlsx": "a file download",
    "inbox.received_csv": "a file download",
    "inbox.received_xlsx": "a file download",
    "inbox.sent_csv": "a file download",
    "inbox.sent_xlsx": "a file download",
    "documents.xml": "a file download",
    "documents.pdf": "a file download",
    "documents.download_zip": "a file download",
    "documents.event_xml": "a file download",
    "documents.attachment": "a file download",
    "documents.quarantine_download": "a file download",
    "disputes.transcript": "a PDF download",
    "payments.proof": "a file download",
    "payments.receipt": "a PDF download",
    "payments.payment_return_receipt": "a PDF download",
    "payments.received_csv": "a file download",
    "payments.received_xlsx": "a file download",
    "payments.made_csv": "a file download",
    "payments.made_xlsx": "a file download",
    "catalog.export": "a file download",
    "catalog.catalogue": "a file download (the Peppol catalogue)",
    "catalog.image": "a picture",
    "orders.document": "a file download (the order's UBL)",
    "auth.confirm": "opening it confirms an address (an action), then redirects",
    "documents.pdf_review": "its token is made by POSTing a PDF (covered by test_inbox.py)",
}

# Who walks: the role's name in the test id, and the e-mail it signs in with (None: nobody).
# The owner walks first, so axe runs on what an owner sees wherever an owner may look.
ACTORS = {
    "owner": "buyer@demo.test",
    "admin": "walk-admin@demo.test",
    "payables": "walk-payables@demo.test",
    "receivables": "walk-receivables@demo.test",
    "sales": "walk-sales@demo.test",
    "viewer": "walk-viewer@demo.test",
    "supplier-owner": "supplier@demo.test",  # El Tornillo: what it sent, its issuing pages
    "anonymous": None,
}
COMPANY = {"supplier-owner": "tornillo"}  # everyone else acts for Distribuidora Andina

# Set before any page script runs (init scripts are not subject to the page's CSP).
LISTEN_CSP = """
window.__walkCsp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__walkCsp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
    + ` at ${e.sourceFile || ''}:${e.lineNumber || ''}`);
});
"""
HTMX_SETTLED = (
    "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"
)
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ')),
  }));
}"""
PARAMETER = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


def _routes() -> list[dict[str, object]]:
    """The app's GET rules, read in a child process (the test process holds no app)."""
    env = _server_env(Path("/nonexistent-walk-instance"), 0)
    env.update(JOBS_IN_PROCESS="0", SECRET_KEY="walk-routes-only")  # noqa: S106
    env.pop("DATABASE_URL", None)  # nothing is read: keep CI's database out of it
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(HERE / "walk_data.py"), "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)


def _skipped(endpoint: str) -> bool:
    return any(endpoint == k or (k.endswith(".") and endpoint.startswith(k)) for k in SKIP)


ROUTES = [r for r in _routes() if not _skipped(str(r["endpoint"]))]
CASES = [
    pytest.param(route, actor, viewport, id=f"{route['rule']}-{actor}-{viewport}")
    for actor in ACTORS
    for viewport in VIEWPORTS
    for route in ROUTES
]


@dataclass
class Walk:
    """What the walk found, for the summary table."""

    data: dict
    pages: dict[str, Page] = field(default_factory=dict)
    console: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    outcome: dict[tuple[str, str], dict[str, str]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    width: dict[tuple[str, str], int] = field(default_factory=dict)
    axe: dict[tuple[str, str, str], int] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def walk(server, browser: Browser) -> Iterator[Walk]:
    """The members and ids the URLs need; one signed-in page per role, kept for the module."""
    env = _server_env(Path(str(server["instance"])), 0)
    env["JOBS_IN_PROCESS"] = "0"
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(HERE / "walk_data.py"), "setup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"walk_data.py setup failed:\n{result.stderr[-4000:]}")
    state = Walk(data=json.loads(result.stdout))
    try:
        yield state
    finally:
        for page in state.pages.values():
            page.context.close()
        _print_summary(state)


def _page_for(walk: Walk, browser: Browser, base_url: str, actor: str) -> Page:
    """The actor's page: a browser context of its own, signed in on first use."""
    if actor in walk.pages:
        return walk.pages[actor]
    context = browser.new_context(base_url=base_url, locale="es-CO")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(LISTEN_CSP)
    page = context.new_page()
    messages = walk.console[actor]

    def on_console(message) -> None:
        if message.type == "error":
            location = message.location.get("url", "")
            messages.append(f"console: {message.text} ({location})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: messages.append(f"exception: {error}"))
    email = ACTORS[actor]
    if email is not None:
        password = walk.data["password"] if email.startswith("walk-") else DEMO_PASSWORD
        page.goto("/auth/login")
        page.locator("#login-form #email").fill(email)
        page.locator("#login-form #password").fill(password)
        page.locator("#login-form [type=submit]").click()
        expect(page.locator("#login-form")).to_have_count(0)
    walk.pages[actor] = page
    return page


def _url(route: dict, actor: str, walk: Walk) -> str | None:
    """The rule with its parameters filled for the actor's company, or None if it has none."""
    endpoint = str(route["endpoint"])
    company = walk.data["companies"][COMPANY.get(actor, "andina")]
    values: dict[str, object] = dict(company)
    if endpoint.startswith("issuing."):  # notes are issued on what the company sent
        values["document_id"] = company["sent_document_id"] or company["document_id"]
    values.update({"token": walk.data["tokens"].get(endpoint)})
    missing = []

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            missing.append(match.group(1))
            return ""
        return str(value)

    url = PARAMETER.sub(fill, str(route["rule"]))
    return None if missing else url


@pytest.mark.parametrize(("route", "actor", "viewport"), CASES)
def test_page_fits_is_quiet_and_accessible(
    route, actor, viewport, walk: Walk, browser: Browser, base_url: str
):
    key = (str(route["rule"]), viewport)
    url = _url(route, actor, walk)
    if url is None:
        walk.outcome[key][actor] = "no data"
        pytest.skip(f"the demo data has nothing for {route['rule']} as {actor}")
    page = _page_for(walk, browser, base_url, actor)
    width, height = VIEWPORTS[viewport]
    if page.viewport_size != {"width": width, "height": height}:
        page.set_viewport_size({"width": width, "height": height})
    messages = walk.console[actor]
    messages.clear()
    try:
        response = page.goto(url, wait_until="load")
    except Error as error:
        pytest.fail(f"{url} is not a page ({error.message.splitlines()[0]}): add it to SKIP")
    assert response is not None
    status = response.status
    if status in (403, 404):
        walk.outcome[key][actor] = str(status)
        return
    # 304: the browser shows the page it kept (the trays answer repeat views so).
    assert status < 400, f"{url} as {actor} answered {status}"
    redirected = page.url.split("?")[0] != base_url + url.split("?")[0]
    if redirected and actor == "anonymous" and "/auth/login" in page.url:
        walk.outcome[key][actor] = "login"
        return
    kind = page.evaluate("[document.contentType, document.doctype !== null]")
    if kind[0] != "text/html":
        pytest.fail(f"{url} answered {kind[0]}: add it to SKIP")
    if not kind[1]:
        # An htmx fragment opened by hand, with no layout (the pages that load it are walked).
        walk.outcome[key][actor] = "frag"
        return
    page.wait_for_function(HTMX_SETTLED)
    walk.outcome[key][actor] = "→" if redirected else "ok"
    if redirected:
        walk.redirects[key[0]] = page.url.removeprefix(base_url)

    axe_key = (*key, "anonymous" if actor == "anonymous" else "member")
    problems, overflow, serious = _check(
        page, messages, axe=axe_key not in walk.axe and not redirected
    )
    walk.width[key] = max(walk.width.get(key, 0), overflow)
    if serious is not None:
        walk.axe[axe_key] = serious
    assert not problems, f"{url} as {actor} at {viewport}:\n  " + "\n  ".join(problems)


def _check(page: Page, messages: list[str], *, axe: bool) -> tuple[list[str], int, int | None]:
    """What is wrong with the page as it stands: (problems, overflow in px, axe's count)."""
    problems = []
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner + 1:
        wide = page.evaluate(WIDEST, inner)
        problems.append(f"{scroll - inner} px wider than the viewport ({inner} px): {wide}")
    problems += [f"CSP: {line}" for line in page.evaluate("window.__walkCsp || []")]
    problems += list(messages)
    serious = None
    if axe:
        found = [v for v in _axe(page) if v["impact"] in SERIOUS]
        serious = len(found)
        problems += [
            f"axe {v['impact']} {v['id']} ({v['help']}): {'; '.join(v['targets'])}" for v in found
        ]
    return problems, scroll - inner, serious


def test_the_walk_sees_overflow_console_errors_csp_violations_and_axe_findings(
    walk: Walk, browser: Browser, base_url: str
):
    """The checks themselves: a page given each fault is reported with each, a clean one not."""
    page = _page_for(walk, browser, base_url, "anonymous")
    page.set_viewport_size({"width": 390, "height": 844})
    messages = walk.console["anonymous"]
    messages.clear()
    page.goto("/auth/login")
    page.wait_for_function(HTMX_SETTLED)
    assert _check(page, messages, axe=True)[0] == []
    page.evaluate(
        """() => {
          const wide = document.createElement('div');
          wide.id = 'walk-probe-wide';
          wide.style.width = '900px';  // CSSOM, which the CSP allows
          wide.textContent = 'x';
          document.querySelector('main').append(wide);
          const script = document.createElement('script');
          script.textContent = 'window.walkProbe = 1';  // inline: the CSP blocks it
          document.body.append(script);
          const image = document.createElement('img');
          image.src = '/static/none.png';  // no alt: axe's image-alt (critical)
          document.querySelector('main').append(image);
          console.error('walk-probe');
        }"""
    )
    page.wait_for_timeout(300)  # the violation event and the failed image arrive async
    problems = "\n".join(_check(page, messages, axe=True)[0])
    assert (
        "px wider than the viewport (390 px): main#main.container div#walk-probe-wide" in problems
    )
    assert "CSP: script-src" in problems
    assert "console: walk-probe" in problems
    assert "axe critical image-alt" in problems
    messages.clear()


# The outermost elements that stick out past the right edge (what made the page too wide):
# those whose parent does not reach the page's edge itself, being narrower or clipped by a
# scrolling box. An absolutely positioned element escapes the scrolling boxes between it and
# its positioned ancestor, as the browser lays it out.
WIDEST = """(inner) => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const clipped = (el) => {
    let free = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (free && style.position === 'static') continue;
      if (style.overflowX !== 'visible') return true;
      free = ['absolute', 'fixed'].includes(style.position);
    }
    return false;
  };
  const reaches = (el) => el !== document.body && el.getBoundingClientRect().right > inner + 1
    && el.getBoundingClientRect().width > 0 && el.checkVisibility({visibilityProperty: true})
    && !clipped(el);
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (reaches(el) && !reaches(el.parentElement)) {
      const holder = el.parentElement.closest('[id]');
      const right = Math.round(el.getBoundingClientRect().right);
      out.push(`${holder ? name(holder) + ' ' : ''}${name(el)} (right ${right})`);
      if (out.length >= 5) break;
    }
  }
  return out.join(', ') || 'no single element';
}"""


def _axe(page: Page) -> list[dict]:
    """Run axe-core on the page as it stands, after load and htmx.

    The page's CSP (script-src 'self') blocks a <script> tag with inline text, so
    page.add_script_tag is not used: the file's text is evaluated through the DevTools
    protocol, which the CSP does not govern. The context keeps bypass_csp off, so the walk
    still sees every violation the page itself causes.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(AXE_RUN)


def _print_summary(walk: Walk) -> None:
    """Page x viewport: what each role got, the overflow in px, axe's serious+critical count."""
    if not walk.outcome:
        return
    roles = list(ACTORS)
    print("\n\nPage walk (issue #12): statuses per role, overflow px, axe serious/critical")
    header = ["page", "viewport", *(r[:5] for r in roles), "over px", "axe", "anon axe"]
    rows = [header]
    for (rule, viewport), by_role in sorted(walk.outcome.items()):
        over = walk.width.get((rule, viewport))
        axe = walk.axe.get((rule, viewport, "member"))
        anon = walk.axe.get((rule, viewport, "anonymous"))
        rows.append(
            [
                rule,
                viewport,
                *(by_role.get(r, "") for r in roles),
                "" if over is None else str(max(over, 0)),
                "-" if axe is None else str(axe),
                "-" if anon is None else str(anon),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print("ok: 200 · →: redirected (not axed; its target is walked) · frag: an htmx fragment ·")
    print("login: sent to sign in · 403/404: not for this role/company · no data: nothing to open")
    for rule, target in sorted(walk.redirects.items()):
        print(f"  {rule} → {target}")
    print("\nskipped:", ", ".join(f"{k} ({v})" for k, v in SKIP.items()))
