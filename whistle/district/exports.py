"""The rankings table as a download: exactly what `whistle scores` writes, in the reader's
language (the command's table, header and number handling are reused by running it)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django.core.management import call_command

from whistle.assessment.periods import Period
from whistle.organisation.models import Jurisdiction

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def scores_file(district: Jurisdiction, period: Period, file_format: str) -> bytes:
    """The district's scores of the period as `whistle scores --format csv|xlsx` writes them
    (CSV with a byte-order mark, so that Excel reads the Chinese)."""
    if file_format not in FORMATS:
        raise ValueError(file_format)
    with tempfile.TemporaryDirectory(prefix="whistle-scores-") as folder:
        path = Path(folder) / f"scores.{file_format}"
        call_command(
            "scores",
            f"--period={period.key}",
            f"--district={district.code}",
            f"--format={file_format}",
            f"--output={path}",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
        return path.read_bytes()


def file_name(district: Jurisdiction, period: Period, file_format: str) -> str:
    return f"whistle-scores-{district.code}-{period.key}.{file_format}"
