"""Configuration classes, read from the environment when the app is created.

Names are a stable interface (see README): DATABASE_URL, REDIS_URL, SECRET_KEY,
FLIGHTDECK_ENCRYPTION_KEY, META_GRAPH_URL, META_API_VERSION, META_APP_SECRET.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

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
    META_GRAPH_URL = "https://graph.facebook.com"
    META_API_VERSION = "v26.0"
    META_APP_SECRET: str | None = None
    META_TIMEOUT = 60.0
    META_POLL_INTERVAL = 5.0  # seconds between async report status polls
    # Rows per insights page (and per commit); "too much data" answers halve it where needed.
    # 1,000 measured no faster here (less overlap between fetching and storing) and held more.
    META_PAGE_SIZE = 500
    SYNC_STALE_SECONDS = 150  # a started sync whose worker stopped beating this long is dead

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

    # Sign-in throttling: this many failures inside the window lock the key.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_SECONDS = 15 * 60
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
        self.META_GRAPH_URL = _env("META_GRAPH_URL", self.META_GRAPH_URL)
        self.META_API_VERSION = _env("META_API_VERSION", self.META_API_VERSION)
        self.META_APP_SECRET = _env("META_APP_SECRET", self.META_APP_SECRET)
        self.META_TIMEOUT = float(_env("META_TIMEOUT", str(self.META_TIMEOUT)))
        self.META_POLL_INTERVAL = float(_env("META_POLL_INTERVAL", str(self.META_POLL_INTERVAL)))
        self.META_PAGE_SIZE = int(_env("META_PAGE_SIZE", str(self.META_PAGE_SIZE)))
        self.SYNC_STALE_SECONDS = int(_env("SYNC_STALE_SECONDS", str(self.SYNC_STALE_SECONDS)))
        self.UPLOAD_DIR = _env("UPLOAD_DIR", self.UPLOAD_DIR)

    def default_database_url(self) -> str:
        return f"sqlite:///{INSTANCE_DIR / 'flightdeck.db'}"

    def validate(self) -> None:
        """Refuse configurations that would be unsafe to serve."""


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
    SECRET_KEY = "test-only-secret-key"  # noqa: S105
    FLIGHTDECK_ENCRYPTION_KEY = "dGVzdC1vbmx5LWtleS1mb3ItdGhlLXN1aXRlLTMyYiE="
    WTF_CSRF_ENABLED = False
    # Cheap hashing keeps the suite fast; production strength is tested separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    LOGIN_LOCKOUT_SECONDS = 60
    # Uploads of the suite's imports: outside the checkout, one directory per test process
    # (the suite removes it at the end; suites running side by side never share one).
    UPLOAD_DIR = str(Path(tempfile.gettempdir()) / f"flightdeck-test-uploads-{os.getpid()}")

    def __init__(self) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("TEST_DATABASE_URL", "sqlite://") or "sqlite://"
        )
        # Jobs run inline unless a test asks for Redis explicitly (never from the env).
        self.REDIS_URL = type(self).REDIS_URL


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
