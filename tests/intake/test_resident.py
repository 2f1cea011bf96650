"""居民随手拍 (/s/): public report, photos (real decoding, EXIF GPS read then stripped), abuse limits, tracking."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from civicgrid.accounts.roles import Role
from civicgrid.cases import services
from civicgrid.cases.categories import load_categories
from civicgrid.cases.models import Attachment, Case, CaseState, Category
from civicgrid.core import clock, geoindex
from civicgrid.intake import abuse, resident
from tests.factories import (
    ORIGIN_LAT,
    ORIGIN_LNG,
    STEP,
    DepartmentFactory,
    GridFactory,
    StreetFactory,
    UserFactory,
)
from tests.intake.imaging import exif_with_gps, fake_jpeg_upload, gps_jpeg_upload, jpeg_bytes, jpeg_upload

pytestmark = pytest.mark.django_db

INSIDE = (ORIGIN_LNG + STEP / 2, ORIGIN_LAT + STEP / 2)  # centre of grid 1
INSIDE_2 = (ORIGIN_LNG + 1.5 * STEP, ORIGIN_LAT + STEP / 2)  # centre of grid 2
OUTSIDE = (ORIGIN_LNG + 0.3, ORIGIN_LAT + 0.3)


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def street(db):
    load_categories()
    st = StreetFactory()
    g1 = GridFactory(col=0, row=0, name="翠苑第一网格")
    g2 = GridFactory(col=1, row=0, name="翠苑第二网格", community=g1.community)
    geoindex.invalidate()
    return {"street": st, "g1": g1, "g2": g2}


def post(client, *, ip="203.0.113.7", json=False, **fields):
    """A resident's phone: it opened the form first (and so holds a device cookie), then submits."""
    if abuse.DEVICE_COOKIE not in client.cookies:
        client.get("/s/", REMOTE_ADDR=ip)
    data = {"kind": "garbage", "description": "小区东门外垃圾堆了三天没人清理"}
    data.update({k: v for k, v in fields.items() if v is not None})
    extra = {"REMOTE_ADDR": ip}
    if json:
        extra["HTTP_ACCEPT"] = "application/json"
    return client.post("/s/", data, **extra)


def at(point):
    return {"lng": f"{point[0]:.6f}", "lat": f"{point[1]:.6f}"}


def code_from(resp) -> str:
    m = re.match(r"^/s/t/([0-9A-Z]{10})/\?new=1$", resp["Location"])
    assert m, resp["Location"]
    return m.group(1)


# --- the page and the public outlines ---------------------------------------------------------------


def test_form_is_public_and_speaks_plain_words(client, street):
    resp = client.get("/s/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for label in (
        "垃圾堆放",
        "占道经营",
        "井盖破损",
        "路灯不亮",
        "噪声扰民",
        "违章搭建",
        "消防隐患",
        "邻里纠纷",
        "其他问题",
    ):
        assert label in html
    assert 'name="csrfmiddlewaretoken"' in html and "resident.js" in html
    assert "示范街道" in html
    assert "cdn" not in html.lower()


def test_every_plain_choice_resolves_to_an_enabled_category(street):
    for kind in resident.RESIDENT_KINDS:
        cat = resident.resolve_category(kind)
        assert cat is not None, kind.key
        assert cat.level == "minor" and cat.is_enabled and cat.code in kind.codes


def test_grid_outlines_are_public_and_carry_no_names(client, street):
    worker = UserFactory(role=Role.GRID_WORKER, grids=[street["g1"]], full_name="王网格")
    resp = client.get("/s/grids.json")
    assert resp.status_code == 200
    data = resp.json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 2
    for f in data["features"]:
        assert set(f["properties"]) == {"kind"} and f["geometry"]["type"] == "Polygon"
    body = resp.content.decode()
    for secret in (
        "翠苑第一网格",
        street["g1"].code,
        worker.full_name,
        worker.username,
        street["g1"].community.name,
    ):
        assert secret not in body


# --- happy paths ------------------------------------------------------------------------------------


def test_report_with_map_point_photo_and_phone(client, street):
    resp = post(client, photos=[jpeg_upload()], phone="138 0013 8000", address="东门外", **at(INSIDE))
    assert resp.status_code == 302
    code = code_from(resp)
    case = Case.objects.get(source="resident", source_ref=code)
    assert all(ch in resident.CODE_ALPHABET for ch in code)
    assert case.state == CaseState.REPORTED
    assert case.category.code == "S06010"
    assert case.grid_id == street["g1"].pk and case.community_id == street["g1"].community_id
    assert case.reporter_phone == "13800138000" and case.address == "东门外"
    assert abs(case.lng - INSIDE[0]) < 1e-6 and abs(case.lat - INSIDE[1]) < 1e-6
    att = Attachment.objects.get(case=case)
    assert att.kind == "before" and att.content_type == "image/jpeg"


def test_json_submission_for_the_page_script(client, street):
    resp = post(client, json=True, **at(INSIDE))
    assert resp.status_code == 201
    body = resp.json()
    assert body["ok"] is True and re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", body["code"])
    assert body["tracking_url"] == f"/s/t/{body['code'].replace('-', '')}/?new=1"
    assert Case.objects.filter(source="resident").count() == 1


def test_address_alone_is_enough_when_no_position(client, street):
    resp = post(client, address="翠苑一区 3 幢东侧路口")
    assert resp.status_code == 302
    case = Case.objects.get()
    assert case.lng is None and case.address == "翠苑一区 3 幢东侧路口"


def test_unresolvable_choice_keeps_the_residents_words(client, street):
    Category.objects.filter(code="S06028").update(is_enabled=False)
    resp = post(client, kind="noise", **at(INSIDE))
    assert resp.status_code == 302
    case = Case.objects.get()
    assert case.category is None and case.description.startswith("【居民所选类型：噪声扰民】")


# --- photos -----------------------------------------------------------------------------------------


def test_exif_gps_is_used_when_the_phone_gives_no_position_and_then_stripped(client, street):
    upload = gps_jpeg_upload(*INSIDE_2, size=(900, 600), orientation=6)
    original = Image.open(io.BytesIO(upload.read()))
    upload.seek(0)
    assert original.getexif().get_ifd(0x8825)  # the test photo really has GPS

    resp = post(client, photos=[upload])
    assert resp.status_code == 302, resp.content.decode()
    case = Case.objects.get()
    assert case.grid_id == street["g2"].pk
    assert abs(case.lng - INSIDE_2[0]) < 1e-5 and abs(case.lat - INSIDE_2[1]) < 1e-5

    att = Attachment.objects.get(case=case)
    with default_storage.open(att.file.name) as fh:
        stored = fh.read()
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG"
    assert len(img.getexif()) == 0
    assert "exif" not in img.info
    assert b"Exif\x00\x00" not in stored and b"TestPhone" not in stored
    assert img.size == (600, 900)  # turned upright before the orientation tag was dropped


def test_exif_segment_sent_beside_a_resized_photo_places_the_report(client, street):
    exif = exif_with_gps(*INSIDE)
    resized = SimpleUploadedFile(
        "small.jpg", jpeg_bytes(), content_type="image/jpeg"
    )  # canvas output: no EXIF
    blob = SimpleUploadedFile(
        "exif.bin", b"Exif\x00\x00" + exif.tobytes(), content_type="application/octet-stream"
    )
    resp = post(client, photos=[resized], exif=blob)
    assert resp.status_code == 302
    case = Case.objects.get()
    assert case.grid_id == street["g1"].pk and abs(case.lat - INSIDE[1]) < 1e-5


def test_photo_gps_outside_the_street_does_not_place_the_report(client, street):
    resp = post(client, json=True, photos=[gps_jpeg_upload(*OUTSIDE)])
    assert resp.status_code == 422
    assert resp.json()["errors"]["location"].startswith("位置：")
    assert not Case.objects.exists()


def test_big_photos_are_resized_to_1600(client, street):
    resp = post(client, photos=[jpeg_upload(size=(4000, 3000))], **at(INSIDE))
    assert resp.status_code == 302
    att = Attachment.objects.get()
    assert max(att.width, att.height) == 1600


def test_a_text_file_named_jpg_is_refused(client, street):
    resp = post(client, json=True, photos=[jpeg_upload(), fake_jpeg_upload("scan.jpg")], **at(INSIDE))
    assert resp.status_code == 422
    msg = resp.json()["errors"]["photos"]
    assert msg.startswith("照片：第 2 张") and "scan.jpg" in msg and "不是有效的图片" in msg
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_other_image_formats_are_refused(client, street):
    buf = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buf, "BMP")
    resp = post(client, json=True, photos=[SimpleUploadedFile("x.jpg", buf.getvalue())], **at(INSIDE))
    assert resp.status_code == 422 and "照片" in resp.json()["errors"]["photos"]


def test_photo_count_and_size_limits(client, street):
    resp = post(client, json=True, photos=[jpeg_upload(f"p{i}.jpg") for i in range(5)], **at(INSIDE))
    assert resp.status_code == 422
    assert resp.json()["errors"]["photos"] == "照片：最多上传 4 张，您选择了 5 张"

    huge = SimpleUploadedFile("huge.jpg", b"\xff\xd8" + b"0" * (10 * 1024 * 1024), content_type="image/jpeg")
    resp = post(client, json=True, photos=[huge], **at(INSIDE))
    assert resp.status_code == 422 and "超过 10 MB" in resp.json()["errors"]["photos"]
    assert not Case.objects.exists()


# --- field errors -------------------------------------------------------------------------------------


def test_errors_name_the_field_in_chinese(client, street):
    resp = client.post(
        "/s/",
        {"description": "脏", "phone": "12345"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_ACCEPT="application/json",
    )
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert errors["kind"].startswith("问题类型：")
    assert errors["description"].startswith("问题描述：")
    assert errors["phone"].startswith("联系电话：")
    assert errors["location"].startswith("位置：")


def test_html_form_shows_errors_and_keeps_the_text(client, street):
    resp = post(client, description="这里有人乱摆摊卖水果", kind="vending", **at(OUTSIDE))
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "位置：所选位置不在本街道的网格范围内" in html
    assert "这里有人乱摆摊卖水果" in html and 'value="vending" checked' in html


# --- abuse limits -------------------------------------------------------------------------------------


def other_process():
    """What a request served by another gunicorn worker sees: none of this process's memory."""
    cache.clear()


def test_device_limit_five_per_hour_holds_across_worker_processes(client, street):
    t0 = clock.aware(datetime(2025, 5, 6, 9, 0))
    for i in range(5):
        other_process()
        with clock.frozen(t0 + timedelta(minutes=11 * i)):  # spaced out: no challenge needed
            assert post(client, **at(INSIDE)).status_code == 302
    other_process()
    with clock.frozen(t0 + timedelta(minutes=56)):
        resp = post(client, json=True, **at(INSIDE))
        assert resp.status_code == 429
        assert "同一手机一小时内最多提交 5 次" in resp.json()["errors"]["form"]
        # a neighbour on the same carrier NAT address (another phone) is not affected
        other_process()
        assert post(Client(), **at(INSIDE)).status_code == 302
    with clock.frozen(t0 + timedelta(minutes=61)):  # the first one left the window
        other_process()
        assert post(client, **at(INSIDE)).status_code == 302
    assert Case.objects.count() == 7


def test_ip_limit_is_much_higher_than_the_device_limit(client, street, monkeypatch):
    assert abuse.DEVICE_SUBMISSIONS.count == 5 and abuse.IP_SUBMISSIONS.count == 60
    monkeypatch.setattr(abuse, "IP_SUBMISSIONS", abuse.Limit("ip_submit", 3, abuse.HOUR))
    for _ in range(3):  # three phones behind one address
        other_process()
        assert post(Client(), ip="100.64.0.1", **at(INSIDE)).status_code == 302
    other_process()
    resp = post(Client(), ip="100.64.0.1", json=True, **at(INSIDE))
    assert resp.status_code == 429 and "同一网络一小时内最多提交 3 次" in resp.json()["errors"]["form"]
    # a rejected submission (bad input) does not use up a slot
    assert post(Client(), ip="100.64.0.2", description="短", **at(INSIDE)).status_code == 422
    for _ in range(3):
        assert post(Client(), ip="100.64.0.2", **at(INSIDE)).status_code == 302


def test_a_client_without_the_device_cookie_must_answer_the_question(client, street):
    resp = client.post(
        "/s/",
        {"kind": "garbage", "description": "小区东门外垃圾堆了三天没人清理", **at(INSIDE)},
        REMOTE_ADDR="192.0.2.70",
        HTTP_ACCEPT="application/json",
    )
    assert resp.status_code == 422 and resp.json()["errors"]["challenge"].startswith("验证题")
    assert abuse.DEVICE_COOKIE in resp.cookies  # and is given a device id for next time
    assert Case.objects.count() == 0


def test_a_forged_device_cookie_counts_as_none(client, street):
    client.cookies[abuse.DEVICE_COOKIE] = "made-up-id"
    resp = post(client, json=True, **at(INSIDE))
    assert resp.status_code == 422 and "challenge" in resp.json()["errors"]


def test_spoofed_forwarded_for_does_not_dodge_the_ip_limit(client, street, monkeypatch, settings):
    """Without a configured proxy a client's X-Forwarded-For is not believed."""
    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = ""
    monkeypatch.setattr(abuse, "IP_SUBMISSIONS", abuse.Limit("ip_submit", 2, abuse.HOUR))
    codes = []
    for i in range(3):
        c = Client()
        c.get("/s/", REMOTE_ADDR="198.51.100.5")
        resp = c.post(
            "/s/",
            {"kind": "garbage", "description": "小区东门外垃圾堆了三天没人清理", **at(INSIDE)},
            REMOTE_ADDR="198.51.100.5",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{i}",
        )
        codes.append(resp.status_code)
    assert codes == [302, 302, 429]


def test_behind_the_proxy_each_resident_counts_by_their_own_address(client, street, monkeypatch, settings):
    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = "10.0.0.0/8"
    monkeypatch.setattr(abuse, "IP_SUBMISSIONS", abuse.Limit("ip_submit", 1, abuse.HOUR))

    def via_proxy(resident_ip: str) -> int:
        c = Client()
        c.get("/s/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=resident_ip)
        return c.post(
            "/s/",
            {"kind": "garbage", "description": "小区东门外垃圾堆了三天没人清理", **at(INSIDE)},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {resident_ip}",  # the left entry is the client's claim
        ).status_code

    assert via_proxy("203.0.113.10") == 302
    assert via_proxy("203.0.113.11") == 302  # a different resident, not the proxy's one address
    assert via_proxy("203.0.113.10") == 429


def test_phone_limit_three_per_hour_across_networks(client, street):
    for i in range(3):
        other_process()
        assert post(Client(), ip=f"198.51.100.{i + 1}", phone="13900001111", **at(INSIDE)).status_code == 302
    resp = post(client, ip="198.51.100.99", json=True, phone="139 0000 1111", **at(INSIDE))
    assert resp.status_code == 429
    assert resp.json()["errors"]["phone"].startswith("联系电话：该号码一小时内最多提交 3 次")
    # another number from that phone and network is fine
    assert post(client, ip="198.51.100.99", phone="13900002222", **at(INSIDE)).status_code == 302


def _answer(question: str) -> str:
    a, op, b = re.match(r"(\d+) ([+-]) (\d+) = \?", question).groups()
    return str(int(a) + int(b) if op == "+" else int(a) - int(b))


def test_challenge_after_two_quick_submissions(client, street):
    ip = "192.0.2.50"
    assert "验证题" not in client.get("/s/", REMOTE_ADDR=ip).content.decode().split("rs-challenge")[0]
    for _ in range(2):
        assert post(client, ip=ip, **at(INSIDE)).status_code == 302
    page = client.get("/s/", REMOTE_ADDR=ip).content.decode()
    assert re.search(r'id="rs-challenge-question">\d+ [+-] \d+ = \?<', page)

    resp = post(client, ip=ip, json=True, **at(INSIDE))
    assert resp.status_code == 422
    body = resp.json()
    assert body["errors"]["challenge"].startswith("验证题：")
    challenge = body["challenge"]

    wrong = str(int(_answer(challenge["question"])) + 1)
    resp = post(
        client, ip=ip, json=True, challenge_token=challenge["token"], challenge_answer=wrong, **at(INSIDE)
    )
    assert resp.status_code == 422 and "验证题" in resp.json()["errors"]["challenge"]
    challenge = resp.json()["challenge"]

    good = _answer(challenge["question"])
    resp = post(
        client, ip=ip, json=True, challenge_token=challenge["token"], challenge_answer=good, **at(INSIDE)
    )
    assert resp.status_code == 201, resp.json()
    # a token is good for one submission only
    resp = post(
        client, ip=ip, json=True, challenge_token=challenge["token"], challenge_answer=good, **at(INSIDE)
    )
    assert resp.status_code == 422 and "已使用" in resp.json()["errors"]["challenge"]
    assert Case.objects.count() == 3


def test_forged_challenge_token_is_refused(client, street):
    ip = "192.0.2.51"
    for _ in range(2):
        post(client, ip=ip, **at(INSIDE))
    resp = post(
        client, ip=ip, json=True, challenge_token="e30:forged:sig", challenge_answer="7", **at(INSIDE)
    )
    assert resp.status_code == 422 and "无效" in resp.json()["errors"]["challenge"]


# --- tracking -----------------------------------------------------------------------------------------


def test_tracking_page_shows_progress_and_hides_staff(client, street):
    resp = post(client, phone="13800138000", photos=[jpeg_upload()], **at(INSIDE))
    code = code_from(resp)
    page = client.get(resp["Location"]).content.decode()
    assert "提交成功" in page and f"{code[:5]}-{code[5:]}" in page
    assert "已收到，等待受理" in page and "138****8000" in page and "13800138000" not in page

    dept = DepartmentFactory(code="CGZD", name="城管中队", phone="0571-88886666")
    dispatcher = UserFactory(role=Role.DISPATCHER, full_name="李调度", phone="13711112222")
    case = Case.objects.get()
    case = services.perform(actor=dispatcher, case=case, move="accept", version=case.version)
    case = services.perform(
        actor=dispatcher, case=case, move="dispatch", version=case.version, department=dept
    )

    page = client.get(f"/s/t/{code}/").content.decode()
    assert "已转交处理部门" in page
    assert case.accepted_at and clock.to_local(case.accepted_at).strftime("%Y-%m-%d %H:%M") in page
    for hidden in ("李调度", dispatcher.username, "13711112222", "88886666", "城管中队", case.number):
        assert hidden not in page


def test_replies_are_public_with_names_and_numbers_masked(client, street):
    code = code_from(post(client, **at(INSIDE)))
    dispatcher = UserFactory(role=Role.DISPATCHER, full_name="赵受理")
    case = Case.objects.get()
    services.perform(
        actor=dispatcher,
        case=case,
        move="reject",
        version=case.version,
        reason="经赵受理现场核实，该处属于物业管理区域，请联系物业 0571-87654321",
    )
    page = client.get(f"/s/t/{code}/").content.decode()
    assert "不予受理" in page and "不予受理说明" in page
    assert "属于物业管理区域" in page
    assert "赵受理" not in page and "87654321" not in page and "工作人员" in page


def test_tracking_page_scrubs_the_description_like_open311(client, street):
    """Anyone holding the tracking code sees the page: the description is scrubbed by the same rule as the public
    Open311 output (phones, ID numbers, names)."""
    resp = post(
        client,
        description="垃圾堆在王先生家门口，联系人：张三丰，电话13912345678，身份证110105194912310021",
        **at(INSIDE),
    )
    page = client.get(f"/s/t/{code_from(resp)}/").content.decode()
    assert "垃圾堆在某先生家门口" in page and "联系人：***" in page and "139****5678" in page
    for hidden in ("王先生", "张三丰", "13912345678", "110105194912310021"):
        assert hidden not in page


def test_tracking_code_lookup(client, street):
    code = code_from(post(client, **at(INSIDE)))
    resp = client.get(f"/s/t/{code.lower()[:5]}-{code.lower()[5:]}/")
    assert resp.status_code == 302 and resp["Location"] == f"/s/t/{code}/"
    resp = client.get("/s/t/", {"code": f" {code[:5]}-{code[5:]} "})
    assert resp.status_code == 302 and resp["Location"] == f"/s/t/{code}/"
    resp = client.get("/s/t/", {"code": "abc"})
    assert resp.status_code == 422 and "查询码：格式不对" in resp.content.decode()
    resp = client.get("/s/t/ZZZZZZZZZZ/")
    assert resp.status_code == 404 and "没有找到" in resp.content.decode()


def test_only_resident_cases_are_reachable_by_code(client, street):
    dispatcher = UserFactory(role=Role.DISPATCHER)
    services.create_case(
        actor=dispatcher, source="leader", source_ref="ABCDE12345", description="领导交办事项内容"
    )
    assert client.get("/s/t/ABCDE12345/").status_code == 404


def test_guessing_codes_is_throttled(client, street):
    client.get("/s/", REMOTE_ADDR="192.0.2.99")  # the device cookie
    for _ in range(30):
        other_process()
        client.get("/s/t/ZZZZZZZZZZ/", REMOTE_ADDR="192.0.2.99")
    resp = client.get("/s/t/ZZZZZZZZZZ/", REMOTE_ADDR="192.0.2.99")
    assert resp.status_code == 429 and "查询过于频繁" in resp.content.decode()
    # another phone on the same address can still look up its code
    assert Client().get("/s/t/ZZZZZZZZZZ/", REMOTE_ADDR="192.0.2.99").status_code == 404


def test_tracking_codes_are_unguessable(street):
    codes = {resident.new_tracking_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(resident.CODE_ALPHABET) for c in codes)
    assert len(resident.CODE_ALPHABET) == 32  # 10 characters = 50 random bits
    assert resident.normalize_code("7k3qf-2m9xd") == "7K3QF2M9XD"
    assert resident.normalize_code("7K3QF-2M9XO") == "7K3QF2M9X0"  # O is read as 0
    assert resident.normalize_code("abc") is None


def test_huge_dimension_pngs_are_refused_from_the_header_in_bounded_memory(client, street):
    """Four 6300×6300 PNGs (~20 KB each, 160 MB each once decoded) from an anonymous phone."""
    from tests.bombs import PeakRss, png_bomb

    photos = [
        SimpleUploadedFile(f"b{i}.png", png_bomb(6300, 6300), content_type="image/png") for i in range(4)
    ]
    with PeakRss() as mem:
        resp = post(client, json=True, photos=photos, **at(INSIDE))
    assert resp.status_code == 422
    msg = resp.json()["errors"]["photos"]
    assert msg.startswith("照片：第 1 张（b0.png）") and "6300×6300" in msg and "尺寸过大" in msg
    assert mem.growth_mb < 60, f"RSS grew by {mem.growth_mb:.0f} MB"
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_a_big_phone_jpeg_is_shrunk_to_1600_px(client, street):
    buf = io.BytesIO()
    Image.new("L", (6000, 4000), 90).save(buf, "JPEG", quality=70)
    resp = post(client, photos=[SimpleUploadedFile("big.jpg", buf.getvalue())], **at(INSIDE))
    assert resp.status_code == 302
    att = Attachment.objects.get()
    assert (att.width, att.height) == (1600, 1067)
