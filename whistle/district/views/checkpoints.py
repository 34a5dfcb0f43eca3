"""The trail's signed checkpoints, for those who keep copies outside (docs/trail.md).

District-level: the district's readers and the departments, the ones a trail judges, fetch
them to keep; not public. A checkpoint is one signed document over every case reference of
the installation, which residents' follow-up pages must not be found by: the whole file goes
to those who may read every district that has cases; other district readers and department
staff get a reader's view, the checkpoint's header and the inclusion proofs of the cases they
may see, signed as a whole (whistle.cases.checkpoints.reader_view). The proof is in the
copies, not in what this page serves: a checkpoint only counts once its signature verifies
with a trusted key. A checkpoint's RFC 3161 token, when an authority gave one, is served
beside it (`<number>.tst`) to the same people: it names the checkpoint by its hash alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whistle.cases.checkpoints import reader_view
from whistle.cases.models import Case, Checkpoint, CheckpointTimestamp
from whistle.cases.scoping import visible_cases
from whistle.cases.signing import SigningKeyMissing
from whistle.district.access import Reader


def _keeps_whole_files(request: HttpRequest) -> bool:
    """Whether the person may keep the whole checkpoint: they read every district that has
    cases. PermissionDenied for those who get no checkpoint at all (neither a district's
    reader nor a department's staff)."""
    reader = Reader.of(request.user)
    if reader.everything:
        return True
    districts = reader.district_ids()
    if not districts and not reader.department_ids():
        raise PermissionDenied
    with_cases = set(Case.objects.values_list("district_id", flat=True).distinct())
    return bool(districts) and with_cases <= districts


def _served(request: HttpRequest, number: int | None) -> JsonResponse:
    whole = _keeps_whole_files(request)
    checkpoints = Checkpoint.objects.order_by("-number")
    checkpoint = (checkpoints if number is None else checkpoints.filter(number=number)).first()
    if checkpoint is None:
        raise Http404
    document: dict[str, Any] = checkpoint.document
    name = f"whistle-checkpoint-{checkpoint.number}.json"
    if not whole:
        references = set(visible_cases(request.user).values_list("reference", flat=True))
        try:
            document = reader_view(checkpoint, references)
        except SigningKeyMissing:
            message = _("The view of this checkpoint cannot be signed: the signing key is missing.")
            return JsonResponse({"error": str(message)}, status=503)
        name = f"whistle-checkpoint-{checkpoint.number}-view.json"
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def latest(request: HttpRequest) -> JsonResponse:
    return _served(request, None)


@login_required
@require_GET
def numbered(request: HttpRequest, number: int) -> JsonResponse:
    return _served(request, number)


@login_required
@require_GET
def timestamp(request: HttpRequest, number: int) -> HttpResponse:
    _keeps_whole_files(request)
    stamp = CheckpointTimestamp.objects.filter(checkpoint__number=number).first()
    if stamp is None:
        raise Http404
    response = HttpResponse(bytes(stamp.token), content_type="application/octet-stream")
    name = f"whistle-checkpoint-{number}.json.tst"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
