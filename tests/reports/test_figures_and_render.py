"""A work report drafted from the June 2026 story: every figure is the metrics module's, with its formula; the
document says what the figures say (and leaves out what no module has); the same version renders to the same
bytes; staff's templates are checked on upload; the people who may not draft cannot."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
from docx import Document

from civicgrid.core import zhnum
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.metrics import registry
from civicgrid.metrics import selectors as metric_selectors
from civicgrid.reports import figures, render, services, template
from civicgrid.reports.models import ReportVersion

pytestmark = pytest.mark.django_db

JUNE = (date(2026, 6, 1), date(2026, 6, 30))


def text_of(docx: bytes) -> str:
    doc = Document(io.BytesIO(docx))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def test_every_case_figure_is_the_metrics_modules_value_with_its_formula(june):
    street = june.community.street
    got = figures.collect(user=june.leader, street=street, start=JUNE[0], end=JUNE[1])
    reference = metric_selectors.stats(user=june.leader, start=JUNE[0], end=JUNE[1], street_code=street.code)
    for m in registry.all_metrics():
        v = got.values[f"cases.{m.name}"]
        assert v["value"] == reference["totals"][m.name], m.name
        assert m.formula in v["formula"] and v["period"] == "2026-06-01 至 2026-06-30"
        assert v["source"] == f"metrics.registry:{m.name}"
    assert got.values["cases.received"]["text"] == "6件"
    # 满意率 (满意 + 基本满意) / 已评价: c1 满意, c8 不满意 → 50.0%
    assert got.values["cases.satisfaction_rate"]["text"] == "50.0%"
    # 响应率 2/3 = 66.66…: rounded 66.7%, truncated 66.6%
    assert got.values["cases.response_rate"]["text"] == "66.7%"
    truncated = figures.collect(
        user=june.leader, street=street, start=JUNE[0], end=JUNE[1], rounding="truncate"
    )
    assert truncated.values["cases.response_rate"]["text"] == "66.6%"
    assert got.period == "6月" and got.sections[0] == "cases"
    assert [r["month"] for r in got.tables["monthly"]] == ["6月"]


def test_an_empty_period_leaves_the_case_section_out_and_rates_say_nothing(june):
    street = june.community.street
    got = figures.collect(user=june.leader, street=street, start=date(2025, 1, 1), end=date(2025, 3, 31))
    assert "cases" not in got.sections and "monthly" not in got.tables
    assert got.values["cases.on_time_rate"]["text"] == "—"  # 0 ÷ 0: no rate, never "0.0%"
    assert "cases.received_yoy" not in got.values  # last year had nothing: no growth phrase
    docx = render.render_docx(template.build_default(), got.as_json(), {})
    body = text_of(docx)
    assert "指挥中心共受理" not in body  # the section is left out, not filled with zeros
    assert "【待填写：下步工作计划】" in body and "附：数据来源说明" in body


def test_the_document_says_exactly_the_snapshots_figures(june):
    street = june.community.street
    version = services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1],
                             manual={"plans": "一是深化网格治理。", "problems": "部分老旧小区停车难。"})  # fmt: skip
    body = text_of(bytes(version.docx))
    v = version.snapshot["values"]
    assert (
        f"{street.name}2026年6月工作总结" in body
        and version.report.title == f"{street.name}2026年6月工作总结"
    )
    sentence = re.search(
        r"指挥中心共受理各类工单(\S+?)，其中网格主动发现上报(\S+?)，主动发现率(\S+?)；办结(\S+?)，", body
    )
    assert sentence, body
    assert sentence.groups() == (
        v["cases.received"]["text"], v["cases.received_grid"]["text"], v["cases.proactive_rate"]["text"],
        v["cases.done"]["text"],
    )  # fmt: skip
    # each of those equals the metrics module's number for the same period
    ref = metric_selectors.stats(user=june.leader, start=JUNE[0], end=JUNE[1])["totals"]
    assert sentence.group(1) == f"{ref['received']}件" and sentence.group(4) == f"{ref['done']}件"
    assert sentence.group(3) == zhnum.rate(ref["received_grid"], ref["received"])
    assert "一是深化网格治理。" in body and "部分老旧小区停车难。" in body
    assert "群众满意率为50.0%，服务质量仍有提升空间。" in body  # 存在问题 drawn from the figures
    # the appendix lists every figure with its formula
    for item in v.values():
        assert item["formula"] in body
    assert b"word/media/" in zipfile.ZipFile(io.BytesIO(bytes(version.docx))).read(
        "[Content_Types].xml"
    ) or any(
        n.startswith("word/media/") for n in zipfile.ZipFile(io.BytesIO(bytes(version.docx))).namelist()
    )  # the monthly chart


def test_a_version_renders_again_to_the_same_bytes_and_new_versions_keep_the_old(june):
    street = june.community.street
    first = services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1])
    assert services.rerender(first) == bytes(first.docx)
    second = services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1], report=first.report,
                            manual={"lead": "今年以来，街道……"})  # fmt: skip
    assert (first.report_id, second.number) == (second.report_id, 2)
    assert ReportVersion.objects.filter(report=first.report).count() == 2
    assert services.rerender(ReportVersion.objects.get(pk=first.pk)) == bytes(first.docx)
    assert "今年以来，街道……" in text_of(bytes(second.docx))


def test_bad_input_names_its_field(june):
    street = june.community.street
    with pytest.raises(ValidationFailed) as e:
        services.draft(actor=june.leader, street=street, start=JUNE[1], end=JUNE[0])
    assert e.value.field == "end"
    with pytest.raises(ValidationFailed) as e:
        services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1], rounding="banker")
    assert e.value.field == "rounding"
    with pytest.raises(ValidationFailed) as e:
        services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1], manual={"gdp": "1"})
    assert e.value.field == "manual.gdp"
    assert not ReportVersion.objects.exists()


@pytest.mark.parametrize("role", ["handler", "grid_worker", "community_staff", "auditor"])
def test_only_street_wide_roles_draft(june, role):
    with pytest.raises(PermissionDenied):
        services.draft(actor=getattr(june, role), street=june.community.street, start=JUNE[0], end=JUNE[1])


def test_an_uploaded_template_is_checked_by_rendering_it(june):
    street = june.community.street
    with pytest.raises(ValidationFailed) as e:
        services.upload_template(actor=june.leader, street=street, name="坏模板", content=b"not a docx")
    assert e.value.field == "file"
    broken = Document()
    broken.add_paragraph("{{ cases.received ")  # an unclosed placeholder
    buf = io.BytesIO()
    broken.save(buf)
    with pytest.raises(ValidationFailed, match="占位符"):
        services.upload_template(actor=june.leader, street=street, name="坏模板", content=buf.getvalue())
    mine = Document()
    mine.add_paragraph("{{ street }}{{ period }}共受理工单{{ cases.received }}。")
    buf = io.BytesIO()
    mine.save(buf)
    tpl = services.upload_template(actor=june.leader, street=street, name="简版", content=buf.getvalue())
    again = services.upload_template(actor=june.leader, street=street, name="简版", content=buf.getvalue())
    tpl.refresh_from_db()
    assert not tpl.is_active and again.is_active
    version = services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1], tpl=again)
    assert text_of(bytes(version.docx)).strip() == f"{street.name}6月共受理工单6件。"


def test_year_over_year_only_when_last_years_period_is_on_record(june):
    from civicgrid.metrics import services as metric_services

    street = june.community.street
    got = figures.collect(user=june.leader, street=street, start=JUNE[0], end=JUNE[1])
    assert "cases.received_yoy" not in got.values  # the platform's records start in May 2026
    june.report_at((2025, 5, 20, 9, 0))  # records now reach back before June 2025 …
    june.report_at((2025, 6, 3, 9, 0))  # … and last June had two cases
    june.report_at((2025, 6, 4, 9, 0))
    metric_services.refresh()
    got = figures.collect(user=june.leader, street=street, start=JUNE[0], end=JUNE[1])
    assert got.values["cases.received_yoy"]["text"] == "同比增长200.0%"  # 6 against 2
    assert "2025-06-01 至 2025-06-30 为 2" in got.values["cases.received_yoy"]["formula"]


def test_the_document_does_not_depend_on_the_order_the_database_returns_keys_in(june):
    """PostgreSQL's jsonb returns a dict's keys sorted its own way: the figures keep their report order anyway."""
    version = services.draft(actor=june.leader, street=june.community.street, start=JUNE[0], end=JUNE[1])
    snap = version.snapshot
    shuffled = {**snap, "values": dict(reversed(list(snap["values"].items())))}
    assert render.render_docx(template.build_default(), shuffled, {}) == bytes(version.docx)
    assert [v["key"] for v in figures.ordered_values(shuffled)][:2] == ["cases.received", "cases.accepted"]


def test_the_source_and_category_charts_come_from_the_metrics_groups_and_render_again_identically(june):
    street = june.community.street
    version = services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1])
    snap = version.snapshot
    for table, by in (("sources", "source"), ("categories", "category")):
        groups = metric_selectors.stats(user=june.leader, start=JUNE[0], end=JUNE[1], street_code=street.code,
                                        by=by)["groups"]  # fmt: skip
        expected = [(g["label"], g["received"]) for g in groups if g["received"]][:10]
        assert [(r["label"], r["received"]) for r in snap["tables"][table]] == expected, table
        assert sum(n for _, n in expected) <= snap["values"]["cases.received"]["value"]
        # each group is a figure of the appendix, with its formula
        figs = [v for v in figures.ordered_values(snap) if v["source"] == f"metrics.stats:by={by}"]
        assert [(v["text"], v["value"]) for v in figs] == [(f"{n}件", n) for _, n in expected]
    assert sum(r["received"] for r in snap["tables"]["sources"]) == snap["values"]["cases.received"]["value"]
    first = snap["tables"]["sources"][0]
    assert first["share"] == zhnum.rate(first["received"], snap["values"]["cases.received"]["value"])
    doc = Document(io.BytesIO(bytes(version.docx)))
    assert len(doc.inline_shapes) == 3  # 各月受理/办结, 来源构成, 问题类别前十
    body = text_of(bytes(version.docx))
    assert "图2  6月受理工单来源构成" in body and "图3  6月受理量前十的问题类别" in body
    assert services.rerender(version) == bytes(version.docx)
    pngs = [
        render.sources_chart(snap["tables"]["sources"]),
        render.categories_chart(snap["tables"]["categories"]),
    ]
    assert all(p.startswith(b"\x89PNG") for p in pngs)
    assert pngs == [render.sources_chart(snap["tables"]["sources"]),
                    render.categories_chart(snap["tables"]["categories"])]  # fmt: skip


def test_a_period_without_cases_draws_no_charts(june):
    version = services.draft(actor=june.leader, street=june.community.street, start=date(2025, 1, 1),
                             end=date(2025, 3, 31))  # fmt: skip
    assert not {"monthly", "sources", "categories"} & set(version.snapshot["tables"])
    assert len(Document(io.BytesIO(bytes(version.docx))).inline_shapes) == 0
    assert "来源构成" not in text_of(bytes(version.docx))
    assert (
        render.sources_chart([]) is None and render.categories_chart([{"label": "x", "received": 0}]) is None
    )
