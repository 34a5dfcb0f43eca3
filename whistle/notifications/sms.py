"""The SMS gateway interface, the console gateway, and the templates the providers need.

A gateway is a class named by the setting ``WHISTLE_SMS_BACKEND`` (a dotted path, or one of
the short names ``console``, ``aliyun``, ``tencent``). The worker makes one instance per
delivery sweep and calls :meth:`SmsBackend.send` once per message. A gateway returns when
the provider has accepted the message (optionally with the provider's id for it) and raises
:class:`~whistle.notifications.errors.DeliveryError` (retried with backoff) or
:class:`~whistle.notifications.errors.PermanentDeliveryError` (marked failed at once)
otherwise. Any other exception is treated like ``DeliveryError``.

Delivery is at least once: after a crash the same message may be sent again.
``SmsMessage.delivery_id`` stays the same across attempts; pass it to providers that accept
a caller's message id so that they can drop the repeat.

Providers in mainland China send only pre-approved templates under a pre-approved sign name,
so the text of a message is not sent as it is: ``WHISTLE_SMS_TEMPLATES`` names, for each
notification kind (or ``"*"`` for every other kind), the provider's template and where each
of its parameters comes from.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from django.utils.module_loading import import_string

from whistle.notifications.conf import sms_backend_path, sms_templates
from whistle.notifications.errors import PermanentDeliveryError


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    kind: str
    delivery_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    body: str = ""
    link: str = ""


class SmsBackend(Protocol):
    def send(self, message: SmsMessage) -> str | None: ...


class ConsoleSmsBackend:
    """Writes each message to standard output instead of sending it: for development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: SmsMessage) -> None:
        # Looked up at each call so that redirecting sys.stdout (tests, benchmarks) works.
        stream = self._stream or sys.stdout
        stream.write(f"SMS to {message.phone} [{message.kind}] {message.delivery_id}\n")
        stream.write(message.text + "\n\n")
        stream.flush()


def get_sms_backend() -> SmsBackend:
    backend_class = import_string(sms_backend_path())
    backend: SmsBackend = backend_class()
    return backend


# Templates ---------------------------------------------------------------------------------

# Where a template parameter's value can come from besides the notification's payload.
MESSAGE_FIELDS = ("subject", "body", "link", "kind")
_SOURCE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?::(?P<limit>[1-9][0-9]*))?")


@dataclass(frozen=True)
class TemplateParameter:
    name: str
    source: str
    limit: int | None

    def value(self, message: SmsMessage) -> str:
        if self.source in MESSAGE_FIELDS:
            text = str(getattr(message, self.source))
        elif self.source in message.payload:
            text = str(message.payload[self.source])
        else:
            raise PermanentDeliveryError(
                f"the SMS template's parameter {self.name} takes {self.source!r}, "
                "which this message does not carry"
            )
        text = " ".join(text.split())
        if self.limit is not None and len(text) > self.limit:
            text = text[: self.limit - 1] + "…"
        return text


@dataclass(frozen=True)
class SmsTemplate:
    """A provider's approved template (Alibaba's TemplateCode, Tencent's TemplateId) and its
    parameters in order, each with the source of its value."""

    template: str
    parameters: tuple[TemplateParameter, ...]

    def values(self, message: SmsMessage) -> list[tuple[str, str]]:
        return [(p.name, p.value(message)) for p in self.parameters]


def parse_templates(raw: Mapping[str, Any]) -> dict[str, SmsTemplate]:
    """Check WHISTLE_SMS_TEMPLATES and turn it into templates; ValueError names the mistake.

    ``{"summons.created": {"template": "SMS_4611", "params": {"case": "case",
    "subject": "subject:20"}}, "*": {...}}``: each parameter is a message field (subject,
    body, link, kind) or a payload key, optionally cut to a number of characters.
    """
    templates: dict[str, SmsTemplate] = {}
    for kind, entry in raw.items():
        if not isinstance(entry, Mapping) or set(entry) - {"template", "params"}:
            raise ValueError(f'{kind}: expected {{"template": …, "params": {{…}}}}')
        template = entry.get("template")
        if not isinstance(template, str) or not template.strip():
            raise ValueError(f"{kind}: the template id or code is missing")
        params = entry.get("params", {})
        if not isinstance(params, Mapping):
            raise ValueError(f"{kind}: params must map each template parameter to a source")
        parameters = []
        for name, source in params.items():
            match = _SOURCE.fullmatch(source) if isinstance(source, str) else None
            if match is None:
                raise ValueError(
                    f"{kind}: parameter {name} must name a field or payload key, "
                    f"optionally with :<characters>; got {source!r}"
                )
            limit = match["limit"]
            parameters.append(
                TemplateParameter(str(name), match["name"], int(limit) if limit else None)
            )
        templates[str(kind)] = SmsTemplate(template.strip(), tuple(parameters))
    return templates


def template_for(kind: str) -> SmsTemplate:
    """The template for a notification kind, or the ``"*"`` template; refuses a kind that
    has neither, since a provider sends nothing but approved templates."""
    templates = parse_templates(sms_templates())
    found = templates.get(kind) or templates.get("*")
    if found is None:
        raise PermanentDeliveryError(f"no SMS template for {kind!r} in WHISTLE_SMS_TEMPLATES")
    return found


def plain_phone(phone: str) -> str:
    """The number without the spaces, hyphens and brackets people type into it."""
    return re.sub(r"[\s\-()]", "", phone)
