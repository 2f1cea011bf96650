"""The import's shortcuts give the answers of the general paths they short-cut."""

from __future__ import annotations

import pytest

from civicgrid.core.clock import SHANGHAI
from civicgrid.intake.importing import CellError, parse_datetime

ISO_SHAPED = [
    "2021-01-01 08:00:00",
    "2024-02-29 23:59:59",
    "1999-12-31 00:00:01",
    "２０２１-01-01 08:00:00",  # full-width digits: the general path
    "2023-02-29 10:00:00",  # no such day
    "2021-13-01 00:00:00",
    "2021-01-01 24:00:00",
    "2021-01-01 12:60:00",
]


@pytest.mark.parametrize("text", ISO_SHAPED)
@pytest.mark.parametrize("end_of_day", [False, True])
def test_the_iso_fast_path_answers_as_the_general_parser(text, end_of_day):
    def outcome(value):
        try:
            return parse_datetime(value, label="来电时间", end_of_day=end_of_day)
        except CellError as exc:
            return str(exc)

    fast = outcome(text)
    general = outcome(f" {text} ")  # not the 19-character shape: the regex path (after strip)
    assert fast == general and repr(fast) == repr(general)  # repr feeds the row hash
    if not isinstance(fast, str):
        assert fast.tzinfo is SHANGHAI


@pytest.mark.django_db
def test_the_address_lru_answers_as_the_index_and_stays_bounded(world, monkeypatch):
    from civicgrid.intake import hotline

    monkeypatch.setattr(hotline, "ADDRESS_CACHE_SIZE", 2)
    resolver = hotline.AddressResolver()
    texts = ["示范路1号", "示范路2号", "示范路 1 号", "幸福大道888号城中村", "示范路2号", "示范小区1幢"]
    expected = {t: hotline.AddressResolver()._place(t) for t in texts}
    assert expected["示范路1号"][0] == world["g1"].pk and expected["幸福大道888号城中村"] is None
    for t in texts * 2:
        assert resolver.resolve(t) == expected[t], t
        assert len(resolver._memo) <= 2


@pytest.mark.django_db
def test_a_case_of_another_source_with_the_same_ref_is_not_adopted(world, dispatcher, tmp_path):
    from civicgrid.cases import services as case_services
    from civicgrid.cases.models import Case, Category
    from tests.intake.conftest import row, write_csv
    from tests.intake.test_hotline_import import run_file

    other = case_services.create_case(
        actor=dispatcher,
        source="dispatcher",
        description="指挥中心受理",
        category=Category.objects.get(name="暴露垃圾", level="minor"),
        address="示范路1号",
        source_ref="GD950",
    )
    job = run_file(dispatcher, write_csv(tmp_path / "s.csv", [row("GD950")]))
    assert (job.created_count, job.updated_count) == (1, 0)
    assert Case.objects.filter(source_ref="GD950").count() == 2
    other.refresh_from_db()
    assert other.description == "指挥中心受理"
