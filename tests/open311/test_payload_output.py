"""A script payload sent to Open311 comes back from GET as data (JSON/XML, never HTML), exactly as sent."""

from __future__ import annotations

from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case

IMG = '<img src=x onerror="window.__xss=1">'
SVG = '"><svg onload=window.__xss=1>'


def test_payloads_come_back_as_escaped_data(o311, place, submit):
    srid = submit(description=f"开放接口描述{IMG}", address_string=f"开放接口地址{SVG}")["service_request_id"]
    case = Case.objects.get(description__startswith="开放接口描述")
    case_services.perform(actor=place.dispatcher, case=case, move="accept", version=case.version)

    response = o311.get(f"requests/{srid}.json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    item = o311.json(response)[0]
    assert item["description"].startswith(f"开放接口描述{IMG}")
    assert item["address"] == f"开放接口地址{SVG}"

    response = o311.get(f"requests/{srid}.xml")
    assert b"<img" not in response.content and b"<svg" not in response.content
    request = o311.xml(response).find("request")
    assert request.findtext("description").startswith(f"开放接口描述{IMG}")
    assert request.findtext("address") == f"开放接口地址{SVG}"
