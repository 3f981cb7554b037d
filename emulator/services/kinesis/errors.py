"""The errors of the Kinesis model, raised with AWS's message text."""

from __future__ import annotations

from emulator.errors import ValidationException, error_class

ResourceNotFoundException = error_class("ResourceNotFoundException")
ResourceInUseException = error_class("ResourceInUseException")
InvalidArgumentException = error_class("InvalidArgumentException")
LimitExceededException = error_class("LimitExceededException")
ExpiredIteratorException = error_class("ExpiredIteratorException")
ExpiredNextTokenException = error_class("ExpiredNextTokenException")
ProvisionedThroughputExceededException = error_class("ProvisionedThroughputExceededException")
AccessDeniedException = error_class("AccessDeniedException")
InternalFailureException = error_class("InternalFailureException", 500, sender_fault=False)

__all__ = [
    "AccessDeniedException",
    "ExpiredIteratorException",
    "ExpiredNextTokenException",
    "InternalFailureException",
    "InvalidArgumentException",
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "ResourceInUseException",
    "ResourceNotFoundException",
    "ValidationException",
]
