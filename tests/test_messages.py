"""Every user-facing text lives in inspection/messages/ (zh.py, en.py): the catalogues agree, every
key used exists, every value a text names is passed, and no refusal is written as a literal."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from inspection import errors
from inspection.messages import en, negotiate, placeholders, zh
from inspection.messages.decoding import explain

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p
    for folder in ("inspection", "api")
    for p in (ROOT / folder).rglob("*.py")
    if "migrations" not in p.parts and "messages" not in p.parts
)
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
# texts that are a value and nothing else ("{name}", a field name and its message): no words to translate
NO_WORDS = {"type.other", "field.summary"}


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in SOURCES]


def _error_classes(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """DomainError and every class that derives from it anywhere in the code (by name, to a fixpoint)."""
    names = {name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, Exception)}
    names &= {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, errors.DomainError)}
    grew = True
    while grew:
        grew = False
        for _, tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def _is_text(node: ast.expr) -> bool:
    """A literal sentence: a string, an f-string, text glued with + or %, str(...) or "...".format()."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id == "str":
            return True
        if isinstance(f, ast.Attribute) and f.attr in ("format", "join") and isinstance(f.value, ast.Constant):
            return True
    if isinstance(node, ast.IfExp):
        return _is_text(node.body) or _is_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(_is_text(v) for v in node.values)
    return False


def test_the_catalogues_hold_the_same_keys_and_values() -> None:
    assert zh.MESSAGES.keys() == en.MESSAGES.keys(), set(zh.MESSAGES) ^ set(en.MESSAGES)
    for key, text in zh.MESSAGES.items():
        # Chinese may leave out a value (an id, a code) but never name one the English does not
        assert placeholders(text) <= placeholders(en.MESSAGES[key]), key
        assert key in NO_WORDS or CJK.search(text), f"{key}: the Chinese text has no Chinese in it: {text!r}"


def test_every_message_key_exists_and_gets_its_values() -> None:
    problems = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
                problems.append(f"{where}: t() takes the key as a literal, so this test can check it")
                continue
            key = node.args[0].value
            if key not in zh.MESSAGES:
                problems.append(f"{where}: no message {key!r}")
                continue
            if any(k.arg is None for k in node.keywords):
                continue  # **values: checked when rendered
            given = {k.arg for k in node.keywords}
            for lang, catalogue in (("zh", zh.MESSAGES), ("en", en.MESSAGES)):
                missing = placeholders(catalogue[key]) - given
                if missing:
                    problems.append(f"{where}: {lang} {key!r} names {sorted(missing)}, not passed")
    assert not problems, "\n".join(problems)


def test_no_refusal_is_written_outside_the_catalogues() -> None:
    """Each DomainError (and subclass) is raised with a Message: `t("key", ...)` or a value that
    holds one (mypy checks its type); a string, f-string or str(exc) here is English or Chinese
    that a reviewer of the catalogues never sees, and a reader of the other language gets wrong."""
    trees = _trees()
    classes = _error_classes(trees)
    assert {"NotFound", "ValidationFailed", "UpgradeRequired", "SignInRequired", "ReportsBusy"} <= classes
    problems = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in classes:
                first = node.args[0] if node.args else None
                if first is None or _is_text(first):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.id}(...) with a literal text")
                for k in node.keywords:
                    if k.arg == "errors" and isinstance(k.value, ast.List | ast.ListComp):
                        for d in ast.walk(k.value):
                            if isinstance(d, ast.Dict):
                                for dk, dv in zip(d.keys, d.values, strict=True):
                                    is_message = isinstance(dk, ast.Constant) and dk.value == "message"
                                    if is_message and _is_text(dv):
                                        problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: errors[].message")
            # a Message is made through t(), whose key this file's other test checks
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Message":
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: Message(...) instead of t(...)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh"),
        ("", "zh"),
        ("zh-CN,zh;q=0.9", "zh"),
        ("en", "en"),
        ("en-US;q=1, zh;q=0.5", "en"),
        ("zh;q=0.5, en-GB;q=0.8", "en"),
        ("en;q=0.5, zh", "zh"),
        ("fr, de;q=0.8", "zh"),
        ("fr, en;q=0.1", "en"),
        ("en;q=0", "zh"),
        ("*", "zh"),
        ("en;q=abc, zh-TW", "zh"),
    ],
)
def test_accept_language_picks_the_catalogue(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


@pytest.mark.parametrize(
    ("msgspec_says", "zh_text", "en_text"),
    [
        ("Expected `int`, got `str`", "应为整数，实际为文字", "expected an integer, got a string"),
        ("Invalid RFC3339 encoded datetime", "不是有效的时间", "not a valid time"),
        ("Object missing required field `kind`", "缺少必填字段 kind", "missing required field kind"),
        ("Object contains unknown field `colour`", "含有未知字段 colour", "unknown field colour"),
        ("Expected `str` of length <= 200", "文字不得超过 200 个字符", "at most 200 characters"),
        ("Invalid enum value 'fire'", "不是可选的值：'fire'", "not one of the choices: 'fire'"),
        ("Invalid UUID", "不是有效的编号", "not a valid UUID"),
        ("something msgspec may say one day", "填写的值无效", "not a valid value"),
    ],
)
def test_decoding_errors_are_said_in_both_languages(msgspec_says: str, zh_text: str, en_text: str) -> None:
    message = explain(msgspec_says)
    assert zh_text in message.render("zh")
    assert en_text in message.render("en")
