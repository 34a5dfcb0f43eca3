"""``whistle verify-trail``: re-compute the hash chain of every case's trail.

Every trail is also replayed and compared with the rows, and the trail's database triggers
must be in place. ``--case REF`` checks one case (repeatable). ``--checkpoint FILE`` also
proves that the database still holds everything a checkpoint committed to; given twice, that
the later checkpoint extends the earlier one. ``--file DOC.json`` checks an exported case
history offline (signature, chain, and with ``--checkpoint`` its inclusion proof) without
touching the database. A reader's view of a checkpoint (its header and the proofs of the
cases the reader may see) is taken wherever a checkpoint is. Signatures count only from a
trusted key (``--fingerprint``, ``--trusted FILE`` or the settings, docs/trail.md). An RFC 3161
timestamp token beside a checkpoint file (``FILE.tst``) is checked against the authority
certificates trusted (``--tsa-cert PEM`` or WHISTLE_TIMESTAMP_TRUSTED_CERTS). Exits
non-zero when anything is wrong, naming the case and the event.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from whistle.cases.checkpoints import (
    CheckpointFacts,
    check_chain_between,
    check_consistency,
    check_leaves,
    document_hash,
    is_view,
    read_checkpoint,
    read_view,
    verify_against_database,
)
from whistle.cases.export import verify_document
from whistle.cases.models import Case
from whistle.cases.signing import check_signature, fingerprints_in, trusted_fingerprints
from whistle.cases.timestamps import (
    TimestampError,
    load_certificates,
    token_beside,
    trusted_certificates,
    verify_token,
)
from whistle.cases.triggers import missing_triggers
from whistle.cases.verify import Problem, Report, verify_database

# Problems listed in the error itself; all of them go to stderr.
LISTED_IN_ERROR = 50


class Command(BaseCommand):
    help = "Check that no trail event was changed, removed or reordered."
    # The --file path must work without a database; nothing here needs the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--case", action="append", dest="cases", metavar="REF", help="a case reference"
        )
        parser.add_argument("--file", metavar="DOC.json", help="an exported case history")
        parser.add_argument(
            "--fingerprint",
            action="append",
            default=[],
            metavar="SHA256:…",
            help="a trusted signing key's fingerprint (repeatable)",
        )
        parser.add_argument(
            "--trusted",
            metavar="FILE",
            help="the public key list the district publishes (or one fingerprint a line)",
        )
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="a signed checkpoint the database must still hold (twice: the later must "
            "extend the earlier)",
        )
        parser.add_argument(
            "--tsa-cert",
            metavar="PEM",
            help="the time-stamping authority's certificates a checkpoint's token (FILE.tst) "
            "must be signed by",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        trusted = self._trusted(options["fingerprint"], options["trusted"])
        checkpoints = [self._checkpoint(Path(p), trusted) for p in options["checkpoint"]]
        problems = [p for _facts, _hash, found in checkpoints for p in found]
        for path, (facts, checkpoint_hash, _found) in zip(
            options["checkpoint"], checkpoints, strict=True
        ):
            problems.extend(self._timestamp(Path(path), facts, checkpoint_hash, options))
        if options["file"]:
            if options["cases"]:
                raise CommandError(_("Give either --file or --case, not both."))
            if len(checkpoints) > 1:
                raise CommandError(_("Give one --checkpoint with --file."))
            held = checkpoints[0][0] if checkpoints else None
            document = self._read(Path(options["file"]))
            report, signer = verify_document(document, trusted=trusted, checkpoint=held)
            if signer:
                self.stdout.write(_("Signed by the key %(fingerprint)s") % {"fingerprint": signer})
            report.problems[:0] = problems
            self._finish(report, time.monotonic() - started)
            return
        references = options["cases"]
        if references:
            known = set(
                Case.objects.filter(reference__in=references).values_list("reference", flat=True)
            )
            unknown = [r for r in references if r not in known]
            if unknown:
                raise CommandError(
                    _("No case with the reference %(refs)s.") % {"refs": ", ".join(unknown)}
                )
        report = verify_database(references=references)
        report.problems[:0] = self._triggers() + problems
        ordered = sorted(checkpoints, key=lambda item: item[0].number)
        for facts, _hash, _found in ordered:
            report.problems.extend(verify_against_database(facts))
        if len(ordered) == 2:
            (older, older_hash, _a), (newer, _newer_hash, _b) = ordered
            if newer.number <= older.number:
                report.problems.extend(check_consistency(older, newer))
            else:
                report.problems.extend(check_chain_between(older, older_hash, newer))
        elif len(ordered) > 2:
            raise CommandError(_("Give at most two --checkpoint files."))
        for facts, _hash, _found in ordered:
            self.stdout.write(
                _("Checkpoint #%(number)s of %(at)s: %(cases)s cases, root %(root)s")
                % {
                    "number": facts.number,
                    "at": facts.created_at,
                    "cases": len(facts.cases),
                    "root": facts.root,
                }
            )
        self._finish(report, time.monotonic() - started)

    def _timestamp(
        self, path: Path, facts: CheckpointFacts, checkpoint_hash: str, options: dict[str, Any]
    ) -> list[Problem]:
        """The authority's token beside a checkpoint file, checked when there is one."""
        token_path = token_beside(path)
        if not token_path.exists():
            return []
        try:
            token = token_path.read_bytes()
            authorities = (
                load_certificates(options["tsa_cert"])
                if options["tsa_cert"]
                else trusted_certificates()
            )
        except (OSError, ValueError) as exc:
            raise CommandError(
                _("Cannot read the time-stamping authority's certificates: %(error)s")
                % {"error": exc}
            ) from exc
        label = _("checkpoint #%(number)s") % {"number": facts.number}
        if not authorities:
            self.stdout.write(
                _(
                    "The timestamp of %(label)s was not checked: no time-stamping authority "
                    "is trusted (--tsa-cert or WHISTLE_TIMESTAMP_TRUSTED_CERTS)."
                )
                % {"label": label}
            )
            return []
        try:
            found = verify_token(token, bytes.fromhex(checkpoint_hash), authorities)
        except (TimestampError, ValueError) as exc:
            return [
                Problem(
                    "-",
                    None,
                    "",
                    "timestamp",
                    _("the timestamp of %(label)s does not hold: %(error)s"),
                    {"label": label, "error": str(exc)},
                )
            ]
        self.stdout.write(
            _("The %(label)s was %(stamp)s.") % {"label": label, "stamp": found.describe()}
        )
        return []

    def _trusted(self, fingerprints: list[str], path: str | None) -> set[str]:
        extra = set(fingerprints)
        if path:
            extra |= fingerprints_in(self._text(Path(path)))
        try:
            return extra or trusted_fingerprints()
        except OSError as exc:
            raise CommandError(
                _("Cannot read the trusted keys: %(error)s") % {"error": exc}
            ) from exc

    def _text(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                _("%(path)s is not a JSON document: %(error)s") % {"path": path, "error": exc}
            ) from exc

    def _read(self, path: Path) -> Any:
        text = self._text(path)
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                _("%(path)s is not a JSON document: %(error)s") % {"path": path, "error": exc}
            ) from exc

    def _checkpoint(
        self, path: Path, trusted: set[str]
    ) -> tuple[CheckpointFacts, str, list[Problem]]:
        document = self._read(path)
        if is_view(document):
            return self._view(path, document, trusted)
        facts = read_checkpoint(document)
        if facts is None:
            raise CommandError(
                _("%(path)s is not a trail checkpoint written by Whistle.") % {"path": path}
            )
        label = str(_("checkpoint #%(number)s") % {"number": facts.number})
        problems, _signer = check_signature(document, label, trusted)
        return facts, document_hash(document), problems + check_leaves(facts)

    def _view(
        self, path: Path, document: Any, trusted: set[str]
    ) -> tuple[CheckpointFacts, str, list[Problem]]:
        """A reader's view of a checkpoint: its own signature, and each proof leading to the
        checkpoint's root; its leaves are the cases it proves."""
        read = read_view(document)
        if read is None:
            raise CommandError(
                _("%(path)s is not a trail checkpoint written by Whistle.") % {"path": path}
            )
        facts, checkpoint_hash, problems = read
        label = str(_("checkpoint #%(number)s") % {"number": facts.number})
        signed, _signer = check_signature(document, label, trusted)
        return facts, checkpoint_hash, signed + problems

    def _triggers(self) -> list[Problem]:
        return [
            Problem(
                "-",
                None,
                "",
                "trigger",
                _(
                    "the database trigger %(name)s is missing or disabled: the trail can be "
                    "changed without the database refusing"
                ),
                {"name": name},
            )
            for name in missing_triggers()
        ]

    def _finish(self, report: Report, seconds: float) -> None:
        for problem in report.problems:
            self.stderr.write(str(problem))
        summary = {
            "cases": report.cases,
            "events": report.events,
            "seconds": f"{seconds:.1f}",
        }
        if report.ok:
            self.stdout.write(
                _(
                    "Checked %(cases)s cases and %(events)s events in %(seconds)s s: "
                    "every trail is intact."
                )
                % summary
            )
            return
        listed = [str(p) for p in report.problems[:LISTED_IN_ERROR]]
        if len(report.problems) > LISTED_IN_ERROR:
            listed.append(_("… and %(n)s more.") % {"n": len(report.problems) - LISTED_IN_ERROR})
        raise CommandError(
            _("%(problems)s problems in %(broken)s of %(cases)s cases:")
            % {**summary, "problems": len(report.problems), "broken": len(report.broken_cases)}
            + "\n"
            + "\n".join(listed)
        )
