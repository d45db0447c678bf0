"""Bad input raises ValueError with the CLI's one-line message, for every
case of the CLI's bad-input tests (tests/test_cli.cpp, bad_cases(): read
from there, so a case added to the CLI's list is tested here too).

Each case runs twice: the CLI (its stderr line, less "orbitsweep: ") and
the package with the same flags as keywords (``--weight-decay X`` ->
``weight_decay="X"``, the values as the CLI's text). Cases that a Python
call cannot express (an unknown command, a flag without its value, a
positional argument, a helper-built argument) are listed in NOT_PYTHON."""
import os
import re

import pytest

import orbitsweep

from conftest import ROOT

# command-line shapes with no keyword-argument form
NOT_PYTHON = {"unknown_command", "missing_value", "positional_argument"}


def c_strings(text):
    """The C string literals of text, decoded."""
    out = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', text):
        out.append(bytes(m.group(1), "utf-8").decode("unicode_escape"))
    return out


def groups(text):
    """The top-level {...} groups of text (strings may hold braces)."""
    out, depth, start, i = [], 0, None, 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = text.index('"', i + 1) if text[i + 1] != '"' else i + 1
            while text[i - 1] == "\\" and text[i - 2] != "\\":
                i = text.index('"', i + 1)
        elif ch == "{":
            depth += 1
            if depth == 1:
                start = i
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(text[start + 1:i])
        i += 1
    return out


def bad_cases():
    """(name, args, file, file_text, literal) for each case of bad_cases()."""
    src = open(os.path.join(ROOT, "tests", "test_cli.cpp")).read()
    body = src[src.index("const std::vector<BadCase> &bad_cases()"):]
    body = body[body.index("cases = {") + len("cases = "):]
    body = groups(body)[0]
    cases = []
    for case in groups(body):
        parts = groups(case)
        name = c_strings(case.split(",")[0])[0]
        args_text = parts[0]
        literal = re.sub(r'"((?:[^"\\]|\\.)*)"', "", args_text).replace(",", "").strip() == ""
        tail = case[case.rindex("}") + 1:]
        extra = c_strings(tail)
        cases.append((name, c_strings(args_text), extra[0] if extra else None,
                      extra[1] if len(extra) > 1 else None, literal))
    return cases


CASES = bad_cases()


def test_the_cases_were_read():
    assert len(CASES) >= 60
    assert {"lr_negative", "scheduler_unknown", "data_malformed", "trace_two_trainings"} <= \
        {c[0] for c in CASES}


def keywords(args):
    """--flag VALUE pairs as keyword arguments, repeats as lists."""
    kw = {}
    for flag, value in zip(args[::2], args[1::2]):
        assert flag.startswith("--"), flag
        kw.setdefault(flag[2:].replace("-", "_"), []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in kw.items()}


@pytest.mark.parametrize("name,args,file,file_text,literal", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_the_cli_message(cli, tmp_path, monkeypatch, name, args, file, file_text,
                                          literal):
    if name in NOT_PYTHON or not literal:
        pytest.skip("no keyword-argument form")
    monkeypatch.chdir(tmp_path)
    if file:
        (tmp_path / file).write_text(file_text)
    p = cli(args, cwd=tmp_path, check=False)
    assert p.returncode == 2
    line = p.stderr.decode().splitlines()[0]
    assert line.startswith("orbitsweep: ")
    fn = {"run": orbitsweep.run, "trace": orbitsweep.trace, "data": orbitsweep.data}[args[0]]
    with pytest.raises(ValueError) as e:
        fn(**keywords(args[1:]))
    assert str(e.value) == line[len("orbitsweep: "):]
    assert os.listdir(tmp_path) == ([file] if file else [])


def test_python_only_bad_input():
    with pytest.raises(ValueError, match=r"^sweep file 'no-such-sweep.yaml': No such file"):
        orbitsweep.run("no-such-sweep.yaml")
    with pytest.raises(TypeError):
        orbitsweep.run(lr=object())
    with pytest.raises(ValueError, match=r"^--lr: empty value$"):
        orbitsweep.run(lr=[])
    with pytest.raises(ValueError, match=r"^the results table needs about .* --max-memory allows"):
        orbitsweep.run(lr="logspace(-4,0,100000)", max_memory=1.5e8)  # the CLI's run fits, the table not
    with pytest.raises(ValueError, match=r"^--target: '0' is out of range"):
        orbitsweep.summarize("results.csv", target=0)
