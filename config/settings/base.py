"""Settings shared by every environment. Every value that varies comes from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The API's error shape under /api/; elsewhere a page (or an htmx answer) that says what
# happened, with DEBUG on or off.
CSRF_FAILURE_VIEW = "apiauth.middleware.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "teams",
    "initiatives",
    "gates",
    "collaboration",
    "compliance",
    "reports",
    "notifications",
    "apiauth",
    "portfolio_import",
    "departures",
    "demo",
]

MIDDLEWARE = [
    # First, so static files and every refusal further down carry its headers too.
    "core.headers.ResponseHeadersMiddleware",
    # Outermost: every error under /api/ in the API's JSON shape, whoever produced it.
    "apiauth.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.htmx.HtmxPagesMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["django.contrib.humanize.templatetags.humanize"],
        },
    }
]

# The embedded default is an SQLite file next to the code; production points
# DATABASE_URL at PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the board read while a checklist write is in flight; the busy
    # timeout makes concurrent writers wait instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation for the app's queries. The planner costs a statement by the rows
    # it might read, not the rows it will: the query for the board's 80 shown cards,
    # planned without statistics as after a bulk load, crossed jit_above_cost and took
    # 3,947 ms with JIT against 8.6 ms without at 50,000 initiatives
    # (bench/results/explain/board-default-bench16_50k_nostats.txt, statement 22); with
    # statistics, the old board query spent 2.5 s of 2.7 s compiling. The app runs short
    # statements; JIT pays only for long scans, which the app does not make per request.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded evidence files: the local filesystem unless an S3-compatible bucket is named.
# Neither is served by URL: every download goes through a view that checks the policy.
MEDIA_ROOT = Path(env("TOLLGATE_MEDIA_ROOT", default=str(BASE_DIR / "media")))
if env("TOLLGATE_S3_BUCKET", default=""):
    STORAGES["evidence"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("TOLLGATE_S3_BUCKET"),
            "endpoint_url": env("TOLLGATE_S3_ENDPOINT_URL", default=None),
            "region_name": env("TOLLGATE_S3_REGION", default=None),
            # Unset: boto3's own chain (AWS_* variables, instance roles).
            "access_key": env("TOLLGATE_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("TOLLGATE_S3_SECRET_ACCESS_KEY", default=None),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "addressing_style": env("TOLLGATE_S3_ADDRESSING_STYLE", default=None),
        },
    }
else:
    STORAGES["evidence"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
TOLLGATE_UPLOAD_MAX_MB = env.int("TOLLGATE_UPLOAD_MAX_MB", default=25)
TOLLGATE_COMMENT_EDIT_MINUTES = env.int("TOLLGATE_COMMENT_EDIT_MINUTES", default=15)
# How often an open initiative page asks for news (comments, ticks, decisions), and the bell.
TOLLGATE_LIVE_POLL_SECONDS = env.int("TOLLGATE_LIVE_POLL_SECONDS", default=10)
# Entering one of these stages (by key) asks for a review of the AI Act classification:
# Production and Scale of ai-maturity, Pilot and Full rollout of phased-rollout.
TOLLGATE_AI_REVIEW_STAGES = env.list(
    "TOLLGATE_AI_REVIEW_STAGES", default=["production", "scale", "pilot", "full-rollout"]
)

# Email: EMAIL_URL (smtp://user:pass@host:587?tls=True) wins; otherwise EMAIL_BACKEND.
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Tollgate <tollgate@localhost>")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Celery: without REDIS_URL tasks run in-process, so a laptop needs no broker.
REDIS_URL = env("REDIS_URL", default="")
# One cache all workers share: Redis when REDIS_URL is set, the database otherwise
# (every `migrate` creates its table when missing: core.apps.create_cache_tables).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tollgate",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tollgate_cache",
            "KEY_PREFIX": "tollgate",
        }
    }
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Without a broker, `manage.py runserver` runs this schedule on a thread of its own (core.beat),
# so `make run` sends reminders and digests with nothing else to start. false turns it off.
TOLLGATE_EMBEDDED_BEAT = env.bool("TOLLGATE_EMBEDDED_BEAT", default=True)
CELERY_BEAT_SCHEDULE = {
    # Every hour, on the hour: find gates due soon, overdue gates, escalations,
    # quiet initiatives and reviews waiting; create and send the reminders.
    "reminder-scan": {
        "task": "notifications.tasks.reminder_scan_task",
        "schedule": crontab(minute=0),
    },
    # Every Monday at 07:00 (CELERY_TIMEZONE): the weekly executive digest.
    "weekly-digest": {
        "task": "notifications.tasks.weekly_digest_task",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
    # Every day at 07:00: one email per person with the notices they chose to get daily.
    "daily-summary": {
        "task": "notifications.tasks.daily_summary_task",
        "schedule": crontab(minute=0, hour=7),
    },
    # Every day at 03:30: forget API idempotency keys older than 24 hours.
    "idempotency-keys-purge": {
        "task": "apiauth.tasks.idempotency_keys_purge_task",
        "schedule": crontab(minute=30, hour=3),
    },
    # Every day at 03:45: fold measurements older than TOLLGATE_MEASUREMENT_RAW_DAYS
    # into one row per target and day.
    "measurements-downsample": {
        "task": "initiatives.tasks.measurements_downsample_task",
        "schedule": crontab(minute=45, hour=3),
    },
    # Every day at 08:15: send gate.overdue to the webhooks that listen for it.
    "gates-overdue-announce": {
        "task": "gates.tasks.overdue_gates_announce_task",
        "schedule": crontab(minute=15, hour=8),
    },
}

# Bodies over 1 MB get 413 (forms and the API alike).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes missing credentials a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apiauth.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apiauth.permissions.TokenScope",
        "apiauth.permissions.NoNullBytes",
        "apiauth.permissions.NoEmptyParameters",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "apiauth.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["apiauth.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["apiauth.throttling.TokenRateThrottle"],
    "EXCEPTION_HANDLER": "apiauth.errors.exception_handler",
}
# Requests per token (browser sessions are not throttled), e.g. "1000/hour".
TOLLGATE_API_TOKEN_RATE = env("TOLLGATE_API_TOKEN_RATE", default="1000/hour")
TOLLGATE_WEBHOOK_MAX_RETRIES = env.int("TOLLGATE_WEBHOOK_MAX_RETRIES", default=5)
TOLLGATE_WEBHOOK_RETRY_BASE_SECONDS = env.int("TOLLGATE_WEBHOOK_RETRY_BASE_SECONDS", default=30)
# Webhooks reach public addresses only; these host names, addresses and networks (CIDR)
# may be internal, e.g. "hooks.corp.example,10.20.0.0/16" for an on-premise receiver.
TOLLGATE_WEBHOOK_ALLOWED_HOSTS = env.list("TOLLGATE_WEBHOOK_ALLOWED_HOSTS", default=[])
SPECTACULAR_SETTINGS = {
    "TITLE": "Tollgate API",
    "DESCRIPTION": "Stage gates for AI initiatives.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are public: integrators read them before they have a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Without deep links an operation's summary is one button with no link inside it
    # (a link nested in a button is unreachable for keyboard and screen reader users).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "GateStateEnum": "gates.models.Gate.State",
        "ChecklistItemStateEnum": "gates.models.ChecklistItem.State",
        "TierEnum": "compliance.models.Tier",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apiauth.schema.add_error_responses",
        "apiauth.schema.add_examples",
    ],
}

# Content-Security-Policy (Django's own middleware). htmx is served from
# 'self' and configured not to inject inline styles, so no 'unsafe-inline'.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Tollgate's own settings.
TOLLGATE_KEY_PREFIX = env("TOLLGATE_KEY_PREFIX", default="AI")
# The portfolio's currency (ISO 4217): every amount of money is written in it.
TOLLGATE_CURRENCY = env("TOLLGATE_CURRENCY", default="USD")
TOLLGATE_BOARD_PAGE_SIZE = env.int("TOLLGATE_BOARD_PAGE_SIZE", default=20)
# Raw measurements are kept this many days, then folded into daily aggregates
# (count, min, max, mean per target and day); 0 keeps every raw reading.
TOLLGATE_MEASUREMENT_RAW_DAYS = env.int("TOLLGATE_MEASUREMENT_RAW_DAYS", default=90)
# Notifications emailed per transaction and per mail-server connection.
TOLLGATE_NOTIFICATION_BATCH_SIZE = env.int("TOLLGATE_NOTIFICATION_BATCH_SIZE", default=200)
# The portfolio import: largest file, and most rows per table.
TOLLGATE_IMPORT_MAX_BYTES = env.int("TOLLGATE_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
TOLLGATE_IMPORT_MAX_ROWS = env.int("TOLLGATE_IMPORT_MAX_ROWS", default=100_000)
# Reminder rules (a framework's ReminderPolicy, edited in the admin, overrides any of them).
TOLLGATE_REMINDERS = {
    "due_soon_days": [7, 1],  # remind the owner and team 7 and 1 days before a gate is due
    "overdue_every_days": 1,  # then daily while the gate is overdue
    "escalate_after_days": 7,  # escalate to the sponsor at 7 days overdue...
    "escalate_every_days": 7,  # ...and weekly after that
    "quiet_after_days": 14,  # nudge the owner after 14 days without activity
    "review_waiting_days": 3,  # remind gatekeepers who have not voted after 3 days in review
    "redrive_after_minutes": 15,  # re-queue a pending notification whose send task was lost
    "max_send_attempts": 5,  # then the notification is marked failed
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Sign-in: login throttling, password reset, optional single sign-on ----------------
import datetime  # noqa: E402

INSTALLED_APPS += ["axes"]
# Axes turns a flagged sign-in into the lockout page; it goes last, after authentication.
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("teams.context_processors.sign_in")
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked.
    "teams.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Failed sign-ins are counted in the database, which every worker shares (never in one
# process's memory); tests/test_shared_limits.py counts them from two processes.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# A username from one address: a guesser cannot lock a colleague out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "teams.auth.lockout_response"
# Behind N trusted proxies the client address is the Nth from the right of
# X-Forwarded-For; without proxies only REMOTE_ADDR counts, so it cannot be spoofed.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
# Password reset emails per address and per client address (every request counts, with or
# without an account; beyond the rate the page looks the same and nothing is sent).
TOLLGATE_PASSWORD_RESET_RATE = env("TOLLGATE_PASSWORD_RESET_RATE", default="3/hour")
TOLLGATE_PASSWORD_RESET_CLIENT_RATE = env("TOLLGATE_PASSWORD_RESET_CLIENT_RATE", default="20/hour")
# Password reset and invitation links expire after three days.
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
# The longest password any form takes: a new one is hashed, and hashing megabytes of
# text would let one request hold a worker (core.forms bounds every password field).
PASSWORD_MAX_LENGTH = 4096

# OpenID Connect single sign-on, off unless OIDC_RP_CLIENT_ID is set.
OIDC_ENABLED = bool(env("OIDC_RP_CLIENT_ID", default=""))
if OIDC_ENABLED:
    INSTALLED_APPS += ["mozilla_django_oidc"]
    AUTHENTICATION_BACKENDS.insert(1, "teams.sso.SingleSignOnBackend")
    OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
    # New people sign in with no portfolio role and see nothing until an admin gives one.
    OIDC_CREATE_USER = env.bool("OIDC_CREATE_USER", default=True)
    OIDC_USERNAME_ALGO = "teams.sso.sso_username"
    LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
