"""No import cycle inside gateway/, between single modules.

The import-linter contract ``acyclic_siblings`` (pyproject.toml, run by ``make test``)
finds cycles between sibling modules and packages at every depth; this test also finds
those through a package's ``__init__`` (``gateway.x`` importing ``gateway.x.y`` that
imports ``gateway.x`` back), which that contract does not see. Function-level imports
count: they are cycles all the same, only deferred.
"""

from __future__ import annotations

import grimp


def cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(
                        graph.find_modules_directly_imported_by(child) & modules))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    """A planted cycle (and one through a package __init__) is reported, a chain is not."""
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c", "q", "q.x"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    graph.add_import(importer="q", imported="q.x")
    graph.add_import(importer="q.x", imported="q")
    assert cycles(graph, set(graph.modules)) == [["p.a", "p.b"], ["q", "q.x"]]


def test_no_import_cycle_inside_gateway() -> None:
    graph = grimp.build_graph("gateway", include_external_packages=False)
    found = cycles(graph, set(graph.modules))
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)
