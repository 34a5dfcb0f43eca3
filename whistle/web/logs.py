"""How refused requests reach the server's log.

Django logs a refusal (`PermissionDenied`, a bad request) on `django.request` with the
exception's traceback, which for an ordinary 403 says nothing the line does not. A refusal
(a 4xx) is one warning line naming the method, the path and the person's id; a server error
(a 5xx) keeps its traceback.

A call made with an API token has no signed-in person: the API names the token's person and
the token's prefix on the request (`API_CALLER`), and the line names them, never the secret.
"""

from __future__ import annotations

import logging
from typing import Any

# Set by the API's token check (whistle.api.auth.bearer) on a request whose token opened the
# API: (the person's id, the token's prefix).
API_CALLER = "whistle_api_caller"


def _person(request: Any) -> str:
    caller = getattr(request, API_CALLER, None)
    if caller is not None:
        person_id, prefix = caller
        return f"{person_id} (token {prefix}…)"
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return str(user.pk)


class OneLineRefusals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not isinstance(status, int) or not 400 <= status < 500:
            return True
        request = getattr(record, "request", None)
        record.msg = "refused (%s): %s %s, person %s"
        record.args = (
            status,
            getattr(request, "method", "-"),
            getattr(request, "path", "-"),
            _person(request),
        )
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
