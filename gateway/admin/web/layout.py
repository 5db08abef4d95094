"""The shell every admin page shares (navigation, flash messages, the stylesheet) and
small builders for tables and forms, all ``twisted.web.template`` tags: every value put
into a page is escaped by the flattener, never pasted into markup."""

from __future__ import annotations

import time
from typing import Any, Iterable, Sequence
from urllib.parse import urlencode

from twisted.web.template import Tag, tags

from gateway import __version__

__all__ = ["NAV", "CSS", "page", "table", "form", "button_form", "when", "size", "link",
           "field", "select", "section", "dl"]

NAV = (("Devices", "/devices"), ("Sessions", "/sessions"), ("Notifications", "/notifications"),
       ("Users", "/users"), ("Health", "/health"))

CSS = b"""
*{box-sizing:border-box}
body{margin:0;font:16px/1.4 system-ui,sans-serif;background:#f4f6f8;color:#1b1f24}
header{background:#1f4e79;color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center}
header a{color:#fff;text-decoration:none;padding:.2em .4em;border-radius:4px}
header a.on{background:#3a78b5}
header .brand{font-weight:700;margin-right:auto}
header form{margin:0}
main{padding:1em;max-width:70em;margin:auto}
h1{font-size:1.4em;margin:.2em 0 .6em}
h2{font-size:1.15em;margin:1.2em 0 .4em}
.wrap{overflow-x:auto;background:#fff;border:1px solid #d0d7de;border-radius:6px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4em .6em;border-bottom:1px solid #e5e9ed;vertical-align:top}
th{background:#eef2f6;font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#116329;font-weight:600}.partial,.queued,.sent,.live{color:#9a6700;font-weight:600}
.error,.failed,.auth_failed,.expired{color:#cf222e;font-weight:600}.delivered{color:#116329;font-weight:600}
.flash{padding:.6em 1em;border-radius:6px;margin:0 0 1em}
.flash.info{background:#dafbe1;border:1px solid #4ac26b}.flash.error{background:#ffebe9;border:1px solid #ff8182}
form.inline{display:inline}
form.box{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.8em;margin:.6em 0;display:flex;flex-wrap:wrap;gap:.5em;align-items:end}
label{display:flex;flex-direction:column;font-size:.9em;gap:.2em}
input,select,button{font:inherit;padding:.35em .5em;border:1px solid #8c959f;border-radius:4px;max-width:100%}
button{background:#1f6feb;color:#fff;border-color:#1f6feb;cursor:pointer}
button.secondary{background:#fff;color:#1f6feb}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.8em;margin:0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
pre{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6em;overflow-x:auto;font-size:.85em}
.muted{color:#57606a}
@media (max-width:40em){body{font-size:15px}main{padding:.5em}dl{grid-template-columns:1fr}th,td{padding:.3em .4em}}
"""


def when(t: float | None) -> str:
    if not t:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def size(n: int | None) -> str:
    n = n or 0
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


def _cell(value: Any) -> Any:
    """Numbers as text (the flattener takes text, tags and lists of them)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def link(text: Any, path: str, **query: Any) -> Tag:
    href = path + ("?" + urlencode(query) if query else "")
    return tags.a(str(text), href=href)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str = "none",
          numeric: Iterable[int] = ()) -> Tag:
    nums = set(numeric)
    body = [tags.tr(*(tags.td(_cell(cell), class_="num") if i in nums else tags.td(_cell(cell))
                      for i, cell in enumerate(row))) for row in rows]
    if not body:
        body = [tags.tr(tags.td(empty, colspan=str(len(headers)), class_="muted"))]
    return tags.div(tags.table(tags.thead(tags.tr(*(tags.th(h) for h in headers))),
                               tags.tbody(*body)), class_="wrap")


def field(label: str, name: str, *, value: str = "", kind: str = "text",
          required: bool = False, autocomplete: str = "off") -> Tag:
    attrs = {"type": kind, "name": name, "value": value, "autocomplete": autocomplete}
    if required:
        attrs["required"] = "required"
    return tags.label(label, tags.input(**attrs))


def select(label: str, name: str, options: Iterable[tuple[str, str]]) -> Tag:
    return tags.label(label, tags.select(*(tags.option(text, value=value)
                                           for value, text in options), name=name))


def form(action: str, csrf: str, *fields_: Tag, button: str, hidden: dict | None = None,
         css: str = "box", button_class: str = "", form_id: str | None = None) -> Tag:
    inputs = [tags.input(type="hidden", name="csrf", value=csrf)]
    inputs += [tags.input(type="hidden", name=k, value=v) for k, v in (hidden or {}).items()]
    attrs = {"method": "post", "action": action, "class": css}
    if form_id:
        attrs["id"] = form_id
    b = tags.button(button, type="submit")
    if button_class:
        b(class_=button_class)
    return tags.form(*inputs, *fields_, b, **attrs)


def button_form(action: str, csrf: str, button: str, *, secondary: bool = False,
                form_id: str | None = None, **hidden: str) -> Tag:
    return form(action, csrf, button=button, hidden=hidden, css="inline",
                button_class="secondary" if secondary else "", form_id=form_id)


def section(title: str, *content: Any) -> list:
    return [tags.h2(title), *content]


def dl(pairs: Iterable[tuple[str, Any]]) -> Tag:
    items: list[Tag] = []
    for k, v in pairs:
        items += [tags.dt(k), tags.dd("-" if v is None or v == "" else _cell(v))]
    return tags.dl(*items)


def page(title: str, body: Any, *, user: str | None, csrf: str | None, here: str,
         flash: Sequence[tuple[str, str]] = ()) -> Tag:
    nav: list[Any] = [tags.span(f"omads-gateway {__version__}", class_="brand")]
    if user:
        nav += [tags.a(name, href=path, class_="on" if here.startswith(path) else "")
                for name, path in NAV]
        nav.append(form("/logout", csrf or "", button=f"Log out {user}", css="inline",
                        button_class="secondary", form_id="logout"))
    return tags.html(
        tags.head(tags.meta(charset="utf-8"),
                  tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
                  tags.title(f"{title} · omads-gateway"),
                  tags.link(rel="stylesheet", href="/static/admin.css")),
        tags.body(tags.header(*nav),
                  Tag("main")(*(tags.div(text, class_=f"flash {kind}") for kind, text in flash),
                            tags.h1(title), body)),
        lang="en")
