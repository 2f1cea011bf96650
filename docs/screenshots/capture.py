"""Take the README screenshots from a running demo (``civicgrid demo``) with Debian's Chromium.

    .venv/bin/python docs/screenshots/capture.py [--base http://127.0.0.1:8000]

Logs in as the demo dispatcher (password ``Demo@2026civic``) and writes login, map, inbox, cases, case-detail
(1366×800) and the resident page on a phone (390×844) into this folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
PASSWORD = "Demo@2026civic"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-sync",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    base = ap.parse_args().base.rstrip("/")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 800})
        page = desk.new_page()
        page.goto(f"{base}/accounts/login/")
        page.screenshot(path=HERE / "login.png")
        page.fill("input[name=username]", "dispatcher")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.wait_for_selector("#grid-map[data-loaded]")
        page.wait_for_timeout(1500)  # the vector base and labels
        page.screenshot(path=HERE / "map.png")
        page.goto(f"{base}/cases/inbox/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=HERE / "inbox.png")
        page.goto(f"{base}/cases/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=HERE / "cases.png")
        href = page.locator("table a[href^='/cases/']").first.get_attribute("href")
        page.goto(f"{base}{href}")
        page.wait_for_selector("#case-map[data-loaded]")
        page.wait_for_timeout(1000)
        page.screenshot(path=HERE / "case-detail.png")
        phone = browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True
        )
        resident = phone.new_page()
        resident.goto(f"{base}/s/")
        resident.wait_for_timeout(1500)
        resident.screenshot(path=HERE / "resident.png")
        browser.close()


if __name__ == "__main__":
    main()
