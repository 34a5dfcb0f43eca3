"""My settings: how a person is reached — the channels outside the in-app inbox, their order,
and quiet hours. Every signed-in person has this page, whatever their roles."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from whistle.notifications.actions import (
    PreferenceRefused,
    Preferences,
    set_notification_preferences,
)
from whistle.notifications.conf import OUTSIDE_CHANNELS, channel_order, setting
from whistle.notifications.kinds import urgent_kinds
from whistle.notifications.models import Channel, NotificationPreference
from whistle.organisation.models import Person, Role
from whistle.web.forms import TimeInput

DEFAULT = "default"
MINE = "mine"
# The form's fields for the first, second and third channel, in order.
PLACES = ("first", "second", "third")


def channel_names(channels: list[str]) -> str:
    return " → ".join(str(Channel(c).label) for c in channels) or _("the in-app inbox only")


class NotificationSettingsForm(forms.Form):
    order = forms.ChoiceField(label=gettext_lazy("Order of the channels"), widget=forms.RadioSelect)
    first = forms.ChoiceField(label=gettext_lazy("First"), required=False)
    second = forms.ChoiceField(label=gettext_lazy("Then"), required=False)
    third = forms.ChoiceField(label=gettext_lazy("Then"), required=False)
    quiet_from = forms.TimeField(
        label=gettext_lazy("Quiet hours from"),
        required=False,
        widget=TimeInput(),
        help_text=gettext_lazy("Beijing time, e.g. 22:00."),
    )
    quiet_until = forms.TimeField(
        label=gettext_lazy("Quiet hours until"),
        required=False,
        widget=TimeInput(),
        help_text=gettext_lazy("e.g. 07:00: quiet hours may run past midnight."),
    )

    def __init__(self, *args: Any, offered: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = cast(forms.ChoiceField, self.fields["order"])
        order.choices = [
            (
                DEFAULT,
                _("The usual order: %(order)s") % {"order": channel_names(channel_order())},
            ),
            (MINE, _("My own order:")),
        ]
        choices = [("", _("— none —")), *((c, str(Channel(c).label)) for c in offered)]
        for place in PLACES:
            cast(forms.ChoiceField, self.fields[place]).choices = choices

    def preferences(self) -> Preferences:
        data = self.cleaned_data
        channels = None
        if data["order"] == MINE:
            channels = [data[place] for place in PLACES if data.get(place)]
        return Preferences(
            channels=channels,
            quiet_from=data.get("quiet_from"),
            quiet_until=data.get("quiet_until"),
        )


def offered_channels() -> list[str]:
    """The outside channels this server can use: Web Push once it is set up."""
    vapid = bool(setting("WHISTLE_VAPID_PRIVATE_KEY"))
    return [c for c in OUTSIDE_CHANNELS if c != Channel.PUSH or vapid]


def initial_for(preference: NotificationPreference | None) -> dict[str, Any]:
    if preference is None:
        return {"order": DEFAULT}
    initial: dict[str, Any] = {
        "order": DEFAULT if preference.channels is None else MINE,
        "quiet_from": preference.quiet_from,
        "quiet_until": preference.quiet_until,
    }
    for place, channel in zip(PLACES, preference.channels or [], strict=False):
        initial[place] = channel
    return initial


def is_resident_only(person: Person) -> bool:
    """Whether the person is a resident and nothing else: no administrator keeps their
    profile, and they are told only what becomes of the problems they reported."""
    held = set(person.roles.values_list("role", flat=True))
    return held == {Role.RESIDENT}


# Where an action's refusal lands on the form.
_FIELD_OF = {"channels": "first", "quiet_from": "quiet_from", "quiet_until": "quiet_until"}


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    person = cast(Person, request.user)
    preference = NotificationPreference.objects.filter(person=person).first()
    offered = offered_channels()
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST, offered=offered)
        if form.is_valid():
            try:
                set_notification_preferences(person, form.preferences())
            except PreferenceRefused as refusal:
                form.add_error(_FIELD_OF.get(refusal.field), str(refusal))
            else:
                messages.success(request, _("Your notification settings are saved."))
                return HttpResponseRedirect(reverse("web:settings"))
    else:
        form = NotificationSettingsForm(initial=initial_for(preference), offered=offered)
    resident = is_resident_only(person)
    context = {
        "form": form,
        "person": person,
        "resident": resident,
        "push_offered": Channel.PUSH in offered,
        # A resident is told only of their own reports, never urgently: no urgent kind
        # (a department summoned, an overdue) ever reaches them.
        "urgent_kinds": [] if resident else [str(k.label) for k in urgent_kinds()],
    }
    return render(request, "web/settings.html", context)
