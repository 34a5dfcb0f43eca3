"""Django settings, read once from the environment (see .env.example for every variable)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from whistle.env import (
    ImproperSetting,
    cache_from_url,
    database_from_url,
    env_bool,
    env_choice,
    env_choices,
    env_database_pool,
    env_float,
    env_int,
    env_json_object,
    env_list,
    env_str,
    load_dotenv,
)

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("WHISTLE_DEBUG", False)
SECRET_KEY = env_str("WHISTLE_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperSetting("WHISTLE_SECRET_KEY must be set when WHISTLE_DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-WHISTLE_DEBUG"

ALLOWED_HOSTS = env_list("WHISTLE_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("WHISTLE_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("WHISTLE_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "whistle.organisation",
    "whistle.policies",
    "whistle.duty",
    "whistle.cases",
    "whistle.patrols",
    "whistle.notifications",
    "whistle.assessment",
    "whistle.township",
    "whistle.importing",
    "whistle.demo",
    "whistle.simulation",
    "whistle.street",
    "whistle.desk",
    "whistle.district",
    "whistle.web",
    "whistle.api",
    # Its templates and static files: the interactive API docs are served from here, not a CDN.
    "ninja",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whistle.web.headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whistle.web.errors.ErrorPageMiddleware",
    "whistle.api.middleware.IdempotencyMiddleware",
]
# A refused form (expired page, cookies blocked) gets the product's error page.
CSRF_FAILURE_VIEW = "whistle.web.errors.csrf_failure"

ROOT_URLCONF = "whistle.urls"
WSGI_APPLICATION = "whistle.wsgi.application"

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
            ],
        },
    },
]

# Each process's pool of PostgreSQL connections, MIN:MAX (docs/deployment.md); empty: none.
_DB_POOL = env_database_pool("WHISTLE_DB_POOL")
DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "sqlite:///var/whistle.sqlite3"), base_dir=BASE_DIR, pool=_DB_POOL
    )
}
# A PostgreSQL streaming replica of DATABASE_URL, read by the read-heavy district pages
# (rankings, hot spots, the annual report) through `whistle.web.replica.ReplicaRouter`;
# every write and every other read stays on `default` (docs/deployment.md). Empty: no replica.
_REPLICA_URL = env_str("WHISTLE_REPLICA_DATABASE_URL", "")
if _REPLICA_URL:
    if not _REPLICA_URL.lower().startswith(("postgres://", "postgresql://", "pgsql://")):
        raise ImproperSetting("WHISTLE_REPLICA_DATABASE_URL must be a postgresql:// URL")
    DATABASES["replica"] = {
        **database_from_url(_REPLICA_URL, base_dir=BASE_DIR, pool=_DB_POOL),
        # Tests read the test database itself through the alias.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["whistle.web.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's cache holds the street pages' rate-limit counters and the photos kept for a form
# sent back (docs/street.md). "locmem://" (the default) is each process's own memory: with
# several server processes each counts on its own. "db://<table>" is shared by every
# process; create its table with `whistle createcachetable`.
CACHES = {"default": cache_from_url(env_str("WHISTLE_CACHE_URL", "locmem://"))}

AUTH_USER_MODEL = "organisation.Person"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# --- Security (docs/security.md) ------------------------------------------------------
# Sign-in: django-axes counts failed sign-ins in the database (shared by every process) and
# locks out a username from one address after WHISTLE_LOGIN_FAILURE_LIMIT failures, and an
# address after WHISTLE_LOGIN_FAILURES_PER_ADDRESS failures over any usernames, each for
# the cool-off. Locking a username from every address would let anyone lock a chief out.
# django-otp's TOTP devices and django-axes under names the admin shows in the page's language.
INSTALLED_APPS += [
    "whistle.accounts",
    "django_otp",
    "whistle.accounts.apps.AuthenticatorsConfig",
    "whistle.accounts.apps.LockoutConfig",
]
MIDDLEWARE[MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1 : 0] = [
    "django_otp.middleware.OTPMiddleware",
    "whistle.accounts.middleware.SessionPolicyMiddleware",
    "whistle.accounts.middleware.TwoFactorMiddleware",
]
# After the messages, which keep the notice it leaves for the sign-in page.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "whistle.accounts.middleware.SignInNeededMiddleware",
)
# Last, so that it turns a lock-out flagged by any view into the lock-out page.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "whistle.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
WHISTLE_LOGIN_FAILURE_LIMIT = env_int("WHISTLE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
WHISTLE_LOGIN_FAILURES_PER_ADDRESS = env_int("WHISTLE_LOGIN_FAILURES_PER_ADDRESS", 30, minimum=1)
WHISTLE_LOGIN_COOLOFF_MINUTES = env_int("WHISTLE_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = WHISTLE_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=WHISTLE_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "whistle.accounts.lockout.LoginAttempts"
AXES_LOCKOUT_CALLABLE = "whistle.accounts.views.locked_out"
# The same client address as the residents' rate limits, behind WHISTLE_TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "whistle.street.ratelimit.client_ip_address"
AXES_RESET_ON_SUCCESS = True
# The cool-off the lock-out page names holds, however often the form is sent meanwhile.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Passwords, wherever they are set (the person's page, the admin, createsuperuser).
WHISTLE_PASSWORD_MIN_LENGTH = env_int("WHISTLE_PASSWORD_MIN_LENGTH", 10, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "whistle.accounts.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": WHISTLE_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Two-factor sign-in (TOTP, RFC 6238) is required of these roles ("administrator" includes
# every superuser) and open to everyone else. WHISTLE_DEMO_MODE waives the requirement for
# the demo city's own logins only; `whistle check --deploy` warns while it is on.
WHISTLE_TWO_FACTOR_ROLES = env_list(
    "WHISTLE_TWO_FACTOR_ROLES",
    ["township_assessor", "district_assessor", "chiefs_office", "administrator"],
)
WHISTLE_DEMO_MODE = env_bool("WHISTLE_DEMO_MODE", False)
# The name an authenticator app shows beside the account.
OTP_TOTP_ISSUER = env_str("WHISTLE_TOTP_ISSUER", "Whistle")
# The admin never shows a device's secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Sessions end after this much idleness (minutes), extended by activity. People whose roles
# are all out on the street (WHISTLE_SESSION_FIELD_ROLES) keep a shift-long session on their
# phones; anyone holding a desk role gets the short one.
WHISTLE_SESSION_IDLE_MINUTES = env_int("WHISTLE_SESSION_IDLE_MINUTES", 30, minimum=1)
WHISTLE_SESSION_FIELD_IDLE_MINUTES = env_int("WHISTLE_SESSION_FIELD_IDLE_MINUTES", 720, minimum=1)
WHISTLE_SESSION_FIELD_ROLES = env_list(
    "WHISTLE_SESSION_FIELD_ROLES",
    ["steward", "lane_chief", "street_chief", "department_officer", "resident"],
)
SESSION_COOKIE_AGE = WHISTLE_SESSION_IDLE_MINUTES * 60
# How often `whistle worker` deletes expired sessions (seconds).
WHISTLE_SESSION_CLEAR_SECONDS = env_int("WHISTLE_SESSION_CLEAR_SECONDS", 3600, minimum=1)
# How often `whistle worker` erases the personal data past each district's retention period
# (DistrictPolicy.personal_data_retention_days), in seconds: daily.
WHISTLE_PERSONAL_DATA_SWEEP_SECONDS = env_int(
    "WHISTLE_PERSONAL_DATA_SWEEP_SECONDS", 86400, minimum=1
)
# HTTPS: WHISTLE_HTTPS redirects plain HTTP and sends HSTS; behind nginx, which ends TLS,
# WHISTLE_PROXY_SSL_HEADER names the header it sets (X-Forwarded-Proto), and only then is
# the header believed.
WHISTLE_SECURE_COOKIES = env_bool("WHISTLE_SECURE_COOKIES", False)
WHISTLE_HTTPS = env_bool("WHISTLE_HTTPS", WHISTLE_SECURE_COOKIES)
SESSION_COOKIE_SECURE = WHISTLE_SECURE_COOKIES or WHISTLE_HTTPS
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = WHISTLE_HTTPS
SECURE_HSTS_SECONDS = env_int("WHISTLE_HSTS_SECONDS", 31_536_000 if WHISTLE_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("WHISTLE_HSTS_INCLUDE_SUBDOMAINS", True)
# The directive only allows the domain to be submitted to the browsers' preload list; nothing
# is submitted by sending it.
SECURE_HSTS_PRELOAD = env_bool("WHISTLE_HSTS_PRELOAD", True)
WHISTLE_PROXY_SSL_HEADER = env_str("WHISTLE_PROXY_SSL_HEADER", "")
if WHISTLE_PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + WHISTLE_PROXY_SSL_HEADER.upper().replace("-", "_"),
        "https",
    )
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# --- End of security ---------------------------------------------------------------------

# Stored in UTC, shown in Beijing time.
USE_TZ = True
TIME_ZONE = env_str("WHISTLE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Front-end packages come from npm (`npm ci` with package-lock.json) and are served straight
# from their dist folders under a "vendor/" prefix: nothing third-party is copied into static/.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / env_str("WHISTLE_MEDIA_ROOT", "var/media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env_str("WHISTLE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("WHISTLE_FROM_EMAIL", "whistle@localhost")

# The working calendar: what to do when a deadline falls in a year whose official holiday
# schedule is neither known to the calendar package nor entered by the district.
# "error" refuses to compute; "weekends" logs a warning and treats only Saturdays and
# Sundays as rest days for that year.
WHISTLE_CALENDAR_UNKNOWN_YEAR = env_choice(
    "WHISTLE_CALENDAR_UNKNOWN_YEAR", "weekends", ("error", "weekends")
)
# A lane is attached to a case when its centre line is within this distance of the point.
WHISTLE_LANE_SNAP_METRES = env_float("WHISTLE_LANE_SNAP_METRES", 50.0, minimum=0.0)
# The Ed25519 key that signs exported case histories and trail checkpoints, made once by
# `whistle keys init` (mode 0600), kept out of the data folder (var/) and its backups. Every
# public key it ever had is listed in WHISTLE_PUBLIC_KEYS_FILE (by default beside it).
WHISTLE_SIGNING_KEY_FILE = str(
    BASE_DIR / env_str("WHISTLE_SIGNING_KEY_FILE", "keys/signing-key.pem")
)
WHISTLE_PUBLIC_KEYS_FILE = env_str("WHISTLE_PUBLIC_KEYS_FILE", "")
# Whose signatures `whistle verify-trail` trusts: fingerprints (SHA256:…), and a file the
# district publishes (a public key list or one fingerprint per line). Neither set: the
# installation's own public key list.
WHISTLE_TRUSTED_FINGERPRINTS = env_list("WHISTLE_TRUSTED_FINGERPRINTS", [])
WHISTLE_TRUSTED_KEYS_FILE = env_str("WHISTLE_TRUSTED_KEYS_FILE", "")
# How often the worker writes a signed checkpoint of every trail (minutes; 0: never).
WHISTLE_CHECKPOINT_INTERVAL_MINUTES = env_int("WHISTLE_CHECKPOINT_INTERVAL_MINUTES", 60, minimum=0)
# An RFC 3161 time-stamping authority asked for a token over each checkpoint (empty: none),
# how long to wait for it, and the authority certificates (PEM) a token must be signed by.
WHISTLE_TIMESTAMP_URL = env_str("WHISTLE_TIMESTAMP_URL", "")
WHISTLE_TIMESTAMP_TIMEOUT_SECONDS = env_float(
    "WHISTLE_TIMESTAMP_TIMEOUT_SECONDS", 10.0, minimum=0.1
)
WHISTLE_TIMESTAMP_TRUSTED_CERTS = env_str("WHISTLE_TIMESTAMP_TRUSTED_CERTS", "")
# How far ahead of the server's clock an action's moment may lie (a second server or a
# device whose clock runs slightly fast); a trail never goes back in time in any case.
WHISTLE_CLOCK_SKEW_SECONDS = env_float("WHISTLE_CLOCK_SKEW_SECONDS", 5.0, minimum=0.0)
# Every uploaded photo (whistle.cases.images): the largest file accepted before it is
# re-encoded (bytes), then the longest side (pixels) and the JPEG quality of the stored copy.
WHISTLE_PHOTO_UPLOAD_MAX_BYTES = env_int(
    "WHISTLE_PHOTO_UPLOAD_MAX_BYTES", 15 * 1024 * 1024, minimum=1024
)
WHISTLE_PHOTO_MAX_SIDE = env_int("WHISTLE_PHOTO_MAX_SIDE", 2048, minimum=64)
WHISTLE_PHOTO_JPEG_QUALITY = env_int("WHISTLE_PHOTO_JPEG_QUALITY", 82, minimum=1)
WHISTLE_DEMO_PASSWORD = env_str("WHISTLE_DEMO_PASSWORD", "whistle-demo-2026")
WHISTLE_WORKER_INTERVAL_SECONDS = env_float("WHISTLE_WORKER_INTERVAL_SECONDS", 1.0, minimum=0.05)
# What one tick of `whistle worker` runs, in order: dotted paths of functions
# `sweep(now: datetime, *, batch: int) -> int` that claim and process due work.
WHISTLE_WORKER_SWEEPS = env_list(
    "WHISTLE_WORKER_SWEEPS",
    [
        "whistle.cases.deadlines.sweep",
        "whistle.assessment.engine.sweep",
        "whistle.assessment.ruler_checks.sweep",
        "whistle.notifications.delivery.sweep",
        "whistle.accounts.sessions.sweep",
        "whistle.accounts.contact.sweep",
        "whistle.cases.actions.personal_data.sweep",
        "whistle.cases.checkpoints.sweep",
        "whistle.cases.timestamps.sweep",
        "whistle.api.idempotency.sweep",
    ],
)
WHISTLE_WORKER_BATCH = env_int("WHISTLE_WORKER_BATCH", 200, minimum=1)
# Threads, each with its own connection, that share a pass of the deadline sweep on
# PostgreSQL: while one waits for the server to write its chunk, another works out its own
# (docs/deadlines.md). 1: the calling thread alone.
WHISTLE_SWEEP_LANES = env_int("WHISTLE_SWEEP_LANES", 1, minimum=1)

# Connections that `recompute_all` derives the assessment records on side by side (PostgreSQL;
# docs/assessment.md). The work is in the database server, whose cores this process cannot
# see: set it to about those. With a connection pool (WHISTLE_DB_POOL) at most MAX - 1.
WHISTLE_ASSESSMENT_WORKERS = env_int("WHISTLE_ASSESSMENT_WORKERS", 2, minimum=1, maximum=64)
if _DB_POOL is not None:
    WHISTLE_ASSESSMENT_WORKERS = max(1, min(WHISTLE_ASSESSMENT_WORKERS, _DB_POOL["max_size"] - 1))

# Notifications (see docs/notifications.md).
WHISTLE_SMS_BACKEND = env_str("WHISTLE_SMS_BACKEND", "whistle.notifications.sms.ConsoleSmsBackend")
WHISTLE_NOTIFY_MAX_ATTEMPTS = env_int("WHISTLE_NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
WHISTLE_NOTIFY_RETRY_SECONDS = env_float("WHISTLE_NOTIFY_RETRY_SECONDS", 60.0, minimum=1.0)
WHISTLE_NOTIFY_LEASE_SECONDS = env_float("WHISTLE_NOTIFY_LEASE_SECONDS", 300.0, minimum=30.0)
WHISTLE_NOTIFY_SWEEP_SECONDS = env_float("WHISTLE_NOTIFY_SWEEP_SECONDS", 1.0, minimum=0.0)
WHISTLE_WEBHOOK_TIMEOUT_SECONDS = env_float("WHISTLE_WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.5)
# A hung mail server must not stall the worker.
EMAIL_TIMEOUT = env_int("WHISTLE_EMAIL_TIMEOUT", 10, minimum=1)
# The channels (docs/notifications.md): e-mail through SMTP when WHISTLE_EMAIL_BACKEND is
# Django's SMTP backend; STARTTLS (WHISTLE_EMAIL_USE_TLS, port 587) or TLS from the first
# byte (WHISTLE_EMAIL_USE_SSL, port 465), never both.
EMAIL_HOST = env_str("WHISTLE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("WHISTLE_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_USE_TLS = env_bool("WHISTLE_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("WHISTLE_EMAIL_USE_SSL", False)
EMAIL_HOST_USER = env_str("WHISTLE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("WHISTLE_EMAIL_PASSWORD", "")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperSetting("WHISTLE_EMAIL_USE_TLS and WHISTLE_EMAIL_USE_SSL exclude each other")
# A person's outside channels in the order they are tried, unless the person chose their own
# order on their settings page; a failure passes the message on to the next (after this many
# failed attempts on one channel).
WHISTLE_NOTIFY_CHANNEL_ORDER = env_choices(
    "WHISTLE_NOTIFY_CHANNEL_ORDER", ["push", "sms", "email"], ("push", "sms", "email")
)
WHISTLE_NOTIFY_FALL_THROUGH_AFTER = env_int("WHISTLE_NOTIFY_FALL_THROUGH_AFTER", 1, minimum=1)
# How often an open page asks whether the person's inbox changed (the header's unread count;
# the inbox page and the department desk refresh when it did). See docs/notifications.md.
WHISTLE_INBOX_POLL_SECONDS = env_int("WHISTLE_INBOX_POLL_SECONDS", 5, minimum=1)
WHISTLE_NOTIFY_HTTP_TIMEOUT_SECONDS = env_float(
    "WHISTLE_NOTIFY_HTTP_TIMEOUT_SECONDS", 5.0, minimum=0.5
)
# SMS providers: approved sign name and templates per notification kind (a JSON object).
WHISTLE_SMS_SIGN_NAME = env_str("WHISTLE_SMS_SIGN_NAME", "")
WHISTLE_SMS_TEMPLATES = env_json_object("WHISTLE_SMS_TEMPLATES")
WHISTLE_ALIYUN_SMS_ACCESS_KEY_ID = env_str("WHISTLE_ALIYUN_SMS_ACCESS_KEY_ID", "")
WHISTLE_ALIYUN_SMS_ACCESS_KEY_SECRET = env_str("WHISTLE_ALIYUN_SMS_ACCESS_KEY_SECRET", "")
WHISTLE_ALIYUN_SMS_ENDPOINT = env_str(
    "WHISTLE_ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com"
)
# The secret part of the addresses the SMS providers post delivery receipts to (they do not
# sign them); empty: receipts are not taken. See docs/notifications.md.
WHISTLE_SMS_RECEIPT_TOKEN = env_str("WHISTLE_SMS_RECEIPT_TOKEN", "")
# Without callbacks: how often the sweep whistle.notifications.receipt_pull.sweep, when listed
# in WHISTLE_WORKER_SWEEPS, pulls receipts (Tencent Cloud only).
WHISTLE_SMS_PULL_RECEIPTS_SECONDS = env_float(
    "WHISTLE_SMS_PULL_RECEIPTS_SECONDS", 60.0, minimum=5.0
)
WHISTLE_TENCENT_SMS_SECRET_ID = env_str("WHISTLE_TENCENT_SMS_SECRET_ID", "")
WHISTLE_TENCENT_SMS_SECRET_KEY = env_str("WHISTLE_TENCENT_SMS_SECRET_KEY", "")
WHISTLE_TENCENT_SMS_SDK_APP_ID = env_str("WHISTLE_TENCENT_SMS_SDK_APP_ID", "")
WHISTLE_TENCENT_SMS_REGION = env_str("WHISTLE_TENCENT_SMS_REGION", "ap-guangzhou")
WHISTLE_TENCENT_SMS_ENDPOINT = env_str(
    "WHISTLE_TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com"
)
# Work-chat group robots (configured in the admin); the platforms' webhook addresses.
WHISTLE_WECOM_WEBHOOK_URL = env_str(
    "WHISTLE_WECOM_WEBHOOK_URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
)
WHISTLE_DINGTALK_WEBHOOK_URL = env_str(
    "WHISTLE_DINGTALK_WEBHOOK_URL", "https://oapi.dingtalk.com/robot/send"
)
# Web Push: the server's VAPID key (`whistle vapid-keys` makes one) and a contact for the
# push services (mailto: or https:); how long a push service keeps a message (seconds).
WHISTLE_VAPID_PRIVATE_KEY = env_str("WHISTLE_VAPID_PRIVATE_KEY", "")
WHISTLE_VAPID_SUBJECT = env_str("WHISTLE_VAPID_SUBJECT", "")
WHISTLE_PUSH_TTL_SECONDS = env_int("WHISTLE_PUSH_TTL_SECONDS", 3600, minimum=0, maximum=2419200)
# The push services a browser's subscription may point at ("*.host" allows subdomains).
WHISTLE_PUSH_SERVICE_HOSTS = env_list(
    "WHISTLE_PUSH_SERVICE_HOSTS",
    [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "web.push.apple.com",
        "*.notify.windows.com",
    ],
)
WHISTLE_PAGE_SIZE = env_int("WHISTLE_PAGE_SIZE", 50, minimum=1)

# The REST API (docs/api.md): requests per token in a window of seconds (counted in CACHES,
# like the street pages' limits), for personal tokens and signed-in browsers and for service
# tokens; how long a token may live (days) and lives unless its creator says otherwise; how
# long a retried POST with the same Idempotency-Key gets the first answer (hours); the size of
# a list's page.
WHISTLE_API_RATE_LIMIT = env_int("WHISTLE_API_RATE_LIMIT", 300, minimum=1)
WHISTLE_API_SERVICE_RATE_LIMIT = env_int("WHISTLE_API_SERVICE_RATE_LIMIT", 3000, minimum=1)
WHISTLE_API_RATE_WINDOW = env_int("WHISTLE_API_RATE_WINDOW", 60, minimum=1)
WHISTLE_API_TOKEN_MAX_DAYS = env_int("WHISTLE_API_TOKEN_MAX_DAYS", 366, minimum=1)
WHISTLE_API_TOKEN_DEFAULT_DAYS = env_int("WHISTLE_API_TOKEN_DEFAULT_DAYS", 90, minimum=1)
WHISTLE_API_IDEMPOTENCY_HOURS = env_int("WHISTLE_API_IDEMPOTENCY_HOURS", 24, minimum=1)
# What a phone recorded without signal is accepted this many days after it was made; the
# Idempotency-Key of a request sent from the queue (with X-Whistle-Sent-At) is kept as long,
# and a day more, so a resend days later is recognised (docs/street.md, "Without signal"). A
# month by default: a phone left in a drawer over a holiday still delivers what it holds.
WHISTLE_OFFLINE_MAX_DAYS = env_int("WHISTLE_OFFLINE_MAX_DAYS", 30, minimum=1)
WHISTLE_API_PAGE_SIZE = env_int("WHISTLE_API_PAGE_SIZE", 50, minimum=1, maximum=500)
if WHISTLE_API_TOKEN_DEFAULT_DAYS > WHISTLE_API_TOKEN_MAX_DAYS:
    raise ImproperSetting("WHISTLE_API_TOKEN_DEFAULT_DAYS exceeds WHISTLE_API_TOKEN_MAX_DAYS")

# The street pages and patrols (docs/street.md): patrol positions, kept photos, the captcha and
# the residents' rate limits (counted in CACHES). Windows are in seconds.
WHISTLE_PATROL_MAX_BATCH = env_int("WHISTLE_PATROL_MAX_BATCH", 200, minimum=1)
WHISTLE_PATROL_MAX_POINTS = env_int("WHISTLE_PATROL_MAX_POINTS", 20_000, minimum=1)
WHISTLE_PATROL_MAX_ACCURACY_M = env_float("WHISTLE_PATROL_MAX_ACCURACY_M", 50.0, minimum=1.0)
WHISTLE_PATROL_MIN_STEP_M = env_float("WHISTLE_PATROL_MIN_STEP_M", 10.0, minimum=0.0)
WHISTLE_PATROL_MAX_SPEED_MPS = env_float("WHISTLE_PATROL_MAX_SPEED_MPS", 8.0, minimum=0.1)
WHISTLE_PHOTO_KEEP_SECONDS = env_int("WHISTLE_PHOTO_KEEP_SECONDS", 3600, minimum=1)
WHISTLE_LANE_CLOSED_DAYS = env_int("WHISTLE_LANE_CLOSED_DAYS", 30, minimum=1, maximum=366)
WHISTLE_CAPTCHA_SECONDS = env_int("WHISTLE_CAPTCHA_SECONDS", 600, minimum=1)
WHISTLE_RESIDENT_REPORTS_PER_IP = env_int("WHISTLE_RESIDENT_REPORTS_PER_IP", 10, minimum=1)
WHISTLE_RESIDENT_REPORTS_IP_WINDOW = env_int("WHISTLE_RESIDENT_REPORTS_IP_WINDOW", 3600, minimum=1)
WHISTLE_RESIDENT_REPORTS_PER_PHONE = env_int("WHISTLE_RESIDENT_REPORTS_PER_PHONE", 5, minimum=1)
WHISTLE_RESIDENT_REPORTS_PHONE_WINDOW = env_int(
    "WHISTLE_RESIDENT_REPORTS_PHONE_WINDOW", 86400, minimum=1
)
WHISTLE_CAPTCHA_FAILURES_PER_IP = env_int("WHISTLE_CAPTCHA_FAILURES_PER_IP", 20, minimum=1)
WHISTLE_CAPTCHA_FAILURES_WINDOW = env_int("WHISTLE_CAPTCHA_FAILURES_WINDOW", 3600, minimum=1)
WHISTLE_FOLLOW_MISSES_PER_IP = env_int("WHISTLE_FOLLOW_MISSES_PER_IP", 30, minimum=1)
WHISTLE_FOLLOW_MISSES_WINDOW = env_int("WHISTLE_FOLLOW_MISSES_WINDOW", 3600, minimum=1)
# Reverse proxies in front that append to X-Forwarded-For (0: the connecting address is
# the client's).
WHISTLE_TRUSTED_PROXIES = env_int("WHISTLE_TRUSTED_PROXIES", 0, minimum=0)

# The base map under the map's vector layers (docs/frontend.md). "none" draws boundaries,
# lanes and cases on a plain background and needs no network. Tianditu (天地图) serves
# CGCS2000, close enough to WGS-84 to draw stored positions as they are; Amap (高德) serves
# GCJ-02, so the map shifts positions for display; "custom" is an in-house tile server whose
# coordinate system must be declared.
WHISTLE_BASEMAP = env_choice("WHISTLE_BASEMAP", "none", ("none", "tianditu", "amap", "custom"))
WHISTLE_BASEMAP_KEY = env_str("WHISTLE_BASEMAP_KEY", "")
WHISTLE_BASEMAP_URL = env_str("WHISTLE_BASEMAP_URL", "")
WHISTLE_BASEMAP_CRS = env_choice("WHISTLE_BASEMAP_CRS", "", ("", "wgs84", "gcj02"))
WHISTLE_BASEMAP_SUBDOMAINS = env_str("WHISTLE_BASEMAP_SUBDOMAINS", "")
WHISTLE_BASEMAP_ATTRIBUTION = env_str("WHISTLE_BASEMAP_ATTRIBUTION", "")
WHISTLE_BASEMAP_MAX_ZOOM = env_int("WHISTLE_BASEMAP_MAX_ZOOM", 18, minimum=1)
if WHISTLE_BASEMAP == "tianditu" and not WHISTLE_BASEMAP_KEY:
    raise ImproperSetting("WHISTLE_BASEMAP=tianditu needs WHISTLE_BASEMAP_KEY (a Tianditu key)")
if WHISTLE_BASEMAP == "custom" and not all(
    part in WHISTLE_BASEMAP_URL for part in ("{x}", "{y}", "{z}")
):
    raise ImproperSetting(
        "WHISTLE_BASEMAP=custom needs WHISTLE_BASEMAP_URL, a tile URL template with {z}, {x} "
        f"and {{y}}; got {WHISTLE_BASEMAP_URL!r}"
    )
if WHISTLE_BASEMAP == "custom" and not WHISTLE_BASEMAP_CRS:
    raise ImproperSetting(
        "WHISTLE_BASEMAP=custom needs WHISTLE_BASEMAP_CRS: wgs84 (or CGCS2000) or gcj02"
    )

LOG_LEVEL = env_choice("WHISTLE_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A refused request (403, 400) is one line with the path and the person; a server
    # error keeps its traceback (whistle/web/logs.py).
    "filters": {"one_line_refusals": {"()": "whistle.web.logs.OneLineRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "whistle": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["console"], "level": "WARNING"},
        "django.request": {"level": "WARNING", "filters": ["one_line_refusals"]},
    },
}
