"""Who a timeline entry came from, when it was not a member of staff at a desk: the resident channel (随手拍),
an Open311 client, or an import. Such entries are made by service accounts (the resident intake account is a
社区工作人员 without a community, an Open311 key's account a 网格员 without grids), so the role would mislead:
they are labelled by their channel instead.

A service records the channel on the entry (``CaseEvent.data["channel"]``); entries written before that are
recognised by their service account (or, for imports, by their move / import job).
"""

from __future__ import annotations

from civicgrid.cases.models import Source

RESIDENT = "resident"
OPEN311 = "open311"
IMPORT = "import"
CHANNELS = (RESIDENT, OPEN311, IMPORT)

# the service accounts' usernames (created by civicgrid.intake.resident and civicgrid.open311.services)
RESIDENT_USERNAME = "_resident_intake"
OPEN311_USERNAME_PREFIX = "open311-"

RESIDENT_LABEL = "居民（随手拍）"
OPEN311_LABEL = "Open311 接口"


def import_label(source: str) -> str:
    if source in ("", Source.HOTLINE_12345):
        return "12345 导入"
    try:
        return f"{Source(source).label}导入"
    except ValueError:
        return "导入"


def event_channel(event) -> str:
    """``resident``, ``open311``, ``import`` or ``""`` (a person acting in the software)."""
    data = event.data if isinstance(event.data, dict) else {}
    channel = data.get("channel")
    if channel in CHANNELS:
        return channel
    if event.move in ("import", "import_update") or data.get("job"):
        return IMPORT
    actor = event.actor if event.actor_id else None
    username = getattr(actor, "username", "") or ""
    if username == RESIDENT_USERNAME:
        return RESIDENT
    if username.startswith(OPEN311_USERNAME_PREFIX):
        return OPEN311
    return ""


def actor_labels(event, *, source: str = "") -> tuple[str, str]:
    """``(who, detail)`` for a timeline entry: the channel's name and a detail (the Open311 client, the person
    who ran the import), or the actor's name and role label for anyone else."""
    from civicgrid.accounts.roles import Role

    channel = event_channel(event)
    name = event.actor_name or ""
    if channel == RESIDENT:
        return RESIDENT_LABEL, ""
    if channel == OPEN311:
        client = name.removeprefix(OPEN311_LABEL).strip("（）() ") if name.startswith(OPEN311_LABEL) else ""
        return OPEN311_LABEL, client
    if channel == IMPORT:
        return import_label(source), (f"{name} 发起" if name and name != "系统" else "")
    role = ""
    if event.actor_role:
        try:
            role = Role(event.actor_role).label
        except ValueError:
            role = event.actor_role
    return name or "系统", role
