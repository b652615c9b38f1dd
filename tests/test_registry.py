import pytest

from coredistill.errors import InvalidParameterError
from coredistill.registry import Registry


def test_register_get_and_listing_error():
    r = Registry[int]("thing")
    r.register("a", 1)
    r.decorator("b")(2)
    assert r.get("b") == 2 and r.names() == ["a", "b"] and "a" in r
    with pytest.raises(InvalidParameterError, match="thing='c': expected one of: a, b"):
        r.get("c")
    with pytest.raises(ValueError, match="already registered"):
        r.register("a", 3)


def test_accepts_names_the_keywords_a_callable_takes():
    from coredistill.registry import accepts

    def old(images, *, seed=0):
        return images

    def new(images, *, seed=0, shard=None):
        return images

    def open_ended(images, **options):
        return images

    assert not accepts(old, "shard") and accepts(new, "shard") and accepts(open_ended, "shard")


def test_an_unknown_option_is_refused_with_the_ones_accepted():
    r = Registry[type]("thing")

    class Thing:
        def __init__(self, k: int = 1, *, seed: int = 0):
            self.k = k

    class Open:
        def __init__(self, **options):
            self.options = options

    r.register("t", Thing)
    r.register("o", Open)
    with pytest.raises(InvalidParameterError, match=r"options=\['m'\]: expected options accepted by thing 't': k, seed"):
        r.create("t", m=3)
    assert r.create("t", k=4).k == 4
    assert r.create("o", m=3).options == {"m": 3}  # one that takes any option is not second-guessed
