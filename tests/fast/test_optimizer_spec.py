"""OptimizerSpec validation: invalid specs fail with the field named; built-ins are valid."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from initcheck.references.optimizers import RULES
from initcheck.spec import ExpectedFailure, OptimizerSpec, SpecError
from initcheck.strategies import epsilons, unit_interval


def _ok(**kw):
    base = dict(name="Mine", factory=lambda **k: None, rule=RULES["adam"],
                space={"beta_1": unit_interval(), "epsilon": epsilons()},
                conventions={"epsilon_form": "epsilon_hat"}, defaults={"learning_rate": 0.001},
                tags=frozenset({"trajectory", "defaults"}))
    base.update(kw)
    return OptimizerSpec(**base)


def test_valid_spec_passes():
    _ok().validate()
    assert OptimizerSpec.kind == "optimizer"


@pytest.mark.parametrize("field,value", [
    ("name", "has space"), ("name", ""), ("factory", None), ("rule", "adam"),
    ("tags", frozenset({"bogus"})), ("space", {"not_read": st.just(1.0)}),
    ("conventions", {"epsilon_form": "inside"}), ("conventions", {"nope": "x"}),
    ("defaults", {}), ("dtypes", ("float16",)), ("min_rank", 0),
    ("tag_versions", {"accumulation": "keras>=3"}), ("tags", frozenset({"nesterov"})),
    ("expected_failures", {"check_x": ExpectedFailure(reason="")}),
    ("learning_rate", 0.1),
])
def test_invalid_spec_names_field(field, value):
    with pytest.raises(SpecError) as info:
        _ok(**{field: value}).validate()
    assert info.value.field_name.split("[")[0] == field or field in ("learning_rate",)


def test_tag_version_range_is_honoured():
    spec = _ok(tags=frozenset({"trajectory", "defaults", "accumulation"}),
               tag_versions={"accumulation": "keras>=99"})
    spec.validate()
    assert spec.has("trajectory") and not spec.has("accumulation")


def test_reference_hp_adds_conventions():
    assert _ok().reference_hp({"beta_1": 0.5})["epsilon_form"] == "epsilon_hat"


def test_builtin_specs_valid_and_cover_keras():
    from initcheck import keras_compat as kc
    from initcheck.builtin.optimizers import OUT_OF_SCOPE, builtin_specs

    specs = builtin_specs()
    for spec in specs:
        spec.validate()
    covered = {s.factory.__name__.replace("keras_", "") for s in specs}
    for name in kc.public_optimizer_names():
        assert name in covered or name in OUT_OF_SCOPE, f"{name} neither covered nor declared out of scope"


def test_epsilon_space_reaches_ten():
    from hypothesis import given, settings

    seen = []

    @settings(max_examples=60, derandomize=True, database=None)
    @given(epsilons())
    def draw(e):
        seen.append(e)

    draw()
    assert max(seen) >= 5.0 and min(seen) <= 1e-6
