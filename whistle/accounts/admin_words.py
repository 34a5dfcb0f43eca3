"""The admin's words for django-otp's TOTP devices and django-axes's sign-in records, in the
page's language.

django-axes passes its names through gettext but ships no Chinese: the translations are in
this app's catalogue, and AXES_MESSAGES names each message here so that `makemessages` keeps
it. django-otp's names are plain English: `translate_totp_device` gives its model and
fields lazily translated names at start-up. The help texts keep django-otp's English as
their message ids, so the migrations see no change; field and model names are not part of
the migrations' state.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

AXES_MESSAGES = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
)

# Each field of a TOTP device: its name, and its help text as django-otp writes it.
_TOTP_FIELDS = {
    "user": (_("user"), _("The user that this device belongs to.")),
    "name": (_("name"), _("The human-readable name of this device.")),
    "confirmed": (_("confirmed"), _("Is this device ready for use?")),
    "throttling_failure_timestamp": (
        _("last failed code at"),
        _("A timestamp of the last failed verification attempt. Null if last attempt succeeded."),
    ),
    "throttling_failure_count": (
        _("failed codes in a row"),
        _("Number of successive failed attempts."),
    ),
    "created_at": (
        _("created at"),
        _("The date and time when this device was initially created in the system."),
    ),
    "last_used_at": (_("last used at"), _("The most recent date and time this device was used.")),
    "key": (_("secret key"), _("A hex-encoded secret key of up to 40 bytes.")),
    "step": (_("time step"), _("The time step in seconds.")),
    "t0": (_("start time (t0)"), _("The Unix time at which to begin counting steps.")),
    "digits": (_("digits"), _("The number of digits to expect in a token.")),
    "tolerance": (
        _("tolerance"),
        _("The number of time steps in the past or future to allow."),
    ),
    "drift": (
        _("drift"),
        _("The number of time steps the prover is known to deviate from our clock."),
    ),
    "last_t": (
        _("last time step used"),
        _(
            "The t value of the latest verified token. The next token must be at a higher "
            "time step."
        ),
    ),
}

# The titles of the sections of a TOTP device's admin page, as django-otp writes them.
TOTP_SECTIONS = {
    "Identity": _("Identity"),
    "Timestamps": _("Timestamps"),
    "Configuration": _("Configuration"),
    "State": _("State"),
    "Throttling": _("Throttling"),
}


def translate_totp_device() -> None:
    """Give django-otp's TOTP device and its fields names in the page's language."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    opts = TOTPDevice._meta
    opts.verbose_name = _("TOTP device")
    opts.verbose_name_plural = _("TOTP devices")
    for name, (label, help_text) in _TOTP_FIELDS.items():
        field = opts.get_field(name)
        field.verbose_name = label
        if help_text is not None:
            field.help_text = help_text
