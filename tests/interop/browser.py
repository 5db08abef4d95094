"""Headless Chromium driven by Selenium (Debian's chromium and chromium-driver), for the
admin pages; and a gateway with its admin listener for those tests.

The launch flags keep Chromium off the network (capabilities-research §3.5): no
background networking, component updates or sync, a fresh profile per browser.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from bench.peers import GatewayProcess, start_gateway
from tests.interop.syncevo import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN, ADMIN_PASSWORD = "admin", "s3cret-admin"
USER, PASSWORD = "alice", "secret"


def start_browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1024,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (filter bytes included)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def non_blank(png: bytes) -> bool:
    """A page with text and colour has many distinct byte values in its scanlines."""
    width, height, raw = png_pixels(png)
    return width > 100 and height > 100 and len(set(raw)) > 40


def admin_config(http_port: int, admin_port: int, db: Path) -> str:
    return f"""\
log_level = "info"

[http]
listen = ["tcp:{http_port}:interface=127.0.0.1"]

[store]
path = "{db}"
expire_interval = 1

[server]
max_failed_logins = 50

[[datastore]]
name = "contacts"
aliases = ["addressbook", "card"]
content_types = ["text/vcard:3.0", "text/x-vcard:2.1"]

[[user]]
name = "{USER}"
password = "{PASSWORD}"

[admin]
listen = ["tcp:{admin_port}:interface=127.0.0.1"]
snapshot_interval = 1

[[admin.user]]
name = "{ADMIN}"
password = "{ADMIN_PASSWORD}"

[notify]
enabled = true
poll_interval = 0.5

[notify.udp]
bind = "127.0.0.1"

[notify.sip]
transport = "udp"
"""


class AdminGateway:
    """A running gateway with its admin listener on free ports."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.db = workdir / "omads.sqlite"
        self.admin_port = free_port()
        port = free_port()
        self.process: GatewayProcess = start_gateway(
            port, self.db, workdir,
            config=lambda p, db: admin_config(p, self.admin_port, db))

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def conf(self) -> Path:
        return self.workdir / "omads-gateway.toml"

    def log(self) -> str:
        return self.process.log.read_text("utf-8", "replace")

    def stop(self) -> None:
        self.process.stop()
