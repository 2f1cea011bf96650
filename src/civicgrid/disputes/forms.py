"""The 登记 form of the 矛盾纠纷 desk and the small forms of the detail page (调解记录, 当事人)."""

from __future__ import annotations

from django import forms

from civicgrid.cases.forms import BootstrapMixin
from civicgrid.core import clock
from civicgrid.disputes import selectors
from civicgrid.disputes.models import DisputeSource, PartyRole

PARTY_ROWS = (PartyRole.APPLICANT, PartyRole.RESPONDENT, PartyRole.THIRD)


class RegisterForm(BootstrapMixin, forms.Form):
    source = forms.ChoiceField(label="纠纷来源", choices=[("", "请选择")] + DisputeSource.choices)
    police_station = forms.CharField(label="移交派出所", max_length=60, required=False)
    police_ref = forms.CharField(label="警情号", max_length=40, required=False)
    court_name = forms.CharField(label="委派法院", max_length=60, required=False)
    linked_number = forms.CharField(label="关联工单编号", max_length=20, required=False,
                                    help_text="12345/网格工单的编号")  # fmt: skip
    dispute_type = forms.TypedChoiceField(label="纠纷类型", coerce=int, empty_value=None)
    org = forms.TypedChoiceField(label="调解组织", coerce=int, empty_value=None)
    grid = forms.TypedChoiceField(label="发生网格", coerce=int, empty_value=None)
    address = forms.CharField(label="发生地点", max_length=200, required=False)
    amount = forms.CharField(label="涉及金额（元）", max_length=20, required=False)
    description = forms.CharField(
        label="纠纷简要情况", max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.types = {t.pk: t for t in selectors.types()}
        self.orgs = {o.pk: o for o in selectors.orgs_for(user=user)}
        self.grids = {g.pk: g for g in selectors.grids_for(user=user)[:2000]}
        self.fields["dispute_type"].choices = [("", "请选择")] + [(k, t.name) for k, t in self.types.items()]
        self.fields["org"].choices = [("", "请选择")] + [(k, o.name) for k, o in self.orgs.items()]
        self.fields["grid"].choices = [("", "请选择")] + [
            (k, f"{g.community.name} · {g.name}") for k, g in self.grids.items()
        ]
        for i, role in enumerate(PARTY_ROWS):
            self.fields[f"party{i}_name"] = forms.CharField(
                label=f"{role.label}姓名", max_length=60, required=role == PartyRole.APPLICANT
            )
            self.fields[f"party{i}_phone"] = forms.CharField(label="联系电话", max_length=30, required=False)
        self._style()

    def party_rows(self):
        return [
            (role.label, self[f"party{i}_name"], self[f"party{i}_phone"]) for i, role in enumerate(PARTY_ROWS)
        ]

    def parties(self):
        from civicgrid.disputes.services import PartyIn

        d = self.cleaned_data
        return [
            PartyIn(role, d.get(f"party{i}_name") or "", d.get(f"party{i}_phone") or "")
            for i, role in enumerate(PARTY_ROWS)
        ]


class SessionForm(BootstrapMixin, forms.Form):
    held_on = forms.DateField(
        label="调解日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    mediators = forms.CharField(label="调解员", max_length=100)
    notes = forms.CharField(label="调解情况", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"held_on": clock.local_now().date()})
        super().__init__(*args, **kwargs)
        self._style()


class PartyForm(BootstrapMixin, forms.Form):
    role = forms.ChoiceField(label="身份", choices=PartyRole.choices)
    name = forms.CharField(label="姓名/名称", max_length=60)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    address = forms.CharField(label="住址", max_length=150, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
