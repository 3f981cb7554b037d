"""SNS's inspection endpoints under ``/_emulator/sns/`` (JSON), and the signing certificate's URL.

Every endpoint takes ``account`` and ``region`` query arguments (default: the server's
``--default-account`` and ``--default-region``) and sees only that account and region.

- ``GET /_emulator/sns/messages[?topic=&subscription=&protocol=&endpoint=&messageId=&type=]``: what was delivered to
  the protocols the emulator records instead of sending (sqs, lambda, firehose, email, email-json,
  sms, application, and dead-letter queues), oldest first, each with the payload exactly as it
  would have been sent, when (``at``, the emulator's clock) and its ``topic``, ``subscription``,
  ``protocol``, ``endpoint``, ``messageId`` and ``type`` (Notification, SubscriptionConfirmation, ...),
  and its ``state``: ``delivered``, or ``failed`` with the ``error`` where the endpoint refuses for
  good (an SMS to an opted-out number, a push to a disabled or deleted platform endpoint).
- ``GET /_emulator/sns/deliveries[?...the same filters]``: every HTTP/S
  delivery (notifications and confirmations) with its state (queued, retrying, delivered, failed)
  and each attempt's time, HTTP status and error.
- ``GET /_emulator/sns/tokens[?topic=&endpoint=]``: the subscriptions pending confirmation, with
  the token ConfirmSubscription takes (so a test confirms an email subscription without a mailbox).
- ``POST /_emulator/sns/opt-out`` ``{"phoneNumber": "+15555550100"}``: the phone number opts out
  of SMS, as when its owner replies STOP.
- ``GET /_emulator/sns/sandbox-otp?phoneNumber=``: the one-time password the SMS sandbox sent to
  that number by CreateSMSSandboxPhoneNumber, for VerifySMSSandboxPhoneNumber.

``GET /SimpleNotificationService-<id>.pem`` serves the certificate messages are signed with (the
``SigningCertURL`` of every signed message).

These run on the event loop: each reads one bounded delivery log or one store's subscriptions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.services.sns import signing
from emulator.services.sns.common import SnsBase

_HTTP = ("http", "https")
_FILTERS = ("topic", "subscription", "protocol", "endpoint", "messageId", "type")


class AdminMixin(SnsBase):
    registry: Any
    # From the SMS mixin (sms.py): the opt-out list and the sandbox's one-time passwords.
    _opt_out: Callable[[str, str, str], None]
    _sandbox_otp: Callable[[str, str, str], str | None]

    def certificate_pem(self, name: str) -> bytes | None:
        """The PEM at ``/<name>`` if that is the certificate this provider signs with, else None."""
        return signing.certificate_pem(self, name)

    def admin(self, method: str, path: str, args: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        routes = {
            ("GET", "messages"): self._admin_messages,
            ("GET", "deliveries"): self._admin_deliveries,
            ("GET", "tokens"): self._admin_tokens,
            ("POST", "opt-out"): self._admin_opt_out,
            ("GET", "sandbox-otp"): self._admin_sandbox_otp,
        }
        handler = routes.get((method, path))
        if handler is None:
            if any(route_path == path for _, route_path in routes):
                return 405, {"error": f"method {method} not allowed on /_emulator/sns/{path}"}
            return 404, {"error": f"no admin endpoint /_emulator/sns/{path}"}
        account = args.get("account") or self.config.default_account
        region = args.get("region") or self.config.default_region
        return handler(account, region, args, body)

    def _log(self, account: str, region: str, args: dict[str, str]) -> list[dict[str, Any]]:
        wanted = {key: args[key] for key in _FILTERS if args.get(key)}
        entries = self.registry.delivery.log(account, region, source="sns")
        return [entry for entry in entries
                if all(entry.get("info", {}).get(key) == value for key, value in wanted.items())]

    def _admin_messages(self, account: str, region: str, args: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        recorded = [entry for entry in self._log(account, region, args)
                    if entry.get("target", {}).get("type") == "record" and "payload" in entry]
        return 200, {"messages": [{**entry["info"], "payload": entry["payload"], "at": entry["attempts"][-1]["at"],
                                   "state": entry["state"], "error": entry["attempts"][-1]["error"]}
                                  for entry in recorded if entry["attempts"]]}

    def _admin_deliveries(self, account: str, region: str, args: dict[str, str],
                          body: dict[str, Any]) -> tuple[int, Any]:
        sent = [entry for entry in self._log(account, region, args) if entry.get("info", {}).get("protocol") in _HTTP]
        return 200, {"deliveries": sent}

    def _admin_tokens(self, account: str, region: str, args: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        store = self._stores.get(account, region)
        with store.lock:
            pending = [
                {"subscriptionArn": sub.arn, "topicArn": sub.topic_arn, "protocol": sub.protocol,
                 "endpoint": sub.endpoint, "token": sub.token}
                for sub in store.subscriptions.values()
                if not sub.confirmed and sub.token
                and args.get("topic", sub.topic_arn) == sub.topic_arn
                and args.get("endpoint", sub.endpoint) == sub.endpoint
            ]
        return 200, {"tokens": pending}

    def _admin_opt_out(self, account: str, region: str, args: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        phone = body.get("phoneNumber")
        if not isinstance(phone, str) or not phone:
            return 400, {"error": 'give {"phoneNumber": "+1..."}'}
        self._opt_out(account, region, phone)
        return 200, {"phoneNumber": phone, "optedOut": True}

    def _admin_sandbox_otp(self, account: str, region: str, args: dict[str, str],
                           body: dict[str, Any]) -> tuple[int, Any]:
        phone = args.get("phoneNumber")
        if not phone:
            return 400, {"error": "give ?phoneNumber=+1..."}
        otp = self._sandbox_otp(account, region, phone)
        if otp is None:
            return 404, {"error": f"no sandbox phone number {phone} pending verification"}
        return 200, {"phoneNumber": phone, "otp": otp}
