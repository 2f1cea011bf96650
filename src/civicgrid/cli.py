"""The ``civicgrid`` command.

Platform verbs (``demo``, ``serve``, ``import-places``, ``createadmin``, ``calendar`` …) are Django management
commands with friendlier names; any other word goes to Django's ``manage.py`` unchanged
(``civicgrid migrate``, ``civicgrid shell``, ``civicgrid makemigrations --check`` …).
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "import-places": "import_places",
    "run-jobs": "run_jobs",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    if len(argv) > 1 and argv[1] == "triage":
        # the classifier's small matrix products run faster on one BLAS thread than on contended several
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
