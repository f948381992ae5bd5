"""Invalid specs fail at registration with an error naming the spec and the field."""

import math

import pytest
from scipy import stats

from initcheck.laws import Normal, ScipyLaw, TruncatedNormal, Uniform, truncated_normal_std_ratio
from initcheck.spec import ExpectedFailure, InitializerSpec, SpecError


def _factory(seed):
    return lambda shape, dtype=None: None


def good(**kw):
    base = dict(name="Good", factory=_factory, law=Normal(std=0.1))
    base.update(kw)
    return InitializerSpec(**base)


def test_valid_spec_passes():
    good().validate()
    good(law=lambda shape, fans: Uniform.symmetric(math.sqrt(3 / fans.fan_in))).validate()
    good(law=ScipyLaw(stats.laplace(scale=0.2))).validate()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(factory=None), "factory"),
        (dict(factory="not callable"), "factory"),
        (dict(law="normal"), "law"),
        (dict(law=lambda shape, fans: 0.5), "law"),
        (dict(law=stats.norm(0, 1)), "law"),  # a scipy dist must be wrapped in ScipyLaw
        (dict(law=Normal(std=-0.1)), "law"),
        (dict(law=lambda shape, fans: Normal(std=-1.0 / fans.fan_in)), "law"),
        (dict(law=Uniform(0.1, -0.1)), "law"),
        (dict(law=ScipyLaw(stats.cauchy())), "law"),  # infinite variance
        (dict(tags=frozenset({"iid", "shiny"})), "tags"),
        (dict(tags=frozenset({"seeded"})), "tags"),
        (dict(tags=frozenset({"iid", "saveable"})), "tags"),
        (dict(dtypes=("float8",)), "dtypes"),
        (dict(ranks=(0, 2)), "ranks"),
        (dict(activations=("relu6000",)), "activations"),
        (dict(seeded_repeat="sometimes"), "seeded_repeat"),
        (dict(name="has space"), "name"),
        (dict(name="a>b"), "name"),
        (dict(expected_failures={"check_x": ""}), "expected_failures['check_x']"),
        (dict(expected_failures={"check_x": ExpectedFailure("r", versions="keras>>3")}),
         "expected_failures['check_x'].versions"),
    ],
)
def test_invalid_spec_names_spec_and_field(kwargs, field):
    with pytest.raises(SpecError) as info:
        good(**kwargs).validate()
    assert info.value.field_name == field
    assert "Good" in str(info.value) or "has space" in str(info.value) or "a>b" in str(info.value)
    assert repr(field) in str(info.value)


def test_truncated_normal_ratio_from_formula():
    # 0.87962566103423978 is the constant documented by Keras for cut = 2.
    assert truncated_normal_std_ratio(2.0) == pytest.approx(0.87962566103423978, rel=1e-12)
    law = TruncatedNormal.with_variance(0.25)
    assert law.variance() == pytest.approx(0.25, rel=1e-12)
    assert law.std == pytest.approx(0.5 / 0.87962566103423978, rel=1e-12)


def test_expected_failure_version_ranges():
    xf = ExpectedFailure("r", versions="keras>=3; tensorflow>=2.16,<2.18")
    assert xf.applies({"keras": "3.1.0", "tensorflow": "2.16.1"})
    assert not xf.applies({"keras": "3.1.0", "tensorflow": "2.18.0"})
    assert not xf.applies({"keras": "2.15.0", "tensorflow": "2.16.1"})
    assert ExpectedFailure("everywhere").applies({"keras": "2.12.0", "tensorflow": "2.12.0"})


def test_expected_failure_version_alternatives():
    """A bug that left and came back (torch's seed folding: Keras 3.0-3.4 and again from 3.14) is one
    declaration with ``||`` alternatives; an empty alternative is a spec error, not 'everywhere'."""
    xf = ExpectedFailure("r", versions="keras>=3.0,<3.5 || keras>=3.14; tensorflow>=2.16")
    assert xf.applies({"keras": "3.4.1", "tensorflow": "2.12.0"})
    assert not xf.applies({"keras": "3.5.0", "tensorflow": "2.21.0"})
    assert not xf.applies({"keras": "3.13.2", "tensorflow": "2.21.0"})
    assert xf.applies({"keras": "3.14.1", "tensorflow": "2.21.0"})
    assert not xf.applies({"keras": "3.14.1", "tensorflow": "2.15.0"})
    for bad in ("keras>=3 ||", "|| keras>=3", "keras>=3 |||| keras<2"):
        with pytest.raises(SpecError, match="empty alternative"):
            ExpectedFailure("r", versions=bad).validate("s", "check_x")
