"""Settings for IsoMix Studio.

Everything is read from the environment (django-environ). With no variables set, the
project runs on the embedded default: SQLite and files under ``var/``, an in-process
channel layer, and a SQLite-backed Dramatiq broker that needs no server.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production (compose.yaml sets it): no default secret key, secure cookies, HSTS.
PRODUCTION = env.bool("ISOMIX_PRODUCTION", default=False)
if PRODUCTION:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("ISOMIX_PRODUCTION needs DJANGO_SECRET_KEY: 50 or more random characters.")
else:
    # The embedded default listens on localhost only.
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="embedded-localhost-only-insecure-key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    # /health and /metrics are probed over plain HTTP inside the deployment.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]

VAR_DIR = Path(env("ISOMIX_VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "domain",
    "business",
    "model",
    "application",
]

MIDDLEWARE = [
    "application.middleware.RequestIdMiddleware",
    "application.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "application.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Where Django documents it: after the session, before CommonMiddleware (which resolves
    # URLs in the active language). The language comes from the cookie, else Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's saved language wins over the cookie and Accept-Language.
    "application.middleware.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "isomix.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "isomix.wsgi.application"
ASGI_APPLICATION = "isomix.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the in-process worker threads share one SQLite file: WAL lets
    # readers run beside the writer, IMMEDIATE transactions avoid upgrade deadlocks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "library"
LOGOUT_REDIRECT_URL = "login"

# English is the source language; Brazilian Portuguese ships beside it (locale/pt_BR). The
# language of a page: a signed-in user's saved choice (business.Account.language), else the
# `django_language` cookie (the switcher sets it), else the browser's Accept-Language, else
# LANGUAGE_CODE. The catalogues are compiled by `make` (manage.py compilemessages).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A year: the choice of an anonymous visitor, and of a user after logging out, is kept.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only production collects static files (set DJANGO_STATIC_ROOT there).
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=None)
# Serve static files straight from the source folders: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Files in S3/MinIO when a bucket is named; downloads are then presigned S3 URLs.
ISOMIX_S3_BUCKET = env("ISOMIX_S3_BUCKET", default="")
# Download links (presigned S3 URLs, or signed links to local files) live this long.
ISOMIX_DOWNLOAD_URL_TTL_S = env.int("ISOMIX_DOWNLOAD_URL_TTL_S", default=600)
if ISOMIX_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ISOMIX_S3_BUCKET,
            "endpoint_url": env("ISOMIX_S3_ENDPOINT_URL", default="") or None,
            "access_key": env("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env("AWS_S3_REGION_NAME", default="us-east-1"),
            "signature_version": "s3v4",
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="path"),
            "querystring_auth": True,
            "querystring_expire": ISOMIX_DOWNLOAD_URL_TTL_S,
            "default_acl": None,
            "file_overwrite": True,
        },
    }
FILE_UPLOAD_TEMP_DIR = None
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "isomix.channel_layer.ThreadSafeInMemoryChannelLayer"}}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Background jobs: Redis in production, a SQLite file in the embedded default.
ISOMIX_BROKER_URL = env("ISOMIX_BROKER_URL", default=REDIS_URL or f"sqlite:///{VAR_DIR / 'broker.sqlite3'}")
# Redis broker: a worker silent this long is dead, and its taken messages go back on the queue
# when a worker runs maintenance, which it does on this many of every million fetches.
ISOMIX_BROKER_HEARTBEAT_TIMEOUT_S = env.float("ISOMIX_BROKER_HEARTBEAT_TIMEOUT_S", default=60.0)
ISOMIX_BROKER_MAINTENANCE_CHANCE = env.int("ISOMIX_BROKER_MAINTENANCE_CHANCE", default=1000)

# --- The web server (`manage.py runstudio`: uvicorn) and the request bodies it takes.
# A request body past this many bytes is refused before it is read (isomix/body_limit.py);
# uploads get ISOMIX_MAX_UPLOAD_MB plus the multipart envelope instead. Django's own cap on
# what it reads into memory is the same figure, so there is one knob.
ISOMIX_MAX_BODY_BYTES = env.int("ISOMIX_MAX_BODY_BYTES", default=2_621_440)
DATA_UPLOAD_MAX_MEMORY_SIZE = ISOMIX_MAX_BODY_BYTES
# Proxies (IPs or CIDRs) whose X-Forwarded-For and X-Forwarded-Proto are believed. Empty:
# none, and the client address is the connection's peer, whatever headers it sends.
ISOMIX_TRUSTED_PROXIES = env.list("ISOMIX_TRUSTED_PROXIES", default=[])
# Web server processes for `runstudio --no-worker` (compose's web service); the embedded
# default, whose in-memory channel layer lives in one process, always runs one.
ISOMIX_WEB_PROCESSES = env.int("ISOMIX_WEB_PROCESSES", default=1)
# Status polls answered again from memory while nothing they show changed (isomix/status_cache.py;
# PostgreSQL only): this many answers per web process, 0 turns it off.
ISOMIX_STATUS_CACHE_ENTRIES = env.int("ISOMIX_STATUS_CACHE_ENTRIES", default=1024)
# Under ASGI every request runs in a thread of its own, and Django's connections are per
# thread: without a pool each request would open (and PostgreSQL fork) a new connection.
# Per process, at most ISOMIX_DB_POOL_SIZE connections; a request waits for a free one.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("ISOMIX_DB_POOL_SIZE", default=8),
        "timeout": 10,
    }

REST_FRAMEWORK = {
    # The token first: DRF then answers a request without credentials 401 with
    # ``WWW-Authenticate: Token`` (the session's authenticator has no such header: 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "application.api.schema.IsoMixAutoSchema",
    "EXCEPTION_HANDLER": "application.api.errors.exception_handler",
    # Strict JSON (UTF-8, nesting ≤ 32, finite numbers) refused as 400s, not 500s.
    "DEFAULT_PARSER_CLASSES": [
        "application.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # ?limit= 1..100 and ?offset= 0..10**9, else a 400 (never an integer overflow in the database).
    "DEFAULT_PAGINATION_CLASS": "application.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Counted in the cache (Redis in production, so shared by every web process).
    "DEFAULT_THROTTLE_RATES": {"uploads": env("ISOMIX_UPLOAD_RATE", default="60/hour")},
    # ``?format=`` is the lyrics download's file format (lrc, srt, ...), not a renderer choice.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IsoMix Studio API",
    "DESCRIPTION": "Upload songs, separate them into stems, mix and export.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the installed package: the docs work with no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StemKindEnum": "domain.models.StemKind",
        "JobKindEnum": "domain.models.Job.Kind",
        "ProjectStatusEnum": "domain.models.Project.Status",
        "StepStatusEnum": "application.api.views.karaoke.STEP_STATES",
        "ErrorCodeEnum": "application.api.schema.ERROR_CODE_CHOICES",
    },
    # Request bodies as their own components: an upload's `file` is then `format: binary`.
    "COMPONENT_SPLIT_REQUEST": True,
}

# The largest upload this server takes, whatever the plan: the body limit refuses a bigger
# one before reading it. Every other limit (upload size and length per plan, uploads a day,
# separation minutes, export formats, retention...) is a Plan row, edited in the admin.
ISOMIX_MAX_UPLOAD_MB = env.int("ISOMIX_MAX_UPLOAD_MB", default=250)
# A running job whose worker has not reported for this long is requeued or failed.
ISOMIX_JOB_STALE_AFTER_S = env.int("ISOMIX_JOB_STALE_AFTER_S", default=90)

# --- Billing (Stripe). Without a secret key and both prices billing is off (the embedded
# default): the pricing page says so and operators assign plans in the admin.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
ISOMIX_STRIPE_PRICE_PRO_MONTHLY = env("ISOMIX_STRIPE_PRICE_PRO_MONTHLY", default="")
ISOMIX_STRIPE_PRICE_PRO_YEARLY = env("ISOMIX_STRIPE_PRICE_PRO_YEARLY", default="")
# Where the Stripe SDK sends its calls; empty: Stripe's own. (Tests point it at a local stand-in.)
ISOMIX_STRIPE_API_BASE = env("ISOMIX_STRIPE_API_BASE", default="")
# After a failed payment the plan stays Pro this many days, then falls back to Free.
ISOMIX_BILLING_GRACE_DAYS = env.int("ISOMIX_BILLING_GRACE_DAYS", default=7)

# --- Email (password reset, email change): printed to the console in the embedded default;
# EMAIL_URL (smtp://user:password@host:587, submission+tls) in production.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="IsoMix Studio <no-reply@localhost>")

# Separation: "auto" uses Demucs when its weights are found, else the bundled offline separator.
ISOMIX_SEPARATION_ENGINE = env("ISOMIX_SEPARATION_ENGINE", default="auto")
ISOMIX_DEMUCS_MODEL_DIR = env("ISOMIX_DEMUCS_MODEL_DIR", default="") or None
# Offer Demucs's tiny untrained test model among the engines a user can choose (to check that the
# Demucs code path runs on this server; its stems are not music).
ISOMIX_SEPARATION_TEST_MODEL = env.bool("ISOMIX_SEPARATION_TEST_MODEL", default=False)
ISOMIX_TORCH_DEVICE = env("ISOMIX_TORCH_DEVICE", default="cpu")
ISOMIX_WORKER_THREADS = env.int("ISOMIX_WORKER_THREADS", default=1)

# Song analysis: workers of the cpu queues compile librosa's numba code as they start.
ISOMIX_ANALYSIS_WARM_UP = env.bool("ISOMIX_ANALYSIS_WARM_UP", default=True)

# Lyrics: transcribed by themselves once a song's stems are ready (off: only when a user asks, with
# their text or for a transcription; saves the gpu queue's time).
ISOMIX_LYRICS_AUTO = env.bool("ISOMIX_LYRICS_AUTO", default=True)

# Lyrics (faster-whisper): the multilingual Whisper base from the installed model packages, joined
# once into the cache folder; a folder holding a larger CTranslate2 model (model.bin, config.json,
# tokenizer.json) takes its place when set. Device and precision follow ISOMIX_TORCH_DEVICE.
ISOMIX_WHISPER_MODEL_DIR = env("ISOMIX_WHISPER_MODEL_DIR", default="") or None
ISOMIX_WHISPER_CACHE_DIR = Path(env("ISOMIX_WHISPER_CACHE_DIR", default=str(VAR_DIR / "models" / "whisper-base")))
ISOMIX_WHISPER_DEVICE = env("ISOMIX_WHISPER_DEVICE", default=ISOMIX_TORCH_DEVICE)
ISOMIX_WHISPER_COMPUTE_TYPE = env(
    "ISOMIX_WHISPER_COMPUTE_TYPE", default="float16" if ISOMIX_WHISPER_DEVICE == "cuda" else "int8"
)

# Plain lines for people, JSON lines for log collectors (the default in production).
ISOMIX_LOG_FORMAT = env("ISOMIX_LOG_FORMAT", default="json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "isomix.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s job=%(job_id)s] %(message)s"},
        "json": {"()": "isomix.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": ISOMIX_LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env("ISOMIX_LOG_LEVEL", default="INFO")},
    "loggers": {"dramatiq": {"level": "WARNING"}},
}

# Login throttle (the login page, the admin's login and the API token; application/login_guard.py).
# Failures are counted in the cache, so Redis in production shares the counts across web processes.
ISOMIX_LOGIN_ACCOUNT_FAILURES = env.int("ISOMIX_LOGIN_ACCOUNT_FAILURES", default=5)
ISOMIX_LOGIN_ADDRESS_FAILURES = env.int("ISOMIX_LOGIN_ADDRESS_FAILURES", default=20)
ISOMIX_LOGIN_WINDOW_S = env.int("ISOMIX_LOGIN_WINDOW_S", default=15 * 60)
ISOMIX_LOGIN_LOCKOUT_S = env.int("ISOMIX_LOGIN_LOCKOUT_S", default=15 * 60)

# Operators' endpoints: /metrics and the detail of /health (application/health.py). A request
# gets them with `Authorization: Bearer <ISOMIX_OPS_TOKEN>` (when set), or from a client address
# in ISOMIX_OPS_NETWORKS (CIDRs; default loopback). Anyone else gets a bare {"status"} from
# /health and a 404 from /metrics.
ISOMIX_OPS_TOKEN = env("ISOMIX_OPS_TOKEN", default="")
ISOMIX_OPS_NETWORKS = env.list("ISOMIX_OPS_NETWORKS", default=["127.0.0.0/8", "::1/128"])
