"""The 1+5+N staffing of every township (district:centres): the core urban-management
team, the departments stationed in the township and those on call, each with the people
named to answer the whistle."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from whistle.district import tables
from whistle.district.access import Reader
from whistle.district.views.common import page_context


@login_required
@require_GET
def centres(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    if not (reader.everything or reader.district_ids() or reader.township_ids()):
        raise PermissionDenied
    rows = tables.centres(reader.centre_townships())
    return render(
        request, "district/district/centres.html", page_context(reader, "centres", rows=rows)
    )
