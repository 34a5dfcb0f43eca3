"""`make bench` runs every benchmark script that reports a result, whatever else it imports."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks import run

BENCHMARKS = Path(run.__file__).resolve().parent
CALLS_REPORT = re.compile(r"^\s*report\(", re.M)


def test_every_script_that_reports_takes_part():
    reporting = {
        path.name
        for path in BENCHMARKS.glob("*.py")
        if path.name not in run.OWN and CALLS_REPORT.search(path.read_text(encoding="utf-8"))
    }
    taking_part = {path.name for path in run.taking_part()}
    assert reporting, "no benchmark script calls report()"
    assert reporting <= taking_part, sorted(reporting - taking_part)
    # Both spellings of the import, alone or with other names.
    assert {"assessment_scores.py", "what_if.py", "simulated_year.py"} <= taking_part
    assert {"reporting.py", "run.py"}.isdisjoint(taking_part)


def test_the_import_is_recognised_in_each_spelling():
    for line, takes_part in [
        ("from reporting import report\n", True),
        ("    from reporting import report\n", True),
        ("from reporting import print_machine, report\n", True),
        ("from benchmarks.reporting import print_machine, report  # noqa: E402\n", True),
        ("from reporting import print_machine\n", False),
        ("from reporting import reporter\n", False),
        ("# reporting import report is mentioned in a comment\n", False),
    ]:
        assert bool(run.IMPORTS_REPORT.search(line)) is takes_part, line
