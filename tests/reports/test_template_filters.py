"""Staff's own template asks for the report's number style with filters ({{ cases.received | 约数 }},
{{ x | 亿元 }}, {{ a | pct(b) }} …): uploaded through the service, drafted from the June 2026 story, the document
says exactly what :mod:`civicgrid.core.zhnum` makes of the metrics module's numbers; a missing figure or text
prints 【无数据】; an unknown filter or a bad argument is refused on upload, naming it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from civicgrid.core import zhnum
from civicgrid.core.errors import ValidationFailed
from civicgrid.metrics import selectors as metric_selectors
from civicgrid.reports import services
from civicgrid.reports.filters import MISSING

pytestmark = pytest.mark.django_db

JUNE = (date(2026, 6, 1), date(2026, 6, 30))

LINES = [
    "A受理{{ cases.received | 约数 }}件，办结率{{ cases.done | pct(cases.received) }}，满意率"
    "{{ cases.satisfaction_rate | 百分比 }}，{{ cases.received | 同比(2) }}，{{ cases.received | 升降(9) }}，{{ cases.done | pct(3) }}。",
    "B{{ 20345 | 约数 }}户、{{ 16234 | approx(digits=2, unit=’万’) }}、{{ 423 | 约数(‘多’) }}家、{{ 97 | 约数('近') }}。",
    "C{{ 2212000000 | 亿元 }}、{{ 3164104 | 万元 }}、{{ 3164104 | amount }}、{{ 3164104 | 元 }}。",
    "D{{ start | 统计期(end) }}、{{ start | period(end, true) }}、{{ cases.done | 数值 }}、{{ 0 | 为零('零进京') }}。",
    "E{{ cases.received | yoy }}、{{ ledgers.petitions.registered | 约数 }}、{{ street | 亿元 }}、{{ none | pct }}。",
]


def docx_of(*lines: str) -> bytes:
    doc = Document()
    for line in lines:
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def test_a_staff_template_with_every_filter_says_the_metrics_numbers_in_report_style(june):
    street = june.community.street
    tpl = services.upload_template(actor=june.leader, street=street, name="过滤器", content=docx_of(*LINES))
    version = services.draft(actor=june.leader, street=street, start=JUNE[0], end=JUNE[1], tpl=tpl,
                             rounding="truncate")  # fmt: skip
    ref = metric_selectors.stats(user=june.leader, start=JUNE[0], end=JUNE[1], street_code=street.code)[
        "totals"
    ]
    received, done = ref["received"], ref["done"]
    satisfaction = version.snapshot["values"]["cases.satisfaction_rate"]["text"]
    a, b, c, d, e = paragraphs(bytes(version.docx))
    assert a == (
        f"A受理{zhnum.approx(received)}件，办结率{zhnum.rate(done, received, rounding=zhnum.TRUNCATE)}，满意率"
        f"{satisfaction}，{zhnum.yoy(received, 2, rounding=zhnum.TRUNCATE)}，{zhnum.trend(received, 9)}，{zhnum.rate(done, 3, rounding=zhnum.TRUNCATE)}。"
    )
    # the story's 6 cases, 2 done; the report truncates: 2/3 → 66.6%
    assert a == "A受理6件，办结率33.3%，满意率50.0%，同比增长200.0%，降，66.6%。"
    assert b == "B20000余户、1.6万余、400多家、近百。"  # Word's curly quotes work as well
    assert c == "C22.12亿元、316.41万元、316.41万元、3164104元。"
    assert d == f"D6月、2026年6月、{done}、零进京。"
    # no 同比 in the platform's first year, no 信访 ledger, text, None: a visible marker, not a crash
    assert e == f"E{MISSING}、{MISSING}、{MISSING}、{MISSING}。"
    assert services.rerender(version) == bytes(version.docx)


def test_the_money_filters_read_the_projects_figures_in_yuan():
    from dataclasses import asdict

    from civicgrid.reports.figures import Value
    from civicgrid.reports.filters import Figure, environment

    plan = Figure("22.12亿元", key="projects.plan", value="221200.00")  # the 目标考核 module keeps 万元
    out = environment().from_string("{{ p | 亿元 }}|{{ p | 万元 }}|{{ p | 数值 }}").render(p=plan)
    assert out == "22.12亿元|221200.00万元|2212000000"
    # a figures.Value (or its snapshot dict) works as well as the context's figures and plain numbers
    value = Value("cases.received", "受理数", 20345, "20345件", "", "", "")
    out = environment().from_string(
        "{{ v | 约数 }}|{{ d | 约数('多') }}|{{ 423 | approx('多') }}|{{ '1,500' | 金额 }}"
    )
    assert out.render(v=value, d=asdict(value)) == "20000余|20000多|400多|1500元"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{{ cases.received | 约 }}", "没有名为“约”的过滤器"),
        ("{{ cases.received | 约数('少') }}", "过滤器“约数”的参数有误：写法应为 余、多、近 或 exact"),
        ("{{ cases.received | pct(decimals=9) }}", "过滤器“百分比”的参数有误：小数位数应为 0–4 的整数"),
        ("{{ cases.received | 为零 }}", "过滤器“为零”的参数有误"),
    ],
)
def test_an_unknown_filter_or_a_bad_argument_is_refused_on_upload_naming_it(june, line, message):
    with pytest.raises(ValidationFailed, match=message) as e:
        services.upload_template(
            actor=june.leader, street=june.community.street, name="坏", content=docx_of(line)
        )
    assert e.value.field == "file"


def test_the_templates_page_shows_the_filter_error_not_a_server_error(client, june):
    client.force_login(june.leader)
    upload = io.BytesIO(docx_of("{{ cases.received | 约 }}"))
    upload.name = "坏.docx"
    page = client.post("/reports/templates/", {"name": "坏", "file": upload, "street": june.community.street.pk},
                       follow=True)  # fmt: skip
    assert page.status_code == 200 and "没有名为“约”的过滤器" in page.content.decode()


SPELLING = [
    "{{ cases.recieved }}件，{{ cases.received }}件，{{ streeet }}，{{ street }}，{{ ledgers.nosuch.count }}。",
    "{% for r in indicators %}{{ r.name }}{% endfor %}{{ charts.monthly }}{{ sec.cases }}{{ 12 | 约数 }}。",
    "{% for n in range(2) %}{{ loop.index }}{% endfor %}{{ cases.received.value }}{{ cases.received.valeu }}"
    "{{ manual.plans }}",
]


def test_a_misspelt_placeholder_is_told_on_upload_and_the_template_kept(client, june):
    """A placeholder the figures do not hold would print nothing: the uploader is told which (the template is
    kept — a chapter may be written before its module has data)."""
    street = june.community.street
    tpl = services.upload_template(actor=june.leader, street=street, name="拼写", content=docx_of(*SPELLING))
    assert tpl.is_active
    # (a figure's number, ``.value``, is there; a figure has no ``.valeu``)
    assert tpl.unknown_placeholders == [
        "cases.received.valeu",
        "cases.recieved",
        "ledgers.nosuch.count",
        "streeet",
    ]

    client.force_login(june.leader)
    upload = io.BytesIO(docx_of(*SPELLING))
    upload.name = "拼写.docx"
    page = client.post(
        "/reports/templates/", {"name": "拼写二", "file": upload, "street": street.pk}, follow=True
    )
    text = page.content.decode()
    assert page.status_code == 200 and "模板已上传" in text
    assert "没有对应的数字" in text and "cases.recieved" in text and "streeet" in text
    assert "charts.monthly" not in text and "indicators" not in text

    good = services.upload_template(actor=june.leader, street=street, name="正确", content=docx_of(LINES[0]))
    assert good.unknown_placeholders == []
