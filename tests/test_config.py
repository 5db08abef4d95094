"""The TOML configuration: parse_settings / load_settings (gateway.config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import (
    BootstrapUser, ConfigError, HTTPSettings, Settings, StoreSettings, check_endpoint,
    load_settings, parse_settings,
)
from gateway.ds.settings import DEFAULT_DATASTORES, DatastoreSettings, ServerSettings

EXAMPLE = Path(__file__).resolve().parent.parent / "conf" / "omads-gateway.toml"

FULL = """
log_level = "debug"

[http]
listen = ["tcp:8081:interface=127.0.0.1", "ssl:8443:privateKey=/k.pem:certKey=/c.pem"]
max_message_size = 200000
threads = 3
public_url = "https://sync.example.org/sync"

[store]
path = "/tmp/x/omads.sqlite"
expire_interval = 30

[server]
server_id = "gw-1"
auth_types = ["syncml:auth-basic"]
session_timeout = 600.5
max_failed_logins = 3
failed_login_window = 120
max_object_size = 500000
max_msg_size = 100000

[[datastore]]
name = "contacts"
aliases = ["card"]
content_types = ["text/x-vcard:2.1", "text/vcard:3.0"]
conflict_policy = "server-wins"
merge = false
allow_anonymous = true

[[datastore]]
name = "notes"
content_types = ["text/plain:1.0"]

[[user]]
name = "alice"
password = "s3cret"

[[user]]
name = "bob"
password = "pw"
"""


def parse(text: str, **overrides: object) -> Settings:
    import tomllib
    return parse_settings(tomllib.loads(text), source="test.toml", **overrides)


def problems(text: str, **overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(text, **overrides)
    return info.value.problems


def test_empty_document_gives_defaults() -> None:
    """No keys at all: every section takes its defaults, the engine's datastores included."""
    s = parse("")
    assert s.log_level == "info"
    assert s.http == HTTPSettings(listen=("tcp:8080:interface=127.0.0.1",),
                                  max_message_size=ServerSettings().max_msg_size, threads=8)
    assert s.store == StoreSettings(path="./var/omads.sqlite", expire_interval=60.0)
    assert s.server == ServerSettings()
    assert s.server.datastores == DEFAULT_DATASTORES
    assert s.users == ()


def test_every_key_is_read() -> None:
    """Each documented key lands in its typed setting."""
    s = parse(FULL)
    assert s.source == "test.toml"
    assert s.log_level == "debug"
    assert s.http == HTTPSettings(
        listen=("tcp:8081:interface=127.0.0.1", "ssl:8443:privateKey=/k.pem:certKey=/c.pem"),
        max_message_size=200000, threads=3, public_url="https://sync.example.org/sync")
    assert s.store == StoreSettings(path="/tmp/x/omads.sqlite", expire_interval=30.0)
    assert s.server.server_id == "gw-1"
    assert s.server.auth_types == ("syncml:auth-basic",)
    assert s.server.session_timeout == 600.5
    assert s.server.max_failed_logins == 3
    assert s.server.failed_login_window == 120.0
    assert s.server.max_obj_size == 500000
    assert s.server.max_msg_size == 100000
    assert s.server.datastores == (
        DatastoreSettings(name="contacts", aliases=("card",),
                          content_types=(("text/x-vcard", "2.1"), ("text/vcard", "3.0")),
                          conflict_policy="server-wins", merge=False, allow_anonymous=True),
        DatastoreSettings(name="notes", content_types=(("text/plain", "1.0"),)),
    )
    assert s.users == (BootstrapUser(name="alice", password="s3cret"),
                       BootstrapUser(name="bob", password="pw"))


def test_passwords_are_not_in_repr() -> None:
    """Bootstrap passwords do not leak into logs through repr()."""
    assert "s3cret" not in repr(parse(FULL))


def test_example_file_is_valid_and_defines_demo_user() -> None:
    """conf/omads-gateway.toml parses, serves the default datastores and the demo account."""
    s = load_settings(EXAMPLE)
    assert s.users == (BootstrapUser(name="demo", password="demo"),)
    assert s.server.datastores == DEFAULT_DATASTORES
    assert s.http.listen == ("tcp:8080:interface=127.0.0.1",)
    assert s.store.path == "./var/omads.sqlite"


def test_unknown_keys_everywhere_are_all_reported() -> None:
    """Unknown keys at the top, in each section and in array tables are errors, all at once."""
    found = problems("""
colour = 1
[http]
port = 1
[store]
driver = "x"
[server]
realm = "x"
[bogus]
[[datastore]]
name = "a"
content_types = ["text/plain:1.0"]
sync = true
[[user]]
name = "u"
password = "p"
admin = true
""")
    assert len(found) == 7
    joined = "\n".join(found)
    for key in ("colour", "port", "driver", "realm", "bogus", "sync", "admin"):
        assert repr(key) in joined


@pytest.mark.parametrize("text, fragment", [
    ('log_level = "loud"', "log_level"),
    ('log_level = 3', "log_level"),
    ('http = 5', "[http] must be a table"),
    ('[http]\nlisten = "tcp:8080"', "listen"),
    ('[http]\nlisten = []', "listen"),
    ('[http]\nthreads = 0', "threads"),
    ('[http]\nthreads = "8"', "threads"),
    ('[http]\nthreads = true', "threads"),
    ('[http]\nmax_message_size = 10', "max_message_size"),
    ('[http]\npublic_url = "sync.example.org"', "public_url"),
    ('[http]\npublic_url = "http://h/sync?x=1"', "public_url"),
    ('[store]\npath = ""', "path"),
    ('[store]\npath = 7', "path"),
    ('[store]\nexpire_interval = 0', "expire_interval"),
    ('[server]\nserver_id = 1', "server_id"),
    ('[server]\nauth_types = ["syncml:auth-foo"]', "auth_types"),
    ('[server]\nauth_types = []', "auth_types"),
    ('[server]\nsession_timeout = "long"', "session_timeout"),
    ('[server]\nsession_timeout = -1', "session_timeout"),
    ('[server]\nmax_failed_logins = 0', "max_failed_logins"),
    ('[server]\nfailed_login_window = false', "failed_login_window"),
    ('[server]\nmax_object_size = 1.5', "max_object_size"),
    ('[server]\nmax_msg_size = 100', "max_msg_size"),
    ('datastore = 1', "[[datastore]]"),
    ('user = "x"', "[[user]]"),
])
def test_bad_values_are_reported(text: str, fragment: str) -> None:
    """Each bad type or value gives one problem naming the key."""
    found = problems(text)
    assert len(found) == 1
    assert fragment in found[0]


@pytest.mark.parametrize("entry, fragment", [
    ('content_types = ["text/plain:1.0"]', "name is required"),
    ('name = "a"', "content_types is required"),
    ('name = "a"\ncontent_types = ["text/plain"]', "content_types"),
    ('name = "a"\ncontent_types = []', "content_types"),
    ('name = "a"\ncontent_types = ["text/plain:1.0"]\nconflict_policy = "coin-toss"',
     "conflict_policy"),
    ('name = "a"\ncontent_types = ["text/plain:1.0"]\nmerge = "yes"', "merge"),
    ('name = "a"\ncontent_types = ["text/plain:1.0"]\nallow_anonymous = 1', "allow_anonymous"),
    ('name = "a"\ncontent_types = ["text/plain:1.0"]\naliases = "b"', "aliases"),
])
def test_bad_datastores_are_reported(entry: str, fragment: str) -> None:
    """Each datastore problem is reported with its position."""
    found = problems("[[datastore]]\n" + entry)
    assert len(found) == 1
    assert fragment in found[0] and "[[datastore]] #1" in found[0]


def test_duplicate_datastore_names_and_aliases() -> None:
    """A name or alias used by two datastores is an error (compared as handsets send them)."""
    found = problems("""
[[datastore]]
name = "contacts"
aliases = ["card"]
content_types = ["text/vcard:3.0"]
[[datastore]]
name = "./Contacts"
content_types = ["text/vcard:3.0"]
[[datastore]]
name = "other"
aliases = ["CARD"]
content_types = ["text/vcard:3.0"]
""")
    assert len(found) == 2
    assert "#2" in found[0] and "'contacts'" in found[0]
    assert "#3" in found[1] and "'card'" in found[1]


def test_alias_equal_to_own_name_is_fine() -> None:
    """The default contacts alias "./contacts" repeats its own name; that is allowed."""
    s = parse('[[datastore]]\nname = "contacts"\naliases = ["./contacts"]\n'
              'content_types = ["text/vcard:3.0"]')
    assert s.server.datastores[0].aliases == ("./contacts",)


def test_users_need_name_and_password_and_are_unique() -> None:
    """[[user]] tables need both keys; a name may appear once."""
    found = problems("""
[[user]]
name = "a"
[[user]]
password = "x"
[[user]]
name = "b"
password = "1"
[[user]]
name = "b"
password = "2"
""")
    assert found == ["[[user]] #1: password is required", "[[user]] #2: name is required",
                     "[[user]] #4: user 'b' is defined twice"]


def test_http_limit_below_engine_limit_is_an_error() -> None:
    """Clients may send max_msg_size bytes, so the HTTP limit cannot be smaller."""
    found = problems("[http]\nmax_message_size = 5000\n[server]\nmax_msg_size = 6000")
    assert len(found) == 1 and "max_message_size" in found[0]


def test_http_limit_defaults_to_engine_limit() -> None:
    """Without [http] max_message_size the body limit is [server] max_msg_size."""
    assert parse("[server]\nmax_msg_size = 70000").http.max_message_size == 70000


def test_all_problems_in_one_error_message() -> None:
    """Problems in different sections arrive together in one ConfigError text."""
    with pytest.raises(ConfigError) as info:
        parse('log_level = "x"\n[http]\nthreads = -1\n[store]\npath = 1\n[server]\nmax_failed_logins = "a"')
    err = info.value
    assert len(err.problems) == 4
    text = str(err)
    assert text.startswith("test.toml has 4 problems:")
    for p in err.problems:
        assert p in text


def test_overrides_take_precedence() -> None:
    """--http replaces [http] listen, --db replaces [store] path; the rest stays."""
    s = parse(FULL, listen=["tcp:9000", "tcp:9001:interface=127.0.0.1"], store_path="/d/b.sqlite")
    assert s.http.listen == ("tcp:9000", "tcp:9001:interface=127.0.0.1")
    assert s.store.path == "/d/b.sqlite"
    assert s.http.threads == 3 and s.store.expire_interval == 30.0
    assert parse(FULL, listen=None, store_path=None).store.path == "/tmp/x/omads.sqlite"


def test_overrides_are_validated_with_the_file() -> None:
    """A bad --http endpoint is reported together with the file's problems."""
    found = problems('log_level = "x"', listen=["tcp:notaport"], store_path="")
    assert len(found) == 3
    assert any(p.startswith("--http") for p in found)
    assert any(p.startswith("--db") for p in found)


def test_override_replaces_a_bad_listen_in_the_file() -> None:
    """The file's listen is still checked, even when --http replaces it."""
    found = problems('[http]\nlisten = ["bogus:1"]', listen=["tcp:9000"])
    assert len(found) == 1 and "bogus" in found[0]


@pytest.mark.parametrize("desc", [
    "tcp:8080", "tcp:port=8080:interface=127.0.0.1", "tcp:0:backlog=50",
    r"tcp6:8080:interface=\:\:1",
    "ssl:8443:privateKey=/etc/k.pem:certKey=/etc/c.pem",
    "unix:/run/omads.sock", "unix:address=/run/omads.sock:mode=660",
    "systemd:domain=INET:index=0", "systemd:domain=INET6:name=http",
])
def test_good_endpoints(desc: str) -> None:
    """Endpoint strings Twisted accepts pass the check."""
    assert check_endpoint(desc) is None


@pytest.mark.parametrize("desc, fragment", [
    ("", "non-empty"),
    ("8080", "unknown type"),
    ("http:8080", "unknown type"),
    ("tcp", "port"),
    ("tcp:99999", "port"),
    ("tcp:80:81", "positional"),
    ("tcp:8080:iface=lo", "unknown parameter"),
    ("tcp:8080:backlog=many", "backlog"),
    ("ssl:8443:certKey=/c.pem", "privateKey"),
    ("unix:", "socket path"),
    ("systemd:domain=INET", "index"),
    ("systemd:domain=INET:index=x", "index"),
])
def test_bad_endpoints(desc: str, fragment: str) -> None:
    """Malformed endpoint strings are caught before anything listens."""
    err = check_endpoint(desc)
    assert err is not None and fragment in err


def test_endpoint_check_agrees_with_twisted_parser() -> None:
    """Strings passing the check build with Twisted's own parser (no listening)."""
    from twisted.internet.endpoints import serverFromString
    from twisted.internet.testing import MemoryReactor
    for desc in ("tcp:8080", "tcp:port=8080:interface=127.0.0.1", r"tcp6:8080:interface=\:\:1",
                 "unix:/run/omads.sock"):
        assert check_endpoint(desc) is None
        serverFromString(MemoryReactor(), desc)


def test_load_settings_file_errors(tmp_path: Path) -> None:
    """A missing file, bad TOML or bad UTF-8 each give one ConfigError naming the file."""
    missing = tmp_path / "none.toml"
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_settings(missing)
    assert str(missing) in str(info.value)
    bad = tmp_path / "bad.toml"
    bad.write_text("[http\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"log_level = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(binary)


def test_load_settings_without_file_uses_defaults_and_overrides() -> None:
    """No --config: built-in defaults, still with the command-line overrides."""
    s = load_settings(None, listen=["tcp:9999"], store_path="/x.sqlite")
    assert s.source == "<defaults>"
    assert s.http.listen == ("tcp:9999",) and s.store.path == "/x.sqlite"


def test_settings_are_frozen() -> None:
    """Settings are immutable values."""
    s = parse("")
    with pytest.raises(AttributeError):
        s.log_level = "debug"  # type: ignore[misc]


def test_parse_settings_imports_no_twisted() -> None:
    """The configuration is pure: parsing it (every section included) loads no Twisted
    module and nothing of the shell."""
    import subprocess
    import sys
    code = ("import sys, gateway.config as c; c.parse_settings({}); "
            "print(sorted(m for m in sys.modules if m == 'twisted' or m.startswith("
            "('twisted.', 'gateway.transport', 'gateway.service', 'gateway.admin'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=EXAMPLE.parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_section_is_a_typed_field() -> None:
    """[obex] and [notify] are fields of Settings with their own types and defaults."""
    from gateway.config import NotifySettings, ObexSettings
    s = parse('[obex]\nlisten = ["tcp:6500"]\n[notify]\nenabled = true\n[notify.udp]\n')
    assert isinstance(s.obex, ObexSettings) and s.obex.listen == ("tcp:6500",)
    assert isinstance(s.notify, NotifySettings) and s.notify.enabled and s.notify.udp
    assert parse("").obex == ObexSettings() and parse("").notify == NotifySettings()


@pytest.mark.parametrize("text, fragment", [
    ('[obex]\nidle_timeout = 0', "[obex] idle_timeout must be a number of seconds > 0"),
    ('[notify]\nlease = 0', "[notify] lease must be a number of seconds > 0"),
    ('[store]\nexpire_interval = 0', "[store] expire_interval must be a number of seconds > 0"),
    ('[obex]\nmax_packet_length = true', "must be an integer between 255 and 65535"),
    ('[notify]\nmax_attempts = 0', "must be an integer between 1 and 100"),
    ('[http]\nthreads = 0', "must be an integer between 1 and 256"),
    ('[obex]\nallow_no_target = 1', "[obex] allow_no_target must be true or false"),
    ('[notify]\nenabled = 1', "[notify] enabled must be true or false"),
    ('[http]\npublic_url = "ftp://x"', "[http] public_url must be an http:// or https://"),
    ('[notify]\ndlr_url_base = "ftp://x"', "[notify] dlr_url_base must be an http:// or"),
])
def test_one_wording_for_one_kind_of_problem(text: str, fragment: str) -> None:
    """Every section reads its values through the same validators, so the same problem
    reads the same in [store], [http], [obex] and [notify]."""
    found = problems(text)
    assert len(found) == 1 and fragment in found[0], found
