"""One content-filtering engine for EventBridge event patterns and SNS filter policies.

EventBridge (rules, TestEventPattern)::

    pattern = compile_event_pattern(text)          # InvalidEventPatternError -> .message
    event_matches(pattern, event_dict)              # TestEventPattern's Result

SNS (subscriptions)::

    policy = compile_filter_policy(text, "MessageBody")    # InvalidFilterPolicyError -> .message
    filter_policy_matches(policy, message_body=body)         # or message_attributes={...}

Many patterns at once (rules on a bus, subscriptions of a topic)::

    rules = Ruleset(); rules.add("name", pattern); rules.matching(event_dict) -> {"name", ...}

Documents given as text (a PutEvents ``Detail``, an SNS body) are read as strict JSON, as AWS
reads them (no ``NaN``/``Infinity``)::

    parse_json_strict(text)                         # InvalidJsonError (a ValueError) if not JSON

The package is pure Python (stdlib only) and knows no service or wire format.
"""

from __future__ import annotations

from .errors import InvalidEventPatternError, InvalidFilterPolicyError, InvalidPatternError
from .eventbridge import (
    INVALID_EVENT_MESSAGE,
    InvalidTestEventError,
    compile_event_pattern,
    event_matches,
    parse_test_event,
    test_event_pattern,
)
from .machine import Ruleset
from .pattern import Pattern
from .sns import (
    MESSAGE_ATTRIBUTES,
    MESSAGE_BODY,
    compile_filter_policy,
    filter_policy_matches,
    message_document,
)
from .strictjson import InvalidJsonError, parse_json_strict

__all__ = [
    "INVALID_EVENT_MESSAGE",
    "MESSAGE_ATTRIBUTES",
    "MESSAGE_BODY",
    "InvalidEventPatternError",
    "InvalidFilterPolicyError",
    "InvalidJsonError",
    "InvalidPatternError",
    "InvalidTestEventError",
    "Pattern",
    "Ruleset",
    "compile_event_pattern",
    "compile_filter_policy",
    "event_matches",
    "filter_policy_matches",
    "message_document",
    "parse_json_strict",
    "parse_test_event",
    "test_event_pattern",
]
