"""Deployment checks of our own, run by ``civicgrid check --deploy`` next to Django's security checks."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_proxy_and_tokens(app_configs, **kwargs):
    issues = []
    if getattr(settings, "HTTPS_ONLY", False) and not getattr(settings, "BEHIND_TLS_PROXY", False):
        issues.append(
            Warning(
                "生产模式要求 HTTPS，但未设置 CIVICGRID_BEHIND_TLS_PROXY=1。",
                hint="由 nginx 终止 HTTPS 时必须设置它（否则每个请求都会被重定向到 https，形成死循环）；"
                "确实只在内网用 HTTP 时设置 CIVICGRID_HTTPS=0。",
                id="civicgrid.W001",
            )
        )
    token = os.environ.get("CIVICGRID_METRICS_TOKEN", "")
    if token and len(token) < 24:
        issues.append(
            Warning(
                "CIVICGRID_METRICS_TOKEN 太短（少于 24 个字符）。",
                hint="用 `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'` 生成。",
                id="civicgrid.W002",
            )
        )
    if getattr(settings, "PRODUCTION", False) and settings.DEBUG:
        issues.append(Warning("生产模式下 DEBUG 不应开启。", id="civicgrid.W003"))
    return issues
