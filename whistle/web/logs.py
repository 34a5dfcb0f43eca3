"""How refused requests reach the server's log.

Django logs a refusal (`PermissionDenied`, a bad request) on `django.request` with the
exception's traceback, which for an ordinary 403 says nothing the line does not. A refusal
(a 4xx) is one warning line naming the method, the path and the person's id; a server error
(a 5xx) keeps its traceback.
"""

from __future__ import annotations

import logging
from typing import Any


def _person(request: Any) -> str:
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
