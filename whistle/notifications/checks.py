"""System checks of the channels' settings: a wrong key or template stops `whistle check`,
the server and the worker at start-up instead of failing one message at a time."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.utils.module_loading import import_string

from whistle.notifications import webpush
from whistle.notifications.conf import (
    SMS_BACKENDS,
    SMS_RECEIPT_TOKEN_MIN_LENGTH,
    setting,
    sms_backend_path,
    sms_receipt_token,
    sms_templates,
)
from whistle.notifications.sms import parse_templates

_PROVIDER_SETTINGS = {
    SMS_BACKENDS["aliyun"]: (
        "WHISTLE_ALIYUN_SMS_ACCESS_KEY_ID",
        "WHISTLE_ALIYUN_SMS_ACCESS_KEY_SECRET",
        "WHISTLE_SMS_SIGN_NAME",
    ),
    SMS_BACKENDS["tencent"]: (
        "WHISTLE_TENCENT_SMS_SECRET_ID",
        "WHISTLE_TENCENT_SMS_SECRET_KEY",
        "WHISTLE_TENCENT_SMS_SDK_APP_ID",
        "WHISTLE_SMS_SIGN_NAME",
    ),
}


@register()
def check_sms_gateway(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    path = sms_backend_path()
    try:
        import_string(path)
    except ImportError as exc:
        errors.append(Error(f"WHISTLE_SMS_BACKEND: cannot import {path}: {exc}", id="whistle.E101"))
    try:
        templates = parse_templates(sms_templates())
    except ValueError as exc:
        errors.append(Error(f"WHISTLE_SMS_TEMPLATES: {exc}", id="whistle.E102"))
        templates = {}
    if path in _PROVIDER_SETTINGS:
        missing = [name for name in _PROVIDER_SETTINGS[path] if not setting(name)]
        if missing:
            errors.append(
                Error(f"{path} needs {', '.join(missing)}", id="whistle.E103"),
            )
        if not templates:
            errors.append(
                Error(
                    f"{path} sends only approved templates: set WHISTLE_SMS_TEMPLATES",
                    id="whistle.E104",
                )
            )
    token = sms_receipt_token()
    if token and (len(token) < SMS_RECEIPT_TOKEN_MIN_LENGTH or not token.isascii()):
        errors.append(
            Error(
                f"WHISTLE_SMS_RECEIPT_TOKEN: use at least {SMS_RECEIPT_TOKEN_MIN_LENGTH} "
                "random ASCII characters (python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')",
                id="whistle.E107",
            )
        )
    return errors


@register()
def check_web_push(app_configs: Any, **kwargs: Any) -> list[Error]:
    private = setting("WHISTLE_VAPID_PRIVATE_KEY")
    if not private:
        return []
    errors: list[Error] = []
    try:
        webpush.private_from_b64(private)
    except ValueError as exc:
        errors.append(Error(f"WHISTLE_VAPID_PRIVATE_KEY: {exc}", id="whistle.E105"))
    subject = setting("WHISTLE_VAPID_SUBJECT")
    if not subject.startswith(("mailto:", "https:")):
        errors.append(
            Error(
                "WHISTLE_VAPID_SUBJECT must be a mailto: or https: contact for the push "
                f"services; got {subject!r}",
                id="whistle.E106",
            )
        )
    return errors
