"""The design system's form pieces shared by every page: the text area whose length is
counted as the person sees it, and the components page's sample form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


def counted_length(text: str) -> int:
    """A text's length as its limit counts it: characters, a line break as one."""
    return len(text.replace("\r\n", "\n"))


class Textarea(forms.Textarea):
    """A text area for a field with a limit. Browsers send each line break as CR LF, which
    Django's length check would count twice; the counter under the box counts it once, so
    the value is read with plain line breaks and the two always agree."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value


class GalleryForm(forms.Form):
    """A form shown with its errors on the components page, as role pages will show theirs."""

    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=4000,
        widget=Textarea(attrs={"rows": 3}),
        help_text=_("Say what you see and where, in a sentence or two."),
    )
    phone = forms.RegexField(
        label=_("Mobile phone"),
        regex=r"^1\d{10}$",
        error_messages={"invalid": _("Enter an 11-digit mobile number starting with 1.")},
    )
    lon = forms.FloatField(label=_("Longitude"), required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False)
    accuracy_m = forms.FloatField(label=_("Accuracy (m)"), required=False)
