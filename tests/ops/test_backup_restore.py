"""An operator backs up a live CivicGrid (cases with photos, a writer still filing cases) and restores it into a
fresh data dir / database with the real ``civicgrid backup`` / ``civicgrid restore`` commands.

Runs on SQLite always, and on PostgreSQL as well when the suite runs with a PostgreSQL DATABASE_URL (then the
source and target are databases named after it: ``<name>_bksrc``, ``<name>_bkdst``, ``<name>_bkbad``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("backup_scenario.py")


def _pg_base() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


VENDORS = ["sqlite"] + (["postgresql"] if _pg_base() else [])


class Site:
    """One CivicGrid installation: a data dir and (on PostgreSQL) its own database."""

    def __init__(self, vendor: str, root: Path, name: str):
        self.vendor = vendor
        self.data_dir = root / name
        self.env = {**os.environ, "CIVICGRID_DATA_DIR": str(self.data_dir), "CIVICGRID_TESTING": "1"}
        self.env.pop("DATABASE_URL", None)
        self.db_url = None
        if vendor == "postgresql":
            parts = urlsplit(_pg_base())
            self.db_name = f"{parts.path.lstrip('/')}_bk{name}"
            self.db_url = urlunsplit(parts._replace(path=f"/{self.db_name}"))
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
            self.env["DATABASE_URL"] = self.db_url
            self._recreate()

    def _recreate(self):
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def drop(self):
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def cli(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "civicgrid.cli", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )

    def query(self, sql: str) -> list[tuple]:
        if self.vendor == "sqlite":
            path = self.data_dir / "civicgrid.sqlite3"
            if not path.exists():
                return []
            conn = sqlite3.connect(path)
            try:
                return [tuple(r) for r in conn.execute(sql)]
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.db_url) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def tables(self) -> list[str]:
        if self.vendor == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        else:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        return sorted(r[0] for r in self.query(sql))

    def counts(self) -> dict[str, int]:
        return {t: self.query(f'SELECT count(*) FROM "{t}"')[0][0] for t in self.tables()}


@pytest.fixture(scope="module", params=VENDORS)
def backed_up(request, tmp_path_factory):
    """A source site with cases and photos, backed up while a writer keeps filing cases."""
    root = tmp_path_factory.mktemp(f"backup-{request.param}")
    source = Site(request.param, root, "src")
    archive = root / "civicgrid-backup.tar.gz"
    run = subprocess.run(
        [sys.executable, str(SCENARIO), "build-and-backup", str(archive)],
        cwd=REPO,
        env=source.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    info = json.loads(run.stdout.strip().splitlines()[-1])
    assert info["errors"] == []
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    sites = [source]
    yield source, archive, info, manifest, root, sites
    for site in sites:
        site.drop()


def _repack(archive: Path, out: Path, *, change_member=None, change_manifest=None) -> Path:
    """Copy ``archive`` to ``out`` altering one member's bytes or the manifest (what damage/tampering does)."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == "manifest.json" and change_manifest:
                manifest = json.loads(data)
                change_manifest(manifest)
                data = json.dumps(manifest).encode()
            elif change_member and member.name == change_member:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def test_backup_taken_during_writes_restores_exactly(backed_up):
    source, archive, info, manifest, root, sites = backed_up
    cases_in_backup = manifest["database"]["tables"]["cases_case"]
    # the snapshot holds everything committed before it started, and nothing half-written
    assert info["before"] + 5 <= cases_in_backup <= info["after"]
    if source.vendor == "sqlite":
        # a plain copy of the .sqlite3 file, taken at the same moment, missed cases committed in the WAL
        assert info["raw_copy_cases"] < cases_in_backup

    target = Site(source.vendor, root, "dst")
    sites.append(target)
    run = target.cli("restore", str(archive))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "恢复完成" in run.stdout

    # every table has exactly the rows the manifest counted
    assert target.counts() == manifest["database"]["tables"]
    # and they are the source's rows: same cases, same versions and states, same attachments
    case_sql = "SELECT id, number, description, state, version FROM cases_case ORDER BY id"
    restored_cases = target.query(case_sql)
    restored_ids = {r[0] for r in restored_cases}
    assert [r for r in source.query(case_sql) if r[0] in restored_ids] == restored_cases
    att_sql = "SELECT id, case_id, file, thumbnail, sha256 FROM cases_attachment ORDER BY id"
    restored_atts = target.query(att_sql)
    assert len(restored_atts) >= cases_in_backup
    source_atts = {r[0]: r for r in source.query(att_sql)}
    assert all(source_atts[r[0]] == r for r in restored_atts)

    # every photo a restored row names is on disk with the content the row's checksum says
    media = target.data_dir / "media"
    for _, _, file, thumb, sha in restored_atts:
        assert hashlib.sha256((media / file).read_bytes()).hexdigest() == sha
        assert (media / thumb).is_file()
    # and every file matches the manifest's checksum
    files = {k: v for k, v in manifest["members"].items() if not k.startswith("db/")}
    assert files, "the archive holds the photos"
    for name, meta in files.items():
        restored = target.data_dir / name
        assert hashlib.sha256(restored.read_bytes()).hexdigest() == meta["sha256"], name
    assert manifest["files"]["media_included"] is True

    # restoring again over the now non-empty database needs an explicit --force
    again = target.cli("restore", str(archive))
    assert again.returncode != 0
    assert "--force" in again.stderr and "不是空的" in again.stderr
    forced = target.cli("restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    assert target.counts() == manifest["database"]["tables"]


def _refused(backed_up, archive: Path, expected: str) -> None:
    source, _, _, _, root, sites = backed_up
    target = Site(source.vendor, root, "bad")
    sites.append(target)
    run = target.cli("restore", "--force", str(archive))
    assert run.returncode != 0
    assert expected in run.stderr, run.stderr
    assert target.tables() == [], "a refused restore changes nothing"
    assert not (target.data_dir / "media").exists() or not any((target.data_dir / "media").rglob("*.png"))


# the checks run before anything touches the database, the same code for both vendors: SQLite archive only
@pytest.mark.parametrize("backed_up", ["sqlite"], indirect=True)
def test_a_damaged_archive_is_refused(backed_up, tmp_path):
    _, archive, _, manifest, _, _ = backed_up
    photo = next(n for n in manifest["members"] if n.startswith("media/"))
    _refused(backed_up, _repack(archive, tmp_path / "flipped.tar.gz", change_member=photo), "校验和不符")
    truncated = tmp_path / "truncated.tar.gz"
    shutil.copy(archive, truncated)
    with open(truncated, "r+b") as fh:
        fh.truncate(truncated.stat().st_size // 2)
    _refused(backed_up, truncated, "已损坏")


@pytest.mark.parametrize("backed_up", ["sqlite"], indirect=True)
def test_a_backup_from_a_newer_schema_is_refused(backed_up, tmp_path):
    _, archive, _, _, _, _ = backed_up

    def future(manifest):
        manifest["migrations"]["applied"]["cases"].append("9999_from_the_future")

    _refused(backed_up, _repack(archive, tmp_path / "future.tar.gz", change_manifest=future), "更新版本")
