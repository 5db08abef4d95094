"""The admin pages in a real browser (headless Chromium through Selenium) against a real
gateway that a real SyncEvolution client syncs with; /metrics before and after, parsed
with prometheus-client's own parser."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.notify import san as sanlib
from gateway.notify import wsp
from tests.interop.browser import (ADMIN, ADMIN_PASSWORD, PASSWORD, USER, AdminGateway,
                                   non_blank, start_browser)
from tests.interop.vcards import make_vcards

ROOT = Path(__file__).resolve().parents[2]
DEVICE = "sc-admin-1"


@pytest.fixture
def gw(tmp_path: Path):
    g = AdminGateway(tmp_path / "gateway")
    yield g
    g.stop()


@pytest.fixture
def browser(tmp_path: Path):
    driver = start_browser(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def metrics(gw: AdminGateway) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(gw.admin + "/metrics", timeout=10) as r:
        text = r.read().decode("utf-8")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(values: dict, name: str, **labels: str) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def total(values: dict, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in values.items() if n == name and want <= set(ls))


def login(browser, gw: AdminGateway, password: str = ADMIN_PASSWORD) -> None:
    from selenium.webdriver.common.by import By
    browser.get(gw.admin + "/login")
    browser.find_element(By.NAME, "name").send_keys(ADMIN)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()


def shot(browser, tmp_path: Path, name: str) -> None:
    png = browser.get_screenshot_as_png()
    (tmp_path / f"{name}.png").write_bytes(png)
    assert non_blank(png), f"the {name} page looks blank"


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    """The predicate's first true value; a page still loading (stale or missing
    elements) counts as not yet."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def text_of(browser, css: str, expected: str) -> str:
    """The text of ``css`` once it contains ``expected`` (after a click loads a page)."""
    from selenium.webdriver.common.by import By
    return wait_for(lambda: (lambda t: t if expected in t else None)(
        browser.find_element(By.CSS_SELECTOR, css).text), what=f"{expected!r} in {css}")


@pytest.mark.interop
def test_pages_show_a_real_sync_notify_now_and_forget_anchors(gw, browser, tmp_path,
                                                             syncevo_client_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    before = metrics(gw)
    assert sample(before, "omads_build_info", version=__import__("gateway").__version__) == 1
    assert total(before, "omads_sessions_started_total") == 0

    client = syncevo_client_factory(url=gw.url, username=USER, password=PASSWORD,
                                    device_id=DEVICE, extra={"preventSlowSync": "0"})
    client.write_items(make_vcards(5, seed=12))
    r = client.sync("slow").check()
    assert r.stat("addressbook", "remote-added-total") == 5

    after = metrics(gw)
    assert total(after, "omads_sessions_started_total", transport="http") == 1
    assert total(after, "omads_sessions_finished_total", result="ok") == 1
    assert sample(after, "omads_items_total", direction="in", op="add",
                  datastore_type="contacts") == 5
    assert total(after, "omads_messages_total") > total(before, "omads_messages_total")
    assert sample(after, "omads_sync_alerts_total", code="201") == 1
    assert sample(after, "omads_slow_syncs_total", reason="requested") == 1
    assert total(after, "omads_status_codes_total", direction="sent", code="201") >= 5
    assert sample(after, "omads_session_duration_seconds_count") == 1
    assert sample(after, "omads_message_processing_seconds_count") >= 2

    # Log in; the device is there with its last result.
    login(browser, gw)
    wait_for(lambda: browser.current_url.endswith("/devices"), what="the devices page")
    assert DEVICE in browser.page_source
    shot(browser, tmp_path, "devices")
    browser.find_element(By.LINK_TEXT, DEVICE).click()
    text = text_of(browser, "main", "Last sync per datastore")
    assert "contacts" in text and "slow (requested)" in text and "+5 ~0 −0" in text
    assert "ok" in text
    shot(browser, tmp_path, "device")

    # Notify now: the SAN reaches a UDP listener of the test.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(20)
        port = udp.getsockname()[1]
        Select(browser.find_element(By.CSS_SELECTOR, "#notify select")).select_by_value(
            "contacts")
        browser.find_element(By.CSS_SELECTOR, "#notify input[name=via]").send_keys(
            f"udp:127.0.0.1:{port}")
        browser.find_element(By.CSS_SELECTOR, "#notify button").click()
        text_of(browser, ".flash", "Queued notification 1")
        datagram, _ = udp.recvfrom(4096)
    push = wsp.decode_push(datagram)
    got = sanlib.decode_san(push.body)
    assert got.server_id == "omads-gateway" and [s.server_uri for s in got.syncs] == ["contacts"]
    browser.get(gw.admin + "/notifications")
    wait_for(lambda: (browser.refresh() or "sent" in browser.find_element(
        By.TAG_NAME, "tbody").text), what="the notification to show as sent")
    assert f"udp:127.0.0.1:{port}" in browser.page_source
    shot(browser, tmp_path, "notifications")
    assert sample(metrics(gw), "omads_notifications_total", carrier="udp", result="sent") == 1
    wait_for(lambda: sample(metrics(gw), "omads_notification_queue_depth", state="sent") == 1,
             what="the queue depth snapshot")

    # Forget anchors: the next SyncEvolution sync is slow.
    browser.get(gw.admin + "/device?" + urllib.parse.urlencode({"id": DEVICE}))
    browser.find_element(By.CSS_SELECTOR, "#forget button").click()
    text_of(browser, ".flash", "the next sync is slow")
    text_of(browser, "main", "forgotten: next sync is slow")
    browser.find_element(By.CSS_SELECTOR, "#trace button").click()     # off by default
    text_of(browser, ".flash", f"Tracing {DEVICE} until")
    r = client.sync("two-way").check()
    browser.refresh()
    text = text_of(browser, "main", "slow (forgotten)")
    assert "+0 ~0 −0 =5" in text
    assert sample(metrics(gw), "omads_slow_syncs_total", reason="forgotten") == 1
    assert sample(metrics(gw), "omads_items_total", direction="in", op="unchanged",
                  datastore_type="contacts") == 5

    # The other pages.
    for name in ("sessions", "users", "health"):
        browser.get(f"{gw.admin}/{name}")
        assert browser.find_element(By.TAG_NAME, "h1").text == name.capitalize()
        shot(browser, tmp_path, name)
    browser.get(gw.admin + "/sessions")
    listing = browser.find_element(By.TAG_NAME, "main").text
    # SyncEvolution may run the slow sync the server asked for in a session of its own
    assert listing.count(DEVICE) >= 2 and "error" not in listing, listing
    browser.find_elements(By.CSS_SELECTOR, "tbody a")[0].click()   # the newest: traced
    main = text_of(browser, "main", "Status codes received")
    assert "Messages" in main and "application/vnd.syncml+wbxml" in main
    assert "Trace (credentials, nonces and passwords masked)" in main
    traces = [e.text for e in browser.find_elements(By.TAG_NAME, "pre")]
    assert len(traces) >= 4 and "<SyncML" in traces[0] and "<Cred>" in traces[0]
    whole = "\n".join(traces)
    assert re.search(r"<Cred>.*?<Data>\*\*\*</Data>", traces[0], re.S), traces[0]
    assert not re.search(r"<NextNonce[^>]*>(?!\*\*\*<)", whole)
    assert re.search(r"<NextNonce[^>]*>\*\*\*<", whole)
    assert PASSWORD not in whole
    shot(browser, tmp_path, "session")
    browser.back()
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    rows[-1].find_element(By.TAG_NAME, "a").click()               # the first: not traced
    text_of(browser, "main", "No trace: switch it on")
    health = (browser.get(gw.admin + "/health"), browser.find_element(By.TAG_NAME, "main").text)[1]
    assert "reachable" in health and "listening" in health

    # On a phone-sized screen the pages fit the width (tables scroll inside their box).
    browser.set_window_size(390, 844)
    for path in ("/devices", "/device?" + urllib.parse.urlencode({"id": DEVICE}), "/sessions"):
        browser.get(gw.admin + path)
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    shot(browser, tmp_path, "device-phone")

    # The log has one summary line per session and datastore, without the session key.
    log = gw.log()
    lines = [line for line in log.splitlines() if "sync " in line and DEVICE in line
             and "contacts:" in line]
    assert len(lines) >= 2, log
    assert "slow (requested) ok; from client +5 ~0 -0 =0 refused none" in lines[0]
    # the slow sync after forgetting pairs the five items it holds: nothing new
    assert "slow (forgotten) ok; from client +0 ~0 -0 =5 refused none" in lines[-1]
    sessions = [line for line in log.splitlines() if "] session " in line and DEVICE in line
                and ": ok," in line]
    assert len(sessions) == len(lines) and "(http, SyncML 1.2, wbxml)" in sessions[0], log
    key_lines = [line for line in log.splitlines() if "session " in line and DEVICE in line]
    assert key_lines and all("…" in line for line in key_lines)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


def _post(gw: AdminGateway, path: str, fields: dict, cookie: str) -> int:
    request = urllib.request.Request(
        gw.admin + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.interop
def test_wrong_password_missing_csrf_and_hostile_values(gw, browser, tmp_path):
    from selenium.webdriver.common.by import By

    # A device id and a user name with markup, as a hostile phone and admin could make them.
    hostile = '<img src=x onerror="alert(1)">"><script>alert(2)</script>'
    with sqlite3.connect(gw.db) as db:
        db.execute("INSERT INTO devices (device_id, username, nonce, last_seen) "
                   "VALUES (?, ?, x'', ?)", (hostile, USER, time.time()))

    login(browser, gw, password="wrong")
    text_of(browser, ".flash", "Wrong name or password")
    assert browser.current_url.startswith(gw.admin + "/login")
    assert "admin login refused" in gw.log() and "wrong password" in gw.log()

    login(browser, gw)
    wait_for(lambda: browser.current_url.endswith("/devices"), what="the devices page")
    main = browser.find_element(By.TAG_NAME, "main")
    assert hostile in main.text                        # shown as text ...
    assert not browser.find_elements(By.CSS_SELECTOR, "main img, main script")   # ... not run
    assert "&lt;script&gt;" in browser.page_source
    browser.find_element(By.LINK_TEXT, hostile).click()
    text_of(browser, "main", "Last sync per datastore")
    assert hostile in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")

    browser.get(gw.admin + "/users")
    browser.find_element(By.CSS_SELECTOR, "#add-user input[name=name]").send_keys(
        "<b>bold</b>&amp;")
    browser.find_element(By.CSS_SELECTOR, "#add-user input[name=password]").send_keys("pw")
    browser.find_element(By.CSS_SELECTOR, "#add-user button").click()
    text_of(browser, ".flash", "Added the account")
    assert "<b>bold</b>&amp;" in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.CSS_SELECTOR, "main td b")
    shot(browser, tmp_path, "users-hostile")

    # Without a login: pages send to the login, POSTs are refused; /metrics needs none.
    with urllib.request.urlopen(gw.admin + "/metrics", timeout=10) as r:
        assert r.status == 200
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(gw.admin + "/devices", timeout=10)
        raise AssertionError("no redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 303 and e.headers["Location"] == "/login?next=%2Fdevices"

    # A POST without the CSRF token (or with a wrong one) changes nothing.
    cookie = "omads_admin=" + browser.get_cookie("omads_admin")["value"]
    assert _post(gw, "/users/disable", {"name": USER}, cookie) == 403
    assert _post(gw, "/users/disable", {"name": USER, "csrf": "forged"}, cookie) == 403
    assert _post(gw, "/users/disable", {"name": USER}, "omads_admin=nosuchsession") == 403
    with sqlite3.connect(gw.db) as db:
        assert db.execute("SELECT enabled FROM accounts WHERE username = ?",
                          (USER,)).fetchone() == (1,)
    assert "without a valid CSRF token" in gw.log()
    # No secret on any page: not the sync password, not the admin's.
    for path in ("/users", "/devices", "/health", "/notifications", "/sessions"):
        browser.get(gw.admin + path)
        assert PASSWORD not in browser.page_source and ADMIN_PASSWORD not in browser.page_source


def test_notify_cli_defaults_that_work(gw, tmp_path):
    """The example's carriers need nothing external: `device notify --via udp:…` sends at
    once, and notify-status takes the device name."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(20)
        port = udp.getsockname()[1]

        def admin(*argv: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "gateway.admin.cli", "--config",
                                   str(gw.conf), "device", *argv], capture_output=True,
                                  text=True, timeout=60, cwd=ROOT)
        done = admin("notify", "IMEI:42", "--via", f"udp:127.0.0.1:{port}", "--wait", "20")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("queued notification 1 for IMEI:42")
        datagram, _ = udp.recvfrom(4096)
    assert wsp.decode_push(datagram).body
    status = admin("notify-status", "IMEI:42")
    assert status.returncode == 0 and status.stdout.split("\t")[:3] == ["1", "IMEI:42", "sent"]
    refused = admin("notify", "IMEI:43")
    assert refused.returncode == 1 and "no route reaches IMEI:43" in refused.stderr
