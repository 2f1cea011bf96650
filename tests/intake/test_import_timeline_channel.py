"""Timeline entries written by the 12345 import read "12345 导入" (who ran it beside), on the page and the API."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Case
from tests.intake.conftest import row, write_csv
from tests.intake.test_hotline_import import run_file

pytestmark = pytest.mark.django_db


def test_imported_open_and_closed_rows_are_labelled_by_the_import(world, dispatcher, client, tmp_path):
    rows = [row("GD801", 办结时间="", 回访满意度="", 办理结果=""), row("GD802")]
    run_file(dispatcher, write_csv(tmp_path / "c.csv", rows))
    client.force_login(dispatcher)
    for ref, moves in (("GD801", ["create", "accept", "dispatch"]), ("GD802", ["import"])):
        case = Case.objects.get(source_ref=ref)
        html = client.get(f"/cases/{case.pk}/").content.decode()
        assert html.count('<strong data-testid="event-actor">12345 导入</strong>') == len(moves), ref
        assert f"{dispatcher.display_name} 发起" in html
        timeline = client.get(f"/api/v1/cases/{case.pk}").json()["timeline"]
        assert [e["move"] for e in timeline] == moves
        assert {(e["channel"], e["actor_label"]) for e in timeline} == {("import", "12345 导入")}
