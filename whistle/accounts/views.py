"""The person's sign-in pages: the second factor, its set-up, the account's security page
(password, authenticator, recovery codes, sessions), the lock-out page, and the page where a
person changes their mobile phone and e-mail address by a code sent to the new one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from whistle.accounts import actions, sessions, twofactor
from whistle.accounts import contact as contact_change
from whistle.accounts.forms import (
    CodeForm,
    ContactCodeForm,
    FirstCodeForm,
    NewAddressForm,
    NewEmailForm,
    NewPhoneForm,
)
from whistle.accounts.lockout import locked_until
from whistle.accounts.models import ContactKind, PendingContact, RecoveryCodeDevice, SignedInSession


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("web:home")


def _second_factor_proven(request: HttpRequest, device: Any) -> None:
    """The session is fully signed in: a new session key, as after the password."""
    person: Any = request.user
    otp_login(request, device)
    request.session.pop(twofactor.SESSION_KEY, None)
    previous = request.session.session_key
    request.session.cycle_key()
    sessions.forget(previous)
    sessions.remember(request, person)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The lock-out page (AXES_LOCKOUT_CALLABLE), in the product's layout."""
    return render(
        request,
        "accounts/locked_out.html",
        {
            "until": locked_until(request, credentials),
            "minutes": settings.WHISTLE_LOGIN_COOLOFF_MINUTES,
        },
        status=429,
    )


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in through the product's own sign-in page and its second factor.
    Someone signed in without the right to the admin is told so (403): sent to sign in
    again, they would come back here, round and round, with nothing said."""
    person: Any = request.user
    if person.is_authenticated and not (person.is_active and person.is_staff):
        raise PermissionDenied
    target = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    person: Any = request.user
    if twofactor.pending(request.session) != twofactor.Standing.VERIFY:
        return redirect(_next_url(request))
    credentials = {"username": person.username}
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not AxesProxyHandler.is_allowed(request, credentials):
            logout(request)
            return locked_out(request, None, credentials)
        device = actions.verify_second_factor(person, form.cleaned_data["code"])
        if device is not None:
            _second_factor_proven(request, device)
            if isinstance(device, RecoveryCodeDevice):
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; %(n)s are left. If your phone is "
                        "lost, set up the authenticator again on a new one."
                    )
                    % {"n": device.remaining()},
                )
            return redirect(_next_url(request))
        # A wrong code is a failed sign-in: it counts towards the lock-out.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            logout(request)
            return locked_out(request, None, credentials)
        form.add_error(
            "code", _("This code is not right, or it was used already. Try the next one.")
        )
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    person: Any = request.user
    standing = twofactor.pending(request.session)
    if standing == twofactor.Standing.VERIFY:
        # Only a session that has given its current code may replace the authenticator.
        return redirect(f"{reverse('accounts:verify')}?next={reverse('accounts:enrol')}")
    device = actions.begin_enrolment(person)
    form = FirstCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = actions.confirm_enrolment(person, form.cleaned_data["code"].strip())
        if codes is not None:
            confirmed = TOTPDevice.objects.get(pk=device.pk)
            if standing == twofactor.Standing.ENROL:
                _second_factor_proven(request, confirmed)
            else:
                otp_login(request, confirmed)
            return _show_codes(request, codes, first=True)
        form.add_error(
            "code",
            _(
                "This code is not right. Check the phone's time and enter the code the app "
                "shows now."
            ),
        )
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr": twofactor.qr_svg(device),
            "secret": twofactor.secret_for_typing(device),
            "required": standing == twofactor.Standing.ENROL,
            "next": _next_url(request),
        },
    )


def _show_codes(request: HttpRequest, codes: list[str], *, first: bool) -> HttpResponse:
    # Shown in this response only: they are not kept anywhere readable.
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "first": first, "next": _next_url(request)},
    )


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    person: Any = request.user
    sheet = twofactor.recovery_sheet(person)
    return render(
        request,
        "accounts/security.html",
        {
            "authenticator": twofactor.authenticator(person),
            "required": twofactor.required(person),
            "recovery_left": sheet.remaining() if sheet else 0,
            "signed_in": SignedInSession.objects.filter(person=person),
            "this_session": request.session.session_key,
            "idle_minutes": sessions.idle_seconds(person) // 60,
        },
    )


@never_cache
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        codes = actions.new_recovery_codes(request.user)
    except actions.SecondFactorRefused:
        messages.error(request, _("Set up the authenticator app first."))
        return redirect("accounts:security")
    return _show_codes(request, codes, first=False)


@login_required
@require_POST
def turn_off(request: HttpRequest) -> HttpResponse:
    try:
        actions.turn_off_two_factor(request.user)
    except actions.SecondFactorRefused:
        messages.error(
            request, _("Your roles require two-factor sign-in: it cannot be turned off.")
        )
        return redirect("accounts:security")
    messages.success(request, _("Two-factor sign-in is off."))
    return redirect("accounts:security")


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    person: Any = request.user
    actions.sign_out_everywhere(person)
    logout(request)
    messages.success(request, _("You are signed out on every device. Sign in again here."))
    return redirect("login")


class PasswordChange(PasswordChangeView):
    """Django's own form: the old password, then the new one twice, checked by every
    validator in AUTH_PASSWORD_VALIDATORS. Other sessions end with the old password."""

    template_name = "accounts/password.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form: Any) -> HttpResponse:
        person: Any = self.request.user
        previous = self.request.session.session_key
        # Django keeps this session signed in under a new key.
        response = super().form_valid(form)
        sessions.forget(previous)
        actions.sign_out_everywhere(person, keep=self.request.session.session_key)
        sessions.remember(self.request, person)
        messages.success(self.request, gettext_lazy("Your password is changed."))
        return response


_STEPS = ("send", "again", "confirm", "give-up")
_ADDRESS_FORMS: dict[str, type[NewAddressForm]] = {
    ContactKind.PHONE: NewPhoneForm,
    ContactKind.EMAIL: NewEmailForm,
}


def _contact_page(
    request: HttpRequest, forms: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    """The phone and the e-mail address on the profile, each with the new one waiting for
    its code (if any); `forms` are the ones sent back with what is wrong in them."""
    person: Any = request.user
    forms = forms or {}
    waiting = {p.kind: p for p in PendingContact.objects.filter(person=person)}
    now = timezone.now()
    rows = []
    for kind in ContactKind:
        pending = waiting.get(kind)
        rows.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "current": contact_change.current_address(person, kind),
                "pending": pending,
                "expired": pending is not None and now >= pending.expires_at,
                "spent": pending is not None
                and pending.wrong_tries >= contact_change.MAX_WRONG_TRIES,
                "address_form": forms.get(f"{kind}-address")
                or _ADDRESS_FORMS[kind](prefix=f"{kind}"),
                "code_form": forms.get(f"{kind}-code")
                or ContactCodeForm(prefix=f"{kind}-code", kind=kind),
            }
        )
    return render(
        request,
        "accounts/contact.html",
        {"rows": rows, "minutes": contact_change.CODE_MINUTES},
        status=status,
    )


@never_cache
@login_required
def contact(request: HttpRequest) -> HttpResponse:
    return _contact_page(request)


@never_cache
@login_required
@require_POST
def contact_step(request: HttpRequest, kind: str, step: str) -> HttpResponse:
    """One step of a change: send a code to a new address, enter it, send another, or give
    the change up. A refusal comes back on the page, on the field it is about."""
    if kind not in ContactKind.values or step not in _STEPS:
        raise Http404
    person: Any = request.user
    address_form = _ADDRESS_FORMS[kind](request.POST, prefix=kind)
    code_form = ContactCodeForm(request.POST, prefix=f"{kind}-code", kind=kind)
    try:
        if step == "send":
            if not address_form.is_valid():
                return _contact_page(request, {f"{kind}-address": address_form}, status=400)
            sent = contact_change.send_code(person, kind, address_form.cleaned_data["address"])
            _tell_code_sent(request, kind, sent)
        elif step == "again":
            _tell_code_sent(request, kind, contact_change.send_again(person, kind))
        elif step == "confirm":
            if not code_form.is_valid():
                return _contact_page(request, {f"{kind}-code": code_form}, status=400)
            address = contact_change.confirm(person, kind, code_form.cleaned_data["code"])
            messages.success(
                request,
                _("From now on Whistle reaches you at %(address)s.") % {"address": address},
            )
        else:
            contact_change.give_up(person, kind)
            messages.success(
                request, _given_up(kind, bool(contact_change.current_address(person, kind)))
            )
    except contact_change.ContactRefused as refusal:
        # A new address's refusal shows at the address, any other at the code.
        field = "address" if step == "send" else "code"
        target = address_form if step == "send" else code_form
        # Only the refusal is shown: a code left blank is no mistake when another was asked for.
        target.is_valid()
        target.errors.clear()
        target.add_error(field, str(refusal))
        return _contact_page(request, {f"{kind}-{field}": target}, status=400)
    return redirect("accounts:contact")


def _tell_code_sent(request: HttpRequest, kind: str, sent: contact_change.Sent) -> None:
    """Where the code went and where Whistle reaches the person meanwhile; in the demo,
    with no gateway, the code itself in a notice marked as the demo's."""
    person: Any = request.user
    earlier = bool(contact_change.current_address(person, kind))
    phone = kind == ContactKind.PHONE
    if phone and earlier:
        text = _(
            "The code was sent by SMS to %(address)s. Enter it here before %(time)s; until "
            "then Whistle's text messages still go to your earlier number."
        )
    elif phone:
        text = _(
            "The code was sent by SMS to %(address)s. Enter it here before %(time)s; until "
            "then Whistle sends you no text messages: its messages are in your notifications."
        )
    elif earlier:
        text = _(
            "The code was sent by e-mail to %(address)s. Enter it here before %(time)s; until "
            "then Whistle's e-mails still go to your earlier address."
        )
    else:
        text = _(
            "The code was sent by e-mail to %(address)s. Enter it here before %(time)s; until "
            "then Whistle sends you no e-mail: its messages are in your notifications."
        )
    messages.success(
        request,
        text
        % {
            "address": contact_change.masked_address(kind, sent.address),
            "time": timezone.localtime(sent.expires_at).strftime("%H:%M"),
        },
    )
    if sent.demo_code:
        demo = (
            _("Demo mode: no text message was really sent. The code is %(code)s.")
            if phone
            else _("Demo mode: no e-mail was really sent. The code is %(code)s.")
        )
        messages.warning(request, demo % {"code": sent.demo_code})


def _given_up(kind: str, earlier: bool) -> str:
    if kind == ContactKind.PHONE:
        if earlier:
            return _("The new number is forgotten; your earlier number stays on your profile.")
        return _("The change is cancelled; your profile still has no mobile phone.")
    if earlier:
        return _("The new address is forgotten; your earlier address stays on your profile.")
    return _("The change is cancelled; your profile still has no e-mail address.")
