"""Error codes are enum members, one ``StrEnum`` per domain, and a code means one thing.

The static check walks every module of ``marketplace/`` (except ``orders/payments/``, whose codes mirror
Stripe's API) and names ``file:line`` wherever a ``code=`` argument, a ``code`` class attribute or the code of
``error_body(...)`` is a string literal. The inventory checks that every domain has its enum, that no value means
two things in two enums unless listed in :data:`SHARED` with its one meaning, and that a declared code is the code
an error actually carries.
"""

from __future__ import annotations

import ast
import enum
import importlib
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest

import marketplace
from marketplace.errors import DomainError, ErrorCode

PACKAGE = Path(marketplace.__file__).parent
EXEMPT = (PACKAGE / "orders" / "payments",)  # the payment backends speak Stripe's own error codes
# Functions whose first positional argument is an error code.
CODE_FIRST = frozenset({"error_body"})

# The one enum of each domain, by the module that holds it.
ENUMS = {
    "marketplace.errors": {"ErrorCode"},
    "marketplace.access.errors": {"AccessErrorCode"},
    "marketplace.aiact.errors": {"AiActErrorCode"},
    "marketplace.accounts.errors": {"AccountErrorCode"},
    "marketplace.api.errors": {"ApiErrorCode"},
    "marketplace.apikeys.errors": {"ApiKeyErrorCode"},
    "marketplace.catalog.errors": {"CatalogErrorCode"},
    "marketplace.custom.errors": {"CustomErrorCode"},
    "marketplace.delivery.errors": {"DeliveryErrorCode", "RefusalReason"},  # RefusalReason: a refused download's
    "marketplace.exports.errors": {"ExportErrorCode"},
    "marketplace.invoices.errors": {"InvoiceErrorCode"},
    "marketplace.jobs.errors": {"JobsErrorCode"},
    "marketplace.sharing.errors": {"SharingErrorCode", "ProtocolErrorCode"},
    "marketplace.licenses.errors": {"LicenseErrorCode"},
    "marketplace.oauth.errors": {"OAuthErrorCode"},
    "marketplace.orders.errors": {"OrderErrorCode"},
    "marketplace.sso.errors": {"SsoErrorCode"},
    "marketplace.viewer.errors": {"ViewerErrorCode"},
    "marketplace.webhooks.errors": {"WebhookErrorCode"},
    "marketplace.withdrawals.errors": {"WithdrawalErrorCode"},
}

# Values that appear in more than one enum, with the enums and the one thing they mean in all of them.
SHARED = {
    "invalid_credential": ({"ApiKeyErrorCode", "OAuthErrorCode"}, "a bearer secret that is malformed or unknown"),
    "version_immutable": ({"CatalogErrorCode", "DeliveryErrorCode"}, "a published version can no longer change"),
    "dataset_unavailable": ({"LicenseErrorCode", "OrderErrorCode"}, "the dataset is not published for licensing"),
    "offer_retired": ({"LicenseErrorCode", "OrderErrorCode"}, "the offer is no longer on sale"),
    "illegal_transition": (
        {
            "AccessErrorCode",
            "CustomErrorCode",
            "ExportErrorCode",
            "JobsErrorCode",
            "LicenseErrorCode",
            "ViewerErrorCode",
            "WithdrawalErrorCode",
        },
        "a state change its state machine does not allow",
    ),
    "offer_expired": ({"LicenseErrorCode", "OrderErrorCode"}, "a private offer past its expiry is no longer on sale"),
}


# --- the static check ----------------------------------------------------------------------------------------------


def _string_literals(node: ast.AST) -> list[ast.Constant]:
    """The string literals ``node`` may evaluate to: itself, either branch of ``a if c else b``, an operand of
    ``a or b``, an f-string (as written). Not the arguments of a call (a schema field's description)."""
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) else []
    if isinstance(node, ast.JoinedStr):
        return [ast.Constant(value=ast.unparse(node), lineno=node.lineno)]
    if isinstance(node, ast.IfExp):
        return _string_literals(node.body) + _string_literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [literal for value in node.values for literal in _string_literals(value)]
    return []


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _class_code_values(klass: ast.ClassDef) -> list[ast.expr]:
    values: list[ast.expr] = []
    for statement in klass.body:
        if isinstance(statement, ast.AnnAssign):
            targets: list[ast.expr] = [statement.target]
        elif isinstance(statement, ast.Assign):
            targets = statement.targets
        else:
            continue
        if statement.value is not None and any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
            values.append(statement.value)
    return values


def literal_codes(source: str, filename: str) -> list[str]:
    """``filename:line: ...`` for each error code given as a string literal in ``source``."""
    offences: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.keyword) and node.arg == "code":
            offences += [(c.lineno, f"code={c.value!r}") for c in _string_literals(node.value)]
        elif isinstance(node, ast.ClassDef):
            for value in _class_code_values(node):
                offences += [(c.lineno, f"class {node.name}: code = {c.value!r}") for c in _string_literals(value)]
        elif isinstance(node, ast.Call) and _call_name(node) in CODE_FIRST and node.args:
            offences += [(c.lineno, f"{_call_name(node)}({c.value!r}, ...)") for c in _string_literals(node.args[0])]
    return [f"{filename}:{line}: {what}" for line, what in sorted(offences)]


def _checked_modules() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if not any(path.is_relative_to(exempt) for exempt in EXEMPT)]


def test_no_error_code_is_a_string_literal() -> None:
    offences: list[str] = []
    root = PACKAGE.parent
    for path in _checked_modules():
        offences += literal_codes(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    assert not offences, "error codes must be members of the domain's ErrorCode enum:\n" + "\n".join(offences)


def test_the_walk_covers_the_domains_and_skips_only_the_payment_backends() -> None:
    checked = {path.relative_to(PACKAGE).as_posix() for path in _checked_modules()}
    assert {"errors.py", "api/core.py", "orders/base.py", "sso/views.py", "delivery/errors.py"} <= checked
    assert not any(name.startswith("orders/payments/") for name in checked)


SAMPLE = """
from dataclasses import dataclass

@dataclass
class Refused(Conflict):
    code: str = "refused"

class Legacy(DomainError):
    code = "legacy"

def view(flag):
    raise Conflict(message="no", code="plain")
    raise Conflict(message="no", code=Codes.A if flag else "fallback")
    raise Conflict(message="no", code=f"made_{flag}")
    return error_body("upload_failed", "message")
    raise Conflict(message="no", code=getattr(flag, "code", None) or "unknown")
"""

CLEAN = """
class Refused(Conflict):
    code: str = Codes.REFUSED

class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable error code."})

def view(error, reason):
    code = (error.name or Codes.ERROR).lower().replace(" ", "_")
    redirect("/", code=303)
    raise Conflict(message="no", code=reason)
    return error_body(error.code, "message")
"""


def test_the_check_names_file_and_line_of_each_literal_code() -> None:
    assert literal_codes(SAMPLE, "x.py") == [
        "x.py:6: class Refused: code = 'refused'",
        "x.py:9: class Legacy: code = 'legacy'",
        "x.py:12: code='plain'",
        "x.py:13: code='fallback'",
        "x.py:14: code=\"f'made_{flag}'\"",
        "x.py:15: error_body('upload_failed', ...)",
        "x.py:16: code='unknown'",
    ]
    assert literal_codes(CLEAN, "y.py") == []


# --- the inventory -------------------------------------------------------------------------------------------------


def _enums() -> dict[str, type[enum.StrEnum]]:
    found: dict[str, type[enum.StrEnum]] = {}
    for module_name in ENUMS:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, enum.StrEnum) and value.__module__ == module_name:
                found[name] = value
    return found


def test_each_domain_has_its_error_code_enum() -> None:
    errors_modules = {
        f"marketplace.{info.name}.errors"
        for info in pkgutil.iter_modules([str(PACKAGE)])
        if info.ispkg and (PACKAGE / info.name / "errors.py").exists()
    }
    assert errors_modules | {"marketplace.errors"} == set(ENUMS)
    for module_name, names in ENUMS.items():
        module = importlib.import_module(module_name)
        defined = {
            name
            for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, enum.StrEnum) and value.__module__ == module_name
        }
        assert defined == names, module_name


def test_a_value_is_in_one_enum_unless_documented_as_shared() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for name, klass in _enums().items():
        values = [member.value for member in klass]
        assert len(values) == len(set(values)), f"{name} repeats a value"
        for value in values:
            owners[value].add(name)
    shared = {value: names for value, names in owners.items() if len(names) > 1}
    assert shared == {value: names for value, (names, _meaning) in SHARED.items()}


def test_the_generic_codes_are_the_ones_the_api_has_always_sent() -> None:
    assert {member.value for member in ErrorCode} == {
        "error",
        "validation_failed",
        "bad_request",
        "not_authenticated",
        "permission_denied",
        "not_found",
        "conflict",
        "throttled",
        "invalid_token",
        "service_unavailable",
        "statement_timeout",
        "csrf_failed",
        "internal_error",
    }


def _all_error_classes() -> list[type[DomainError]]:
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="marketplace."):
        if info.name != "marketplace.wsgi":
            importlib.import_module(info.name)
    seen: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        klass = pending.pop()
        seen.append(klass)
        pending += klass.__subclasses__()
    return seen


def test_a_declared_code_is_the_code_the_error_carries() -> None:
    """A ``code`` class attribute on a subclass that is not itself a dataclass was silently overridden by the
    inherited ``__init__``'s default (``SsoRefused`` carried ``permission_denied``)."""
    declared = [klass for klass in _all_error_classes() if "code" in vars(klass)]
    assert len(declared) >= 15
    wrong = {klass.__qualname__: klass().code for klass in declared if klass().code != vars(klass)["code"]}
    assert not wrong


@pytest.mark.parametrize(
    ("path", "expected"),
    [("marketplace.sso.services.SsoRefused", "sso_refused"), ("marketplace.sso.views.SsoFailed", "sso_failed")],
)
def test_single_sign_on_errors_carry_their_own_codes(path: str, expected: str) -> None:
    module_name, _, class_name = path.rpartition(".")
    klass = getattr(importlib.import_module(module_name), class_name)
    assert klass(message="refused").code == expected
