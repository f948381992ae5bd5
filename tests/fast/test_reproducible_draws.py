"""The gate's draws are a function of the spec and the check alone, not of what the process imported before.

Hypothesis (6.131+) mixes into its draws, with probability 0.05 each, literals it collects from the local
modules the process has imported.  So the same derandomized search drew other cases in a pytest session that
had imported more modules than in ``initcheck check``: on the torch backend, SGD's check_weight_decay passed
alone and failed after tests/fast.  The battery's search ignores those literals.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, {tmp!r})
    if {import_extra}:
        import extra_literals  # a local module full of numbers, as a test module or a plugin would be
    from hypothesis import strategies as st
    from initcheck.battery import Item, run_check
    from initcheck.checks import Check

    seen = []
    strategy = lambda spec: st.fixed_dictionaries(
        {{"x": st.floats(-1e6, 1e6), "n": st.integers(-10**9, 10**9), "k": st.integers(0, 3)}})
    check = Check(name="check_records", func=lambda spec, case: seen.append(case), kind="initializer",
                  family="structural", applies=lambda spec: True, strategy=strategy, examples=60)
    run_check(Item("doubles>Recorder", object(), check), "ci")
    print(json.dumps(seen))
''')


def _draws(tmp_path, import_extra: bool) -> list:
    code = _SCRIPT.format(tmp=str(tmp_path), import_extra=import_extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_ci_draws_do_not_depend_on_the_modules_imported_before(tmp_path) -> None:
    literals = ", ".join(str(v) for v in [123456.789, -98765.4321, 31337, -271828, 4242.42, 999331, -0.0625, 77.125])
    (tmp_path / "extra_literals.py").write_text(f"VALUES = [{literals}]\nMORE = {{i: i * 7919 for i in (11, 13)}}\n")
    plain, after_imports = _draws(tmp_path, False), _draws(tmp_path, True)
    assert len(plain) == 60
    assert plain == after_imports, [(a, b) for a, b in zip(plain, after_imports) if a != b][:3]
