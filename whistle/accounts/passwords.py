"""Password rules beyond Django's own wording."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule, with a message of our own: Django's Chinese catalogue does not match
    the wording of its error, which would reach people in English."""

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: it needs at least %(n)s character.",
            "This password is too short: it needs at least %(n)s characters.",
            self.min_length,
        ) % {"n": self.min_length}
