"""SMS: account settings, the opt-out list, the SMS sandbox's destination numbers, and what Publish
checks before it hands a text to the delivery layer.

No carrier stands behind the emulator, so two things that happen outside AWS's API are admin hooks:
a recipient replying STOP (``_opt_out``) and reading the one-time password AWS would have texted to a
new sandbox number (``_sandbox_otp``).

The sandbox: on AWS a new account can text only verified sandbox numbers until it is moved out. An
emulator user expects ``Publish(PhoneNumber=...)`` to work, so emulator accounts are out of the
sandbox (GetSMSSandboxAccountStatus says ``IsInSandbox: false``) and Publish applies no sandbox rule;
the sandbox numbers' own API (create, verify with the password, list, delete) still behaves as AWS's.

A publish to an opted-out number is accepted, as AWS accepts it; the delivery then fails as "Phone
is currently opted out" and is recorded as a failed delivery (``_phone_opted_out`` tells
``publish.py``; ``fanout.py`` checks SMS subscriptions the same way).

Everything is a dict lookup under the store's lock; the listings sort the numbers once per page.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.errors import error_class
from emulator.services.pagination import InvalidToken, paginate
from emulator.services.sns.common import (
    InvalidParameter,
    OptedOut,
    ResourceNotFound,
    SnsBase,
    UserError,
    invalid,
)
from emulator.services.sns.models import SmsState

# No ``error`` block in the model: the code is the shape's name and the status 400.
VerificationException = error_class("VerificationException")

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
OPT_IN_INTERVAL = 30 * 86_400  # "You can opt in a phone number only once every 30 days."
SANDBOX_NUMBERS_MAX = 10  # "You can have up to 10 verified destination phone numbers."
SANDBOX_DELETE_AFTER = 86_400  # deletable 24 hours after verification or the last verification attempt
OPTED_OUT_PAGE = 100
SANDBOX_PAGE = 100
ORIGINATION_PAGE = 30

_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")  # up to 11 characters, one letter at least
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def is_e164(phone: str | None) -> bool:
    """Whether ``phone`` is an E.164 number (``+`` and up to 15 digits), as SNS's SMS operations want."""
    return bool(_E164.match(phone or ""))


def _percentage(value: str) -> bool:
    return value.isdigit() and 0 <= int(value) <= 100


# SetSMSAttributes: each attribute AWS accepts and what its value must be ("" clears the optional ones).
_SMS_ATTRIBUTES = {
    "MonthlySpendLimit": lambda v: v.isdigit(),
    "DeliveryStatusIAMRole": lambda v: v == "" or bool(_ROLE_ARN.match(v)),
    "DeliveryStatusSuccessSamplingRate": _percentage,
    "DefaultSenderID": lambda v: v == "" or bool(_SENDER_ID.match(v)),
    "DefaultSMSType": lambda v: v in ("Promotional", "Transactional"),
    "UsageReportS3Bucket": lambda v: v == "" or bool(_BUCKET.match(v)),
}


def _check_phone(phone: str | None) -> str:
    if not is_e164(phone):
        raise InvalidParameter("Invalid parameter: PhoneNumber Reason: input incorrectly formatted")
    return phone or ""


def _page(items: list[str], next_token: str | None, limit: int, kind: str, member: str) -> tuple[list[str], str | None]:
    try:
        return paginate(sorted(items), lambda item: item, next_token, limit, kind)
    except InvalidToken:
        raise invalid(member) from None


class SmsMixin(SnsBase):
    def _sms(self, account: str, region: str) -> tuple[Any, SmsState]:
        store = self._stores.get(account, region)
        return store.lock, store.sms

    # --- account settings ----------------------------------------------------------------------

    def get_sms_attributes(
        self, ctx: RequestContext, *, attributes: list[str] | None = None, **_: Any
    ) -> dict[str, Any]:
        """The settings that were set; with ``attributes``, only those of them."""
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            values = dict(sms.attributes)
        if attributes:
            values = {name: value for name, value in values.items() if name in attributes}
        return {"attributes": values}

    def set_sms_attributes(self, ctx: RequestContext, *, attributes: dict[str, str], **_: Any) -> dict[str, Any]:
        for name, value in attributes.items():
            check = _SMS_ATTRIBUTES.get(name)
            if check is None:
                raise invalid("AttributeName")
            if not check(value):
                raise invalid(name)
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            for name, value in attributes.items():
                if value == "" and name != "MonthlySpendLimit":
                    sms.attributes.pop(name, None)
                else:
                    sms.attributes[name] = value
        return {}

    # --- opt-outs ------------------------------------------------------------------------------

    def check_if_phone_number_is_opted_out(self, ctx: RequestContext, *, phone_number: str, **_: Any) -> dict[str, Any]:
        phone = _check_phone(phone_number)
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            return {"isOptedOut": phone in sms.opted_out}

    def list_phone_numbers_opted_out(
        self, ctx: RequestContext, *, next_token: str | None = None, **_: Any
    ) -> dict[str, Any]:
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            page, token = _page(list(sms.opted_out), next_token, OPTED_OUT_PAGE, "sns-opted-out", "nextToken")
        result: dict[str, Any] = {"phoneNumbers": page}
        if token:
            result["nextToken"] = token
        return result

    def opt_in_phone_number(self, ctx: RequestContext, *, phone_number: str, **_: Any) -> dict[str, Any]:
        """Opts a number back in, at most once in 30 days of the emulator's clock; a number that is not
        opted out needs nothing."""
        phone = _check_phone(phone_number)
        now = clock.now()
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            if phone not in sms.opted_out:
                return {}
            last = sms.opted_in_at.get(phone)
            if last is not None and now - last < OPT_IN_INTERVAL:
                raise InvalidParameter(
                    "Invalid parameter: PhoneNumber Reason: A phone number can be opted in only once every 30 days"
                )
            del sms.opted_out[phone]
            sms.opted_in_at[phone] = now
        return {}

    def _opt_out(self, account: str, region: str, phone: str) -> None:
        """Admin hook: ``phone`` replied STOP. ``ValueError`` for what is not an E.164 number."""
        if not is_e164(phone):
            raise ValueError(f"{phone!r} is not an E.164 phone number")
        lock, sms = self._sms(account, region)
        with lock:
            sms.opted_out.setdefault(phone, clock.now())

    # --- for Publish ---------------------------------------------------------------------------

    def _publish_phone(self, ctx: RequestContext, phone_number: str) -> None:
        """Checks a Publish PhoneNumber as AWS does. An opted-out number is accepted (see the module's
        docstring); the emulator's accounts are out of the sandbox, so no sandbox rule applies."""
        if not is_e164(phone_number):
            raise InvalidParameter(f"Invalid parameter: PhoneNumber Reason: {phone_number} is not valid to publish to")

    def _phone_opted_out(self, ctx: RequestContext, phone_number: str) -> bool:
        """Whether a text to ``phone_number`` fails as "Phone number is opted out" when delivered."""
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            return phone_number in sms.opted_out

    # --- the SMS sandbox -----------------------------------------------------------------------

    def get_sms_sandbox_account_status(self, ctx: RequestContext, **_: Any) -> dict[str, Any]:
        return {"IsInSandbox": False}

    def create_sms_sandbox_phone_number(
        self, ctx: RequestContext, *, phone_number: str, language_code: str | None = None, **_: Any
    ) -> dict[str, Any]:
        """Adds a destination number, Pending, and "texts" it a one-time password (``_sandbox_otp``).
        Adding a Pending number again sends a new password."""
        if not is_e164(phone_number):
            raise invalid("PhoneNumber")
        now = clock.now()
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            if phone_number in sms.opted_out:
                raise OptedOut("Phone number is opted out.")
            entry = sms.sandbox_numbers.get(phone_number)
            if entry is not None and entry["status"] == "Verified":
                return {}
            if entry is None and len(sms.sandbox_numbers) >= SANDBOX_NUMBERS_MAX:
                raise UserError(
                    f"You can have up to {SANDBOX_NUMBERS_MAX} destination phone numbers in the SMS sandbox."
                )
            sms.sandbox_numbers[phone_number] = {
                "status": "Pending",
                "otp": f"{secrets.randbelow(1_000_000):06d}",
                "language": language_code or "en-US",
                "attempt_at": now,
            }
        return {}

    def verify_sms_sandbox_phone_number(
        self, ctx: RequestContext, *, phone_number: str, one_time_password: str, **_: Any
    ) -> dict[str, Any]:
        now = clock.now()
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            entry = sms.sandbox_numbers.get(phone_number)
            if entry is None:
                raise ResourceNotFound("Destination phone number not found.")
            if entry["status"] == "Verified":
                return {}
            entry["attempt_at"] = now
            if not secrets.compare_digest(one_time_password, entry["otp"]):
                raise VerificationException("Invalid one-time password.")
            entry["status"] = "Verified"
        return {}

    def delete_sms_sandbox_phone_number(self, ctx: RequestContext, *, phone_number: str, **_: Any) -> dict[str, Any]:
        now = clock.now()
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            entry = sms.sandbox_numbers.get(phone_number)
            if entry is None:
                raise ResourceNotFound("Destination phone number not found.")
            if now - entry["attempt_at"] < SANDBOX_DELETE_AFTER:
                raise UserError(
                    "A destination phone number can be deleted only 24 hours after its verification or its last "
                    "verification attempt."
                )
            del sms.sandbox_numbers[phone_number]
        return {}

    def list_sms_sandbox_phone_numbers(
        self, ctx: RequestContext, *, next_token: str | None = None, max_results: int | None = None, **_: Any
    ) -> dict[str, Any]:
        lock, sms = self._sms(ctx.account, ctx.region)
        with lock:
            page, token = _page(list(sms.sandbox_numbers), next_token, max_results or SANDBOX_PAGE,
                                "sns-sandbox-numbers", "NextToken")
            numbers = [{"PhoneNumber": phone, "Status": sms.sandbox_numbers[phone]["status"]} for phone in page]
        result: dict[str, Any] = {"PhoneNumbers": numbers}
        if token:
            result["NextToken"] = token
        return result

    def _sandbox_otp(self, account: str, region: str, phone: str) -> str | None:
        """Admin hook: the one-time password "texted" to a Pending sandbox number, else None."""
        lock, sms = self._sms(account, region)
        with lock:
            entry = sms.sandbox_numbers.get(phone)
            return entry["otp"] if entry is not None and entry["status"] == "Pending" else None

    # --- origination numbers -------------------------------------------------------------------

    def list_origination_numbers(
        self, ctx: RequestContext, *, next_token: str | None = None, max_results: int | None = None, **_: Any
    ) -> dict[str, Any]:
        """An emulator account owns no origination numbers (they are leased from AWS End User Messaging,
        which the emulator does not serve), so the listing is empty; a NextToken it never issued is invalid."""
        _page([], next_token, max_results or ORIGINATION_PAGE, "sns-origination-numbers", "NextToken")
        return {"PhoneNumbers": []}
