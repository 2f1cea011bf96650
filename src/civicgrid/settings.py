"""Django settings for CivicGrid.

Everything that differs between machines comes from the environment:

- ``DATABASE_URL``          e.g. ``postgres://user@127.0.0.1:5432/civicgrid``; default SQLite (WAL) in the data dir
- ``CIVICGRID_SECRET_KEY``  required in production
- ``CIVICGRID_DATA_DIR``    where SQLite, uploads and exports live (default ``./var``)
- ``CIVICGRID_ENV``         ``development`` (default) or ``production``
- ``CIVICGRID_ALLOWED_HOSTS`` comma-separated
- ``CIVICGRID_TRUST_X_FORWARDED_FOR`` behind a reverse proxy: ``1`` or the proxies' addresses/networks
- ``CIVICGRID_BEHIND_TLS_PROXY=1`` nginx (or another proxy) terminates HTTPS and sets X-Forwarded-Proto/-For
- ``CIVICGRID_HTTPS`` production serves HTTPS only (default ``1``: redirect, HSTS, secure cookies)
- ``CIVICGRID_LOG_FORMAT=json`` one JSON object per log line (see civicgrid.core.observability)
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core.basemap import from_env as _basemap_from_env

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent  # the checkout (src/civicgrid/../..)

ENVIRONMENT = os.environ.get("CIVICGRID_ENV", "development").strip().lower()
PRODUCTION = ENVIRONMENT == "production"
TESTING = "pytest" in sys.modules or os.environ.get("CIVICGRID_TESTING") == "1"

DATA_DIR = Path(os.environ.get("CIVICGRID_DATA_DIR") or (BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_SECRET_KEY = "civicgrid-insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("CIVICGRID_SECRET_KEY", DEFAULT_SECRET_KEY)
# the key material of the personal data in the registers (registers/crypto.py); empty: derived from SECRET_KEY
CIVICGRID_PII_KEY = os.environ.get("CIVICGRID_PII_KEY", "")
# key rotation: "new,old" (current first); when set it replaces CIVICGRID_PII_KEY (docs/registers.md 密钥管理)
CIVICGRID_PII_KEYS = os.environ.get("CIVICGRID_PII_KEYS", "")
# 注销/迁出 persons' ID number and phone are purged this many years after they left (civicgrid registers purge)
CIVICGRID_PII_RETENTION_YEARS = int(os.environ.get("CIVICGRID_PII_RETENTION_YEARS", "3") or 3)
if PRODUCTION and (SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "生产模式 (CIVICGRID_ENV=production) 拒绝启动：请设置 CIVICGRID_SECRET_KEY 为至少 32 个字符的随机密钥。"
        " Refusing to start in production with the default or a short CIVICGRID_SECRET_KEY."
    )

DEBUG = not PRODUCTION and os.environ.get("CIVICGRID_DEBUG", "1") == "1"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("CIVICGRID_ALLOWED_HOSTS", "").split(",") if h.strip()]
# loopback always: health checks and Prometheus scrape the app server directly
ALLOWED_HOSTS += ["127.0.0.1", "localhost", "[::1]"]
if not PRODUCTION:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "civicgrid.core.apps.CivicAdminConfig",  # django.contrib.admin whose site audits every write
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "ninja",
    "civicgrid.core",
    "civicgrid.accounts",
    "civicgrid.places",
    "civicgrid.cases",
    "civicgrid.metrics",
    "civicgrid.intake",
    "civicgrid.open311",
    "civicgrid.notify",
    "civicgrid.hazards",
    "civicgrid.gridwork",
    "civicgrid.triage",
    "civicgrid.disputes",
    "civicgrid.enforcement",
    "civicgrid.opinion",
    "civicgrid.evaluation",
    "civicgrid.petitions",
    "civicgrid.goals",
    "civicgrid.registers",
    "civicgrid.supervision",
    "civicgrid.estates",
    "civicgrid.activities",
    "civicgrid.command",
    "civicgrid.reports",
    "civicgrid.demo",
]

MIDDLEWARE = [
    "civicgrid.core.observability.ObservabilityMiddleware",
    # outermost: CSP and friends reach static files and error pages too
    "civicgrid.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "civicgrid.core.middleware.RequestSizeLimitMiddleware",
    "civicgrid.core.middleware.NulByteGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "civicgrid.core.middleware.RequestContextMiddleware",
    # axes must be last
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicgrid.core.context_processors.platform",
                "civicgrid.core.context_processors.calendar_banner",
                "civicgrid.places.context_processors.basemap",
                "civicgrid.cases.context_processors.badges",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------
_db_url = os.environ.get("DATABASE_URL", "").strip()
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # The app's queries are short (a dashboard reads a few thousand rollup rows): PostgreSQL's parallel
        # workers and JIT compilation cost more to start than they save (a 街道-wide figure: 16 ms serial, 45–60 ms
        # with them) and take the cores the other requests need. Batch work (the set-based rollup rebuild) turns
        # them back on for its own transaction. CIVICGRID_PG_OPTIONS replaces these settings ("" keeps the
        # server's own).
        _pg_options = os.environ.get(
            "CIVICGRID_PG_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0"
        )
        if _pg_options.strip():
            DATABASES["default"].setdefault("OPTIONS", {})["options"] = _pg_options
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "civicgrid.sqlite3",
            "OPTIONS": {
                # WAL lets readers and one writer work at once; IMMEDIATE avoids lock upgrades mid-transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests that check the hasher itself override this.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "civicgrid.accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "civicgrid.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "civicgrid.accounts.backends.CivicModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: 5 failures -> 15 minute lockout of that account from that client IP (account + IP combined: one
# user's typos do not lock out everyone behind the same NAT, and one IP cannot lock everybody's account)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "civicgrid.core.middleware.client_ip"
AXES_COOLOFF_MESSAGE = "账号已临时锁定：连续登录失败次数过多，请 15 分钟后再试，或联系系统管理员解锁。"
AXES_PERMALOCK_MESSAGE = "账号已锁定：连续登录失败次数过多，请联系系统管理员解锁。"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# 30 minute idle timeout: the cookie is refreshed on every request and expires 30 minutes after the last one
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy: civicgrid.core.middleware.SecurityHeadersMiddleware (script-src 'self', no inline script)


# --- HTTPS and the reverse proxy --------------------------------------------------------------------
# Behind nginx (deploy/nginx.conf) set CIVICGRID_BEHIND_TLS_PROXY=1: the proxy's X-Forwarded-Proto tells Django
# the request came over HTTPS, and X-Forwarded-For gives the client IP (audit log, login lockout).
BEHIND_TLS_PROXY = os.environ.get("CIVICGRID_BEHIND_TLS_PROXY", "0") == "1"
# CIVICGRID_TRUST_X_FORWARDED_FOR: "1" (the peer is our proxy) or a comma list of proxy addresses/networks; the
# client IP is then the right-most X-Forwarded-For entry that is not one of our proxies (civicgrid.core.middleware)
CIVICGRID_TRUST_X_FORWARDED_FOR = os.environ.get("CIVICGRID_TRUST_X_FORWARDED_FOR", "") or (
    "1" if BEHIND_TLS_PROXY else ""
)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production is HTTPS-only unless CIVICGRID_HTTPS=0 (a plain-HTTP intranet: `check --deploy` then warns).
HTTPS_ONLY = PRODUCTION and os.environ.get("CIVICGRID_HTTPS", "1") == "1"
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SILENCED_SYSTEM_CHECKS: list[str] = []
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = True
    # probes and Prometheus talk to gunicorn directly over loopback HTTP
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("CIVICGRID_HSTS_SECONDS", 365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("CIVICGRID_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
    SECURE_HSTS_PRELOAD = os.environ.get("CIVICGRID_HSTS_PRELOAD", "0") == "1"
    if not SECURE_HSTS_PRELOAD:
        # submitting a domain to the browsers' preload list is a separate, hard-to-undo decision for its owner
        SILENCED_SYSTEM_CHECKS.append("security.W021")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CIVICGRID_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
# Chinese for strings Django's admin and django-axes ship untranslated (locale/zh_Hans/LC_MESSAGES/django.po)
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Attachments go to S3-compatible object storage (MinIO, OSS, COS …) when a bucket is configured
# (needs `pip install "civicgrid[s3]"`); otherwise to MEDIA_ROOT on local disk. Paths are content-addressed.
if os.environ.get("CIVICGRID_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["CIVICGRID_S3_BUCKET"],
            "endpoint_url": os.environ.get("CIVICGRID_S3_ENDPOINT") or None,
            "access_key": os.environ.get("CIVICGRID_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("CIVICGRID_S3_SECRET_KEY") or None,
            "region_name": os.environ.get("CIVICGRID_S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
WHITENOISE_USE_FINDERS = True  # serve straight from the app folders without collectstatic
WHITENOISE_AUTOREFRESH = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- logging --------------------------------------------------------------------------------------
# CIVICGRID_LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, user_id, path,
# status, duration_ms), plus one civicgrid.request line per request
LOG_FORMAT = "json" if os.environ.get("CIVICGRID_LOG_FORMAT", "").strip().lower() == "json" else "plain"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "civicgrid.core.observability.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "civicgrid.core.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("CIVICGRID_LOG_LEVEL", "WARNING")},
    "loggers": {"civicgrid": {"level": os.environ.get("CIVICGRID_LOG_LEVEL", "INFO"), "propagate": True}},
}

# --- platform -------------------------------------------------------------------------------------
CIVICGRID = {
    "PLATFORM_NAME": "街道网格化治理平台",
    # working hours for 工作时 / 工作日 deadlines; list of (start, end) "HH:MM" pairs
    "WORKING_HOURS": [("08:30", "12:00"), ("13:30", "17:30")],
    # run the in-process scheduler (deadline lights etc.) inside `civicgrid serve`
    # a closed case stays in the dispatcher's 待办 for its 回访 (follow-up call) this many days
    "RATING_WINDOW_DAYS": 15,
    # the 指挥中心 大屏 reloads its data every this many seconds (?refresh=N overrides it, 10–3600)
    "COMMAND_REFRESH_SECONDS": int(os.environ.get("CIVICGRID_COMMAND_REFRESH", "60") or 60),
    # seconds between checks whether another server changed the holiday calendar
    "CALENDAR_RECHECK_SECONDS": 5,
    "SCHEDULER_ENABLED": os.environ.get("CIVICGRID_SCHEDULER", "1") == "1" and not TESTING,
    # Open311 reads (services, requests, updates, tokens) need an api_key too; discovery stays open
    "OPEN311_READ_REQUIRES_KEY": os.environ.get("CIVICGRID_OPEN311_READ_REQUIRES_KEY", "0").strip().lower()
    in ("1", "true", "yes", "on"),
    # PostgreSQL: hot statements (filing a case) are prepared once per connection (psycopg server-side binding);
    # CIVICGRID_PG_PREPARE=0 for a pooler in transaction mode (pgbouncer < 1.21) that cannot keep them
    "PREPARE_STATEMENTS": os.environ.get("CIVICGRID_PG_PREPARE", "1").strip().lower()
    not in ("0", "false", "no", "off"),
    # a case export of more rows than this is made in the background (progress page, download when done)
    "EXPORT_SYNC_MAX_ROWS": int(os.environ.get("CIVICGRID_EXPORT_SYNC_MAX_ROWS", "2000")),
}
# the maps' base layer (CIVICGRID_BASEMAP …, see civicgrid.core.basemap) and the origins its tiles load from
# (the Content-Security-Policy's img-src reads MAP_TILE_ORIGINS)
CIVICGRID["BASEMAP"] = _basemap_from_env(os.environ)
CIVICGRID["MAP_TILE_ORIGINS"] = CIVICGRID["BASEMAP"]["origins"]
