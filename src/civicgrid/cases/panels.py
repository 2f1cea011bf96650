"""Panels other apps add to the case detail page (above 办理), without the case app knowing them.

An app registers ``register("name", fn)`` in its ``AppConfig.ready``; ``fn(request, case, moves)`` returns
``None`` (nothing to show for this user/case) or ``(template_name, context)`` or
``(template_name, context, script)`` with a static JS path the page then loads (no inline scripts: CSP).
"""

from __future__ import annotations

from collections.abc import Callable

_PANELS: dict[str, Callable] = {}


def register(name: str, fn: Callable) -> None:
    _PANELS[name] = fn


def for_case(request, case, moves) -> list[dict]:
    out = []
    for fn in _PANELS.values():
        got = fn(request, case, moves)
        if got is not None:
            template, ctx, *script = got
            out.append({"template": template, "ctx": ctx, "script": script[0] if script else ""})
    return out
