"""Configuration classes, read from the environment when the app is created.

Names are a stable interface (see README): DATABASE_URL, REDIS_URL, SECRET_KEY,
FLIGHTDECK_ENCRYPTION_KEY, FLIGHTDECK_BASE_URL, META_GRAPH_URL, META_API_VERSION, META_APP_SECRET.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the requested configuration."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def normalise_database_url(url: str) -> str:
    """Let people write postgres:// or postgresql:// and still get psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check_base_url(url: str, require_https: bool) -> str | None:
    """The problem with a configured FLIGHTDECK_BASE_URL, or None when it is usable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "FLIGHTDECK_BASE_URL must be a full URL like https://flightdeck.example.com."
    if parts.username or parts.password or parts.query or parts.fragment:
        return "FLIGHTDECK_BASE_URL must hold no user name, password, query or fragment."
    if require_https and parts.scheme != "https":
        return "FLIGHTDECK_BASE_URL must start with https:// in production."
    return None


class Config:
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL: str | None = None
    RQ_QUEUES = ("high", "default", "low")
    FLIGHTDECK_ENCRYPTION_KEY: str | None = None
    # Where people reach Flightdeck (invitation links, e-mails); never taken from the request.
    FLIGHTDECK_BASE_URL: str | None = None
    META_GRAPH_URL = "https://graph.facebook.com"
    META_API_VERSION = "v26.0"
    META_APP_SECRET: str | None = None
    META_TIMEOUT = 60.0
    META_POLL_INTERVAL = 5.0  # seconds between async report status polls
    # Rows per insights page (and per commit); "too much data" answers halve it where needed.
    # 1,000 measured no faster here (less overlap between fetching and storing) and held more.
    META_PAGE_SIZE = 500
    # A sync whose run row's heartbeat is older than this is dead, whatever Redis says.
    SYNC_STALE_SECONDS = 60
    SYNC_RETRY_BASE_SECONDS = 60  # a failed attempt's back-off: doubling from this to an hour
    SYNC_CLI_RETRY_BASE_SECONDS = 5  # the same for `ads sync` waiting in the terminal
    # Without Redis, jobs run on this many threads of the web process ("inline": in the request).
    JOBS_EMBEDDED = "thread"
    JOBS_EMBEDDED_WORKERS = 2
    # Outages (core/errors.py, core/worker.py): how long clients are told to wait, how long a
    # connection attempt may take, and how the worker rides out a Redis outage.
    RETRY_AFTER_SECONDS = 30
    DATABASE_CONNECT_TIMEOUT = 5
    REDIS_CONNECT_TIMEOUT = 5.0
    WORKER_MAX_BACKOFF_SECONDS = 60.0  # longest wait between reconnection attempts
    WORKER_RECONCILE_SECONDS = 300.0  # how often the worker runs the registered reconcilers
    WORKER_MONITOR_SECONDS = 30  # how often a running job's heartbeat is written (RQ's default)

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 14
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    # Uploads (imports) are streamed to UPLOAD_DIR (default instance/uploads) and read back as
    # streams; see core/uploads.py. A request may carry the file plus a little form.
    UPLOAD_DIR: str | None = None
    UPLOAD_MAX_BYTES = 256 * 1024 * 1024
    UPLOAD_MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
    UPLOAD_MAX_ZIP_RATIO = 100
    UPLOAD_MAX_LINE_CHARS = 1024 * 1024
    IMPORT_MAX_ROWS = 2_000_000  # ad platform CSV exports
    ROSTER_MAX_ROWS = 100_000
    ORDERS_MAX_ROWS = 200_000  # orders and deliverable metrics
    IMPORT_STALE_SECONDS = 1800  # a running import this long without a heartbeat was killed
    MAX_CONTENT_LENGTH = UPLOAD_MAX_BYTES + 1024 * 1024

    # Sign-in throttling (core/auth/throttle.py), per account + address pair: the first
    # LOGIN_FREE_FAILURES cost nothing, then each failure doubles the pair's wait from
    # LOGIN_FIRST_DELAY_SECONDS up to LOGIN_MAX_DELAY_SECONDS. Past a ceiling (failures within
    # the window from one address, or on one account from anywhere) a pair's first failure
    # costs the longest wait. Nothing ever delays a pair that has not failed.
    LOGIN_FREE_FAILURES = 3
    LOGIN_FIRST_DELAY_SECONDS = 5
    LOGIN_MAX_DELAY_SECONDS = 15 * 60
    LOGIN_WINDOW_SECONDS = 60 * 60
    LOGIN_ADDRESS_CEILING = 100
    LOGIN_ACCOUNT_CEILING = 30
    # Off: a deactivated account's right password gets "incorrect" like a wrong one (no oracle).
    LOGIN_TELL_DEACTIVATED = False
    # Argon2id at OWASP's recommended minimum (m=19 MiB, t=2, p=1).
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 19 * 1024
    ARGON2_PARALLELISM = 1

    PAGE_SIZE = 20
    DEMO_PASSWORD = "flightdeck-demo"  # noqa: S105 - documented demo password

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY", self.SECRET_KEY)
        url = _env("DATABASE_URL", self.default_database_url())
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(url or "")
        self.REDIS_URL = _env("REDIS_URL", self.REDIS_URL)
        self.FLIGHTDECK_ENCRYPTION_KEY = _env(
            "FLIGHTDECK_ENCRYPTION_KEY", self.FLIGHTDECK_ENCRYPTION_KEY
        )
        self.FLIGHTDECK_BASE_URL = _env("FLIGHTDECK_BASE_URL", self.FLIGHTDECK_BASE_URL)
        self.META_GRAPH_URL = _env("META_GRAPH_URL", self.META_GRAPH_URL)
        self.META_API_VERSION = _env("META_API_VERSION", self.META_API_VERSION)
        self.META_APP_SECRET = _env("META_APP_SECRET", self.META_APP_SECRET)
        self.META_TIMEOUT = float(_env("META_TIMEOUT", str(self.META_TIMEOUT)))
        self.META_POLL_INTERVAL = float(_env("META_POLL_INTERVAL", str(self.META_POLL_INTERVAL)))
        self.META_PAGE_SIZE = int(_env("META_PAGE_SIZE", str(self.META_PAGE_SIZE)))
        for name in ("SYNC_STALE_SECONDS", "SYNC_RETRY_BASE_SECONDS", "JOBS_EMBEDDED_WORKERS"):
            setattr(self, name, int(_env(name, str(getattr(self, name)))))
        self.JOBS_EMBEDDED = _env("JOBS_EMBEDDED", self.JOBS_EMBEDDED)
        for name in (
            "RETRY_AFTER_SECONDS",
            "DATABASE_CONNECT_TIMEOUT",
            "REDIS_CONNECT_TIMEOUT",
            "WORKER_MAX_BACKOFF_SECONDS",
            "WORKER_RECONCILE_SECONDS",
            "WORKER_MONITOR_SECONDS",
        ):
            default, raw = getattr(self, name), _env(name)
            try:
                setattr(self, name, default if raw is None else type(default)(raw))
            except ValueError:
                raise ConfigError(f"{name} must be a number of seconds, not {raw!r}.") from None
        tell = _env("FLIGHTDECK_LOGIN_TELL_DEACTIVATED")
        if tell is not None:
            self.LOGIN_TELL_DEACTIVATED = tell.lower() in ("1", "true", "yes", "on")
        self.UPLOAD_DIR = _env("UPLOAD_DIR", self.UPLOAD_DIR)

    def default_database_url(self) -> str:
        return f"sqlite:///{INSTANCE_DIR / 'flightdeck.db'}"

    def validate(self) -> None:
        """Refuse configurations that would be unsafe to serve."""
        self._validate_base_url(require_https=False)

    def _validate_base_url(self, require_https: bool) -> None:
        if self.FLIGHTDECK_BASE_URL:
            problem = check_base_url(self.FLIGHTDECK_BASE_URL, require_https)
            if problem:
                raise ConfigError(problem)


def _instance_secret(name: str, make) -> str:
    """A per-installation secret kept in instance/ (created on first use, mode 0600).

    Development never runs on a key that is public in this repository.
    """
    path = INSTANCE_DIR / name
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
    return path.read_text().strip()


class DevConfig(Config):
    """Local development and the `make run` demo: SQLite, inline jobs."""

    ENV_NAME = "development"
    DEBUG = False
    FLIGHTDECK_BASE_URL = "http://127.0.0.1:5000"  # `make run`

    def __init__(self) -> None:
        super().__init__()
        if not self.SECRET_KEY:
            self.SECRET_KEY = _instance_secret(".secret_key", lambda: secrets.token_urlsafe(48))
        if not self.FLIGHTDECK_ENCRYPTION_KEY:
            self.FLIGHTDECK_ENCRYPTION_KEY = _instance_secret(
                ".encryption_key", lambda: Fernet.generate_key().decode()
            )


class TestConfig(DevConfig):
    ENV_NAME = "test"
    TESTING = True
    FLIGHTDECK_BASE_URL = "http://localhost"  # the test client's host
    SECRET_KEY = "test-only-secret-key"  # noqa: S105
    FLIGHTDECK_ENCRYPTION_KEY = "dGVzdC1vbmx5LWtleS1mb3ItdGhlLXN1aXRlLTMyYiE="
    WTF_CSRF_ENABLED = False
    # Cheap hashing keeps the suite fast; production strength is tested separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    # Jobs run in the caller unless a test asks for the thread pool (or Redis) itself.
    JOBS_EMBEDDED = "inline"
    # Uploads of the suite's imports: outside the checkout, one directory per test process
    # (the suite removes it at the end; suites running side by side never share one).
    UPLOAD_DIR = str(Path(tempfile.gettempdir()) / f"flightdeck-test-uploads-{os.getpid()}")

    def __init__(self) -> None:
        super().__init__()
        self.JOBS_EMBEDDED = type(self).JOBS_EMBEDDED
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("TEST_DATABASE_URL", "sqlite://") or "sqlite://"
        )
        # Jobs run inline unless a test asks for Redis explicitly (never from the env).
        self.REDIS_URL = type(self).REDIS_URL
        self.FLIGHTDECK_BASE_URL = type(self).FLIGHTDECK_BASE_URL


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def validate(self) -> None:
        missing = [
            name for name in ("SECRET_KEY", "FLIGHTDECK_ENCRYPTION_KEY") if not getattr(self, name)
        ]
        if missing:
            raise ConfigError(
                "Flightdeck refuses to start in production without "
                + " and ".join(missing)
                + (". Set it" if len(missing) == 1 else ". Set them")
                + " in the environment (see README: Environment variables)."
            )
        for key in self.FLIGHTDECK_ENCRYPTION_KEY.split(","):
            try:
                Fernet(key.strip())
            except ValueError:
                raise ConfigError(
                    "FLIGHTDECK_ENCRYPTION_KEY must be one or more Fernet keys separated by "
                    "commas (make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())')."
                ) from None
        self._validate_base_url(require_https=True)


CONFIGS = {
    "development": DevConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    name = _env("FLIGHTDECK_ENV", "development") or "development"
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"FLIGHTDECK_ENV={name!r} is not one of {', '.join(CONFIGS)}") from None
