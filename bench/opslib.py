"""Shared plumbing of the operations benches (bench_load_mixed, bench_kill_recovery, bench_conflict).

A fresh PostgreSQL database, a migrated schema, a small 街道 (grid, departments, categories, buildings for the
12345 import), API tokens, and ``civicgrid serve`` (real gunicorn) started in its own process group.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG = os.environ.get("CIVICGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
CLI = [sys.executable, "-m", "civicgrid.cli"]

SETUP = r"""
import json, sys
sys.path.insert(0, {bench!r})
from bench_import import build_world
from civicgrid.accounts.models import Department, User
from civicgrid.accounts.services import issue_token
from civicgrid.cases.models import Category
from civicgrid.places.models import Grid
importer = build_world()
importer.set_password({password!r}); importer.save()
g = Grid.objects.order_by("pk").first()
out = {{"grid": [g.min_lng, g.min_lat, g.max_lng, g.max_lat], "category": Category.objects.get(code="S06010").pk,
       "department": Department.objects.get(code="CGZD").pk, "tokens": [], "importer": importer.username,
       "importer_id": importer.pk}}
for i in range({n_tokens}):
    u = User.objects.create(username=f"bench_api_{{i}}", role="dispatcher", full_name=f"压测派遣员{{i}}",
                            street=importer.street)
    _, key = issue_token(actor=None, user=u, name="bench")
    out["tokens"].append([u.pk, key])
print("SETUP", json.dumps(out))
"""
PASSWORD = "Bench-Passw0rd!x"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Site:
    def __init__(self, db: str, *, n_tokens: int = 8, scheduler: bool = False):
        self.db = db
        self.data_dir = tempfile.mkdtemp(prefix=f"{db}_")
        self.url = fresh_database(db)
        self.env = os.environ.copy()
        self.env.update(
            DATABASE_URL=self.url,
            CIVICGRID_DATA_DIR=self.data_dir,
            CIVICGRID_DEBUG="0",
            CIVICGRID_SCHEDULER="1" if scheduler else "0",
            CIVICGRID_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="civicgrid.settings",
            PYTHONPATH=os.pathsep.join(p for p in [str(REPO / "src"), os.environ.get("PYTHONPATH", "")] if p),
        )
        self.env.pop("CIVICGRID_TESTING", None)
        self.server: subprocess.Popen | None = None
        self.port = free_port()
        print(f"database {db}: migrating …", flush=True)
        subprocess.run([*CLI, "migrate", "--noinput", "-v", "0"], env=self.env, check=True, cwd=REPO)
        code = SETUP.format(bench=str(REPO / "bench"), password=PASSWORD, n_tokens=n_tokens)
        out = self.shell(code)
        self.info = json.loads(next(line for line in out.splitlines() if line.startswith("SETUP"))[6:])

    def shell(self, code: str) -> str:
        run = subprocess.run(
            [*CLI, "shell", "-c", code], env=self.env, capture_output=True, text=True, cwd=REPO
        )
        if run.returncode != 0:
            raise SystemExit(f"shell failed: {run.stderr[-3000:]}")
        return run.stdout

    def sql(self, query: str, *params):
        import psycopg

        with psycopg.connect(self.url) as conn:
            return conn.execute(query, params).fetchall()

    def start(self, *, workers: int = 2, threads: int = 4, no_scheduler: bool = True) -> None:
        args = [*CLI, "serve", "--port", str(self.port), "--workers", str(workers), "--threads", str(threads)]
        if no_scheduler:
            args.append("--no-scheduler")
        self.server = subprocess.Popen(
            args,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            cwd=REPO,
        )
        deadline = time.time() + 90
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            if self.server.poll() is not None or time.time() > deadline:
                raise SystemExit(
                    "server did not start: " + self.server.stderr.read().decode(errors="replace")[-2000:]
                )
            time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master, which is the ``serve`` process after exec)."""
        import psutil

        return [p.pid for p in psutil.Process(self.server.pid).children()]

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.server.pid, signal.SIGKILL)
        if self.server is not None and self.server.stderr:
            self.server.stderr.close()

    def close(self, keep_db: bool = False) -> None:
        self.stop()
        import shutil

        shutil.rmtree(self.data_dir, ignore_errors=True)
        if not keep_db:
            drop_database(self.db)


class Client:
    """A keep-alive JSON client that reconnects after a dropped connection."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict | None]:
        """(status, json) — status 0 when the connection broke (no answer)."""
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers={**self.headers, **(headers or {})})
            resp = self.conn.getresponse()
            raw = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                self.reconnect()
        except (OSError, http.client.HTTPException):
            self.reconnect()
            return 0, None
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, None

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def close(self) -> None:
        self.conn.close()


def case_body(info: dict, i: int, j: int, tag: str) -> dict:
    x0, y0, x1, y1 = info["grid"]
    return {
        "source": "hotline_12345",
        "description": f"{tag} 线程{i} 第{j}件：小区门口垃圾堆积",
        "category": info["category"],
        "lng": x0 + (x1 - x0) * (0.1 + 0.8 * ((j * 37) % 100) / 100),
        "lat": y0 + (y1 - y0) * (0.1 + 0.8 * ((i * 13) % 100) / 100),
        "address": f"压测路{j}号",
        "reporter_name": "市民",
        "reporter_phone": "13800000000",
    }


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]
