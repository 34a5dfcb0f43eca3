"""The command centre's work orders (接诉即办): take an order of the 12345 hotline or one
handed down by a superior, and see the township's orders with their reply and call-back."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from whistle.cases.actions import take_hotline_order
from whistle.cases.callers import shown_caller
from whistle.cases.errors import ActionRefused
from whistle.cases.hotline_import import HotlineImport, import_hotline_orders, read_export
from whistle.cases.models import HotlineOrder
from whistle.cases.rules import hotline_deadline_classes
from whistle.desk.forms import HotlineImportForm, HotlineOrderForm
from whistle.desk.operations import Choices
from whistle.desk.viewer import Viewer
from whistle.desk.views.case import case_url
from whistle.desk.views.dispatch import desk_township
from whistle.web.places import lane_districts, place_picker

# The township's latest orders listed under the form.
ORDERS_LISTED = 30


def _order_rows(person: Any, orders: list[HotlineOrder]) -> list[dict[str, Any]]:
    rows = []
    for order in orders:
        name, phone = shown_caller(person, order.case)
        rows.append(
            {"order": order, "case": order.case, "caller_name": name, "caller_phone": phone}
        )
    return rows


def _order_form(request: HttpRequest, district: Any, *, bound: bool) -> HotlineOrderForm:
    return HotlineOrderForm(
        request.POST if bound else None,
        classes=hotline_deadline_classes(district),
        categories=Choices().categories(district.pk if district else None),
    )


def _page(
    request: HttpRequest,
    township: Any,
    townships: list[Any],
    *,
    form: HotlineOrderForm,
    import_form: HotlineImportForm,
    outcome: HotlineImport | None = None,
) -> HttpResponse:
    district = township.parent
    orders = list(
        HotlineOrder.objects.filter(case__township=township)
        .select_related("case")
        .order_by("-received_at", "-pk")[:ORDERS_LISTED]
    )
    districts = lane_districts()
    query = "" if township == townships[0] else f"?township={township.code}"
    context = {
        "township": township,
        "townships": townships,
        "form": form,
        "import_form": import_form,
        "outcome": outcome,
        "picker": place_picker(
            lanes_url=reverse("reports:lanes"),
            place_url=reverse("reports:place"),
            districts=[d for d in districts if d == district],
            district=district if district in districts else None,
            # The order's place is where the caller's problem is, never the desk's.
            own_position=False,
        ),
        "rows": _order_rows(request.user, orders),
        "now": timezone.now(),
        "action": reverse("dispatch:hotline") + query,
        "import_action": reverse("dispatch:hotline_import") + query,
        # The import's answer stands at an address that takes forms only: its form's page is
        # the hotline page, with the township the import was sent for.
        "form_page": reverse("dispatch:hotline")
        + (f"?{request.GET.urlencode()}" if request.GET else ""),
    }
    return render(request, "desk/dispatch/hotline.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def hotline(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request.user)
    township, townships = desk_township(request, viewer)
    form = _order_form(request, township.parent, bound=request.method == "POST")
    if request.method == "POST" and form.is_valid():
        person: Any = request.user
        try:
            taken = take_hotline_order(person, **form.arguments())
        except ActionRefused as refused:
            form.show_action_error(refused)
        else:
            values = {"number": taken.order.number, "case": taken.case.reference}
            if not form.cleaned_data["number"]:
                messages.success(
                    request,
                    _(
                        "Order taken: it came without a number, so Whistle numbered it "
                        "%(number)s. It is case %(case)s."
                    )
                    % values,
                )
            elif taken.created:
                messages.success(
                    request, _("Order %(number)s taken: it is case %(case)s.") % values
                )
            else:
                messages.info(
                    request,
                    _(
                        "Order %(number)s was taken before, as case %(case)s: nothing new was "
                        "recorded."
                    )
                    % values,
                )
            return HttpResponseRedirect(case_url(taken.case))
    return _page(request, township, townships, form=form, import_form=HotlineImportForm())


@login_required
@require_http_methods(["POST"])
def hotline_import(request: HttpRequest) -> HttpResponse:
    """The platform's export, imported as a whole or not at all."""
    viewer = Viewer.of(request.user)
    township, townships = desk_township(request, viewer)
    district = township.parent
    if district is None:
        raise Http404
    import_form = HotlineImportForm(request.POST, request.FILES)
    outcome = None
    if import_form.is_valid():
        export = import_form.cleaned_data["export"]
        person: Any = request.user
        try:
            headers, rows = read_export(export.name, export.read())
            outcome = import_hotline_orders(person, district, headers, rows)
        except ActionRefused as refused:
            import_form.add_error("export", str(refused))
        else:
            if outcome.ok:
                messages.success(
                    request,
                    _(
                        "%(created)s orders imported as new cases; %(existing)s were taken "
                        "before and left as they are."
                    )
                    % {"created": len(outcome.created), "existing": len(outcome.existing)},
                )
                url = reverse("dispatch:hotline")
                query = "" if township == townships[0] else f"?township={township.code}"
                return HttpResponseRedirect(url + query)
    form = _order_form(request, township.parent, bound=False)
    return _page(
        request,
        township,
        townships,
        form=form,
        import_form=import_form,
        outcome=outcome,
    )
