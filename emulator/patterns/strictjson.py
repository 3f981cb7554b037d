"""Events and message bodies read as JSON, and only JSON.

Python's ``json.loads`` accepts ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON
(RFC 8259 has no such numbers) and which AWS's parser refuses. Let one through and the engine
sees a float on which every comparison is false: a direct check such as ``not v < lo`` passes
it through every numeric range, while the shared ruleset's ``lo <= v`` does not, so the two
would disagree. AWS's answers are that the text is not JSON at all: TestEventPattern's Event is
"not valid", a PutEvents ``Detail`` holding one is invalid JSON, and an SNS body holding one is
not a JSON body (so ``MessageBody`` policies never match it). Hence one strict reader, used for
every document the engine is handed as text.

Everything else is ``json.loads``'s: surrogate-pair escapes (``\\ud83d\\ude00``, what
``json.dumps`` writes for every character outside the BMP) decode to the one character they
stand for; a key given twice keeps its last value, as Jackson's tree model does; nesting too deep
for the decoder is refused like any other invalid text.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn


class InvalidJsonError(ValueError):
    """The text is not a JSON document."""


def _refuse_constant(name: str) -> NoReturn:
    raise InvalidJsonError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse_json_strict(text: str) -> Any:
    """Decode one JSON document; raise :class:`InvalidJsonError` for anything that is not JSON."""
    if not isinstance(text, str):
        raise InvalidJsonError("not text")
    try:
        return _DECODER.decode(text)
    except InvalidJsonError:
        raise
    except (ValueError, RecursionError) as e:
        raise InvalidJsonError(str(e)) from None
