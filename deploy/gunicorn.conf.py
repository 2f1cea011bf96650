"""gunicorn settings for civicgrid.service (``gunicorn -c /opt/civicgrid/deploy/gunicorn.conf.py``).

Prometheus metrics of all workers are added up through files in ``PROMETHEUS_MULTIPROC_DIR`` (the systemd unit
points it at /run/civicgrid/metrics, which systemd empties at every restart).
"""

import os

bind = os.environ.get("CIVICGRID_BIND", "127.0.0.1:8000")
wsgi_app = "civicgrid.wsgi:application"
# processes scale Python: about 2 per core; threads overlap database waits
workers = int(os.environ.get("CIVICGRID_WORKERS", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("CIVICGRID_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
# uploads of 12345 exports can be large: nginx buffers them, so a slow client never holds a worker
limit_request_line = 8190
forwarded_allow_ips = "127.0.0.1,::1"
# one JSON line per request comes from the application (CIVICGRID_LOG_FORMAT=json); no second access log
accesslog = None if os.environ.get("CIVICGRID_LOG_FORMAT") == "json" else "-"
errorlog = "-"


def on_starting(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.remove(os.path.join(path, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
