"""SMS settings, opt-outs, the SMS sandbox and the Publish phone checks, over the real socket."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.context import RequestContext
from emulator.errors import ServiceError
from emulator.testing import admin
from tests.services.sns.conftest import ACCOUNT, REGION, error

BAD_FORMAT = "Invalid parameter: PhoneNumber Reason: input incorrectly formatted"


def advance(emulator_url: str, seconds: float) -> None:
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": seconds})


def test_sms_attributes_round_trip_and_filter(sns: Any) -> None:
    assert sns.get_sms_attributes()["attributes"] == {}
    values = {
        "MonthlySpendLimit": "10", "DeliveryStatusIAMRole": f"arn:aws:iam::{ACCOUNT}:role/SNSLogs",
        "DeliveryStatusSuccessSamplingRate": "50", "DefaultSenderID": "MyCompany",
        "DefaultSMSType": "Transactional", "UsageReportS3Bucket": "my-usage-reports",
    }
    sns.set_sms_attributes(attributes=values)
    assert sns.get_sms_attributes()["attributes"] == values
    filtered = sns.get_sms_attributes(attributes=["DefaultSMSType", "MonthlySpendLimit", "NotSet"])["attributes"]
    assert filtered == {"DefaultSMSType": "Transactional", "MonthlySpendLimit": "10"}
    sns.set_sms_attributes(attributes={"DefaultSenderID": ""})
    assert "DefaultSenderID" not in sns.get_sms_attributes()["attributes"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DefaultSMSType", "Urgent", "Invalid parameter: DefaultSMSType"),
        ("MonthlySpendLimit", "-1", "Invalid parameter: MonthlySpendLimit"),
        ("DeliveryStatusSuccessSamplingRate", "101", "Invalid parameter: DeliveryStatusSuccessSamplingRate"),
        ("DefaultSenderID", "TwelveChars1", "Invalid parameter: DefaultSenderID"),
        ("DefaultSenderID", "12345", "Invalid parameter: DefaultSenderID"),
        ("DeliveryStatusIAMRole", "role", "Invalid parameter: DeliveryStatusIAMRole"),
        ("UsageReportS3Bucket", "Bad_Bucket", "Invalid parameter: UsageReportS3Bucket"),
        ("Colour", "red", "Invalid parameter: AttributeName"),
    ],
)
def test_set_sms_attributes_rejects_bad_values(raw_sns: Any, name: str, value: str, message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.set_sms_attributes(attributes={"DefaultSMSType": "Promotional", name: value})
    assert error(excinfo) == ("InvalidParameter", 400, message)
    assert raw_sns.get_sms_attributes()["attributes"] == {}  # a rejected request changes nothing


def test_opt_out_check_list_and_opt_in_once_in_30_days(sns: Any, provider: Any, emulator_url: str) -> None:
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15550001111")["isOptedOut"] is False
    for phone in ("+15550001111", "+447700900123"):
        provider._opt_out(ACCOUNT, REGION, phone)
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15550001111")["isOptedOut"] is True
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == ["+15550001111", "+447700900123"]
    sns.opt_in_phone_number(phoneNumber="+15550001111")
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15550001111")["isOptedOut"] is False

    provider._opt_out(ACCOUNT, REGION, "+15550001111")
    advance(emulator_url, 29 * 86_400)
    with pytest.raises(ClientError) as excinfo:
        sns.opt_in_phone_number(phoneNumber="+15550001111")
    assert error(excinfo) == (
        "InvalidParameter", 400,
        "Invalid parameter: PhoneNumber Reason: A phone number can be opted in only once every 30 days",
    )
    advance(emulator_url, 86_400)
    sns.opt_in_phone_number(phoneNumber="+15550001111")
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == ["+447700900123"]
    sns.opt_in_phone_number(phoneNumber="+19995550000")  # not opted out: nothing to do


def test_opt_outs_are_per_account(aws_client: Any, provider: Any) -> None:
    provider._opt_out("111122223333", REGION, "+15550001111")
    assert aws_client("sns").check_if_phone_number_is_opted_out(phoneNumber="+15550001111")["isOptedOut"] is False
    other = aws_client("sns", account="111122223333")
    assert other.check_if_phone_number_is_opted_out(phoneNumber="+15550001111")["isOptedOut"] is True


def test_list_phone_numbers_opted_out_pages_by_100(sns: Any, raw_sns: Any, provider: Any) -> None:
    numbers = [f"+1555000{i:04d}" for i in range(150)]
    for phone in numbers:
        provider._opt_out(ACCOUNT, REGION, phone)
    first = sns.list_phone_numbers_opted_out()
    second = sns.list_phone_numbers_opted_out(nextToken=first["nextToken"])
    assert (len(first["phoneNumbers"]), "nextToken" in second) == (100, False)
    assert first["phoneNumbers"] + second["phoneNumbers"] == numbers
    with pytest.raises(ClientError) as excinfo:
        raw_sns.list_phone_numbers_opted_out(nextToken="forged")
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: nextToken")


@pytest.mark.parametrize("phone", ["15550001111", "+1 555 000 1111", "+0123456", "+1a234", "+1234567890123456"])
def test_phone_operations_want_e164(raw_sns: Any, provider: Any, phone: str) -> None:
    for call in (
        lambda: raw_sns.check_if_phone_number_is_opted_out(phoneNumber=phone),
        lambda: raw_sns.opt_in_phone_number(phoneNumber=phone),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("InvalidParameter", 400, BAD_FORMAT)
    with pytest.raises(ValueError):
        provider._opt_out(ACCOUNT, REGION, phone)


def test_sandbox_number_life_cycle(sns: Any, raw_sns: Any, provider: Any, emulator_url: str) -> None:
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is False
    sns.create_sms_sandbox_phone_number(PhoneNumber="+15550002222", LanguageCode="de-DE")
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [
        {"PhoneNumber": "+15550002222", "Status": "Pending"}
    ]
    otp = provider._sandbox_otp(ACCOUNT, REGION, "+15550002222")
    assert otp is not None and len(otp) == 6 and otp.isdigit()

    wrong = "000000" if otp != "000000" else "111111"
    with pytest.raises(ClientError) as excinfo:
        raw_sns.verify_sms_sandbox_phone_number(PhoneNumber="+15550002222", OneTimePassword=wrong)
    assert error(excinfo) == ("VerificationException", 400, "Invalid one-time password.")
    sns.verify_sms_sandbox_phone_number(PhoneNumber="+15550002222", OneTimePassword=otp)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [
        {"PhoneNumber": "+15550002222", "Status": "Verified"}
    ]
    assert provider._sandbox_otp(ACCOUNT, REGION, "+15550002222") is None

    with pytest.raises(ClientError) as excinfo:
        raw_sns.delete_sms_sandbox_phone_number(PhoneNumber="+15550002222")
    assert error(excinfo)[:2] == ("UserError", 400)
    advance(emulator_url, 86_400)
    sns.delete_sms_sandbox_phone_number(PhoneNumber="+15550002222")
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == []
    for call in (
        lambda: raw_sns.delete_sms_sandbox_phone_number(PhoneNumber="+15550002222"),
        lambda: raw_sns.verify_sms_sandbox_phone_number(PhoneNumber="+15550002222", OneTimePassword="123456"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("ResourceNotFound", 404, "Destination phone number not found.")


def test_sandbox_refuses_opted_out_numbers_bad_numbers_and_an_eleventh(raw_sns: Any, provider: Any) -> None:
    provider._opt_out(ACCOUNT, REGION, "+15550009999")
    cases = [("+15550009999", ("OptedOut", 400, "Phone number is opted out.")),
             ("+0123456789", ("InvalidParameter", 400, "Invalid parameter: PhoneNumber"))]
    for phone, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            raw_sns.create_sms_sandbox_phone_number(PhoneNumber=phone)
        assert error(excinfo) == expected
    for i in range(10):
        raw_sns.create_sms_sandbox_phone_number(PhoneNumber=f"+1555000{i:04d}")
    with pytest.raises(ClientError) as excinfo:
        raw_sns.create_sms_sandbox_phone_number(PhoneNumber="+15550000010")
    assert error(excinfo)[:2] == ("UserError", 400)
    page = raw_sns.list_sms_sandbox_phone_numbers(MaxResults=4)
    rest = raw_sns.list_sms_sandbox_phone_numbers(NextToken=page["NextToken"])
    assert len(page["PhoneNumbers"]) == 4 and len(rest["PhoneNumbers"]) == 6


def test_sandbox_create_again_sends_a_new_password(sns: Any, provider: Any) -> None:
    sns.create_sms_sandbox_phone_number(PhoneNumber="+15550003333")
    passwords = {provider._sandbox_otp(ACCOUNT, REGION, "+15550003333")}
    for _ in range(5):
        sns.create_sms_sandbox_phone_number(PhoneNumber="+15550003333")
        passwords.add(provider._sandbox_otp(ACCOUNT, REGION, "+15550003333"))
    assert len(passwords) > 1  # six random six-digit passwords are not all equal
    assert len(sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]) == 1


def test_list_origination_numbers_is_empty(sns: Any, raw_sns: Any) -> None:
    assert sns.list_origination_numbers()["PhoneNumbers"] == []
    with pytest.raises(ClientError) as excinfo:
        raw_sns.list_origination_numbers(NextToken="forged")
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: NextToken")


@pytest.mark.parametrize("phone", ["+1a234", "NAA+15551234567", "5551234567", ""])
def test_publish_phone_check_answers_what_aws_answers(provider: Any, phone: str) -> None:
    with pytest.raises(ServiceError) as excinfo:
        provider._publish_phone(RequestContext("sns", ACCOUNT, REGION), phone)
    assert (excinfo.value.code, excinfo.value.message) == (
        "InvalidParameterException", f"Invalid parameter: PhoneNumber Reason: {phone} is not valid to publish to"
    )


def test_publish_phone_accepts_opted_out_numbers_and_reports_them(provider: Any) -> None:
    ctx = RequestContext("sns", ACCOUNT, REGION)
    provider._opt_out(ACCOUNT, REGION, "+15550004444")
    provider._publish_phone(ctx, "+15550004444")
    assert provider._phone_opted_out(ctx, "+15550004444") is True
    assert provider._phone_opted_out(ctx, "+15550005555") is False
