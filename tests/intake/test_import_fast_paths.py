"""The import's shortcuts give the answers of the general paths they short-cut."""

from __future__ import annotations

import re

import pytest
from django.db import connection

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


def _scans(plan: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the ledger lookup of one statement is PostgreSQL's (SQLite reads the two tables with the ORM)",
)
def test_the_ledger_lookup_probes_the_index_for_each_ref_before_any_analyze(world, dispatcher):
    """A new database's first big import: the ledger and the case table have grown since they were last analysed.
    Each batch must still look its refs up through the (source, source_ref) index, not read every row of the
    source and filter them (which made each batch cost more as the table grew)."""
    from civicgrid.cases import services as case_services
    from civicgrid.cases.models import Case, Category
    from civicgrid.intake.hotline import SOURCE, _by_ref_sql, _ledger_and_cases_by_ref

    seed = case_services.create_case(
        actor=dispatcher,
        source=SOURCE,
        description="市民反映垃圾",
        category=Category.objects.get(name="暴露垃圾", level="minor"),
        address="示范路1号",
        source_ref="GD-SEED",
    )
    # both tables grow by a few thousand rows of this source, with no ANALYZE after (as during an import)
    columns = [f.column for f in Case._meta.concrete_fields if not f.primary_key]
    picked = {"number": "'T' || lpad(i::text, 13, '0')", "source_ref": "'GD-OLD' || i"}
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO cases_case ({', '.join(qn(c) for c in columns)}) "
            f"SELECT {', '.join(picked.get(c, qn(c)) for c in columns)} "
            "FROM cases_case, generate_series(1, 4000) AS i WHERE id = %s",
            [seed.pk],
        )
        cur.execute(
            "INSERT INTO intake_importedrecord (source, source_ref, row_hash, imported_at, case_id) "
            "SELECT %s, 'GD-OLD' || i, md5(i::text), now(), %s FROM generate_series(1, 4000) AS i",
            [SOURCE, seed.pk],
        )
    refs = [f"GD{i:06d}" for i in range(1000)] + ["GD-OLD7"]
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + _by_ref_sql(), [refs, SOURCE, refs, SOURCE])
        (plan,) = cur.fetchone()[0]
    scans = [
        n for n in _scans(plan["Plan"]) if n.get("Relation Name") in ("intake_importedrecord", "cases_case")
    ]
    assert {n["Relation Name"] for n in scans} == {"intake_importedrecord", "cases_case"}
    for node in scans:
        assert node["Node Type"] in ("Index Scan", "Index Only Scan"), node
        assert re.search(r"source_ref\)::text = \(r(_\d+)?\.ref\)", node["Index Cond"]), node
        assert "source_ref" not in node.get("Filter", ""), node
    ledger, cases = _ledger_and_cases_by_ref(refs)
    assert [r[2] for r in ledger] == ["GD-OLD7"]
    assert [r[1] for r in cases] == ["GD-OLD7"]
