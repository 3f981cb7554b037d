"""Why a pattern was rejected, worded as AWS words it.

EventBridge answers ``InvalidEventPatternException`` with ``Event pattern is not valid. Reason: ...``
where the reason is the message of AWS's rule compiler (aws/event-ruler), usually followed by the
Jackson parser's location suffix (``\\n at [Source: (String)"..."; line: 1, column: 12]``). SNS
answers ``InvalidParameter`` with ``Invalid parameter: FilterPolicy: ...`` built from the same
compiler messages, plus a few of its own (key count, complexity, nesting in attribute scope).

The exception carries the full message so that the providers never rebuild text themselves.
"""

from __future__ import annotations

EVENTBRIDGE_PREFIX = "Event pattern is not valid. Reason: "
SNS_PREFIX = "Invalid parameter: FilterPolicy: "
SNS_SUBSCRIBE_PREFIX = "Invalid parameter: Attributes Reason: FilterPolicy: "


class RuleSyntaxError(Exception):
    """A dialect-neutral compile failure: the compiler's reason, with Jackson's location if any.

    Internal to the package; the public entry points turn it into :class:`InvalidPatternError`
    with the dialect's prefix.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidPatternError(ValueError):
    """An event pattern or filter policy that AWS would reject.

    ``message`` is the complete text AWS returns (what a provider puts in the error's message),
    ``reason`` the part after the dialect's prefix. ``dialect`` is ``"eventbridge"`` or ``"sns"``.
    """

    def __init__(self, message: str, *, reason: str, dialect: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.dialect = dialect

    def __str__(self) -> str:
        return self.message


class InvalidEventPatternError(InvalidPatternError):
    """EventBridge: answer ``InvalidEventPatternException`` with ``self.message``."""

    def __init__(self, reason: str) -> None:
        super().__init__(EVENTBRIDGE_PREFIX + reason, reason=reason, dialect="eventbridge")


class InvalidFilterPolicyError(InvalidPatternError):
    """SNS: answer ``InvalidParameter`` with ``self.message``.

    ``message`` is the wording of SetSubscriptionAttributes (``Invalid parameter: FilterPolicy: ...``);
    ``subscribe_message`` the wording AWS uses when the policy came in Subscribe's Attributes.
    A few SNS errors are not about the policy's content and have their own full text
    (``full_message``), e.g. nesting under the MessageAttributes scope.
    """

    def __init__(self, reason: str, *, full_message: str | None = None) -> None:
        message = full_message if full_message is not None else SNS_PREFIX + reason
        super().__init__(message, reason=reason, dialect="sns")
        self.subscribe_message = (
            full_message if full_message is not None else SNS_SUBSCRIBE_PREFIX + reason
        )
