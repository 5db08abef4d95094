"""``/users``: the sync accounts and their devices; add one, enable or disable it, set its
password. Passwords are never shown (the store keeps only their digest)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from gateway.admin.web.base import Page, PageError, arg, log
from gateway.admin.web.layout import button_form, field, form, link, section, table
from gateway.store.accounts import make_secret
from gateway.store.base import Account

__all__ = ["UserList"]


class UserList(Page):
    title = "Users"

    @inlineCallbacks
    def get(self, request: Any, session: Any) -> Any:
        ctx = self.ctx

        def load() -> tuple[list, list]:
            with ctx.store.transaction() as tx:
                return tx.list_accounts(), tx.list_devices()
        accounts, devs = yield ctx.run(load)
        csrf = session.csrf
        rows = []
        for a in accounts:
            mine = [d.device_id for d in devs if d.username == a.username]
            rows.append((a.username, tags.span("enabled" if a.enabled else "disabled",
                                               class_="ok" if a.enabled else "error"),
                         [[link(d, "/device", id=d), " "] for d in mine] or "-",
                         [button_form("/users/" + ("disable" if a.enabled else "enable"), csrf,
                                      "Disable" if a.enabled else "Enable", secondary=True,
                                      name=a.username),
                          form("/users/passwd", csrf,
                               field("New password", "password", kind="password",
                                     required=True, autocomplete="new-password"),
                               button="Set password", hidden={"name": a.username})]))
        return [table(("Account", "State", "Devices", "Actions"), rows, empty="No accounts."),
                *section("Add an account", form(
                    "/users/add", csrf, field("Name", "name", required=True),
                    field("Password", "password", kind="password", required=True,
                          autocomplete="new-password"), button="Add", form_id="add-user"))]

    def post(self, request: Any, session: Any) -> Any:
        action = b"/".join(request.postpath).decode("ascii", "replace")
        name, password = arg(request, "name"), arg(request, "password")
        if not name:
            raise PageError("no account name given")
        if action in ("add", "passwd") and not password:
            raise PageError("an empty password is not allowed")
        if action not in ("add", "passwd", "enable", "disable"):
            raise PageError("unknown action", 404)
        ctx = self.ctx

        def change() -> str:
            with ctx.store.transaction() as tx:
                account = tx.get_account(name)
                if action == "add":
                    if account is not None:
                        return f"error:The account {name} exists."
                    tx.put_account(Account(username=name, secret=make_secret(name, password)))
                    return f"info:Added the account {name}."
                if account is None:
                    return f"error:No account {name}."
                if action == "passwd":
                    tx.put_account(replace(account, secret=make_secret(name, password)))
                    return f"info:Changed the password of {name}."
                tx.put_account(replace(account, enabled=action == "enable"))
                return f"info:{action.capitalize()}d {name}."

        def done(text: str) -> str:
            kind, _, message = text.partition(":")
            session.flash.append((kind, message))
            if kind == "info":
                log.info("admin {user}: {what} account {name}", user=session.user,
                         what=action, name=name)
            return "/users"
        return ctx.run(change).addCallback(done)
