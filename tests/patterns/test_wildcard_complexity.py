"""Wildcard complexity: event-ruler's measure, and the line EventBridge draws with it.

The measure (``wildcard_complexity``) must reproduce the worked examples of AWS's engine: the
most wildcard-pattern prefixes one input can match at once, over the patterns of one machine.
The line must accept every pattern AWS is recorded accepting and refuse, with AWS's message,
every one it is recorded refusing.
"""

from __future__ import annotations

import json

import pytest

from emulator.patterns import InvalidEventPatternError, compile_event_pattern
from emulator.patterns.wildcard import WILDCARD_COMPLEXITY_LIMIT, parse_wildcard, wildcard_complexity

TOO_COMPLEX = ("Event pattern is not valid. Reason: Rule is too complex - try using fewer wildcard "
               "characters or fewer repeating character sequences after a wildcard character")

# (wildcard values in one machine, complexity) -- event-ruler's MachineComplexityEvaluator examples.
MEASURE = [
    (["*"], 1), (["abc"], 1), (["*ab"], 2), (["*aa"], 3), (["a*b"], 2), (["aa*"], 2),
    (["a*bc"], 2), (["a*bb"], 3), (["a*bcb"], 3), (["a*bbb"], 4), (["*ab*ad"], 4), (["*ab*d"], 3),
    (["*aba*"], 4), (["a*b*bb"], 5), (["a*b*cb"], 4), (["a*b*cd"], 3), (["a*b*b"], 4),
    (["a*bb*"], 4), (["ab*b*"], 3), (["*ab*b*b*"], 7), (["*a*a*a*"], 7), (["*a*a*a*a*a*a*"], 13),
    (["*a*a*a*a*a*a*a*a*"], 17), (["*z*"], 3), (["abc*def"], 2),
    (["*", "ab*c"], 3), (["ab*c", "x*xx"], 3), (["*abc", "*abcde"], 4), (["a*bcd", "ab*cd"], 4),
    (["a*bc", "a*bcde"], 4), (["a*aaa", "aa*aa"], 7), (["a*bc", "abc*d"], 4), (["a*aaa", "aaa*a"], 6),
    (["a*aax", "aaa*x"], 5), (["a*bc", "abc*"], 4), (["a*aa", "aaa*"], 5), (["abc*", "abcde*"], 3),
    (["ab*cd", "ab*wx", "ab*yz"], 6), (["ab*c", "ab*c"], 2),
    (["F*eatureFeature", "Fe*atureFeature", "Fea*tureFeature"], 10),
    (["aahed*", "aal*ii", "aargh*", "aarti*", "a*baca", "*abaci", "a*back", "ab*acs", "abaf*t",
      "*abaka", "ab*amp", "a*band", "*abase", "abash*", "abas*k", "ab*ate", "aba*ya", "abbas*",
      "abbed*", "ab*bes", "abbey*", "*abbot", "ab*cee", "abea*m", "abe*ar", "a*bele", "a*bers",
      "abet*s", "*abhor", "abi*de", "a*bies", "*abled"], 45),
]


@pytest.mark.parametrize("values, expected", MEASURE, ids=lambda v: "|".join(v) if isinstance(v, list) else str(v))
def test_measure_reproduces_event_ruler_examples(values, expected):
    assert wildcard_complexity([parse_wildcard(v) for v in values], cap=100) == expected


def test_measure_stops_at_its_cap():
    hostile = [parse_wildcard("F*e*a*t*u*r*e*" * 2000)]
    assert wildcard_complexity(hostile) == WILDCARD_COMPLEXITY_LIMIT
    assert wildcard_complexity([parse_wildcard("*ab")], cap=2) == 2


STACKS = ["SharedStack", "TrackerStack", "WorkerStack", "MonitoringStack"]
# Accepted: the first four as recorded or documented by AWS, the rest as the measure places them.
ACCEPTED = [
    {"f": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]},                  # 7
    {"stack-id": [{"wildcard": f"*:stack/{n}/*"} for n in STACKS[:3]]},              # 9
    {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
    {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
    {"f": [{"wildcard": "*.png"}, {"wildcard": "*.jpg"}, {"wildcard": "*.gif"}, {"wildcard": "*.txt"}]},  # 8
    {"f": [{"wildcard": "*Title*"}], "g": [{"wildcard": "*a*a*a*"}]},                # 7 per field
    # $or branches that differ in an earlier field reach different machines: 7 and 7, not 14
    {"$or": [{"a": ["1"], "f": [{"wildcard": "*a*a*a*"}]}, {"a": ["2"], "f": [{"wildcard": "*b*b*b*"}]}]},
    {"f": [{"wildcard": "F*eatureFeatur"}]},
]
# Refused: the first two as recorded against AWS, the rest as the measure places them.
REFUSED = [
    {"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]},                         # 11
    {"stack-id": [{"wildcard": f"*:stack/{n}/*"} for n in STACKS]},                   # 12
    {"f": [{"wildcard": "*a*a*a*a*a*a*a*"}]},
    {"f": [{"wildcard": "*" + "ab" * 20}]},                                          # repeats after *
    {"f": [{"wildcard": "F*eatureFeature"}, {"wildcard": "Fe*atureFeature"},
           {"wildcard": "Fea*tureFeature"}]},                                          # exactly 10
    # anything-but wildcards share the field's machine with plain wildcards
    {"f": [{"wildcard": "*a*a*a*"}, {"anything-but": {"wildcard": ["*b*b*", "x*"]}}]},
    # $or branches that agree on every earlier field share the machine: 7 + 7
    {"$or": [{"a": ["1"], "f": [{"wildcard": "*a*a*a*"}]}, {"a": ["1"], "f": [{"wildcard": "*b*b*b*"}]}]},
]


@pytest.mark.parametrize("pattern", ACCEPTED, ids=json.dumps)
def test_patterns_aws_accepts_compile(pattern):
    compile_event_pattern(json.dumps(pattern))


@pytest.mark.parametrize("pattern", REFUSED, ids=json.dumps)
def test_patterns_aws_calls_too_complex_are_refused(pattern):
    with pytest.raises(InvalidEventPatternError) as e:
        compile_event_pattern(json.dumps(pattern))
    assert e.value.message == TOO_COMPLEX
