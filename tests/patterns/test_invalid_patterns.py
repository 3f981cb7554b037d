"""Invalid patterns and policies with the exact messages AWS answers.

Cases marked "recorded" reproduce answers recorded from AWS (message and Jackson column); the
others follow AWS's rule compiler (aws/event-ruler) step by step.
"""

from __future__ import annotations

import json

import pytest

from emulator.patterns import (
    InvalidEventPatternError, InvalidFilterPolicyError, compile_event_pattern, compile_filter_policy,
)

EB = "Event pattern is not valid. Reason: "


def at(text: str, col: int, line: int = 1) -> str:
    return f'\n at [Source: (String)"{text}"; line: {line}, column: {col}]'


def eb(text: str, reason: str, col: int | None = None, twice: bool = False) -> tuple[str, str]:
    suffix = "" if col is None else at(text, col) * (2 if twice else 1)
    return text, EB + reason + suffix


TOO_COMPLEX = ("Rule is too complex - try using fewer wildcard characters or fewer repeating "
               "character sequences after a wildcard character")

EVENTBRIDGE = [
    # recorded
    eb('{"int": 42}', '"int" must be an object or an array', 11),
    eb('{"string": "my-value"}', '"string" must be an object or an array', 13),
    eb('{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}', "Unrecognized match type NUMERIC", 36),
    eb('{"my_key": [{"EXISTS": true}]}', "Unrecognized match type EXISTS", 28),
    eb('{"resources": []}', "Empty arrays are not allowed", 17),
    eb('{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}', "Bad numeric range operator: >", 49),
    eb('{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}', "Value of < must be numeric", 50),
    eb('{"EventBusArn": [ { "wildcard": "*:*:*:*:*:event-bus/*" } ]}', TOO_COMPLEX),
    eb('{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}',
       "Consecutive wildcard characters at pos 26", 72),
    eb('{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}',
       "equals-ignore-case match pattern must be a string", 42),
    eb('{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0"}]}}', "Malformed CIDR, one '/' required"),
    eb('{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}',
       "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", 66),
    eb('{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}',
       "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", 67, True),
    eb('{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}',
       "equals-ignore-case match pattern must be a string", 42),
    eb("this is valid json but not a dict", "Unrecognized token 'this': was expecting (JSON String, "
       "Number, Array, Object or token 'null', 'true' or 'false')", 5),
    eb("{'bad': 'quotation'}", "Unexpected character (''' (code 39)): was expecting double-quote to "
       "start field name", 2),
    eb('{"not": closed mark"', "Unrecognized token 'closed': was expecting (JSON String, Number, "
       "Array, Object or token 'null', 'true' or 'false')", 15),
    eb('["not", "a", "dict", "but valid json"]', "Filter is not an object", 2),
    eb('{"EventBusArn": [{"wildcard": 123}]}', "wildcard match pattern must be a string", 34),
    eb('{"EventBusArn": [{"wildcard": ["arn:*"]}]}', "wildcard match pattern must be a string", 32),
    eb('{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}',
       "wildcard match pattern must be a string", 57, True),
    eb('{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}',
       "wildcard match pattern must be a string", 59),
    eb('{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}',
       "prefix/suffix match pattern must be a string", 58, True),
    eb('{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}',
       "prefix/suffix match pattern must be a string", 57),
    eb('{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}',
       "prefix/suffix match pattern must be a string", 55, True),
    eb('{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}',
       "prefix/suffix match pattern must be a string", 54),
    eb('{"time": [{"prefix": ["2022-07-13"]}]}', "prefix match pattern must be a string", 23),
    eb('{"time": [{"prefix": 123}]}', "prefix match pattern must be a string", 25),
    eb('{"FileName": [{"suffix": 123}]}', "suffix match pattern must be a string", 29),
    eb('{"FileName": [{"suffix": [".png"]}]}', "suffix match pattern must be a string", 27),
    eb('{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}',
       "Value of anything-but must be an array or single string/number value.", 55),
    eb('{"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}}',
       "Value of anything-but must be an array or single string/number value.", 55),
    eb('{"detail": {"ip": [{"cidr": "10.0.0.0/abc"}]}}', "Malformed CIDR, mask bits must be an integer"),
    eb('{"detail": {"ip": [{"cidr": "xx.11.xx/24"}]}}', "Nonstandard IP address: xx.11.xx"),
    eb('{"detail": {"ip": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}}',
       "Nonstandard IP address: xxxx:db8:1234:1a00::"),
    eb('{"detail": {"ip": [{"cidr": ["bad-type"]}]}}', "prefix match pattern must be a string", 30),
    eb('{"source": ["aws.health"], "detail": {}}', "Empty objects are not allowed", 40),
    # following the compiler
    eb("{}", "Empty objects are not allowed", 3),
    eb('{"a": [{"cidr": "10.0.0.0/-1"}]}', "Malformed CIDR, mask bits must not be negative"),
    eb('{"a": [{"cidr": "10.0.0.0/32"}]}', "IPv4 mask bits must be < 32"),
    eb('{"a": [{"cidr": "::/128"}]}', "IPv6 mask bits must be < 128"),
    eb('{"a": [{"cidr": "300.0.0.0/8"}]}', "Invalid IP address: 300.0.0.0"),
    eb('{"a": [{"numeric": [">", 10, "<", 5]}]}', "Bottom must be less than top", 37),
    eb('{"a": [{"numeric": ["<", 6e9]}]}', "Value must be between -5.0E9 and 5.0E9, inclusive", 30),
    eb('{"a": [{"anything-but": 6e9}]}', "Value must be between -5.0E9 and 5.0E9, inclusive"),
    eb('{"a": [{"anything-but": [1, "x"]}]}', "Inside anything but list, either all values are "
       "number or string, mixed type is not supported", 33),
    eb('{"a": [{"anything-but": [null]}]}', "Inside anything but list, start|null|boolean is not "
       "supported.", 30, True),
    eb('{"a": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed", 38),
    eb('{"a": [{"anything-but": {"regex": "x"}}]}', "Unsupported anything-but pattern: regex", 36),
    eb('{"a": [{"anything-but": true}]}',
       "Value of anything-but must be an array or single string/number value.", 29),
    eb('{"a": [{"exists": "yes"}]}', "exists match pattern must be either true or false.", 20),
    eb('{"a": [{"prefix": "x", "suffix": "y"}]}', "Only one key allowed in match expression", 35),
    eb('{"a": [{}]}', "Match expression name not found", 10),
    eb('{"a": [[1]]}', "Match value must be String, number, true, false, or null", 9),
    eb('{"a": [{"numeric": "x"}]}', "Value of numeric must be an array.", 21),
    eb('{"a": [{"numeric": ["!", 1]}]}', "Unrecognized numeric range operator: !", 27),
    eb('{"a": [{"numeric": [">", 1, "<", 2, "<", 3]}]}',
       "Too many terms in numeric range expression", 38),
    eb('{"a": [{"numeric": ["=", 1, 2]}]}', "Too many elements in numeric expression", 30),
    eb('{"$or": {"a": ["x"]}}', "It must be an Array followed with $or.", 10),
    eb('{"$or": [{"a": ["x"]}]}', "There must have at least 2 Objects in $or relationship.", 23),
    eb('{"$or": [{"a": ["x"]}, "b"]}', "Only JSON object is allowed in array of $or relationship.", 25),
    eb('{"$or": [{"a": ["x"]}, {"prefix": ["b"]}]}',
       "prefix is Ruler reserved fieldName which cannot be used inside $or.", 36),
    eb('{"a": [{"wildcard": "a\\\\b"}]}', "Invalid escape character at pos 2", 27),
    eb('{"a": [{"prefix": {"wildcard": "x"}}]}', "Unsupported prefix pattern: wildcard", 33),
    eb('{"a": ["x"]', 'Unexpected end-of-input: expected close marker for Object (start marker at '
       '[Source: (String)"{\\"a\\": [\\"x\\"]"; line: 1, column: 1])'.replace('\\"', '"'), 12),
    eb('{"a": ["x" "y"]}', "Unexpected character ('\"' (code 34)): was expecting comma to separate "
       "Array entries", 12),
    eb('{"a" ["x"]}', "Unexpected character ('[' (code 91)): was expecting a colon to separate field "
       "name and value", 6),
]


@pytest.mark.parametrize("text,message", EVENTBRIDGE)
def test_invalid_event_pattern_answers_aws_message(text, message):
    with pytest.raises(InvalidEventPatternError) as err:
        compile_event_pattern(text)
    assert err.value.message == message


SNS_A = "Invalid parameter: Attributes Reason: FilterPolicy: "
SNS = "Invalid parameter: FilterPolicy: "


def sns(text, reason, col=None, scope="MessageAttributes", prefix=SNS):
    return text, scope, prefix + reason + ("" if col is None else at(text, col))


SNS_CASES = [
    # recorded (through Subscribe's Attributes)
    sns('{"key":[["value"]]}', "Match value must be String, number, true, false, or null", 10, prefix=SNS_A),
    sns('{"key":[{"wrong-operator":true}]}', "Unrecognized match type wrong-operator", 31, prefix=SNS_A),
    sns('{"key":[{"suffix":"value","prefix":"value2"}]}', "Only one key allowed in match expression",
        37, prefix=SNS_A),
    sns('{"key":[{"suffix":100}]}', "suffix match pattern must be a string", 22, prefix=SNS_A),
    sns('{"key":[{"suffix":null}]}', "suffix match pattern must be a string", 23, prefix=SNS_A),
    sns('{"key":{"suffix":"value"}}', '"suffix" must be an object or an array', 19, prefix=SNS_A,
        scope="MessageBody"),
    sns('{"key":[{"suffix":[]}]}', "suffix match pattern must be a string", 20, prefix=SNS_A),
    sns('{"key":[{"numeric":[]}]}', "Invalid member in numeric match: ]", 22, prefix=SNS_A),
    sns('{"key":[{"numeric":["operator"]}]}', "Unrecognized numeric range operator: operator", 32, prefix=SNS_A),
    sns('{"key":[{"numeric":[1,"<="]}]}', "Invalid member in numeric match: 1", 22, prefix=SNS_A),
    sns('{"key":[{"numeric":["=","000"]}]}', "Value of equals must be numeric", 26, prefix=SNS_A),
    sns('{"key":[{"numeric":[">="]}]}', "Value of >= must be numeric", 26, prefix=SNS_A),
    sns('{"key":[{"numeric":["<",100,">",10]}]}', "Too many elements in numeric expression", 30, prefix=SNS_A),
    sns('{"key":[{"numeric":[">=",1,">",2]}]}', "Bad numeric range operator: >", 31, prefix=SNS_A),
    sns('{"key":[{"numeric":[">",3,"<",1]}]}', "Bottom must be less than top", 33, prefix=SNS_A),
    sns('{"key":[{"numeric":[">",20,"<="]}]}', "Value of <= must be numeric", 33, prefix=SNS_A),
    sns('{"key":[{"numeric":[">",20,30]}]}', "Bad value in numeric range: 30", 30, prefix=SNS_A),
    sns('{"key":[{"numeric":[">",20,"test"]}]}', "Bad numeric range operator: test", 34, prefix=SNS_A),
    sns('{"key":[{"numeric":[">","20","<","30"]}]}', "Value of > must be numeric", 26, prefix=SNS_A),
    sns('{"key":[{"numeric":[">",20,"<","30"]}]}', "Value of < must be numeric", 33, prefix=SNS_A),
    sns('{"key":[{"numeric":[">",20,"<",30,"<",50]}]}', "Too many terms in numeric range expression",
        36, prefix=SNS_A),
    sns('{"key":[{"exists":null}]}', "exists match pattern must be either true or false.", 23, prefix=SNS_A),
    sns('{"key":[{"exists":"no"}]}', "exists match pattern must be either true or false.", 20, prefix=SNS_A),
    sns('{"key_a":"value_one"}', '"key_a" must be an object or an array', 11),
    sns('{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}',
        "Filter policy can not have more than 5 keys"),
    sns('{"a":' + str(list(range(10))) + ',"b":' + str(list(range(16))) + '}', "Filter policy is too complex"),
    # SNS's dialect: no wildcard, narrower numbers
    sns('{"a":[{"wildcard":"*x"}]}', "Unrecognized match type wildcard", 20),
    sns('{"a":[{"anything-but":{"wildcard":"*x"}}]}', "Unsupported anything-but pattern: wildcard", 36),
    # recorded: SNS's compiler predates anything-but suffix and lists of prefixes
    sns('{"key":[{"anything-but":{"suffix":"test"}}]}', "Unsupported anything-but pattern: suffix", 36,
        prefix=SNS_A),
    sns('{"key":[{"anything-but":{"prefix":false}}]}', "prefix match pattern must be a string", 40,
        prefix=SNS_A),
    sns('{"key":[{"anything-but":{"prefix":false}}]}', "prefix match pattern must be a string", 40),
    # following that compiler: any operand but one string
    sns('{"key":[{"anything-but":{"prefix":123}}]}', "prefix match pattern must be a string", 38),
    sns('{"key":[{"anything-but":{"prefix":["a","b"]}}]}', "prefix match pattern must be a string", 36),
    # recorded: MessageBody weighs each array by its nesting (12 x 6 x 3 = 216; 24 + 72 + 16 + 48)
    sns(json.dumps({"key_a": {"key_b": {"key_c": ["v1", "v2", "v3", "v4"]}},
                    "key_d": {"key_e": ["v1", "v2", "v3"]}, "key_f": ["v1", "v2", "v3"]}),
        "Filter policy is too complex", scope="MessageBody"),
    sns(json.dumps({"$or": [{"metricName": ["a", "b", "c"]}, {"namespace": ["a", "b"]}],
                    "detail": {"scope": ["a", "b"],
                               "$or": [{"source": ["a"]}, {"type": ["a", "b", "c"]}]}}),
        "Filter policy is too complex", scope="MessageBody"),
    # recorded: (4 x 6) + (4 x 4 x 4) + (4 x 4 x 4) = 152
    sns(json.dumps({"source": ["a", "b", "c", "d"],
                    "$or": [{"metricName": ["a", "b", "c", "d", "e", "f"]},
                            {"metricType": ["a", "b", "c", "d"],
                             "$or": [{"metricId": [1, 2, 3, 4]}, {"spaceId": [1, 2, 3, 4]}]}]}),
        "Filter policy is too complex"),
    # one past the limit by nesting alone: (3 x 5) x (2 x 5) = 150 is fine, (3 x 5) x (2 x 6) is not
    sns(json.dumps({"a": {"b": {"c": list("vwxyz")}}, "d": {"e": list("uvwxyz")}}),
        "Filter policy is too complex", scope="MessageBody"),
    sns('{"a":[{"numeric":["<",2e9]}]}', "Value must be between -1.0E9 and 1.0E9, inclusive", 27),
]


def test_there_are_at_least_50_invalid_cases():
    assert len(EVENTBRIDGE) + len(SNS_CASES) >= 50


@pytest.mark.parametrize("text,scope,message", SNS_CASES)
def test_invalid_filter_policy_answers_sns_message(text, scope, message):
    with pytest.raises(InvalidFilterPolicyError) as err:
        compile_filter_policy(text, scope)
    got = err.value.subscribe_message if message.startswith(SNS_A) else err.value.message
    assert got == message


def test_nested_policy_under_attribute_scope_has_its_own_message():
    with pytest.raises(InvalidFilterPolicyError) as err:
        compile_filter_policy('{"object": {"key": [{"prefix": "auto-"}]}}', "MessageAttributes")
    assert err.value.message == ("Invalid parameter: Filter policy scope MessageAttributes does not "
                                 "support nested filter policy")
    compile_filter_policy('{"object": {"key": [{"prefix": "auto-"}]}}', "MessageBody")


ACCEPTED_AT_THE_LIMIT = [
    # the guide's worked example: 3 x 4 x 2 x 3 = 72
    ({"key_a": {"key_b": {"key_c": ["v1", "v2", "v3", "v4"]}}, "key_d": {"key_e": ["v1", "v2", "v3"]}},
     "MessageBody"),
    # (3 x 5) x (2 x 5) = 150
    ({"a": {"b": {"c": list("vwxyz")}}, "d": {"e": list("vwxyz")}}, "MessageBody"),
    # dotted keys weigh as the nesting they stand for: the same 150
    ({"a.b.c": list("vwxyz"), "d.e": list("vwxyz")}, "MessageBody"),
    # flat keys of a body weigh 1 per value: 10 x 15 = 150
    ({"a": list(range(10)), "b": list(range(15))}, "MessageBody"),
    # recorded: (3 x 6) + (3 x 4 x 4) + (3 x 4 x 7) = 150
    ({"source": ["a", "b", "c"],
      "$or": [{"metricName": ["a", "b", "c", "d", "e", "f"]},
              {"metricType": ["a", "b", "c", "d"],
               "$or": [{"metricId": [1, 2, 3, 4]}, {"spaceId": [1, 2, 3, 4, 5, 6, 7]}]}]},
     "MessageAttributes"),
    # attribute names may hold dots; they do not nest: 10 x 15 = 150
    ({"a.b": list(range(10)), "c.d.e": list(range(15))}, "MessageAttributes"),
    # recorded: nested $or in a body, (2 x 2 x 2) per branch, 4 branches
    ({"$or": [{"metricName": ["a", "b"]}, {"namespace": ["a", "b"]}],
      "detail": {"scope": ["a"], "$or": [{"source": ["a"]}, {"type": ["a"]}]}}, "MessageBody"),
]


@pytest.mark.parametrize("policy,scope", ACCEPTED_AT_THE_LIMIT)
def test_policy_within_the_complexity_limit_is_accepted(policy, scope):
    assert compile_filter_policy(json.dumps(policy), scope).scope == scope


def test_anything_but_single_prefix_is_accepted_by_sns():
    compile_filter_policy('{"key":[{"anything-but":{"prefix":"test-"}}]}', "MessageAttributes")


def test_message_body_scope_counts_only_top_level_keys():
    nested = '{"f": {"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"g":["1"]}}'
    compile_filter_policy(nested, "MessageBody")
