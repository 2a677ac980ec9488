"""The record checks' quicker searches give the answers the plain ones gave.

Secrets: `record_checks.check_secrets` searches all of a record's texts in one go first; the
verdict and the reason stay each text's own.

`record_checks.check_secrets` searches the texts joined by NUL before it searches them one by one.
The reference here searches each text with every pattern and every secret value, in order, as
the checks always did; random texts built from pieces of keys, tokens, boundaries and NULs must get
the same reason (or none) both ways, including a token whose parts sit in two neighbouring texts.

Stop tokens: a text with no `<` and no `[` is not searched for each token.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from turnloom.core.export.record_checks import (
    SECRET_PATTERNS,
    STOP_TOKENS,
    RecordRejected,
    _stop_token_in,
    check_secrets,
    check_value_secrets,
    strings_in,
)

ENV = {"MY_API_KEY": "envsecret-123", "HF_TOKEN": "tok\x00en-value"}
PIECES = [
    "sk-",
    "abcdefghijklmnopqrstuvwxyz",
    "Bearer",
    " ",
    "AKIA",
    "ASIA",
    "ABCDEFGHIJKLMNOP",
    "aws_secret_access_key",
    "=",
    "A" * 40,
    "ghp_",
    "hf_",
    "x" * 36,
    "\x00",
    "\n",
    "é",
    "envsecret-",
    "123",
    "tok",
    "en-value",
]
texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=6).map("".join)


def reference(pairs: list[tuple[str, str]]) -> str | None:
    for where, text in pairs:
        for pattern, kind in SECRET_PATTERNS:
            if pattern.search(text):
                return f"{where} contains what looks like {kind}"
        for name, value in ENV.items():
            if value in text:
                return f"{where} contains the value of ${name}"
    return None


def reason(check: Any, *args: Any) -> str | None:
    try:
        check(*args, ENV)
    except RecordRejected as exc:
        return str(exc)
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, max_size=5))
def test_searching_the_join_first_gives_each_texts_own_reason(strings: list[str]) -> None:
    pairs = [(f"text {i}", text) for i, text in enumerate(strings)]
    assert reason(check_secrets, pairs) == reference(pairs)


json_like = st.recursive(
    texts | st.integers() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_a_values_strings_are_checked_with_their_paths(value: Any) -> None:
    assert reason(check_value_secrets, value, "record") == reference(list(strings_in(value, "record")))


@settings(max_examples=300, deadline=None)
@given(json_like, st.lists(texts, max_size=4), st.data())
def test_texts_already_passed_are_not_searched_again_and_the_reason_is_the_same(
    value: Any, others: list[str], data: st.DataObject
) -> None:
    inside = [text for _, text in strings_in(value, "record")]
    passed = [text for text in inside + others if reference([("text", text)]) is None]  # what check_secrets passes
    known = data.draw(st.lists(st.sampled_from(passed), unique=True) if passed else st.just([]))
    expected = reference(list(strings_in(value, "record")))
    assert reason(lambda v, w, env: check_value_secrets(v, w, env, frozenset(known)), value, "record") == expected


def test_a_secret_the_builder_put_beside_passed_texts_is_still_found() -> None:
    record = {"messages": [{"content": "hello", "tool_call_id": "call-envsecret-123"}]}
    found = reason(lambda v, w, env: check_value_secrets(v, w, env, {"hello"}), record, "record")
    assert found == "record.messages[0].tool_call_id contains the value of $MY_API_KEY"


def test_a_token_split_across_two_texts_is_no_secret_in_either() -> None:
    pairs = [("a", "Bearer"), ("b", "abcdefghijklmnopqrstuvwxyz")]
    assert reason(check_secrets, pairs) is None
    assert (
        reason(check_secrets, [("a", "Bearer abcdefghijklmnopqrstuvwxyz")])
        == "a contains what looks like a bearer token"
    )


def test_every_stop_token_holds_the_marks_a_text_is_first_searched_for() -> None:
    assert all("<" in token or "[" in token for token in STOP_TOKENS)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*STOP_TOKENS, "<", "[", "|", "im_end", "INST", "/"]) | st.text(max_size=3), max_size=5)
)
def test_the_first_stop_token_found_is_the_one_the_plain_search_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _stop_token_in(text) == next((token for token in STOP_TOKENS if token in text), None)
