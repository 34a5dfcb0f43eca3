from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class GalleryForm(forms.Form):
    """A form shown with its errors on the components page, as role pages will show theirs."""

    description = forms.CharField(
        label=_("What is the problem?"),
        widget=forms.Textarea(attrs={"rows": 3}),
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
