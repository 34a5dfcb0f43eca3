"""The trail's signed checkpoints, for those who keep copies outside (docs/trail.md).

District-level: the district's readers and the departments, the ones a trail judges, fetch
them to keep; a checkpoint names every case reference, which residents' follow-up pages
must not be found by, so they are not public. The proof is in the copies, not in what this
page serves: a checkpoint only counts once its signature verifies with a trusted key.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from whistle.cases.models import Case, Checkpoint
from whistle.district.access import Reader
from whistle.organisation.models import Department


def _may_keep_copies(request: HttpRequest) -> None:
    """A checkpoint is one signed document over every case of the installation: it goes to
    those who may read every district that has cases, the district's readers and departments
    where the installation serves one district."""
    reader = Reader.of(request.user)
    if reader.everything:
        return
    districts = reader.district_ids() | set(
        Department.objects.filter(pk__in=reader.department_ids()).values_list(
            "district_id", flat=True
        )
    )
    with_cases = set(Case.objects.values_list("district_id", flat=True).distinct())
    if not districts or not with_cases <= districts:
        raise PermissionDenied


def _served(checkpoint: Checkpoint | None) -> JsonResponse:
    if checkpoint is None:
        raise Http404
    response = JsonResponse(checkpoint.document, json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = (
        f'attachment; filename="whistle-checkpoint-{checkpoint.number}.json"'
    )
    return response


@login_required
@require_GET
def latest(request: HttpRequest) -> JsonResponse:
    _may_keep_copies(request)
    return _served(Checkpoint.objects.order_by("-number").first())


@login_required
@require_GET
def numbered(request: HttpRequest, number: int) -> JsonResponse:
    _may_keep_copies(request)
    return _served(Checkpoint.objects.filter(number=number).first())
