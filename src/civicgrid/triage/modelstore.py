"""Versioned model files under ``CIVICGRID_DATA_DIR/triage/models/`` (``v0001.npz``, ``v0002.npz`` …).

``current()`` is what every app server calls on use: it lists the directory (one ``scandir``, at most once per
``CHECK_SECONDS``) and reloads when the newest version or its mtime changed — a ``civicgrid triage train`` on any
machine sharing the data directory is picked up without a restart. A new version is written to a temporary
name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from civicgrid.triage import engine

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0
_NAME = re.compile(r"^v(\d{4,})\.npz$")


def directory() -> Path:
    return Path(settings.DATA_DIR) / "triage" / "models"


@dataclass(frozen=True)
class Version:
    number: int
    path: Path
    mtime: float

    @property
    def name(self) -> str:
        return f"v{self.number:04d}"


def versions() -> list[Version]:
    d = directory()
    if not d.is_dir():
        return []
    out = []
    for entry in d.iterdir():
        m = _NAME.match(entry.name)
        if m and entry.is_file():
            out.append(Version(int(m.group(1)), entry, entry.stat().st_mtime))
    return sorted(out, key=lambda v: v.number)


def next_path() -> Path:
    vs = versions()
    n = vs[-1].number + 1 if vs else 1
    return directory() / f"v{n:04d}.npz"


def save(model: engine.Model) -> Version:
    """Store ``model`` as the next version (the newest: servers switch to it on their next use)."""
    directory().mkdir(parents=True, exist_ok=True)
    for _ in range(20):
        path = next_path()
        model.meta = dict(model.meta, version=path.stem)
        try:
            with open(path, "xb"):  # claim the number (two trainers at once take different numbers)
                pass
        except FileExistsError:
            continue
        model.save(path)
        return Version(int(path.stem[1:]), path, path.stat().st_mtime)
    raise RuntimeError("无法分配模型版本号")


@dataclass
class _Loaded:
    version: Version | None = None
    model: engine.Model | None = None
    checked: float = 0.0


_state = _Loaded()
_lock = threading.Lock()


def current() -> tuple[Version | None, engine.Model | None]:
    """The newest stored model (``(None, None)`` when there is none or it cannot be read)."""
    now = time.monotonic()
    if now - _state.checked < CHECK_SECONDS:
        return _state.version, _state.model
    with _lock:
        _state.checked = now
        vs = versions()
        newest = vs[-1] if vs else None
        if newest is None:
            _state.version, _state.model = None, None
        elif newest != _state.version:
            try:
                model = engine.Model.load(newest.path)
            except Exception:  # a file still being replaced or a foreign file: keep what we had
                log.warning("triage model %s could not be loaded", newest.path, exc_info=True)
                return _state.version, _state.model
            _state.version, _state.model = newest, model
        return _state.version, _state.model


def forget() -> None:
    """Drop this process's loaded model (tests; the next ``current()`` rereads the directory)."""
    with _lock:
        _state.version, _state.model, _state.checked = None, None, 0.0
