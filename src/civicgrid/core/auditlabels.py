"""Chinese names for the codes the audit log stores (actions, roles, object types), for the 审计日志 page.

The stored codes stay as they are (they are hashed into the chain and are what filters match); only the page
shows these labels, with the code beside them.
"""

from __future__ import annotations

from django.apps import apps

ACTION_LABELS = {
    "auth.login": "登录",
    "auth.logout": "退出登录",
    "auth.login_failed": "登录失败",
    "auth.password_change": "修改本人密码",
    "admin.create": "后台新增",
    "admin.update": "后台修改",
    "admin.delete": "后台删除",
    "admin.action": "后台批量操作",
    "admin.set_password": "后台设置密码",
    "admin.update_related": "后台修改关联数据",
    "accounts.user.create": "新建账号",
    "accounts.user.set_password": "设置密码",
    "accounts.user.set_grids": "分配负责网格",
    "accounts.user.deactivate": "停用账号",
    "accounts.user.activate": "启用账号",
    "accounts.department.create": "新建部门",
    "accounts.token.issue": "签发 API 令牌",
    "accounts.token.revoke": "吊销 API 令牌",
    "cases.case.create": "新建工单",
    "cases.case.public_note": "填写公开答复",
    "cases.case.import_closed": "导入已办结工单",
    "cases.case.import": "导入台账工单",
    "cases.case.record_past": "记录历史工单（含流转）",
    "cases.attachment.upload": "上传附件",
    "cases.category.load": "载入分类目录",
    "calendar.year_confirm": "确认工作日历年度",
    "calendar.override_set": "设置工作日历调整",
    "calendar.override_delete": "删除工作日历调整",
    "places.import": "导入网格",
    "core.import.upload": "上传数据导入文件",
    "core.import.header_row": "改选导入表头行",
    "core.import.mapping": "设置数据导入列映射",
    "core.import.start": "开始数据导入",
    "core.import.finish": "数据导入完成",
    "core.calendar_override.import": "导入工作日历调整",
    "intake.job.upload": "上传 12345 导入文件",
    "intake.job.mapping": "设置导入列映射",
    "intake.job.start": "开始 12345 导入",
    "intake.job.finish": "12345 导入完成",
    "intake.import.batch": "12345 批量导入",
    "intake.mapping.create": "新建导入模板",
    "intake.mapping.update": "修改导入模板",
    "intake.placement.place": "待定位工单定位",
    "intake.resident.service_account": "创建随手拍系统账号",
    "open311.key.issue": "签发 Open311 密钥",
    "open311.key.revoke": "吊销 Open311 密钥",
    "open311.key.demo": "创建演示 Open311 密钥",
    "open311.request.create": "Open311 提交请求",
    "open311.update.create": "Open311 同步更新",
    "demo.load": "生成演示数据",
    "demo.cases": "生成演示工单",
}
PREFIX_LABELS = {
    "auth.": "登录",
    "admin.": "后台",
    "accounts.": "账号",
    "cases.": "工单",
    "calendar.": "工作日历",
    "places.": "网格",
    "intake.": "受理",
    "open311.": "Open311",
    "notify.": "消息推送",
    "demo.": "演示数据",
}


# labels the apps above core add at ready() (e.g. one per workflow move: ``cases.case.dispatch`` → 工单：派遣)
_REGISTERED: dict[str, str] = {}


def register_action_labels(labels: dict[str, str]) -> None:
    """Add labels for audit action codes (an app's :meth:`AppConfig.ready`); the fixed table above wins."""
    _REGISTERED.update(labels)


def action_label(action: str) -> str:
    """``cases.case.dispatch`` → ``工单：派遣``; unknown codes fall back to their area (``账号：xxx``)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action in _REGISTERED:
        return _REGISTERED[action]
    for prefix, label in PREFIX_LABELS.items():
        if action.startswith(prefix):
            return f"{label}：{action.removeprefix(prefix)}"
    return action


def role_label(role: str) -> str:
    from civicgrid.core.roles import Role

    if not role:
        return "—"
    if role == "system":
        return "系统"
    try:
        return Role(role).label
    except ValueError:
        return role


def object_type_label(object_type: str) -> str:
    """``cases.case`` → ``工单`` (the model's verbose name)."""
    if not object_type or "." not in object_type:
        return object_type
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type
