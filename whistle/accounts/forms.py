from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from whistle.accounts.models import ContactKind

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


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


class NewAddressForm(forms.Form):
    """A new address to send a code to. Checked by the change itself, which says what is
    wrong in the person's words; each kind of address gives its label, length, help and
    keyboard."""

    label: ClassVar[_StrPromise]
    max_length: ClassVar[int]
    help_text: ClassVar[_StrPromise]
    # The keyboard a phone shows and what the browser may fill in: "tel" or "email".
    input_kind: ClassVar[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["address"] = forms.CharField(
            label=self.label,
            max_length=self.max_length,
            help_text=self.help_text,
            widget=forms.TextInput(
                attrs={"inputmode": self.input_kind, "autocomplete": self.input_kind}
            ),
        )


class NewPhoneForm(NewAddressForm):
    label = _("New mobile phone")
    max_length = 40
    help_text = _("A mainland mobile number; the code goes to it by SMS.")
    input_kind = "tel"


class NewEmailForm(NewAddressForm):
    label = _("New e-mail address")
    max_length = 254
    help_text = _("The code goes to it by e-mail.")
    input_kind = "email"


class ContactCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code sent to the new address"),
        max_length=12,
        strip=True,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind == ContactKind.PHONE:
            self.fields["code"].label = _("Code sent to the new number")
