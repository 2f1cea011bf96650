"""``civicgrid serve [--port N]``: migrate-checked production-style server (gunicorn, threads, debug off)."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def server_environment(*, no_scheduler: bool = False) -> dict[str, str]:
    """The environment the gunicorn workers import the settings with.

    Debug is always off here, whatever the shell says: a served platform never shows tracebacks, settings or the
    URL list (debug pages stay with ``civicgrid runserver``). Static files are still served by whitenoise.
    """
    env = os.environ.copy()
    env["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    env["CIVICGRID_DEBUG"] = "0"
    if no_scheduler:
        env["CIVICGRID_SCHEDULER"] = "0"
    return env


class Command(BaseCommand):
    help = "启动平台 Web 服务 (gunicorn)。Serve the platform with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("CIVICGRID_PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("CIVICGRID_HOST", "127.0.0.1"))
        # processes, not threads, scale Python: 2 per core by default (one process on SQLite, see below)
        default_workers = int(os.environ.get("CIVICGRID_WORKERS", 2 * (os.cpu_count() or 1)))
        parser.add_argument("--workers", type=int, default=default_workers)
        parser.add_argument("--threads", type=int, default=int(os.environ.get("CIVICGRID_THREADS", 4)))
        parser.add_argument("--no-scheduler", action="store_true", help="不在本进程运行定时任务")

    def handle(self, *args, port, host, workers, threads, no_scheduler, **opts):
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("数据库尚未迁移到最新版本，请先运行 `civicgrid migrate`。")
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and workers > 1:
            # SQLite has one writer; one process with several threads serves a 街道 well.
            workers, threads = 1, max(threads, 8)
        env = server_environment(no_scheduler=no_scheduler)
        self.stdout.write(f"CivicGrid 正在监听 http://{host}:{port}/  (workers={workers}, threads={threads})")
        self.stdout.flush()
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "civicgrid.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
        os.execvpe(sys.executable, cmd, env)
