"""The in-process scheduler now lives in core (:mod:`civicgrid.core.periodic`: one thread per server process runs
every registered periodic job whose round is due); kept here for existing callers."""

from __future__ import annotations

from civicgrid.core.periodic import default_interval as interval_seconds  # noqa: F401
from civicgrid.core.periodic import is_server_process, maybe_start  # noqa: F401
