"""The admin site: every write made through ``/admin/`` appends an audit row, whoever registered the model.

- :class:`AuditedAdmin` records saves (with the changed fields before/after), many-to-many and inline changes,
  deletes (one row per object) and list actions (which action, on which objects), in the same transaction.
- :class:`CivicAdminSite` mixes :class:`AuditedAdmin` into every ModelAdmin registered without it (Django's
  ``Group``, django-axes' access logs …) and audits the "change my password" page.

Secrets are never stored: :func:`civicgrid.core.audit.snapshot` leaves out passwords, hashes and secret fields,
and a ModelAdmin may redact more by overriding :meth:`AuditedAdmin.audit_snapshot`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.db import models, transaction

from civicgrid.core import audit


def _m2m_state(obj: models.Model, names) -> dict[str, list[str]]:
    if obj.pk is None:
        return {}
    return {name: sorted(str(v) for v in getattr(obj, name).values_list("pk", flat=True)) for name in names}


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits are writes too: each save/delete/action appends an audit row in the same transaction."""

    def audit_snapshot(self, obj: models.Model | None) -> dict | None:
        """The values recorded for ``obj`` (override to redact more fields)."""
        return audit.snapshot(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # user pickers offer people only: system actors (随手拍, Open311 keys, imports) are not users to pick
        if getattr(db_field.related_model, "USERNAME_FIELD", None) and "queryset" not in kwargs:
            kwargs["queryset"] = db_field.related_model._default_manager.filter(is_system=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = None
            if change and obj.pk:
                before = self.audit_snapshot(type(obj)._base_manager.filter(pk=obj.pk).first())
            super().save_model(request, obj, form, change)
            after = self.audit_snapshot(obj)
            b, a = audit.diff(before, after) if change else (None, after)
            if change and not b and not a:
                return  # nothing changed in the row itself (save_related records m2m/inline changes)
            audit.record(
                actor=request.user,
                action=f"admin.{'update' if change else 'create'}",
                obj=obj,
                before=b,
                after=a,
            )

    def save_related(self, request, form, formsets, change):
        """Many-to-many fields (e.g. a grid worker's 负责网格) and inline rows: recorded when they changed."""
        obj = form.instance
        m2m = [f.name for f in obj._meta.many_to_many if f.name in getattr(form, "cleaned_data", {})]
        with transaction.atomic():
            before = _m2m_state(obj, m2m) if change else {}
            super().save_related(request, form, formsets, change)
            after = _m2m_state(obj, m2m)
            b, a = audit.diff(before, after) if change else ({}, {k: v for k, v in after.items() if v})
            inline = []
            for fs in formsets:
                label = fs.model._meta.verbose_name
                inline += [f"新增{label}：{o}" for o in getattr(fs, "new_objects", [])]
                inline += [f"修改{label}：{o}" for o, _ in getattr(fs, "changed_objects", [])]
                inline += [f"删除{label}：{o}" for o in getattr(fs, "deleted_objects", [])]
            if a or b or inline:
                audit.record(
                    actor=request.user,
                    action="admin.update_related",
                    obj=obj,
                    before=b or None,
                    after=a or None,
                    note="；".join(inline)[:2000],
                )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record(actor=request.user, action="admin.delete", obj=obj, before=self.audit_snapshot(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                audit.record(
                    actor=request.user, action="admin.delete", obj=obj, before=self.audit_snapshot(obj)
                )
            super().delete_queryset(request, queryset)

    def response_action(self, request, queryset):
        """A list action (``retry_now``, ``send_test`` …): which one, by whom, on which objects. The built-in
        ``delete_selected`` is recorded per object by :meth:`delete_queryset`."""
        name = request.POST.get("action", "")
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        with transaction.atomic():
            response = super().response_action(request, queryset)
            if response is not None and name and name != "delete_selected":
                func = self.get_actions(request).get(name)
                description = str(func[2]) if func else name
                across = request.POST.get("select_across") == "1"
                audit.record(
                    actor=request.user,
                    action="admin.action",
                    object_type=self.model._meta.label_lower,
                    object_id=",".join(selected)[:64] if not across else "",
                    object_repr=f"{self.model._meta.verbose_name}：{description}"[:200],
                    after={"action": name, "ids": selected[:500], "all": across},
                    note=description,
                )
        return response


class CivicAdminSite(admin.AdminSite):
    site_header = "街道网格化治理平台 · 系统管理"
    site_title = "CivicGrid 管理"
    index_title = "系统管理"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(
                admin_class.__name__, (admin_class, AuditedAdmin), {"__module__": admin_class.__module__}
            )
        return super().register(model_or_iterable, admin_class, **options)

    def password_change(self, request, extra_context=None):
        """``/admin/password_change/``: a user changes their own password (recorded, never the password)."""
        user = request.user
        model = get_user_model()
        with transaction.atomic():
            old = model._base_manager.filter(pk=user.pk).values_list("password", flat=True).first()
            response = super().password_change(request, extra_context)
            new = model._base_manager.filter(pk=user.pk).values_list("password", flat=True).first()
            if new != old:
                audit.record(actor=user, action="auth.password_change", obj=user, note="本人修改密码")
        return response
