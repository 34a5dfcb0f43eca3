"""``whistle keys init|rotate|show``: the Ed25519 key that signs exports and checkpoints.

``init`` makes the key once (refused when there is one); ``rotate`` replaces it, keeping the
old public key on the list so that what it signed still verifies; ``show`` prints the
current fingerprint and every public key (``--json``: the list to publish, which
``verify-trail --trusted`` reads).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.cases.signing import (
    PUBLIC_KEYS_FORMAT,
    KeyAlreadyExists,
    SigningKeyMissing,
    fingerprint,
    init_key,
    key_path,
    public_keys,
    public_keys_path,
    rotate_key,
    signing_key,
)


class Command(BaseCommand):
    help = "Make, rotate or show the key that signs case exports and trail checkpoints."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["init", "rotate", "show"])
        parser.add_argument(
            "--json", action="store_true", help="with show: the public key list to publish"
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="with init: keep the key there is, if any (as `make run` does for the demo)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "init":
                public = init_key()
                self.stdout.write(
                    _("Signing key made: %(path)s\nFingerprint: %(fingerprint)s")
                    % {"path": key_path(), "fingerprint": fingerprint(public)}
                )
                self._remind()
            elif options["action"] == "rotate":
                old, new = rotate_key()
                self.stdout.write(
                    _("Signing key replaced: %(new)s signs from now on; %(old)s is retired.")
                    % {"new": fingerprint(new), "old": fingerprint(old)}
                )
                self._remind()
            else:
                self._show(as_json=options["json"])
        except KeyAlreadyExists as exc:
            if options["if_missing"]:
                self.stdout.write(_("The signing key at %(path)s is kept.") % {"path": exc})
                return
            raise CommandError(
                _("There is already a signing key at %(path)s; `whistle keys rotate` replaces it.")
                % {"path": exc}
            ) from exc
        except SigningKeyMissing as exc:
            raise CommandError(str(exc)) from exc

    def _remind(self) -> None:
        self.stdout.write(
            _(
                "Publish the public key list %(path)s (whistle keys show --json) where "
                "departments and auditors take their trusted fingerprints from, and back the "
                "private key up apart from the database."
            )
            % {"path": public_keys_path()}
        )

    def _show(self, *, as_json: bool) -> None:
        keys = public_keys()
        if as_json:
            listing = {"format": PUBLIC_KEYS_FORMAT, "keys": keys}
            self.stdout.write(json.dumps(listing, indent=2))
            return
        try:
            current = fingerprint(signing_key().public_key())
        except SigningKeyMissing as exc:
            self.stdout.write(str(exc))
            current = None
        else:
            self.stdout.write(
                _("Signing with %(fingerprint)s (%(path)s)")
                % {"fingerprint": current, "path": key_path()}
            )
        for entry in keys:
            state = (
                _("retired %(at)s") % {"at": entry["retired_at"]}
                if entry.get("retired_at")
                else _("in use")
                if entry["fingerprint"] == current
                else _("not in use")
            )
            self.stdout.write(f"{entry['fingerprint']}  {entry['created_at']}  {state}")
