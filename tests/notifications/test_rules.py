"""The rules table (PRODUCT.md §9): every kind the code sends has a row, reminders and nudges always go by
e-mail, and the longest matching key wins. The kinds are read from the source itself, so a new `notify(...)`
without a row fails here."""

import ast
from pathlib import Path

import pytest
from django.template.loader import get_template

import anshin
from anshin.notifications import rules

SOURCE = Path(anshin.__file__).parent


class Unresolved(Exception):
    pass


def _enclosing(tree: ast.AST) -> dict[ast.AST, ast.FunctionDef | None]:
    owner: dict[ast.AST, ast.FunctionDef | None] = {}

    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            owner[child] = func
            visit(child, child if isinstance(child, ast.FunctionDef) else func)

    visit(tree, None)
    return owner


def _name(call: ast.Call) -> str:
    return getattr(call.func, "id", None) or getattr(call.func, "attr", "")


def _argument(call: ast.Call, func: ast.FunctionDef, param: str):
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    positional = [a.arg for a in func.args.posonlyargs + func.args.args]
    if param in positional and positional.index(param) < len(call.args):
        return call.args[positional.index(param)]
    raise Unresolved(f"{func.name}(...) called without {param}")


def _resolve(expr, func, tree, owner, depth=0) -> list[str]:
    """The kind strings an expression can take: literals, f-string prefixes ("order." for f"order.{key}"),
    names assigned in the function, or parameters followed to every call of the function in the module."""
    if depth > 5:
        raise Unresolved("too deep")
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.JoinedStr):
        prefix = ""
        for part in expr.values:
            if not isinstance(part, ast.Constant):
                break
            prefix += part.value
        if not prefix.endswith("."):
            raise Unresolved(f"f-string kind without a dotted prefix: {ast.unparse(expr)}")
        return [prefix]
    if isinstance(expr, ast.Name) and func is not None:
        params = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
        if expr.id in params:
            found = []
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and _name(call) == func.name:
                    found += _resolve(_argument(call, func, expr.id), owner.get(call), tree, owner, depth + 1)
            if found:
                return found
        found = []
        for node in ast.walk(func):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == expr.id:
                    found += _resolve(node.value, func, tree, owner, depth + 1)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for i, element in enumerate(target.elts):
                        if isinstance(element, ast.Name) and element.id == expr.id:
                            found += _resolve(node.value.elts[i], func, tree, owner, depth + 1)
        if found:
            return found
    raise Unresolved(ast.unparse(expr))


def kinds_in_source() -> dict[str, str]:
    """{kind or "prefix.": "file:line"} for every `notify(kind=...)` in anshin/."""
    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts or path == SOURCE / "notifications" / "services.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "notify(" not in text and "notice(" not in text:
            continue
        tree = ast.parse(text)
        owner = _enclosing(tree)
        for call in ast.walk(tree):
            # notice(...) holds the arguments of a notify() made later (notify(**one), notify_many): scanned there
            if isinstance(call, ast.Call) and _name(call) in ("notify", "notice"):
                kind = next((k.value for k in call.keywords if k.arg == "kind"), None)
                where = f"{path.relative_to(SOURCE.parent)}:{call.lineno}"
                if kind is None and any(k.arg is None for k in call.keywords):
                    continue  # notify(**one): its kind is in the notice(...) that built `one`
                if kind is None:
                    raise Unresolved(f"notify() without kind= at {where}")
                for value in _resolve(kind, owner.get(call), tree, owner):
                    found.setdefault(value, where)
    return found


def covered(kind: str) -> bool:
    if kind.endswith("."):  # every kind under this prefix
        return any(kind.startswith(rule.kind + ".") for rule in rules.RULES)
    return rules.lookup(kind).kind != ""


@pytest.fixture(scope="module")
def kinds():
    return kinds_in_source()


def test_the_scan_finds_the_kinds_of_every_app(kinds):
    """Guards the scanner itself: literals, f-string prefixes, a parameter (trust/standing.py `_tell`),
    a keyword-only parameter (trust/permits.py) and a tuple assignment (orders reminders) are all followed."""
    for expected in ("message", "message.", "message.nudge", "message.nudge_escalated", "contract.",
                     "contract.termination.", "contract.inspection_reminder", "order.", "order.approval_reminder",
                     "order.first_response_reminder", "scout.received", "test_task.reminder", "deal.date_change.",
                     "account.warning", "account.suspended", "permit.requested", "permit.", "report.received",
                     "application.declined"):
        assert expected in kinds, expected
    assert len(kinds) >= 30


def test_every_kind_sent_by_the_code_has_a_row(kinds):
    missing = {kind: where for kind, where in kinds.items() if not covered(kind)}
    assert not missing, f"add a row to anshin/notifications/rules.py for: {missing}"


def test_the_kinds_being_added_in_issue_5_have_rows():
    for kind in ("review.opened", "review.reminder", "review.submitted", "review.revealed", "review.replied",
                 "withdrawal.requested", "withdrawal.paid", "withdrawal.reversed"):
        assert covered(kind), kind


def test_every_row_is_used_by_some_kind_in_the_code(kinds):
    unused = [rule.kind for rule in rules.RULES
              if not any(k == rule.kind or k.startswith(rule.kind + ".") for k in kinds)]
    assert not unused, f"rows no code sends: {unused}"


def test_reminders_and_nudges_always_go_by_email_and_cannot_be_switched_off(kinds):
    reminders = [kind for kind in kinds if rules.is_reminder(kind)]
    assert {"contract.inspection_reminder", "order.approval_reminder", "message.nudge"} <= set(reminders)
    for kind in reminders + ["review.reminder", "contract.some_new_reminder"]:
        rule = rules.lookup(kind)
        assert rule.email == rules.NOW and not rule.switchable and rule.template == "reminder", kind


def test_longest_key_wins():
    assert rules.lookup("contract.fund").kind == "contract"
    assert rules.lookup("contract.termination.request").kind == "contract.termination"
    assert rules.lookup("contract.inspection_reminder").kind == "contract.inspection_reminder"
    assert rules.lookup("message").email == rules.UNREAD
    assert rules.lookup("message.progress").email == rules.UNREAD
    assert rules.lookup("message.nudge").email == rules.NOW
    assert rules.lookup("message.nudge_escalated").group == rules.REMINDERS
    assert rules.lookup("messages").kind == ""  # a key matches whole dotted parts only
    assert rules.lookup("report.received").email == rules.NEVER


def test_what_can_be_switched_off():
    assert rules.lookup("message").switchable and rules.lookup("order.deliver").switchable
    assert not rules.lookup("withdrawal.paid").switchable
    assert not rules.lookup("account.suspended").switchable
    assert not rules.lookup("report.received").switchable  # in-app only: nothing to switch


def test_every_template_exists_and_groups_are_labelled_in_japanese():
    for rule in (*rules.RULES, rules.FALLBACK):
        for name in ("subject.txt", "body.txt", "body.html"):
            get_template(f"notifications/email/{rule.template}/{name}")
    for group in rules.GROUPS:
        assert any("\u3040" <= ch <= "\u9fff" for ch in group.label), group
    assert len({g.key for g in rules.GROUPS}) == len(rules.GROUPS)


def test_retry_backoff_doubles_up_to_a_cap():
    waits = [rules.backoff(n) for n in range(1, rules.EMAIL_MAX_ATTEMPTS + 1)]
    assert waits[0] == rules.EMAIL_RETRY_FIRST and waits[1] == 2 * rules.EMAIL_RETRY_FIRST
    assert all(a <= b for a, b in zip(waits, waits[1:], strict=False))
    assert max(waits) <= rules.EMAIL_RETRY_MAX
