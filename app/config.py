"""Settings from the environment, one class per profile."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance")).resolve()


def _secret_key(instance_dir: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once into the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def shared_data_dir() -> Path:
    """Return where the third-party data checkout lives: ``SHARED_DATA_DIR``, else
    ``../shared/data`` beside the project (development and tests; a user's clone has none)."""
    return Path(os.environ.get("SHARED_DATA_DIR") or BASE_DIR.parent / "shared" / "data")


def _code_lists_dir(rules_dir: str) -> str:
    """Return DIAN's listas-de-valores folder: the environment's, the rules folder's, or the
    shared data checkout (``shared_data_dir``), else ""."""
    if os.environ.get("DIAN_CODE_LISTS_DIR"):
        return os.environ["DIAN_CODE_LISTS_DIR"]
    subdir = "dian/caja-herramientas-v1.9/listas-de-valores"
    for root in (Path(rules_dir) if rules_dir else None, shared_data_dir()):
        if root is not None and (root / subdir).is_dir():
            return str(root / subdir)
    return ""


def _database_url(instance_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        instance_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_dir / 'portal.db'}"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# A made-up software for DIAN's test environment (development and tests): the events it writes
# are well formed and signed, and mean nothing to DIAN.
TEST_DIAN_SOFTWARE = {
    "id": "56f2ae4e-9812-4fad-9255-08fcfcd5ccb0",
    "pin": "12345",
    "provider_nit": "900373076",
}


class Config:
    ENV_NAME = "production"
    DEBUG = False
    TESTING = False
    INSTANCE_DIR = INSTANCE_DIR
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 25 * 1024 * 1024))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    BABEL_DEFAULT_LOCALE = "es"
    BABEL_DEFAULT_TIMEZONE = "America/Bogota"
    LANGUAGES = ("es", "en")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    EMAIL_TOKEN_MAX_AGE = 3 * 24 * 3600
    RESET_TOKEN_MAX_AGE = 2 * 3600
    INVITATION_MAX_AGE = 14 * 24 * 3600
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 587))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Portal <no-reply@portal.local>")
    PARTNER_CSV_MAX_ROWS = 1000
    EMAIL_ALLOW_TEST_DOMAINS = False
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    # Chat: messages per user (over HTTP, and over the socket) and sockets per client address
    # per server process (offices behind one NAT share an address: keep it generous).
    CHAT_RATE_LIMIT = os.environ.get("CHAT_RATE_LIMIT", "30 per minute")
    # Posts of a public pay link's form, per address (each one opens a checkout).
    PAY_LINK_RATE_LIMIT = os.environ.get("PAY_LINK_RATE_LIMIT", "10 per minute;60 per hour")
    SOCKET_MAX_CONNECTIONS_PER_IP = int(os.environ.get("SOCKET_MAX_CONNECTIONS_PER_IP", 200))
    # Seconds between each process's re-check of its open sockets' access (a sign-out signal a
    # Redis outage lost, a change made outside the services); 0 turns the re-check off.
    SOCKET_ACCESS_RECHECK = float(os.environ.get("SOCKET_ACCESS_RECHECK", 30))
    # Webhook endpoints must be on the public internet: a URL whose host is (or resolves to) a
    # loopback, private, link-local, CGNAT, reserved or multicast address is refused when it
    # is registered and again at each delivery (app/services/outbound.py). For local testing
    # only, "1" allows loopback (127.0.0.0/8, ::1, localhost); never set it in production.
    WEBHOOK_ALLOW_LOOPBACK = os.environ.get("WEBHOOK_ALLOW_LOOPBACK") == "1"
    # The access audit: record every view and download of a document ("0" turns off only
    # those, for the benchmark's comparison; every other audit event is always recorded).
    AUDIT_ACCESS_EVENTS = os.environ.get("AUDIT_ACCESS_EVENTS", "1") == "1"
    # Production must name its own DIAN software: without it, no event can be written.
    DEMO_SOFTWARE: dict[str, str] = {"id": "", "pin": "", "provider_nit": ""}
    # The job queue (app/jobs/): Huey on Redis with REDIS_URL, else on instance/jobs.db.
    # JOBS_IMMEDIATE runs each task at once where it is enqueued (tests). JOBS_IN_PROCESS runs
    # a consumer (JOBS_WORKERS threads) inside the web process: on in development so that
    # `make run` does everything; production runs `flask --app wsgi jobs worker` beside it.
    JOBS_IMMEDIATE = False
    JOBS_IN_PROCESS = os.environ.get("JOBS_IN_PROCESS", "0") == "1"
    JOBS_WORKERS = int(os.environ.get("JOBS_WORKERS", 4))
    # How long a claimed job (a webhook delivery, a PDF extraction) is left to its worker
    # before the sweep hands it to another: a worker killed mid-task loses nothing.
    JOBS_LEASE_SECONDS = float(os.environ.get("JOBS_LEASE_SECONDS", 120))
    # Processes a large reconciliation run ranks its bank lines in (forked from the worker
    # that runs it, sharing its indexes; fewer than 5,000 lines a process never fork).
    RECONCILIATION_WORKERS = int(
        os.environ.get("RECONCILIATION_WORKERS", min(4, os.cpu_count() or 1))
    )

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key(self.INSTANCE_DIR)
        self.DATABASE_URL = _database_url(self.INSTANCE_DIR)
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # Redis down: count in memory meanwhile rather than fail every limited request.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.SOCKETIO_MESSAGE_QUEUE = self.REDIS_URL or None
        self.MAIL_DIR = Path(os.environ.get("MAIL_DIR", self.INSTANCE_DIR / "mail"))
        # The official XSD and rule sets (make rules); unset, the engine says they were skipped.
        self.EINVOICE_RULES_DIR = os.environ.get("EINVOICE_RULES_DIR", "")
        # DIAN's code lists (municipalities, responsibilities…) the fiscal profile is checked
        # against; unset, a few constants stand in and municipalities are checked by format.
        self.DIAN_CODE_LISTS_DIR = _code_lists_dir(self.EINVOICE_RULES_DIR)
        # The portal's own DIAN software (it writes the DIAN events): environment 1 production,
        # 2 test; id, PIN and provider NIT as DIAN registered them.
        self.DIAN_ENVIRONMENT = os.environ.get("DIAN_ENVIRONMENT", "2")
        self.DIAN_SOFTWARE_ID = os.environ.get("DIAN_SOFTWARE_ID", self.DEMO_SOFTWARE["id"])
        self.DIAN_SOFTWARE_PIN = os.environ.get("DIAN_SOFTWARE_PIN", self.DEMO_SOFTWARE["pin"])
        self.DIAN_SOFTWARE_PROVIDER_NIT = os.environ.get(
            "DIAN_SOFTWARE_PROVIDER_NIT", self.DEMO_SOFTWARE["provider_nit"]
        )


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    JOBS_IN_PROCESS = os.environ.get("JOBS_IN_PROCESS", "1") == "1"
    EMAIL_ALLOW_TEST_DOMAINS = True
    DEMO_SOFTWARE = TEST_DIAN_SOFTWARE
    DEBUG = os.environ.get("FLASK_DEBUG", "0") == "1"


class TestConfig(Config):
    ENV_NAME = "test"
    EMAIL_ALLOW_TEST_DOMAINS = True
    DEMO_SOFTWARE = TEST_DIAN_SOFTWARE
    TESTING = True
    JOBS_IMMEDIATE = True
    JOBS_IN_PROCESS = False
    WTF_CSRF_ENABLED = False
    LOGIN_RATE_LIMIT = "5 per minute"

    def __init__(self) -> None:
        super().__init__()
        # Test clients that never disconnect would add up across the suite; one test sets it.
        self.SOCKET_MAX_CONNECTIONS_PER_IP = 100_000
        # Tests run the re-check themselves (a background pass could close a test's socket).
        self.SOCKET_ACCESS_RECHECK = 0.0
        self.SECRET_KEY = "test-secret-key"  # noqa: S105 (tests only)
        # Flask-SocketIO's test client cannot run over a message queue; the Redis fan-out is
        # tested with real server processes instead (tests/realtime/test_redis_fanout.py).
        self.SOCKETIO_MESSAGE_QUEUE = None


class ProductionConfig(Config):
    ENV_NAME = "production"


PROFILES = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the settings of the named profile (APP_ENV, default development)."""
    name = name or os.environ.get("APP_ENV", "development")
    try:
        return PROFILES[name]()
    except KeyError:
        raise SystemExit(f"APP_ENV must be one of {', '.join(PROFILES)}, not {name!r}") from None
