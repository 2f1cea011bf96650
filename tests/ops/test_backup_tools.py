"""The parts of ``civicgrid backup`` that need no second database: finding pg_dump, where the archive may go."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from civicgrid.core import backup


def test_a_missing_pg_dump_of_the_right_version_is_named_with_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("CIVICGRID_PG_BIN_DIR", str(tmp_path))  # an empty folder: nothing usable there
    with pytest.raises(backup.BackupError) as exc:
        backup.find_pg_tool("pg_dump", 99)  # no client on any machine is that new
    message = str(exc.value)
    assert "需要 pg_dump ≥ 99" in message
    assert "postgresql-client-99" in message and "CIVICGRID_PG_BIN_DIR" in message


def test_an_older_pg_dump_is_never_picked(tmp_path, monkeypatch):
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CIVICGRID_PG_BIN_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backup.Path, "glob", lambda self, pattern: iter(()))
    with pytest.raises(backup.BackupError, match="已找到：.*pg_dump（9）"):
        backup.find_pg_tool("pg_dump", 15)


def test_the_archive_may_not_be_written_into_the_folders_it_backs_up(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with pytest.raises(CommandError, match="不能放在被备份的目录"):
        call_command("backup", str(tmp_path / "media" / "backup.tar.gz"))
