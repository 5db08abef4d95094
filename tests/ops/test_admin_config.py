"""[admin]: one admin listener, loopback unless allow_remote with TLS, bootstrap admins."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_settings, parse_settings


def test_example_config_enables_admin_and_notifications_that_need_nothing_external():
    s = load_settings("conf/omads-gateway.toml")
    assert s.admin.listen == ("tcp:8081:interface=127.0.0.1",)
    assert [u.name for u in s.admin.users] == ["admin"]
    assert s.notify.enabled and s.notify.udp is not None and s.notify.sip is not None
    assert s.notify.sip.proxy is None          # SIP direct
    assert s.notify.modem is None and s.notify.kannel is None and s.notify.pap is None


@pytest.mark.parametrize("listen", [
    "tcp:8081", "tcp:8081:interface=0.0.0.0", "tcp:8081:interface=192.0.2.1",
    "tcp6:8081:interface=\\:\\:", "systemd:domain=INET:index=0",
])
def test_non_loopback_admin_binds_are_refused(listen):
    with pytest.raises(ConfigError) as e:
        parse_settings({"admin": {"listen": [listen]}})
    assert "[admin]" in str(e.value) and repr(listen) in str(e.value)


@pytest.mark.parametrize("listen", [
    "tcp:8081:interface=127.0.0.1", "tcp:0:interface=127.0.0.2",
    "tcp6:8081:interface=\\:\\:1", "unix:/run/omads-admin.sock",
])
def test_loopback_and_unix_admin_binds_are_fine(listen):
    assert parse_settings({"admin": {"listen": [listen]}}).admin.listen == (listen,)


def test_remote_admin_needs_allow_remote_and_tls():
    with pytest.raises(ConfigError, match="without TLS"):
        parse_settings({"admin": {"listen": ["tcp:8081"], "allow_remote": True}})
    tls = "ssl:8443:privateKey=/k.pem:certKey=/c.pem"
    with pytest.raises(ConfigError, match="allow_remote"):
        parse_settings({"admin": {"listen": [tls]}})
    assert parse_settings({"admin": {"listen": [tls], "allow_remote": True}}).admin.allow_remote


def test_notify_admin_listen_is_the_admin_listener_and_not_both():
    s = parse_settings({"notify": {"admin_listen": ["tcp:8181:interface=127.0.0.1"]}})
    assert s.admin.listen == ("tcp:8181:interface=127.0.0.1",)
    with pytest.raises(ConfigError, match="both given"):
        parse_settings({"notify": {"admin_listen": ["tcp:8181:interface=127.0.0.1"]},
                        "admin": {"listen": ["tcp:8182:interface=127.0.0.1"]}})


def test_admin_keys_are_checked_and_the_default_opens_nothing():
    assert parse_settings({}).admin.listen == ()
    with pytest.raises(ConfigError) as e:
        parse_settings({"admin": {"bogus": 1, "trace_max_messages": 0,
                                  "user": [{"name": "x"}]}})
    text = str(e.value)
    assert "unknown key 'bogus'" in text and "trace_max_messages" in text
    assert "[[admin.user]] #1: password is required" in text
