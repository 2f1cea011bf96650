"""One-file backups: the database, the uploaded files and a manifest, in a ``.tar.gz``.

``civicgrid backup FILE`` / ``civicgrid restore FILE`` call :func:`create_backup` / :func:`restore_backup`.

- SQLite is copied with SQLite's online backup API from a separate connection: one consistent snapshot that
  includes what is still in the WAL, taken while the server keeps writing. (Copying the ``.sqlite3`` file of a
  live database loses the committed transactions that are only in ``-wal``.)
- PostgreSQL is dumped with ``pg_dump -Fc`` (a version ≥ the server's, found under ``/usr/lib/postgresql/*/bin``,
  on ``PATH`` or in ``CIVICGRID_PG_BIN_DIR``) from an exported snapshot, and the row counts in the manifest are
  read in that same snapshot, so they describe exactly what the dump holds.
- Files: ``MEDIA_ROOT`` (photos, thumbnails) and ``DATA_DIR/imports`` (12345 import files and error reports),
  read after the database snapshot, so every file a backed-up row names is in the archive. Attachments kept in
  S3 object storage are NOT included (the manifest and the command say so): back the bucket up on its side.

Archive layout: ``db/civicgrid.sqlite3`` or ``db/civicgrid.pgdump``, ``media/…``, ``imports/…`` and, last,
``manifest.json`` with versions, the applied migrations, the row count of every table and the sha256 and size
of every other member. :func:`restore_backup` checks all of it before it changes anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings

FORMAT = "civicgrid-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBER = {"sqlite": "db/civicgrid.sqlite3", "postgresql": "db/civicgrid.pgdump"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; ``str()`` is a Chinese message for the operator."""


# --- helpers ------------------------------------------------------------------------------------------------


def _db() -> dict:
    return settings.DATABASES["default"]


def vendor() -> str:
    engine = _db()["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"不支持的数据库类型：{engine}（仅支持 SQLite 与 PostgreSQL）")


def _civicgrid_version() -> str:
    try:
        from importlib.metadata import version

        return version("civicgrid")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def media_is_local() -> bool:
    backend = settings.STORAGES["default"]["BACKEND"]
    return backend == "django.core.files.storage.FileSystemStorage"


def file_roots() -> dict[str, Path]:
    """Archive prefix → folder on disk for the files that travel with the database."""
    roots = {"imports": Path(settings.DATA_DIR) / "imports"}
    if media_is_local():
        roots["media"] = Path(settings.MEDIA_ROOT)
    return roots


def code_migrations() -> set[tuple[str, str]]:
    """Every migration this version of the code knows (applied or not)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return set(loader.graph.nodes)


# --- PostgreSQL client tools ----------------------------------------------------------------------------------


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def find_pg_tool(name: str, server_major: int) -> tuple[str, int]:
    """The client program ``name`` whose major version is ≥ ``server_major`` (the closest such one).

    pg_dump refuses to dump a newer server, and pg_restore cannot read a newer dump format, so an older client
    is never used. Raises :class:`BackupError` naming the package to install."""
    candidates: list[str] = []
    bin_dir = os.environ.get("CIVICGRID_PG_BIN_DIR")
    if bin_dir:
        candidates.append(str(Path(bin_dir) / name))
    candidates += sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    found: list[tuple[int, str]] = []
    for c in candidates:
        if os.access(c, os.X_OK):
            major = _tool_major(c)
            if major is not None:
                found.append((major, c))
    usable = sorted((m, c) for m, c in found if m >= server_major)
    if not usable:
        have = "、".join(f"{c}（{m}）" for m, c in found) or "无"
        raise BackupError(
            f"找不到可用的 {name}：PostgreSQL 服务器版本为 {server_major}，需要 {name} ≥ {server_major}"
            f"（已找到：{have}）。请安装 postgresql-client-{server_major}，"
            f"或用环境变量 CIVICGRID_PG_BIN_DIR 指向其 bin 目录。"
        )
    major, path = usable[0]
    return path, major


def _pg_env() -> dict[str, str]:
    """libpq environment for the client programs (keeps the password off the command line)."""
    db = _db()
    env = os.environ.copy()
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    opts = db.get("OPTIONS") or {}
    if opts.get("sslmode"):
        env["PGSSLMODE"] = str(opts["sslmode"])
    return env


def _pg_connect(autocommit: bool = False):
    import psycopg

    db = _db()
    kwargs = {"dbname": db["NAME"], "autocommit": autocommit}
    for key, arg in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if db.get(key):
            kwargs[arg] = db[key]
    opts = db.get("OPTIONS") or {}
    if opts.get("sslmode"):
        kwargs["sslmode"] = opts["sslmode"]
    return psycopg.connect(**kwargs)


def _pg_tables(cur) -> list[str]:
    cur.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
    )
    return [r[0] for r in cur.fetchall()]


def _pg_counts(cur) -> dict[str, int]:
    from psycopg import sql

    counts = {}
    for table in _pg_tables(cur):
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cur.fetchone()[0]
    return counts


def _applied_migrations(cur, has_table: bool) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    if not has_table:
        return applied
    cur.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    for app, name in cur.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


# --- SQLite ---------------------------------------------------------------------------------------------------


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _sqlite_snapshot(dest: Path) -> dict:
    """Copy the live database into ``dest`` with the online backup API; returns counts and migrations."""
    src_path = Path(_db()["NAME"])
    if not src_path.exists():
        raise BackupError(f"SQLite 数据库文件不存在：{src_path}")
    src = sqlite3.connect(str(src_path), timeout=30)
    dst = sqlite3.connect(str(dest))
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)  # one step: a single read transaction, so one consistent snapshot (WAL included)
    finally:
        src.close()
    try:
        dst.execute("PRAGMA journal_mode = DELETE")  # the archived file stands alone (no -wal beside it)
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"SQLite 快照校验失败：{check}")
        counts = _sqlite_counts(dst)
        applied = _applied_migrations(dst.cursor(), "django_migrations" in counts)
        version = dst.execute("SELECT sqlite_version()").fetchone()[0]
    finally:
        dst.close()
    return {"tables": counts, "applied": applied, "server_version": f"SQLite {version}"}


# --- backup ---------------------------------------------------------------------------------------------------


@dataclass
class _Writer:
    tar: tarfile.TarFile
    members: dict[str, dict] = field(default_factory=dict)

    def add_file(self, path: Path, arcname: str) -> None:
        with open(path, "rb") as fh:
            data = fh.read()
        self.add_bytes(data, arcname, mtime=path.stat().st_mtime)

    def add_bytes(self, data: bytes, arcname: str, mtime: float | None = None) -> None:
        info = tarfile.TarInfo(arcname)
        info.size = len(data)
        info.mtime = int(mtime or datetime.now(UTC).timestamp())
        info.mode = 0o640
        self.tar.addfile(info, io.BytesIO(data))
        self.members[arcname] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def add_large(self, path: Path, arcname: str) -> None:
        """Stream a big, finished file (the database snapshot) without holding it in memory."""
        sha = _sha256_file(path)
        info = self.tar.gettarinfo(str(path), arcname)
        info.mode = 0o640
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        with open(path, "rb") as fh:
            self.tar.addfile(info, fh)
        self.members[arcname] = {"sha256": sha, "size": info.size}


def _walk(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.is_file() and not p.is_symlink():
                yield p


def create_backup(out_path: str | Path, *, log: Callable[[str], None] = lambda s: None) -> dict:
    """Write the archive to ``out_path`` (atomically: a ``.partial`` file renamed at the end); return the
    manifest."""
    out = Path(out_path).resolve()
    for prefix, root in file_roots().items():
        if out.is_relative_to(root.resolve()):
            raise BackupError(f"备份文件不能放在被备份的目录 {root} 里（{prefix}/），请换一个目录")
    out.parent.mkdir(parents=True, exist_ok=True)
    kind = vendor()
    code = code_migrations()
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=out.parent) as tmp:
        staged = Path(tmp) / "db"
        tools: dict[str, str] = {}
        if kind == "sqlite":
            log("正在复制 SQLite 数据库（在线备份接口，含 WAL 中已提交的数据）…")
            snap = _sqlite_snapshot(staged)
        else:
            snap = _pg_dump(staged, tools, log)
        applied = snap["applied"]
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            w = _Writer(tar)
            w.add_large(staged, DB_MEMBER[kind])
            staged.unlink()
            file_count = 0
            file_bytes = 0
            for prefix, root in file_roots().items():
                log(f"正在打包文件：{root}")
                for path in _walk(root):
                    rel = path.relative_to(root).as_posix()
                    w.add_file(path, f"{prefix}/{rel}")
                    file_count += 1
                    file_bytes += w.members[f"{prefix}/{rel}"]["size"]
            applied_set = {(a, n) for a, names in applied.items() for n in names}
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(),
                "host": socket.gethostname(),
                "versions": {
                    "civicgrid": _civicgrid_version(),
                    "django": __import__("django").get_version(),
                    "python": platform.python_version(),
                    "database": snap["server_version"],
                    **tools,
                },
                "database": {
                    "vendor": kind,
                    "member": DB_MEMBER[kind],
                    "tables": snap["tables"],
                    "total_rows": sum(snap["tables"].values()),
                },
                "migrations": {
                    "applied": applied,
                    "unapplied_in_this_version": sorted(f"{a}.{n}" for a, n in code - applied_set),
                },
                "files": {
                    "media_storage": "local" if media_is_local() else settings.STORAGES["default"]["BACKEND"],
                    "media_included": media_is_local(),
                    "note": (
                        "本地附件（media/）与 12345 导入文件（imports/）已包含"
                        if media_is_local()
                        else "附件存放在 S3 对象存储中，未包含在本备份里，请在对象存储侧另行备份；已包含 imports/"
                    ),
                    "count": file_count,
                    "bytes": file_bytes,
                },
                "members": w.members,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(datetime.now(UTC).timestamp())
            info.mode = 0o640
            tar.addfile(info, io.BytesIO(data))
        os.replace(partial, out)
    return manifest


def _pg_dump(dest: Path, tools: dict, log) -> dict:
    with _pg_connect() as conn, conn.cursor() as cur:
        major = conn.info.server_version // 10000
        pg_dump, tool_major = find_pg_tool("pg_dump", major)
        tools["pg_dump"] = f"{tool_major} ({pg_dump})"
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute("SELECT pg_export_snapshot(), version()")
        snapshot, server = cur.fetchone()
        counts = _pg_counts(cur)
        applied = _applied_migrations(cur, "django_migrations" in counts)
        log(f"正在导出 PostgreSQL 数据库（{pg_dump}）…")
        run = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "-f",
                dest,
            ],
            env=_pg_env(),
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise BackupError(f"pg_dump 失败：{run.stderr.strip()[-2000:]}")
        conn.rollback()
    return {"tables": counts, "applied": applied, "server_version": server.split(",")[0]}


# --- restore --------------------------------------------------------------------------------------------------


@dataclass
class RestorePlan:
    manifest: dict
    target_tables: dict[str, int]
    staging: Path

    @property
    def target_is_empty(self) -> bool:
        return not self.target_tables


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def _damaged(reason: str) -> BackupError:
    return BackupError(f"备份文件已损坏或不完整，拒绝恢复：{reason}")


def read_and_verify(archive: str | Path, staging: Path) -> dict:
    """Unpack ``archive`` into ``staging`` checking every member against the manifest. Returns the manifest.

    Raises :class:`BackupError` for an unreadable archive, a missing/extra/altered member or a foreign format."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"备份文件不存在：{archive}")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            seen: dict[str, dict] = {}
            manifest = None
            for member in tar:
                if member.name == MANIFEST:
                    fh = tar.extractfile(member)
                    try:
                        manifest = json.loads(fh.read().decode())
                    except (ValueError, UnicodeDecodeError):
                        raise _damaged("manifest.json 无法解析")
                    continue
                if not member.isfile() or not _safe_name(member.name):
                    raise _damaged(f"不允许的成员 {member.name!r}")
                if member.name in seen:
                    raise _damaged(f"成员重复：{member.name}")
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                h = hashlib.sha256()
                size = 0
                src = tar.extractfile(member)
                with open(target, "wb") as out:
                    while chunk := src.read(CHUNK):
                        h.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                seen[member.name] = {"sha256": h.hexdigest(), "size": size}
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _damaged(f"无法读取压缩包（{exc}）")
    if manifest is None:
        raise _damaged("缺少 manifest.json")
    if manifest.get("format") != FORMAT:
        raise BackupError("这不是 CivicGrid 备份文件（manifest 格式不符）")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError(
            f"备份格式版本 {manifest.get('format_version')} 比本程序支持的 {FORMAT_VERSION} 新，请先升级 CivicGrid"
        )
    expected = manifest.get("members") or {}
    missing = sorted(set(expected) - set(seen))
    extra = sorted(set(seen) - set(expected))
    if missing:
        raise _damaged(f"缺少 {len(missing)} 个文件，如 {missing[0]}")
    if extra:
        raise _damaged(f"多出清单之外的文件，如 {extra[0]}")
    for name, want in expected.items():
        got = seen[name]
        if got != {"sha256": want.get("sha256"), "size": want.get("size")}:
            raise _damaged(
                f"{name} 的校验和不符（清单 {want.get('sha256', '')[:12]}…，实际 {got['sha256'][:12]}…）"
            )
    return manifest


def check_schema(manifest: dict) -> list[str]:
    """Refuse a backup made by a newer schema; return the migrations this code has that the backup lacks."""
    applied = {(a, n) for a, names in manifest["migrations"]["applied"].items() for n in names}
    known = code_migrations()
    unknown = sorted(f"{a}.{n}" for a, n in applied - known)
    if unknown:
        raise BackupError(
            "备份来自更新版本的 CivicGrid（数据库结构更新），本版本无法恢复。"
            f"请先把 CivicGrid 升级到备份时的版本或更新版本。本版本不认识的迁移：{', '.join(unknown[:5])}"
            + (f" 等 {len(unknown)} 个" if len(unknown) > 5 else "")
        )
    return sorted(f"{a}.{n}" for a, n in known - applied)


def target_tables() -> dict[str, int]:
    """Row counts of the tables in the database this process is configured for (empty dict: empty database)."""
    if vendor() == "sqlite":
        path = Path(_db()["NAME"])
        if not path.exists() or path.stat().st_size == 0:
            return {}
        conn = sqlite3.connect(str(path), timeout=30)
        try:
            return _sqlite_counts(conn)
        finally:
            conn.close()
    with _pg_connect() as conn, conn.cursor() as cur:
        return _pg_counts(cur)


def prepare_restore(archive: str | Path, staging: Path) -> RestorePlan:
    manifest = read_and_verify(archive, staging)
    kind = vendor()
    if manifest["database"]["vendor"] != kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(
            f"备份的数据库类型为 {names.get(manifest['database']['vendor'], manifest['database']['vendor'])}，"
            f"当前配置的是 {names[kind]}：不能跨数据库类型恢复（请检查 DATABASE_URL）"
        )
    check_schema(manifest)
    return RestorePlan(manifest=manifest, target_tables=target_tables(), staging=staging)


def restore_database(plan: RestorePlan, *, log: Callable[[str], None] = lambda s: None) -> dict[str, int]:
    """Replace the configured database with the backed-up one; returns the restored row counts."""
    from django.db import connections

    connections.close_all()
    staged = plan.staging / plan.manifest["database"]["member"]
    if vendor() == "sqlite":
        return _sqlite_restore(staged, log)
    return _pg_restore(staged, log)


def _sqlite_restore(staged: Path, log) -> dict[str, int]:
    src = sqlite3.connect(str(staged))
    try:
        check = src.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise _damaged(f"数据库文件完整性检查失败：{check}")
        target = Path(_db()["NAME"])
        target.parent.mkdir(parents=True, exist_ok=True)
        log(f"正在写入 SQLite 数据库：{target}")
        dst = sqlite3.connect(str(target), timeout=30)
        try:
            dst.execute("PRAGMA busy_timeout = 30000")
            # the backup API replaces every page of the destination in one transaction, WAL and readers included
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = WAL")
            counts = _sqlite_counts(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return counts


def _pg_restore(staged: Path, log) -> dict[str, int]:
    with _pg_connect(autocommit=True) as conn:
        major = conn.info.server_version // 10000
    pg_restore, _ = find_pg_tool("pg_restore", major)
    psql, _ = find_pg_tool("psql", major)
    with tempfile.TemporaryDirectory(prefix=".restore-sql-", dir=staged.parent) as tmp:
        script = Path(tmp) / "restore.sql"
        run = subprocess.run(
            [pg_restore, "--no-owner", "--no-privileges", "-f", str(script), str(staged)],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise _damaged(f"pg_restore 无法读取数据库导出：{run.stderr.strip()[-1500:]}")
        prelude = Path(tmp) / "prelude.sql"
        # everything in one transaction: on any error the database is left exactly as it was
        prelude.write_text(
            "SET lock_timeout = '15s';\n"
            "DROP SCHEMA IF EXISTS public CASCADE;\n"
            "CREATE SCHEMA public;\n"
            "GRANT ALL ON SCHEMA public TO CURRENT_USER;\n",
            encoding="utf-8",
        )
        log("正在恢复 PostgreSQL 数据库（单个事务）…")
        run = subprocess.run(
            [psql, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-f", prelude, "-f", script],
            env=_pg_env(),
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise BackupError(f"恢复 PostgreSQL 失败，数据库未被改动：{run.stderr.strip()[-2000:]}")
    with _pg_connect() as conn, conn.cursor() as cur:
        return _pg_counts(cur)


def restore_files(plan: RestorePlan, *, log: Callable[[str], None] = lambda s: None) -> int:
    """Move the verified files into place (``media/`` only when media is on local disk)."""
    roots = file_roots()
    n = 0
    for name in plan.manifest["members"]:
        prefix, _, rel = name.partition("/")
        if prefix == "db":
            continue
        root = roots.get(prefix)
        if root is None:
            continue
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(plan.staging / name), str(dest))
        n += 1
    log(f"已恢复 {n} 个文件")
    return n
