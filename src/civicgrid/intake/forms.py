from __future__ import annotations

from django import forms

from civicgrid.intake.models import ImportSource


class UploadForm(forms.Form):
    source = forms.ChoiceField(label="来源", choices=ImportSource.choices, initial=ImportSource.HOTLINE_12345)
    file = forms.FileField(
        label="导出文件",
        help_text="12345 系统导出的 Excel（.xlsx 或旧版 .xls）或 CSV（UTF-8 / GBK 均可）；表头上方的标题行会自动跳过",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv,.txt", "class": "form-control"}),
    )


class MappingForm(forms.Form):
    """One select per target field (choices: the file's headers), plus an optional name to save the mapping."""

    save_as = forms.CharField(label="保存为方案", max_length=100, required=False)

    def __init__(self, *args, fields, headers, initial_mapping=None, **kw):
        super().__init__(*args, **kw)
        self.target_fields = fields
        choices = [("", "— 不导入 —")] + [(h, h) for h in headers if h]
        initial_mapping = initial_mapping or {}
        for f in fields:
            self.fields[f"map_{f.name}"] = forms.ChoiceField(
                label=f.label + (" *" if f.required else ""),
                choices=choices,
                required=False,
                initial=initial_mapping.get(f.name, ""),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        self.fields["save_as"].widget.attrs.update(
            {"class": "form-control form-control-sm", "placeholder": "如：区12345平台导出"}
        )

    def mapping(self) -> dict[str, str]:
        return {f.name: self.cleaned_data.get(f"map_{f.name}") or "" for f in self.target_fields}

    def rows(self):
        for f in self.target_fields:
            yield f, self[f"map_{f.name}"]


class PlaceForm(forms.Form):
    lng = forms.FloatField(min_value=-180, max_value=180)
    lat = forms.FloatField(min_value=-90, max_value=90)
