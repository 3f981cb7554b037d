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
DryRunOperationException = error_class("DryRunOperationException")


def dry_run_passed() -> DryRunOperationException:
    """What a dry run answers when every check passed: AWS reports success as a 400 error, so that a
    client that ignores DryRun can never mistake it for a write (docs: kds-dryrun-validation). The
    docs give the meaning, not the wire text; this message is their sentence."""
    return DryRunOperationException("The request would have succeeded without the DryRun parameter.")

__all__ = [
    "AccessDeniedException",
    "DryRunOperationException",
    "ExpiredIteratorException",
    "ExpiredNextTokenException",
    "InternalFailureException",
    "InvalidArgumentException",
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "ResourceInUseException",
    "ResourceNotFoundException",
    "ValidationException",
    "dry_run_passed",
]
