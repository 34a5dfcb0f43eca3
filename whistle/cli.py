"""The ``whistle`` command: Django's management commands under the product's own name."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "whistle"
    # `whistle seed-demo` runs the command module seed_demo: hyphens read better on a
    # command line, Python modules need underscores.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
