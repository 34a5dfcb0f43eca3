"""Django settings, read once from the environment (see .env.example for every variable)."""

from __future__ import annotations

from pathlib import Path

from whistle.env import (
    ImproperSetting,
    database_from_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
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
    "whistle.cases",
    "whistle.notifications",
    "whistle.importing",
    "whistle.demo",
    "whistle.web",
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "sqlite:///var/whistle.sqlite3"), base_dir=BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organisation.Person"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Stored in UTC, shown in Beijing time.
USE_TZ = True
TIME_ZONE = env_str("WHISTLE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("WHISTLE_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
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

SESSION_COOKIE_SECURE = env_bool("WHISTLE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# The working calendar: what to do when a deadline falls in a year whose official holiday
# schedule is neither known to the calendar package nor entered by the district.
# "error" refuses to compute; "weekends" logs a warning and treats only Saturdays and
# Sundays as rest days for that year.
WHISTLE_CALENDAR_UNKNOWN_YEAR = env_choice(
    "WHISTLE_CALENDAR_UNKNOWN_YEAR", "weekends", ("error", "weekends")
)
# A lane is attached to a case when its centre line is within this distance of the point.
WHISTLE_LANE_SNAP_METRES = env_float("WHISTLE_LANE_SNAP_METRES", 50.0, minimum=0.0)
WHISTLE_DEMO_PASSWORD = env_str("WHISTLE_DEMO_PASSWORD", "whistle-demo-2026")
WHISTLE_WORKER_INTERVAL_SECONDS = env_float("WHISTLE_WORKER_INTERVAL_SECONDS", 1.0, minimum=0.05)
# What one tick of `whistle worker` runs, in order: dotted paths of functions
# `sweep(now: datetime, *, batch: int) -> int` that claim and process due work.
WHISTLE_WORKER_SWEEPS = env_list(
    "WHISTLE_WORKER_SWEEPS",
    ["whistle.cases.deadlines.sweep", "whistle.notifications.delivery.sweep"],
)
WHISTLE_WORKER_BATCH = env_int("WHISTLE_WORKER_BATCH", 200, minimum=1)
WHISTLE_PAGE_SIZE = env_int("WHISTLE_PAGE_SIZE", 50, minimum=1)

LOG_LEVEL = env_choice("WHISTLE_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "whistle": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["console"], "level": "WARNING"},
    },
}
