"""``civicgrid serve`` never runs in debug mode: a 404 shows the platform's own page (no URL list, no traceback),
and whitenoise still serves the static scripts. The real gunicorn command the serve command builds is started on
a port of this checkout's range, briefly."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command

from civicgrid.core.management.commands import serve

pytestmark = pytest.mark.django_db

PORT = 8150


class Launched(Exception):
    """Raised instead of replacing the test process with gunicorn."""


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _wait_until_up(port: int, proc: subprocess.Popen, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited: {proc.stdout.read().decode(errors='replace')[-2000:]}")
        if not _free(port):
            return
        time.sleep(0.2)
    raise AssertionError("gunicorn did not start listening")


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def test_serve_turns_debug_off_even_when_the_shell_turns_it_on(monkeypatch, tmp_path):
    if not _free(PORT):
        pytest.skip(f"port {PORT} is busy")
    launched = {}

    def fake_exec(file, args, env):
        launched.update(args=args, env=env)
        raise Launched

    monkeypatch.setenv("CIVICGRID_DEBUG", "1")  # what a developer's shell may say
    monkeypatch.setattr(serve.os, "execvpe", fake_exec)
    with pytest.raises(Launched):
        call_command("serve", port=PORT, workers=1, threads=2, no_scheduler=True)
    env = launched["env"]
    assert env["CIVICGRID_DEBUG"] == "0"
    assert f"127.0.0.1:{PORT}" in launched["args"]

    # start exactly that gunicorn command (empty data dir: a 404 and static files need no tables)
    env = {**env, "CIVICGRID_DATA_DIR": str(tmp_path), "CIVICGRID_SCHEDULER": "0"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        launched["args"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        _wait_until_up(PORT, proc)
        base = f"http://127.0.0.1:{PORT}"
        status, headers, body = _get(f"{base}/no-such-page/")
        assert status == 404
        assert "页面不存在" in body
        for debug_text in ("Using the URLconf", "civicgrid.urls", "admin/", "Traceback", "DEBUG = True"):
            assert debug_text not in body, debug_text
        assert "script-src 'self'" in headers["Content-Security-Policy"]

        status, headers, body = _get(f"{base}/static/js/safe.js")
        assert status == 200 and "javascript" in headers["Content-Type"] and "CG.esc" in body
        status, _, body = _get(f"{base}/static/vendor/htmx/htmx.min.js")
        assert status == 200 and "htmx" in body
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.wait()
