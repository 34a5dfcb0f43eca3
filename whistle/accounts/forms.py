from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=20,
        strip=True,
        help_text=_(
            "The six digits your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autofocus": True}),
    )


class FirstCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("First code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        help_text=_("The six digits the app shows for Whistle once the QR code is scanned."),
        error_messages={"invalid": _("Enter the six digits the app shows.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autofocus": True}),
    )
