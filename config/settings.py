"""Settings for every process kind (web, gpu worker, cpu worker), read from the environment.

The defaults run everything on one machine: SQLite beside the code, Redis on localhost, media in
./media, the Debian FluidR3 soundfont. Production sets DATABASE_URL (PostgreSQL), SECRET_KEY,
DEBUG=0 and ALLOWED_HOSTS.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

from config.env import env_bool, env_int, env_list, env_str
from config.storage import FILE_SYSTEM, s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
_DEV_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_KEY)
if not DEBUG and SECRET_KEY == _DEV_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
if not DEBUG and len(SECRET_KEY) < 32:
    # It signs the consent pages and the researchers' sessions: a short one can be guessed.
    raise RuntimeError(
        "SECRET_KEY is too short for DEBUG off: give it 50 random characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
_LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _LOCAL_HOSTS)
if SECRET_KEY == _DEV_KEY and (reachable := [h for h in ALLOWED_HOSTS if h not in _LOCAL_HOSTS]):
    # The development key is in this repository for anyone to read: it may sign nothing that
    # people other than the developer can reach (consent tokens, messages, password resets).
    raise RuntimeError(
        f"ALLOWED_HOSTS names {', '.join(reachable)}, but SECRET_KEY is the public development "
        "key: set SECRET_KEY (50 random characters) and, for a real site, DEBUG=0"
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "worker",
    "generation",
    "surveys",
    "evaluation",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "dashboard.middleware.ResearcherResponsesArePrivate",
    "csp.middleware.CSPMiddleware",
]

# Content-Security-Policy (django-csp): scripts, sounds, fetches and form posts only from this
# site, so nothing a researcher or participant typed can ever run as a script, and no page can be
# framed. Styles may be inline: matplotlib's SVG charts carry theirs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several worker processes write to one SQLite file in the embedded setup; wait for locks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests get a file too (one per process): threaded tests (live server, concurrent posts)
    # then wait on locks as production does, where shared in-memory SQLite fails at once.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"turing-music-test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes), for the dashboard and the admin alike: after
# LOGIN_FAILURE_LIMIT failed logins from one address, logging in from it is refused (even with
# the right password) until LOGIN_COOLOFF_MINUTES have passed. Keyed on the address alone (an
# IPv6 client by its /64, surveys.client_address.address_block): a lock on a user name would let
# anyone keep its researcher out with ten wrong passwords an hour.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "surveys.client_address.client_block"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Every file (MIDI, checkpoints, audio, roll images, uploads) goes through the default storage.
# Without STORAGE_BUCKET that is the folder MEDIA_ROOT, which only processes on one machine
# share; with it, an S3-compatible bucket (MinIO, a cloud bucket) that workers anywhere reach.
# The bucket may be private: files reach browsers only through the site's own views.
STORAGE_BUCKET = env_str("STORAGE_BUCKET", "")
_FILE_STORAGE = (
    s3_storage(
        STORAGE_BUCKET,
        endpoint_url=env_str("STORAGE_ENDPOINT_URL", ""),
        access_key=env_str("STORAGE_ACCESS_KEY_ID", ""),
        secret_key=env_str("STORAGE_SECRET_ACCESS_KEY", ""),
        region=env_str("STORAGE_REGION", ""),
        prefix=env_str("STORAGE_PREFIX", ""),
    )
    if STORAGE_BUCKET
    else FILE_SYSTEM
)
# Each worker keeps the checkpoints it downloads (and the one it trains) here, on its own disk.
CHECKPOINT_CACHE_DIR = Path(
    env_str("CHECKPOINT_CACHE_DIR", str(Path(tempfile.gettempdir()) / "turing-music-checkpoints"))
)
# ... and drops those used longest ago once they take more than this (storage keeps them all).
CHECKPOINT_CACHE_MB = env_int("CHECKPOINT_CACHE_MB", 4096)
STORAGES = {
    "default": _FILE_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# The scheme the site is served with, said explicitly: https (the default when DEBUG is off)
# makes cookies HTTPS-only and turns on HSTS and the redirect to HTTPS; http is for a local
# trial without TLS, where Secure cookies would be dropped by the browser on any address but
# localhost. The reverse proxy says which scheme a request came by (X-Forwarded-Proto).
SITE_SCHEME = env_str("SITE_SCHEME", "http" if DEBUG else "https")
if SITE_SCHEME not in ("http", "https"):
    raise ValueError(f"SITE_SCHEME={SITE_SCHEME!r} must be https or http")
HTTPS = SITE_SCHEME == "https"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's own health check speaks plain http
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("CACHE_URL", env_str("REDIS_URL", "redis://127.0.0.1:6379/1")),
    }
}

# Celery: Redis is both broker and result store; see worker/celery_app.py for the rest.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 6 * 3600)

# The client's address: how many reverse proxies stand in front of the web process (0: none, so
# forwarding headers are ignored), and the header they write it in. See surveys/client_address.py.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ValueError(f"TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT} must be 0 or more")
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "X-Forwarded-For")

# Participant surveys: anonymous posts allowed per window, per address and per participant.
SURVEY_RATE_WINDOW_SECONDS = env_int("SURVEY_RATE_WINDOW_SECONDS", 60)
SURVEY_RATE_PER_IP = env_int("SURVEY_RATE_PER_IP", 600)
SURVEY_RATE_PER_PARTICIPANT = env_int("SURVEY_RATE_PER_PARTICIPANT", 60)
# New participants (consents, each holding a place) from one address per window: a lab or a
# classroom behind one address stays under it, a script filling every place does not.
SURVEY_JOINS_PER_IP = env_int("SURVEY_JOINS_PER_IP", 50)
SURVEY_JOIN_WINDOW_SECONDS = env_int("SURVEY_JOIN_WINDOW_SECONDS", 3600)
SURVEY_COOKIE_DAYS = env_int("SURVEY_COOKIE_DAYS", 14)
# An answer is refused when it reaches the server sooner after its trial page was first shown
# than the excerpt lasts, less this allowance (milliseconds).
SURVEY_LISTEN_ALLOWANCE_MS = env_int("SURVEY_LISTEN_ALLOWANCE_MS", 1000)

# Music and learning.
SHARED_DIR = Path(env_str("SHARED_DIR", str(BASE_DIR.parent / "shared")))
SOUNDFONT = Path(env_str("SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2"))
TORCH_DEVICE = env_str("TORCH_DEVICE", "auto")
# Threads torch uses for CPU work in each worker process and foreground command. Unset (or 0)
# keeps torch's own choice, one per core, which is slow on small machines or when several
# workers share one: each would claim every core. Applied by worker/torch_threads.py.
_TORCH_THREADS = env_int("TORCH_THREADS", 0) if env_str("TORCH_THREADS", "").strip() else 0
if _TORCH_THREADS < 0:
    raise ValueError(f"TORCH_THREADS={_TORCH_THREADS} must be a positive whole number, or unset")
TORCH_THREADS = _TORCH_THREADS or None

# A running job whose task no live worker holds is orphaned (its worker died), but only after
# this long since it was queued or picked up, so a job just changing hands is not flagged.
JOB_ORPHAN_GRACE_SECONDS = env_int("JOB_ORPHAN_GRACE_SECONDS", 120)
# A job whose worker is lost (killed mid-task) goes back to the queue; after this many such
# redeliveries in a row it is failed with the reason instead of looping forever.
JOB_MAX_REDELIVERIES = env_int("JOB_MAX_REDELIVERIES", 3)
# How often each worker looks for pending jobs whose message the broker lost (it also looks as it
# starts); 0 looks only at start.
JOB_RECONCILE_SECONDS = env_int("JOB_RECONCILE_SECONDS", 300)
if JOB_RECONCILE_SECONDS < 0:
    raise ValueError(f"JOB_RECONCILE_SECONDS={JOB_RECONCILE_SECONDS} must be 0 or more")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes announces its version as every process starts, into every manage.py command's
    # output; its lockouts (axes.handlers) still log.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}
