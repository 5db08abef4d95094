"""Account secrets: B64(MD5("user:password")) and the auth-basic check."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gateway.store.accounts import check_basic, make_secret
from gateway.store.base import Account


def test_secret_matches_the_spec_md5_example():
    # OMA DS/DM worked example: user "Bruce2", password "OhBehave", nonce "Nonce" gives the
    # auth-md5 credential "Zz6EivR3yeaaENcRN6lpAQ==" = B64(MD5(secret + ":" + nonce)).
    secret = make_secret("Bruce2", "OhBehave")
    digest = hashlib.md5(secret.encode("ascii") + b":Nonce").digest()
    assert base64.b64encode(digest) == b"Zz6EivR3yeaaENcRN6lpAQ=="


def test_secret_is_24_char_base64_of_16_bytes():
    secret = make_secret("alice", "pa:ss wörd")
    assert isinstance(secret, str) and len(secret) == 24
    assert base64.b64decode(secret) == hashlib.md5("alice:pa:ss wörd".encode("utf-8")).digest()


def test_check_basic():
    account = Account(username="alice", secret=make_secret("alice", "s3cret"))
    assert check_basic(account, "alice", "s3cret") is True
    assert check_basic(account, "alice", "S3cret") is False
    assert check_basic(account, "Alice", "s3cret") is False
    assert check_basic(account, "alice", "") is False


@pytest.mark.parametrize("username, password", [("bob", "x"), ("ünï", "çødé"), ("a:b", "c")])
def test_check_basic_round_trips(username, password):
    account = Account(username=username, secret=make_secret(username, password))
    assert check_basic(account, username, password)
    assert not check_basic(account, username, password + "!")


def test_check_basic_refuses_disabled_account():
    account = Account(username="alice", secret=make_secret("alice", "pw"), enabled=False)
    assert check_basic(account, "alice", "pw") is False


def test_check_basic_does_not_match_a_shifted_colon():
    # "a:b" + ":" + "c" and "a" + ":" + "b:c" hash alike; the username compare tells them apart.
    account = Account(username="a", secret=make_secret("a", "b:c"))
    assert make_secret("a:b", "c") == account.secret
    assert check_basic(account, "a:b", "c") is False
