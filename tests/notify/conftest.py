"""A real local HTTP server (127.0.0.1, port 0) that plays a group robot, scripted per test."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


class RobotServer:
    """Answers each POST with the next scripted reply; records every request (path, query, JSON body)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict | str, float]] = []  # (status, body, delay seconds)
        self.default = (200, {"errcode": 0, "errmsg": "ok"}, 0.0)
        self.check = None  # optional fn(request dict) -> reply tuple or None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                req = {
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "content_type": self.headers.get("Content-Type", ""),
                    "body": json.loads(raw.decode()) if raw else None,
                    "at": time.time(),
                }
                outer.requests.append(req)
                reply = (outer.check(req) if outer.check else None) or (
                    outer.script.pop(0) if outer.script else outer.default
                )
                status, body, delay = reply
                if delay:
                    time.sleep(delay)
                data = (json.dumps(body) if not isinstance(body, str) else body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/robot/send", query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


@pytest.fixture
def dead_url():
    """A URL on a port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/robot/send?key=down"


@pytest.fixture
def world(db):
    from tests.cases.factories import World

    return World()
