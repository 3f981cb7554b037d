"""Errors a service answers with.

A provider raises a ``ServiceError`` (usually a subclass named as the model's error shape, such as
``ResourceNotFoundException``); the protocol layer turns it into the wire form of the service's
protocol. The HTTP status and, for the query protocol, the wire code come from the model's error
shape when the code names one, so a subclass only has to carry the name and AWS's message.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error answered to the client, in the service's own error format."""

    code: str = "InternalFailure"
    status: int | None = None  # None: from the model's error shape, else 400
    sender_fault: bool = True

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        sender_fault: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender_fault is not None:
            self.sender_fault = sender_fault

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


def error_class(name: str, status: int | None = None, sender_fault: bool = True) -> type[ServiceError]:
    """A ``ServiceError`` subclass whose code is its name, as the models name their error shapes."""
    return type(name, (ServiceError,), {"code": name, "status": status, "sender_fault": sender_fault})


# Errors of the JSON protocols that no model lists but every AWS JSON service answers.
SerializationException = error_class("SerializationException")
UnknownOperationException = error_class("UnknownOperationException")
ValidationException = error_class("ValidationException")
InternalFailure = error_class("InternalFailure", 500, sender_fault=False)
InternalError = error_class("InternalError", 500, sender_fault=False)


class NotImplementedOperation(ServiceError):
    """An operation of the model that this emulator does not implement (yet): HTTP 501, never a fake success."""

    code = "NotImplemented"
    status = 501
    sender_fault = False

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(f"The operation {operation} of service {service} is not implemented by this emulator")
