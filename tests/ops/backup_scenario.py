"""Run by tests/ops/test_backup_restore.py in a subprocess, against a real file database (not the test DB).

    python tests/ops/backup_scenario.py build-and-backup ARCHIVE

Migrates the configured database (CIVICGRID_DATA_DIR / DATABASE_URL), files cases with photo attachments, then
runs ``civicgrid backup ARCHIVE`` while a writer thread keeps filing cases (with photos) through the services.
On SQLite the connections never checkpoint, so the committed cases sit in the WAL — what a plain file copy
loses. Prints one JSON line: cases before the backup started and after the writer stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
os.environ.setdefault("CIVICGRID_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402


def _no_checkpoint(sender, connection, **kw):
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_autocheckpoint = 0")


connection_created.connect(_no_checkpoint)


def build_and_backup(archive: str) -> None:
    call_command("migrate", verbosity=0)
    from civicgrid.accounts.roles import Role
    from civicgrid.cases import services
    from civicgrid.cases.models import Case
    from tests.cases.factories import CategoryFactory, png_bytes
    from tests.factories import DepartmentFactory, GridFactory, UserFactory

    grid = GridFactory(col=0)
    dept = DepartmentFactory(code="CGZD", name="城管中队")
    category = CategoryFactory(default_department=dept)
    dispatcher = UserFactory(role=Role.DISPATCHER)
    centre = grid.geometry["coordinates"][0][0]

    def file_case(i: int, who=dispatcher) -> None:
        services.create_case(
            actor=who,
            source="hotline_12345",
            description=f"备份测试工单 {i}：楼道堆放杂物",
            category=category,
            lng=centre[0] + 0.0001,
            lat=centre[1] + 0.0001,
            address=f"测试路{i}号",
            attachments=[(f"photo{i}.png", png_bytes((i % 250, (i * 7) % 250, 90), size=(30 + i % 5, 20)))],
        )

    for i in range(30):
        file_case(i)
    # a few moves, so events, audit rows and versions are part of what must round-trip
    for case in Case.objects.order_by("pk")[:5]:
        services.perform(actor=dispatcher, case=case, move="accept", version=case.version)
    before = Case.objects.count()
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:  # the file itself now holds these; what follows stays in the WAL
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    stop = threading.Event()
    written = [0]
    errors: list[str] = []

    def writer() -> None:
        writer_user = UserFactory(role=Role.DISPATCHER)
        i = 1000
        try:
            while not stop.is_set():
                file_case(i, writer_user)
                written[0] += 1
                i += 1
        except Exception as exc:  # reported to the test, which fails on it
            errors.append(repr(exc))
        finally:
            connections.close_all()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        while written[0] < 5 and t.is_alive():
            time.sleep(0.02)
        call_command("backup", archive, verbosity=0)
        during = written[0]
        raw_copy_cases = None
        if connection.vendor == "sqlite":
            # what copying only the database file at this moment would have kept
            raw = Path(archive).with_suffix(".rawcopy")
            shutil.copyfile(connection.settings_dict["NAME"], raw)
            with sqlite3.connect(raw) as conn:
                raw_copy_cases = conn.execute("SELECT count(*) FROM cases_case").fetchone()[0]
            raw.unlink()
        time.sleep(0.3)  # the writer keeps going after the snapshot
    finally:
        stop.set()
        t.join(timeout=60)
    after = Case.objects.count()
    connection.close()
    result = {"before": before, "after": after, "during": during, "raw_copy_cases": raw_copy_cases}
    print(json.dumps({**result, "errors": errors}))


if __name__ == "__main__":
    if sys.argv[1] == "build-and-backup":
        build_and_backup(sys.argv[2])
    else:
        raise SystemExit(f"unknown step {sys.argv[1]}")
