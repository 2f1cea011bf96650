from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    default = True
    name = "civicgrid.core"
    label = "core"
    verbose_name = "平台核心"

    def ready(self):
        from django.apps import apps
        from django.db.backends.signals import connection_created

        from civicgrid.core import (
            calendar_import,  # noqa: F401  (registers the 工作日历调整 import spec)
            checks,  # noqa: F401  (deployment checks)
            exports,  # noqa: F401  (registers the export job kind with the runner)
            selectors,  # noqa: F401  (the audit log's scope rule)
        )
        from civicgrid.core.auditchain import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="civicgrid.core.sqlite_sha256")

        from civicgrid.core import background, importer, periodic

        importer.register_run_kind()  # imports of every spec without a job table of its own

        # background jobs whose worker died are requeued (and queued ones started) by one server per round
        periodic.register(background.RECOVER_JOB, background.recover)
        periodic.maybe_start()  # the scheduler thread (server processes only); apps register jobs at ready()

        # third-party apps whose names show as section titles in the admin
        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = "登录锁定"


class CivicAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with :class:`civicgrid.core.adminsite.CivicAdminSite` as ``admin.site``."""

    default = False
    default_site = "civicgrid.core.adminsite.CivicAdminSite"
