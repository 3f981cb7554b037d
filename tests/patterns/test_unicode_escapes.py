"""Characters outside the BMP, written raw or as the surrogate-pair escape ``json.dumps`` writes.

Every pairing of forms (pattern escaped or raw, event escaped or raw) must agree, in every reader:
the pattern compiler's own tokenizer, TestEventPattern's event, an SNS message body, and the
shared ruleset fed a strictly parsed event.
"""

from __future__ import annotations

import json

import pytest

from emulator.patterns import (
    MESSAGE_BODY,
    Ruleset,
    compile_event_pattern,
    compile_filter_policy,
    filter_policy_matches,
    parse_json_strict,
    test_event_pattern,
)

EMOJI = "\U0001F600"  # 😀, escaped by json.dumps as \ud83d\ude00
ENVELOPE = {"id": "1", "account": "123456789012", "source": "app", "time": "2024-01-01T00:00:00Z",
            "region": "us-east-1", "detail-type": "t"}

# (operator applied to the field, value that matches, value that does not)
OPERATORS = [
    (f"x{EMOJI}y", f"x{EMOJI}y", "x?y"),
    ({"prefix": f"{EMOJI}go"}, f"{EMOJI}go!", f"go{EMOJI}"),
    ({"suffix": f"-{EMOJI}"}, f"end-{EMOJI}", f"{EMOJI}-end"),
    ({"wildcard": f"*{EMOJI}*"}, f"a{EMOJI}b", "ab"),
    ({"wildcard": f"{EMOJI}*{EMOJI}"}, f"{EMOJI}{EMOJI}", f"{EMOJI}x"),
    ({"equals-ignore-case": f"Hi{EMOJI}"}, f"hI{EMOJI}", "hi"),
    ({"prefix": {"equals-ignore-case": f"A{EMOJI}"}}, f"a{EMOJI}z", "az"),
    ({"anything-but": f"no{EMOJI}"}, "no", f"no{EMOJI}"),
    ({"anything-but": {"prefix": EMOJI}}, f"x{EMOJI}", f"{EMOJI}x"),
    ({"anything-but": {"wildcard": f"*{EMOJI}"}}, f"{EMOJI}x", f"x{EMOJI}"),
]
FORMS = {"escaped": True, "raw": False}  # json.dumps(ensure_ascii=...)


def _case_list() -> list:
    return [pytest.param(op, hit, miss, pattern_form, event_form,
                         id=f"{json.dumps(op)}-pattern:{pattern_form}-event:{event_form}")
            for op, hit, miss in OPERATORS for pattern_form in FORMS for event_form in FORMS]


def _text(doc, form: str) -> str:
    text = json.dumps(doc, ensure_ascii=FORMS[form])
    if EMOJI in json.dumps(doc, ensure_ascii=False):  # the form asked for is the form written
        assert ("\\ud83d\\ude00" in text) == FORMS[form] and (EMOJI in text) != FORMS[form]
    return text


@pytest.mark.parametrize("op, hit, miss, pattern_form, event_form", _case_list())
def test_every_reader_decodes_surrogate_pairs(op, hit, miss, pattern_form, event_form):
    pattern = _text({"detail": {"f": [op]}}, pattern_form)
    for value, expected in ((hit, True), (miss, False)):
        event = _text({**ENVELOPE, "detail": {"f": value}}, event_form)
        assert test_event_pattern(pattern, event) is expected
        rules = Ruleset()
        rules.add("r", compile_event_pattern(pattern))
        assert rules.matching(parse_json_strict(event)) == ({"r"} if expected else set())


SNS_OPERATORS = [(op, hit, miss) for op, hit, miss in OPERATORS
                 if not (isinstance(op, dict) and ("wildcard" in op or "equals-ignore-case" in op
                                                   or isinstance(op.get("prefix"), dict)
                                                   or isinstance(op.get("anything-but"), dict)
                                                   and "prefix" not in op["anything-but"]))]


@pytest.mark.parametrize("op, hit, miss", SNS_OPERATORS)
@pytest.mark.parametrize("pattern_form", FORMS)
@pytest.mark.parametrize("body_form", FORMS)
def test_sns_body_policies_decode_surrogate_pairs(op, hit, miss, pattern_form, body_form):
    policy = compile_filter_policy(_text({"f": [op]}, pattern_form), MESSAGE_BODY)
    assert filter_policy_matches(policy, message_body=_text({"f": hit}, body_form)) is True
    assert filter_policy_matches(policy, message_body=_text({"f": miss}, body_form)) is False


def test_escaped_pair_is_one_character_to_the_compiler():
    pattern = compile_event_pattern('{"f": [{"prefix": "\\ud83d\\ude00"}]}')
    (cond,) = pattern.subrules[0]
    assert cond.matchers[0].arg == EMOJI


@pytest.mark.parametrize("text, decoded", [
    ('"\\ud83d"', "\ud83d"),             # a lone high surrogate stays what it is
    ('"\\ud83dx"', "\ud83dx"),
    ('"\\ud83d\\u0041"', "\ud83dA"),      # followed by an escape that is no low surrogate
    ('"\\ude00\\ud83d"', "\ude00\ud83d"),  # the wrong order is no pair
    ('"a\\uD83D\\uDE00b"', f"a{EMOJI}b"),  # upper-case hex
])
def test_lone_surrogates_are_kept_and_match_alike(text, decoded):
    pattern = compile_event_pattern('{"f": [' + text + ', {"wildcard": ' + text[:-1] + '*"}]}')
    (cond,) = pattern.subrules[0]
    assert cond.matchers[0].arg == decoded
    assert pattern.matches({"f": decoded}) and pattern.matches({"f": decoded + "tail"})
