"""Naming rules: kebab-case WIT names become valid, unambiguous Python names."""

from __future__ import annotations

import keyword

from dataflare.bindgen.naming import Namespace, constant, pascal, snake
from hypothesis import given
from hypothesis import strategies as st

words = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), min_size=1, max_size=4)
wit_names = words.map("-".join)


def test_examples() -> None:
    assert snake("filter-batch") == "filter_batch"
    assert snake("%from") == "from_"
    assert snake("class") == "class_"
    assert snake("type") == "type"  # a soft keyword is a valid name
    assert snake("l") == "l_"
    assert pascal("plugin-error") == "PluginError"
    assert pascal("xml-HTTP-request") == "XmlHTTPRequest"
    assert pascal("none") == "None_"
    assert pascal("exception") == "Exception_"
    assert constant("dark-blue") == "DARK_BLUE"


@given(wit_names)
def test_names_are_identifiers_and_never_keywords(name: str) -> None:
    for ident in (snake(name), pascal(name), constant(name)):
        assert ident.isidentifier()
        assert not keyword.iskeyword(ident)


@given(st.lists(wit_names, max_size=20))
def test_namespace_never_hands_out_a_name_twice(names: list[str]) -> None:
    ns = Namespace()
    claimed = [ns.claim(pascal(n)) for n in names]
    assert len(set(claimed)) == len(claimed)


def test_namespace_is_first_come_first_served() -> None:
    ns = Namespace({"Taken"})
    assert ns.claim("Point") == "Point"
    assert ns.claim("Point") == "Point_2"
    assert ns.claim("Point") == "Point_3"
    assert ns.claim("Taken") == "Taken_2"
    assert "Point_2" in ns
