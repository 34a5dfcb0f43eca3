"""The person's "API tokens" settings page: their tokens, a new one (its secret shown once,
on the page that made it, never again), revoking one."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from whistle.api import tokens
from whistle.api.forms import TokenForm
from whistle.api.models import ApiToken
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.organisation.admin_people import held
from whistle.organisation.models import Person


def _page(
    request: HttpRequest, form: TokenForm, secret: str = "", status: int = 200
) -> HttpResponse:
    person = cast(Person, request.user)
    rows = list(
        ApiToken.objects.filter(person=person).prefetch_related(
            "roles__jurisdiction", "roles__lane", "roles__department"
        )
    )
    now = timezone.now()
    listed = [
        {
            "token": row,
            "roles": [held(r) for r in row.roles.all()],
            "state": (
                _("revoked")
                if row.revoked_at
                else _("expired")
                if row.expires_at <= now
                else _("active")
            ),
            "active": row.revoked_at is None and row.expires_at > now,
        }
        for row in rows
    ]
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": listed, "secret": secret},
        status=status,
    )


@login_required
def tokens_page(request: HttpRequest) -> HttpResponse:
    person = cast(Person, request.user)
    if request.method != "POST":
        return _page(request, TokenForm(person))
    form = TokenForm(person, request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        issued = tokens.issue_token(
            person,
            person=person,
            name=form.cleaned_data["name"],
            roles=form.chosen_roles() or None,
            expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
        )
    except InvalidInput as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return _page(request, form, status=400)
    # The secret appears on this answer only: not in a message kept in the session.
    return _page(request, TokenForm(person), secret=issued.secret, status=201)


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    """Revoking a token asks first: the list's button opens this page, which names the token
    and revokes it only when its own button is pressed (`confirm`), without JavaScript."""
    person = cast(Person, request.user)
    token = ApiToken.objects.filter(uuid=public_id, person=person).first()
    if token is None:
        raise Http404
    active = token.revoked_at is None and token.expires_at > timezone.now()
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return render(request, "api/revoke.html", {"token": token, "active": active})
    try:
        tokens.revoke_token(person, token)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("api-tokens:list")
