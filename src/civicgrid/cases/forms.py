"""Forms of the case screens. They only parse and shape input; the rules live in the case services."""

from __future__ import annotations

import uuid

from django import forms

from civicgrid.accounts import selectors as account_selectors
from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures, selectors
from civicgrid.cases.models import (
    CaseState,
    Category,
    CategoryKind,
    DeadlineUnit,
    Light,
    Priority,
    Rating,
    Source,
)
from civicgrid.cases.procedures import INPUT_FIELDS
from civicgrid.core.roles import Capability, has_capability
from civicgrid.places import selectors as place_selectors

# roles that register cases for others (they choose the source and may enter it on someone's behalf)
# which source a case gets when the role does not choose one
DEFAULT_SOURCE = {
    Role.GRID_WORKER: Source.GRID_PATROL,
    Role.COMMUNITY_STAFF: Source.OTHER,
    Role.LEADER: Source.LEADER,
    Role.DISPATCHER: Source.DISPATCHER,
    Role.SHIFT_LEADER: Source.DISPATCHER,
}
# roles that may 立案 on the spot while reporting (the service still checks the category for grid workers)
AUTO_ACCEPT_ROLES = frozenset({Role.DISPATCHER, Role.SHIFT_LEADER, Role.GRID_WORKER})

MAX_PHOTOS = 6


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; Pillow validation happens in the service (``store_upload``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "class": "form-control"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        files = [f for f in files if f]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(f"最多上传 {MAX_PHOTOS} 张照片")
        return files


def resolve_category(user, pk):
    """The category object for a picked id (the service wants the model), or a form error."""
    if pk in (None, ""):
        return None
    category = Category.objects.restrict(user, "view").filter(pk=pk).first()
    if category is None:
        raise forms.ValidationError("分类不存在")
    return category


def _choices(enum, blank="全部"):
    return [("", blank), *[(m.value, m.label) for m in enum]]


def category_choices(user, blank="请选择分类（可输入关键字搜索）"):
    """大类 as <optgroup>s, 小类 as options (values are category ids)."""
    kind_label = {k.value: k.label for k in CategoryKind}
    groups = []
    for major in selectors.category_tree(user=user):
        options = [(c["id"], f"{c['std_code']} {c['name']}") for c in major["children"]]
        if options:
            groups.append((f"{kind_label.get(major['kind'], '')} · {major['name']}", options))
    return [("", blank), *groups]


class BootstrapMixin:
    def _style(self):
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, forms.HiddenInput | forms.RadioSelect | forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(w, forms.Select) else "form-control"
            w.attrs.setdefault("class", css)


# --- list filters ---------------------------------------------------------------------------------


class CaseFilterForm(BootstrapMixin, forms.Form):
    """The list/export filters; field names are the API's query parameters."""

    text = forms.CharField(label="关键字", required=False, max_length=100)
    status = forms.ChoiceField(label="状态", required=False, choices=_choices(CaseState))
    open_only = forms.TypedChoiceField(
        label="是否办结",
        required=False,
        choices=[("", "全部"), ("1", "未办结")],
        coerce=lambda v: v == "1",
        empty_value=False,
    )
    category = forms.ChoiceField(label="分类", required=False)
    community = forms.ChoiceField(label="社区", required=False)
    grid = forms.ChoiceField(label="网格", required=False)
    department = forms.ChoiceField(label="处置部门", required=False)
    source = forms.ChoiceField(label="来源", required=False, choices=_choices(Source))
    light = forms.ChoiceField(label="亮灯", required=False, choices=_choices(Light))
    # the count a list stands behind (指挥中心 links): the dates then bound that count's own timestamp
    metric = forms.ChoiceField(label="统计口径", required=False)
    date_from = forms.DateField(
        label="上报日期起", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="上报日期止", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].widget.attrs["placeholder"] = "编号 / 标题 / 描述 / 地址"
        # every registered procedure's states (the standard ones first, as before)
        self.fields["status"].choices = [("", "全部"), *procedures.all_states().items()]
        cats = [("", "全部")]
        for major in selectors.category_tree(user=user):
            cats.append((str(major["id"]), f"【{major['name']}】全部"))
            cats.extend((str(c["id"]), f"　{c['name']}") for c in major["children"])
        self.fields["category"].choices = cats
        self.fields["metric"].choices = [("", "按上报时间（全部）")] + [
            (k, label) for k, (label, _) in selectors.LIST_METRICS.items()
        ]
        self.fields["community"].choices = [("", "全部")] + [
            (str(c.pk), c.name) for c in place_selectors.visible_communities(user=user)
        ]
        self.fields["grid"].choices = [("", "全部")] + [
            (str(g.pk), g.name) for g in place_selectors.visible_grids(user=user).filter(is_active=True)
        ]
        self.fields["department"].choices = [("", "全部")] + [
            (str(d.pk), d.name) for d in account_selectors.visible_departments(user=user)
        ]
        for f in self.fields.values():
            small = (
                "form-select form-select-sm"
                if isinstance(f.widget, forms.Select)
                else "form-control form-control-sm"
            )
            f.widget.attrs["class"] = small

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.filter_cases`` (only valid, non-empty values)."""
        data = self.cleaned_data if self.is_valid() else {}
        return {k: v for k, v in data.items() if v not in (None, "")}


# --- create ---------------------------------------------------------------------------------------


def creatable_procedures(user) -> list:
    """The 办理程序 whose cases ``user`` may create (:meth:`Procedure.may_create`), the standard one first."""
    return [p for p in procedures.all_procedures() if not p.filed_elsewhere and p.may_create(user)]


class CaseCreateForm(BootstrapMixin, forms.Form):
    # shown only when the user may create cases of another 办理程序 too (Procedure.create_roles)
    procedure = forms.ChoiceField(label="办理程序", required=False)
    category = forms.TypedChoiceField(label="问题分类", coerce=int, required=False, empty_value=None)
    description = forms.CharField(label="问题描述", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(label="地址", max_length=200, required=False)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    photos = MultipleImageField(label="现场照片（处置前）", required=False)
    reporter_name = forms.CharField(label="反映人", max_length=50, required=False)
    reporter_phone = forms.CharField(label="反映人电话", max_length=30, required=False)
    source = forms.ChoiceField(label="来源", choices=[(m.value, m.label) for m in Source])
    source_ref = forms.CharField(label="来源编号", max_length=100, required=False)
    auto_accept = forms.BooleanField(label="同时受理立案", required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].choices = category_choices(user)
        codes = creatable_procedures(user)
        if codes and codes != [procedures.default()]:
            self.fields["procedure"].choices = [(p.code, p.label) for p in codes]
            self.initial.setdefault("procedure", codes[0].code)
        else:
            del self.fields["procedure"]
        self.fields["description"].widget.attrs["placeholder"] = "发生了什么问题？在什么位置？"
        self.fields["address"].widget.attrs["placeholder"] = "如：示范路 18 号东侧"
        self.fields["reporter_phone"].widget.attrs.update(inputmode="tel", autocomplete="off")
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        if has_capability(user, Capability.CASE_DISPATCH):
            self.initial.setdefault("source", Source.HOTLINE_12345)
        else:
            # only the command centre picks the source and the reporter's reference
            del self.fields["source"], self.fields["source_ref"]
        if user.role not in AUTO_ACCEPT_ROLES:
            del self.fields["auto_accept"]
        elif user.role == Role.GRID_WORKER:
            self.fields["auto_accept"].label = "现场立案（仅限可自行立案的小类）"
        self._style()
        if "auto_accept" in self.fields:  # 社区工作人员 and 领导 report without 立案
            self.fields["auto_accept"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if (data.get("lng") is None) != (data.get("lat") is None):
            raise forms.ValidationError("经纬度不完整，请在地图上重新点选位置")
        return data

    def clean_category(self):
        return resolve_category(self.user, self.cleaned_data.get("category"))

    def source_value(self) -> str:
        return self.cleaned_data.get("source") or DEFAULT_SOURCE.get(self.user.role, Source.OTHER)


# --- moves ----------------------------------------------------------------------------------------


class MoveForm(BootstrapMixin, forms.Form):
    """Base of every action form: the move name and the case version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # which service arguments this form passes (besides version); subclasses add fields
    args: tuple[str, ...] = ()

    def __init__(self, *args, user=None, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.case = user, case
        self.setup()
        self._style()

    def setup(self):
        pass

    def service_kwargs(self) -> dict:
        return {
            k: self.cleaned_data.get(k) for k in self.args if self.cleaned_data.get(k) not in (None, "", [])
        }


class NoteForm(MoveForm):
    note = forms.CharField(
        label="备注", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    args = ("note",)


class RequiredNoteForm(MoveForm):
    note = forms.CharField(label="督办意见", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    args = ("note",)


class SuperviseForm(RequiredNoteForm):
    """督办 raises the 紧急程度 one step: the form says so before the user confirms."""

    def setup(self):
        from civicgrid.cases.services import supervised_priority

        if self.case is None:
            return
        before, after = self.case.priority, supervised_priority(self.case.priority)
        if after != before:
            text = f"督办将把紧急程度由「{Priority(before).label}」提升为「{Priority(after).label}」，并通知处置部门和指挥中心。"
        else:
            text = f"紧急程度已是「{Priority(before).label}」，督办将通知处置部门和指挥中心。"
        self.fields["note"].help_text = text


class ReasonForm(MoveForm):
    reason = forms.CharField(label="原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    args = ("reason",)
    reason_label = "原因"

    def setup(self):
        self.fields["reason"].label = self.reason_label


class RejectForm(ReasonForm):
    reason_label = "不予受理的理由"


class ReturnForm(ReasonForm):
    reason_label = "退回理由"


class SuspendForm(ReasonForm):
    reason_label = "挂账原因"


class VoidForm(ReasonForm):
    reason_label = "作废原因"


class DenyExtensionForm(MoveForm):
    note = forms.CharField(label="驳回理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    args = ("note",)


class AcceptForm(MoveForm):
    category = forms.TypedChoiceField(label="分类", coerce=int, required=False, empty_value=None)
    note = forms.CharField(
        label="备注", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    args = ("category", "note")

    def setup(self):
        has_category = self.case is not None and self.case.category_id
        self.fields["category"].choices = category_choices(
            self.user, blank="（沿用上报分类）" if has_category else "请选择分类（可输入关键字搜索）"
        )
        if has_category:
            self.initial.setdefault("category", self.case.category_id)
        else:
            self.fields["category"].required = True

    def clean_category(self):
        return resolve_category(self.user, self.cleaned_data.get("category"))


class DepartmentForm(MoveForm):
    department = forms.TypedChoiceField(label="处置部门", coerce=int)
    note = forms.CharField(
        label="派遣意见", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    args = ("department", "note")

    def setup(self):
        depts = list(account_selectors.visible_departments(user=self.user))
        if self.case is not None:  # a 区 desk sees every 街道's departments: offer those serving this case
            from civicgrid.cases.services import department_serves

            depts = [d for d in depts if department_serves(d, self.case.street_id)]
        self.fields["department"].choices = [("", "请选择处置部门")] + [(d.pk, d.name) for d in depts]
        if self.prefix == "reassign":
            # 改派 goes elsewhere: the current department is not a choice
            current = self.case.department_id if self.case else None
            self.fields["department"].choices = [
                c for c in self.fields["department"].choices if c[0] != current
            ]
            return
        from civicgrid.cases.services import default_department

        default = (
            default_department(self.case.category, self.case) if self.case and self.case.category_id else None
        )
        if default is not None and any(c[0] == default.pk for c in self.fields["department"].choices):
            self.initial.setdefault("department", default.pk)
            self.fields["department"].help_text = f"已按分类预选默认处置部门「{default.name}」，可更改"


class FinishForm(MoveForm):
    note = forms.CharField(label="处置情况反馈", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    attachments = MultipleImageField(label="处置后照片", required=True)
    args = ("note", "attachments")


class VerifyPassForm(MoveForm):
    note = forms.CharField(
        label="核查意见", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    attachments = MultipleImageField(label="核查照片（可选）", required=False)
    args = ("note", "attachments")


class VerifyFailForm(MoveForm):
    reason = forms.CharField(
        label="不通过原因（返工要求）", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    attachments = MultipleImageField(label="核查照片（可选）", required=False)
    args = ("reason", "attachments")


class RateForm(MoveForm):
    rating = forms.ChoiceField(
        label="回访评价", choices=[(m.value, m.label) for m in Rating], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="回访记录", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    redo = forms.BooleanField(
        label="不满意，退回处置部门重办", required=False, help_text="仅在评价为“不满意”时可选"
    )
    args = ("rating", "note", "redo")

    def clean(self):
        data = super().clean()
        if data.get("redo") and data.get("rating") != Rating.DISSATISFIED:
            self.add_error("redo", "只有评价为“不满意”时才能重办")
        return data


class ExtensionForm(MoveForm):
    amount = forms.IntegerField(label="延期时长", min_value=1, max_value=999)
    unit = forms.ChoiceField(label="单位", choices=DeadlineUnit.choices)
    reason = forms.CharField(label="延期理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    args = ("amount", "unit", "reason")

    def setup(self):
        unit = getattr(self.case, "limit_unit", "") if self.case else ""
        if unit:
            # the service only accepts the stage's own unit: offer just that one
            self.fields["unit"].choices = [(unit, DeadlineUnit(unit).label)]
            self.initial.setdefault("unit", unit)


class MergeForm(MoveForm):
    target_number = forms.CharField(label="合并到的案件编号", max_length=20)
    note = forms.CharField(
        label="备注", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    args = ("note",)

    def setup(self):
        self.fields["target_number"].widget.attrs["placeholder"] = "如 C2025112300001"

    def clean_target_number(self):
        number = self.cleaned_data["target_number"].strip().upper()
        target = selectors.visible_cases(user=self.user).filter(number=number).first()
        if target is None:
            raise forms.ValidationError("找不到该编号的案件（或您无权查看）")
        self.cleaned_data["target_case"] = target
        return number

    def service_kwargs(self) -> dict:
        kw = super().service_kwargs()
        kw["target_case"] = self.cleaned_data["target_case"]
        return kw


MOVE_FORMS: dict[str, type[MoveForm]] = {
    "accept": AcceptForm,
    "reject": RejectForm,
    "dispatch": DepartmentForm,
    "sign": NoteForm,
    "return": ReturnForm,
    "reassign": DepartmentForm,
    "finish": FinishForm,
    "verify_pass": VerifyPassForm,
    "verify_fail": VerifyFailForm,
    "close": NoteForm,
    "rate": RateForm,
    "request_extension": ExtensionForm,
    "approve_extension": NoteForm,
    "deny_extension": DenyExtensionForm,
    "suspend": SuspendForm,
    "resume": NoteForm,
    "void": VoidForm,
    "merge": MergeForm,
    "supervise": SuperviseForm,
}


def form_for(move: str) -> type[MoveForm]:
    """The action form of ``move``; a move added to the workflow later gets a plain note form."""
    return MOVE_FORMS.get(move, NoteForm)


# service error field → form field (where they differ)
FIELD_ALIASES = {"target_case": "target_number", "photos": "attachments"}


# --- forms generated from a procedure's move table (every procedure but the standard one) -------------------


def _generated_field(name: str, m, bounds) -> forms.Field:
    required = name in m.required
    label = INPUT_FIELDS[name]
    if name in ("note", "reason"):
        return forms.CharField(
            label=label, required=required, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
        )
    if name == "department":
        return forms.TypedChoiceField(label=label, coerce=int, required=required, empty_value=None)
    if name == "amount":
        if bounds is not None:
            unit = DeadlineUnit(bounds.unit).label
            return forms.IntegerField(
                label=f"时限（{unit}）",
                required=True,
                help_text=f"{bounds.minimum}–{bounds.maximum} 个{unit}",
            )
        return forms.IntegerField(label=label, required=required, min_value=1, max_value=10_000)
    if name == "unit":
        choices = [(bounds.unit, DeadlineUnit(bounds.unit).label)] if bounds else DeadlineUnit.choices
        return forms.ChoiceField(label=label, choices=choices, required=required or bool(bounds))
    if name == "rating":
        return forms.ChoiceField(
            label=label,
            choices=[(r.value, r.label) for r in Rating],
            widget=forms.RadioSelect,
            required=required,
        )
    if name == "attachments":
        return MultipleImageField(label=label, required=required)
    if name == "target_case":
        return forms.CharField(label="目标案件编号", max_length=20, required=required)
    raise ValueError(name)


class GeneratedMoveForm(MoveForm):
    """A move form built from the move's declared inputs and detail fields (see :func:`generated_form`)."""

    detail_names: tuple[str, ...] = ()
    move_def = None

    def setup(self):
        if "department" in self.fields:
            depts = list(account_selectors.visible_departments(user=self.user))
            self.fields["department"].choices = [("", "请选择部门")] + [(d.pk, d.name) for d in depts]
        if self.case is not None and self.detail_names:
            from civicgrid.cases import procedures

            record = procedures.for_case(self.case).detail_of(self.case)
            if record is not None:
                for name in self.detail_names:
                    self.initial.setdefault(name, getattr(record, name))

    def clean_target_case(self):
        number = (self.cleaned_data.get("target_case") or "").strip().upper()
        if not number:
            return None
        target = selectors.visible_cases(user=self.user).filter(number=number).first()
        if target is None:
            raise forms.ValidationError("找不到该编号的案件（或您无权查看）")
        return target

    def service_kwargs(self) -> dict:
        kw = super().service_kwargs()
        detail = {n: self.cleaned_data.get(n) for n in self.detail_names if n in self.cleaned_data}
        if detail:
            kw["detail"] = detail
        return kw


_GENERATED: dict[tuple[str, str], type[MoveForm]] = {}


def generated_form(proc, m) -> type[MoveForm]:
    """The form of move ``m`` of procedure ``proc``, built once from the table: its inputs
    (:data:`civicgrid.cases.procedures.INPUT_FIELDS`) and the detail-model fields it requires."""
    key = (proc.code, m.name)
    cls = _GENERATED.get(key)
    if cls is not None and cls.move_def is m:
        return cls
    bounds = proc.chosen_at(m.name)
    names = list(proc.inputs(m))
    attrs: dict = {n: _generated_field(n, m, bounds) for n in names}
    for name in m.detail_fields:
        f = proc.detail_model._meta.get_field(name).formfield()
        f.required = True
        attrs[name] = f
    attrs.update(args=tuple(names), detail_names=tuple(m.detail_fields), move_def=m)
    cls = type(f"{proc.code.title()}{m.name.title().replace('_', '')}Form", (GeneratedMoveForm,), attrs)
    _GENERATED[key] = cls
    return cls


def move_form(case, m) -> type[MoveForm]:
    """The action form of move ``m`` on ``case``: the standard procedure's own classes, else generated."""
    from civicgrid.cases import procedures

    proc = procedures.for_case(case)
    if proc.handlers_own_rules:
        return form_for(m.name)
    return generated_form(proc, m)
