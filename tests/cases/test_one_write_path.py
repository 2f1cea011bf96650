"""One write path: only the case engine (``src/civicgrid/cases/``) writes the tables of the cases app.

Every other module reads cases models as it likes but changes them through ``civicgrid.cases.services``. This
test parses every module outside the engine: a write method (``create``, ``bulk_create``, ``update``, ``delete``,
``save`` …) called on a cases model, its manager, a queryset or an instance derived from it, a
``SetBasedInserter`` over one, or raw SQL that changes a ``cases_*`` table, fails it with the file and line.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "civicgrid"
ENGINE = SRC / "cases"
WRITE_METHODS = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "update",
        "delete",
        "save",
        "get_or_create",
        "update_or_create",
        "_do_insert",
        "_do_update",
    }
)
INSERTERS = frozenset({"SetBasedInserter"})
RAW_WRITE = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+[\"`]?cases_", re.IGNORECASE)


def _cases_model_names() -> set[str]:
    tree = ast.parse((ENGINE / "models.py").read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def _root(node: ast.AST) -> ast.AST:
    """The innermost receiver of a chain such as ``Case.objects.filter(x).select_for_update().update``."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return node


def cases_writes(source: str, *, models: set[str] | None = None) -> list[tuple[int, str]]:
    """``(line, what)`` for every write to a cases model in ``source`` (the text of one module)."""
    models = models if models is not None else _cases_model_names()
    tree = ast.parse(source)
    names: set[str] = set()  # local names bound to cases models
    modules: set[str] = set()  # local names bound to civicgrid.cases.models
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "civicgrid.cases.models":
            names |= {a.asname or a.name for a in node.names if a.name in models}
        elif isinstance(node, ast.ImportFrom) and node.module == "civicgrid.cases":
            modules |= {a.asname or a.name for a in node.names if a.name == "models"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == "civicgrid.cases.models" and a.asname}

    def is_model(expr: ast.AST) -> bool:
        if isinstance(expr, ast.Name):
            return expr.id in names
        return (
            isinstance(expr, ast.Attribute)
            and expr.attr in models
            and (
                (isinstance(expr.value, ast.Name) and expr.value.id in modules)
                or ast.unparse(expr.value) == "civicgrid.cases.models"
            )
        )

    def derived(expr: ast.AST) -> bool:
        """A model, or a manager / queryset / instance reached from one, or a variable holding such."""
        node = expr
        while True:
            if is_model(node):
                return True
            if isinstance(node, ast.Name):
                return node.id in tainted
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call):
                node = node.func
            elif isinstance(node, ast.Subscript):
                node = node.value
            else:
                return False

    tainted: set[str] = set()  # variables assigned from a cases model (instances, querysets)
    for _ in range(3):  # a few rounds: q = Case.objects.filter(); case = q.first()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                if derived(node.value):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    tainted |= {t.id for t in targets if isinstance(t, ast.Name)}
            elif (
                isinstance(node, ast.For | ast.comprehension)
                and derived(node.iter)
                and isinstance(node.target, ast.Name)
            ):
                tainted.add(node.target.id)

    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_METHODS
            and derived(node.func.value)
        ):
            found.append((node.lineno, ast.unparse(node.func)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            callee = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if callee in INSERTERS and node.args and derived(node.args[0]):
                found.append((node.lineno, f"{callee}({ast.unparse(node.args[0])})"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and RAW_WRITE.search(node.value):
            found.append((node.lineno, f"SQL {node.value[:60]!r}"))
    return sorted(found)


def test_no_module_outside_the_case_engine_writes_cases_tables():
    models = _cases_model_names()
    assert {
        "Case",
        "CaseEvent",
        "Attachment",
        "CaseDepartment",
        "Notification",
        "CaseNumberCounter",
    } <= models
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if ENGINE in path.parents:
            continue
        for line, what in cases_writes(path.read_text(encoding="utf-8"), models=models):
            offenders.append(f"{path.relative_to(SRC.parent)}:{line}: {what}")
    assert not offenders, "cases tables written outside civicgrid.cases (use its services):\n" + "\n".join(
        offenders
    )


WRITES = {
    "manager create": """
        from civicgrid.cases.models import CaseEvent
        CaseEvent.objects.create(case_id=1, seq=2, move="locate")
    """,
    "aliased bulk_create": """
        from civicgrid.cases.models import CaseDepartment as Link
        Link.objects.bulk_create([Link(case_id=1, department_id=2)])
    """,
    "queryset update over lines": """
        from civicgrid.cases import models as cm
        (
            cm.Case.objects.filter(pk=1)
            .update(state="closed")
        )
    """,
    "instance save": """
        from civicgrid.cases.models import Case
        def touch(pk):
            case = Case.objects.get(pk=pk)
            case.title = "x"
            case.save(update_fields=["title"])
    """,
    "queryset variable delete": """
        from civicgrid.cases.models import Notification
        old = Notification.objects.filter(read_at__isnull=False)
        old.delete()
    """,
    "loop instance delete": """
        from civicgrid.cases.models import Attachment
        for a in Attachment.objects.filter(case=None):
            a.delete()
    """,
    "set-based insert": """
        from civicgrid.cases.models import CaseNumberCounter
        from civicgrid.core.bulk import SetBasedInserter
        SetBasedInserter(CaseNumberCounter).insert([{"day": d, "last": 1}])
    """,
    "raw SQL": """
        from django.db import connection
        with connection.cursor() as cur:
            cur.execute("UPDATE cases_case SET state = %s WHERE id = %s", ["closed", 1])
    """,
}


@pytest.mark.parametrize("snippet", WRITES.values(), ids=WRITES.keys())
def test_the_check_catches_a_write_added_outside_the_engine(snippet):
    assert cases_writes(textwrap.dedent(snippet)), snippet


def test_the_check_leaves_reads_and_other_apps_writes_alone():
    source = textwrap.dedent(
        """
        from civicgrid.cases.models import Case, CaseEvent
        from civicgrid.cases import services
        from civicgrid.intake.models import PlacementTask
        case = Case.objects.select_related("grid").get(pk=1)
        n = CaseEvent.objects.filter(case=case).count()
        services.perform(actor=None, case=case, move="accept", version=case.version)
        PlacementTask.objects.filter(case_id=case.pk).update(status="placed")
        PlacementTask.objects.create(case_id=case.pk)
        rows = "SELECT id FROM cases_case"
        """
    )
    assert cases_writes(source) == []
