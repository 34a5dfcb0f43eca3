"""The assessment's home page (assessment:home).

- Townships (assessors, dispatchers, the township chief): the summonses of closed cases
  waiting for the township's rating, each with its rating form (1–5 stars and a comment,
  through `whistle.assessment.actions.rate_summons`), the ratings given lately, and how
  each department served the township in a period, question by question.
- The district (assessors, chiefs' office, district chief): the overview of a period: the
  top of the ranking, what each township rated, the appeals waiting.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from whistle.assessment.actions import rate_summons
from whistle.assessment.indicators import indicators, whistle_rate
from whistle.assessment.models import Appeal
from whistle.cases.permissions import member_department_ids
from whistle.district import tables
from whistle.district.access import Reader
from whistle.district.forms import RatingForm
from whistle.district.picker import pick_period
from whistle.district.views.common import (
    REFUSALS,
    BadPost,
    choose,
    is_htmx,
    page_context,
    posted_uuid,
    show_refusal,
)


def rating_prefix(summons: Any) -> str:
    return f"rate-{summons.uuid.hex}"


def _rate(request: HttpRequest, reader: Reader) -> tuple[tables.RatingRow, RatingForm, bool]:
    """Run a posted rating. Returns the row, its form and whether it worked."""
    wanted = posted_uuid(request)
    summons = tables.township_summonses(reader.rating_township_ids()).filter(uuid=wanted).first()
    if summons is None:
        raise BadPost
    form = RatingForm(request.POST, prefix=rating_prefix(summons))
    done = False
    if form.is_valid():
        try:
            rate_summons(
                request.user, summons, form.cleaned_data["rating"], form.cleaned_data["comment"]
            )
        except REFUSALS as exc:
            show_refusal(form, exc)
        else:
            done = True
    return tables.rating_row(reader.rating_township_ids(), summons.pk), form, done


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    if not (reader.township_ids() or reader.district_ids() or reader.everything):
        if reader.department_ids():
            return redirect("assessment:department")
        raise PermissionDenied
    posted: tuple[tables.RatingRow, RatingForm, bool] | None = None
    if request.method == "POST":
        if request.POST.get("op") != "rate":
            return HttpResponseBadRequest()
        try:
            posted = _rate(request, reader)
        except BadPost:
            return _not_to_rate(request, reader)
        row, form, done = posted
        if done:
            rating = form.cleaned_data["rating"]
            text = _("%(department)s rated %(stars)s stars on case %(case)s.") % {
                "department": row.summons.department.display_name,
                "stars": rating,
                "case": row.summons.case.reference,
            }
            if is_htmx(request):
                response = render(
                    request,
                    "district/assessment/rated_card.html",
                    _rated_context(request, reader, row, text),
                )
                # The township's view of the departments reloads itself on this event.
                response["HX-Trigger"] = "whistle:rated"
                return response
            messages.success(request, text)
            return HttpResponseRedirect(reverse("assessment:home") + "#to-rate")
        if is_htmx(request):
            return render(request, "district/assessment/rate_card.html", {"row": row, "form": form})
    context = home_context(request, reader, posted)
    return render(request, "district/assessment/home.html", context)


def _rated_context(
    request: HttpRequest, reader: Reader, row: tables.RatingRow, text: str
) -> dict[str, Any]:
    """The rated card in the place of the card rated, with the count of what waits and the
    ratings given lately, which the page swaps in beside it (htmx out of band). A card
    rated again in the list of ratings given lately keeps its place in that list, which is
    then left as it is."""
    context: dict[str, Any] = {"row": row, "done_message": text}
    card_id = request.headers.get("HX-Target", "")
    if card_id.startswith("again-"):
        context["card_id"] = card_id
        return context
    waiting, recent = _rating_lists(request, reader)[:2]
    context["to_rate"] = waiting
    context["recent"] = recent
    return context


def _rating_lists(
    request: HttpRequest, reader: Reader
) -> tuple[list[tables.RatingRow], list[dict[str, Any]], bool]:
    """The summonses waiting for the person's rating, those rated lately (each with its
    form to rate again) and whether more wait than are listed."""
    waiting, recent, more = tables.rating_lists(
        reader.rating_township_ids(), member_of=member_department_ids(request.user)
    )
    rated = [{"row": row, "form": RatingForm(prefix=rating_prefix(row.summons))} for row in recent]
    return list(waiting), rated, more


def _not_to_rate(request: HttpRequest, reader: Reader) -> HttpResponse:
    """A rating posted for a summons the person does not rate (another township's or
    district's, one that does not exist, an id no page wrote): nothing is written, and the
    answer is the page again with the refusal at its top, as a 404 (not found, or outside
    the person's area). The rating card's htmx form could not show a page in the card's
    place: it is told to reload the page, which shows the refusal."""
    text = _(
        "No summons with this id waits for your rating: it does not exist, or you do not "
        "rate it. Nothing was saved."
    )
    messages.error(request, text)
    if is_htmx(request):
        response = HttpResponse(text, status=404, content_type="text/plain; charset=utf-8")
        response["HX-Refresh"] = "true"
        return response
    context = home_context(request, reader, None)
    return render(request, "district/assessment/home.html", context, status=404)


def home_context(
    request: HttpRequest,
    reader: Reader,
    posted: tuple[tables.RatingRow, RatingForm, bool] | None,
) -> dict[str, Any]:
    picked = pick_period(request)
    period = picked.period
    context: dict[str, Any] = page_context(reader, "home", keep=[], **picked.context())
    # The township part.
    townships = list(reader.townships().select_related("parent").order_by("code"))
    if townships:
        township = choose(request, townships, "township")
        waiting, recent, more = _rating_lists(request, reader)
        rows = []
        placed = False
        for row in waiting:
            form = RatingForm(prefix=rating_prefix(row.summons))
            if posted is not None and posted[0].summons.pk == row.summons.pk:
                form, placed = posted[1], True
            rows.append({"row": row, "form": form})
        if posted is not None and not placed:
            # The summons left the list meanwhile (rated by someone else, month closed):
            # the reason goes to the top of the page.
            for errors in posted[1].errors.values():
                for error in errors:
                    messages.error(request, str(error))
        district = township.parent
        context["keep"].append(("township", township.code))
        context.update(
            {
                "townships": townships,
                "township": township,
                "rates": bool(reader.rating_township_ids()),
                "to_rate": rows,
                "more_to_rate": more,
                "recent": recent,
                "township_rows": tables.township_table(township, period),
                "township_indicators": (
                    indicators(district, period.key, township=township) if district else None
                ),
                "whistle_rate": whistle_rate(township, period.key),
            }
        )
    # The district part.
    districts = list(reader.districts().order_by("code"))
    if districts:
        district = choose(request, districts, "district")
        board = tables.ranking(district, period)
        context["keep"].append(("district", district.code))
        context.update(
            {
                "districts": districts,
                "district": district,
                "board": board,
                "top": board.ranked[:10],
                "opens_all": True,
                "township_overview": tables.townships_overview(district, period),
                "pending_appeals": Appeal.objects.filter(
                    status=Appeal.Status.PENDING, department__district=district
                ).count(),
                # The district chiefs' office rules; others read the count and who rules.
                "rules_appeals": district.pk in reader.ruling_district_ids(),
                "district_indicators": indicators(district, period.key),
            }
        )
    return context
