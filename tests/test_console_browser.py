"""The web console in a real browser (headless Chromium driven by Selenium through Debian's chromedriver; no
driver or browser is ever downloaded) against a real kiosk playing a real show: log in, watch the preview,
step a cue, upload a broken show (its line-numbered errors, the old show playing on) and a good one.

Skips where Selenium, Chromium or its driver are missing or cannot start, and where there is no headless EGL
(the kiosk's player needs it). One browser session, on a phone-sized window."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.kiosk import kiosk, needs_egl, wait_for

pytestmark = [pytest.mark.slow]

TOKEN = "console-browser-token"
CHROMIUM = os.environ.get("INSTALLATION_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("INSTALLATION_CHROMEDRIVER", "/usr/bin/chromedriver")
SHOW = """version: 1
name: console browser test
display: {size: 160x90, background: [0, 0, 0]}
cues:
  - {id: a, scene: {type: solid, colour: "#c03020"}, duration: 600, transition: cut}
  - {id: b, scene: {type: solid, colour: "#2040c0"}, transition: cut, follow: hold}
"""
# line 5 has the mistake; the show on disk and on screen must not change
BROKEN = SHOW.replace("duration: 600", "duration: -5")
GOOD = """version: 1
name: console browser test, version 2
display: {size: 160x90, background: [0, 0, 0]}
cues:
  - {id: c, scene: {type: solid, colour: "#20c040"}, transition: cut, follow: hold}
"""
PIXEL = """
const img = document.querySelector('#preview');
if (!img.complete || !img.naturalWidth) return null;
const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
const g = c.getContext('2d'); g.drawImage(img, 0, 0);
const d = g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
return [d[0], d[1], d[2], Number(img.dataset.count || 0)];
"""


def _browser() -> Any:
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (the dev extras)")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip(f"no {CHROMIUM} or {CHROMEDRIVER} (apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download a driver or a browser
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    try:
        return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        pytest.skip(f"Chromium cannot run here: {str(exc).splitlines()[0][:200]}")


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = _browser()
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _near(rgb: Any, want: str, tolerance: int = 24) -> bool:
    target = tuple(int(want[i:i + 2], 16) for i in (1, 3, 5))
    return bool(rgb) and max(abs(a - b) for a, b in zip(rgb[:3], target, strict=True)) <= tolerance


@needs_egl
def test_a_gallery_day_in_the_browser(tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    show = tmp_path / "show.yaml"
    show.write_text(SHOW)
    with kiosk(tmp_path, show, token=TOKEN, env={"INSTALLATION_STATE": str(tmp_path / "state")}) as k:
        k.wait("first frame", lambda st: st["healthy"] and st["cue"] == "a")
        def text(css: str) -> str:
            # "" while the page is still loading (after the login redirect under load), so waits keep polling
            found = browser.find_elements(By.CSS_SELECTOR, css)
            return found[0].text if found else ""

        # log in with the token; the cookie keeps the console open (a bookmark works)
        browser.get(k.url + "/console")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login").click()
        wait_for("the console", lambda: text("#state").startswith("playing") and text("#cue") == "a")
        cookie = browser.get_cookie("installation_console")
        assert cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict"
        browser.get(k.url + "/console")  # a second visit: no login page
        wait_for("the console again", lambda: text("#cue") == "a")

        # the preview shows the current frame: red
        wait_for("a red preview", lambda: _near(browser.execute_script(PIXEL), "#c03020"))
        first = browser.execute_script(PIXEL)[3]
        # a phone-sized screen: nothing wider than the window
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")

        # next: the cue changes in /status and in the page, and the preview turns blue
        browser.find_element(By.ID, "btn-next").click()
        k.wait("cue b in /status", lambda st: st["cue"] == "b", timeout=10)
        wait_for("cue b in the page", lambda: text("#cue") == "b", timeout=10)
        wait_for("a blue preview", lambda: _near(browser.execute_script(PIXEL), "#2040c0"), timeout=15)
        assert browser.execute_script(PIXEL)[3] > first  # the image was refreshed, not swapped once

        # a broken version: its error with the line number, and the old show plays on
        broken = tmp_path / "upload" / "show.yaml"
        broken.parent.mkdir()
        broken.write_text(BROKEN)
        browser.find_element(By.ID, "show-file").send_keys(str(broken))
        browser.find_element(By.ID, "upload-show").click()
        wait_for("the upload's errors", lambda: "show.yaml:5" in text("#show-result"), timeout=30)
        places = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#show-result code.where")]
        assert any(p.endswith("show.yaml:5") for p in places), places
        assert "cues[0].duration" in text("#show-result")
        assert show.read_text() == SHOW
        st = k.status()
        assert st["cue"] == "b" and st["healthy"] and st["reloads"] == 0
        wait_for("the rejection in the log tail", lambda: "show.yaml:5" in text("#log"), timeout=10)
        assert _near(browser.execute_script(PIXEL), "#2040c0")

        # a good version: saved, loaded, played (cue b holds, so the switch comes at once)
        good = tmp_path / "upload" / "good.yaml"
        good.write_text(GOOD)
        browser.find_element(By.ID, "show-file").send_keys(str(good))
        browser.find_element(By.ID, "upload-show").click()
        wait_for("the upload accepted", lambda: "saved" in text("#show-result"), timeout=30)
        assert show.read_text() == GOOD
        k.wait("the new show playing", lambda st: st["cue"] == "c" and st["healthy"], timeout=15)
        wait_for("a green preview", lambda: _near(browser.execute_script(PIXEL), "#20c040"), timeout=15)
        wait_for("the new cue list", lambda: text("#cues") == "c\nsolid · hold", timeout=40)
