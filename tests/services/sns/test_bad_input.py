"""Every SNS operation's bad input, sent past boto3's own validation (``raw_sns``), gets the server's
answer: the query protocol's ValidationError for what the model forbids (a missing required member,
a value of the wrong type or out of range), listing each violation with the member's name in AWS's
camelCase, or the operation's own error; and a rejected request changes nothing."""

from __future__ import annotations

from typing import Any

import botocore
import pytest
from botocore.exceptions import ClientError

TOPIC = "arn:aws:sns:us-east-1:000000000000:t"


def missing(*members: str) -> str:
    """AWS's text for required members that were not sent, in the model's order."""
    count = len(members)
    head = f"{count} validation error{'s' if count > 1 else ''} detected: "
    each = "Value null at '{}' failed to satisfy constraint: Member must not be null"
    return head + "; ".join(each.format(member) for member in members)


V = "ValidationError"
IP = "InvalidParameter"

# (operation, request, error code, HTTP status, message): one row per operation of the model.
CASES: list[tuple[str, dict[str, Any], str, int, str]] = [
    ("AddPermission", {}, V, 400, missing("topicArn", "label", "aWSAccountId", "actionName")),
    ("CheckIfPhoneNumberIsOptedOut", {}, V, 400, missing("phoneNumber")),
    ("ConfirmSubscription", {}, V, 400, missing("topicArn", "token")),
    ("CreatePlatformApplication", {}, V, 400, missing("name", "platform", "attributes")),
    ("CreatePlatformEndpoint", {}, V, 400, missing("platformApplicationArn", "token")),
    ("CreateSMSSandboxPhoneNumber", {}, V, 400, missing("phoneNumber")),
    ("CreateTopic", {}, V, 400, missing("name")),
    ("DeleteEndpoint", {}, V, 400, missing("endpointArn")),
    ("DeletePlatformApplication", {}, V, 400, missing("platformApplicationArn")),
    ("DeleteSMSSandboxPhoneNumber", {}, V, 400, missing("phoneNumber")),
    ("DeleteTopic", {}, V, 400, missing("topicArn")),
    ("GetDataProtectionPolicy", {}, V, 400, missing("resourceArn")),
    ("GetEndpointAttributes", {}, V, 400, missing("endpointArn")),
    ("GetPlatformApplicationAttributes", {}, V, 400, missing("platformApplicationArn")),
    ("GetSubscriptionAttributes", {}, V, 400, missing("subscriptionArn")),
    ("GetTopicAttributes", {}, V, 400, missing("topicArn")),
    ("ListEndpointsByPlatformApplication", {}, V, 400, missing("platformApplicationArn")),
    ("ListSubscriptionsByTopic", {}, V, 400, missing("topicArn")),
    ("ListTagsForResource", {}, V, 400, missing("resourceArn")),
    ("OptInPhoneNumber", {}, V, 400, missing("phoneNumber")),
    ("Publish", {}, V, 400, missing("message")),
    ("PublishBatch", {}, V, 400, missing("topicArn", "publishBatchRequestEntries")),
    ("PutDataProtectionPolicy", {}, V, 400, missing("resourceArn", "dataProtectionPolicy")),
    ("RemovePermission", {}, V, 400, missing("topicArn", "label")),
    ("SetEndpointAttributes", {}, V, 400, missing("endpointArn", "attributes")),
    ("SetPlatformApplicationAttributes", {}, V, 400, missing("platformApplicationArn", "attributes")),
    ("SetSMSAttributes", {}, V, 400, missing("attributes")),
    ("SetSubscriptionAttributes", {}, V, 400, missing("subscriptionArn", "attributeName")),
    ("SetTopicAttributes", {}, V, 400, missing("topicArn", "attributeName")),
    ("Subscribe", {}, V, 400, missing("topicArn", "protocol")),
    ("TagResource", {}, V, 400, missing("resourceArn", "tags")),
    ("Unsubscribe", {}, V, 400, missing("subscriptionArn")),
    ("UntagResource", {}, V, 400, missing("resourceArn", "tagKeys")),
    ("VerifySMSSandboxPhoneNumber", {}, V, 400, missing("phoneNumber", "oneTimePassword")),
    # Operations without required members: a value of the wrong type or out of range, a forged token.
    ("ListOriginationNumbers", {"MaxResults": "ten"}, V, 400,
     "1 validation error detected: Value 'ten' at 'maxResults' failed to satisfy constraint: "
     "Member must be a valid integer"),
    ("ListSMSSandboxPhoneNumbers", {"MaxResults": 500}, V, 400,
     "1 validation error detected: Value '500' at 'maxResults' failed to satisfy constraint: "
     "Member must have value less than or equal to 100"),
    ("ListTopics", {"NextToken": "forged"}, IP, 400, "Invalid parameter: NextToken"),
    ("ListSubscriptions", {"NextToken": "forged"}, IP, 400, "Invalid parameter: NextToken"),
    ("ListPlatformApplications", {"NextToken": "forged"}, IP, 400, "Invalid parameter: NextToken"),
    ("ListPhoneNumbersOptedOut", {"nextToken": "forged"}, IP, 400, "Invalid parameter: nextToken"),
]
# No input the model can call bad: GetSMSSandboxAccountStatus takes none, GetSMSAttributes only a list
# of names (on the query protocol every value is text). Both answer.
NO_INPUT = {"GetSMSSandboxAccountStatus", "GetSMSAttributes"}


def test_the_table_covers_every_operation_of_the_model(raw_sns: Any) -> None:
    assert {case[0] for case in CASES} | NO_INPUT == set(raw_sns.meta.service_model.operation_names)
    assert len(CASES) == len({case[0] for case in CASES})


@pytest.mark.parametrize(("operation", "request_", "code", "status", "message"), CASES,
                         ids=[case[0] for case in CASES])
def test_bad_input_gets_the_servers_error(raw_sns: Any, operation: str, request_: dict[str, Any], code: str,
                                          status: int, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(raw_sns, botocore.xform_name(operation))(**request_)
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]) == (
        code, status, message)
    assert error["Error"]["Type"] == "Sender"


def test_the_operations_without_bad_input_answer(raw_sns: Any) -> None:
    assert raw_sns.get_sms_sandbox_account_status()["IsInSandbox"] is False
    raw_sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional"})
    assert raw_sns.get_sms_attributes(attributes=["NoSuchName"])["attributes"] == {}
    assert raw_sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {
        "DefaultSMSType": "Transactional"}


@pytest.mark.parametrize(("operation", "request_"), [
    ("CreateTopic", {"Name": "t", "Tags": [{"Key": "k"}]}),
    ("CreateTopic", {"Name": "bad name!"}),
    ("Subscribe", {"TopicArn": TOPIC, "Protocol": "carrier-pigeon"}),
    ("CreatePlatformApplication", {"Name": "app", "Platform": "GCM", "Attributes": {}}),
    ("SetSMSAttributes", {"attributes": {"DefaultSMSType": "Loud"}}),
])
def test_a_rejected_request_changes_nothing(raw_sns: Any, operation: str, request_: dict[str, Any]) -> None:
    if operation == "Subscribe":
        raw_sns.create_topic(Name="t")
    with pytest.raises(ClientError):
        getattr(raw_sns, botocore.xform_name(operation))(**request_)
    assert len(raw_sns.list_topics()["Topics"]) == (1 if operation == "Subscribe" else 0)
    assert raw_sns.list_subscriptions()["Subscriptions"] == []
    assert raw_sns.list_platform_applications()["PlatformApplications"] == []
    assert raw_sns.get_sms_attributes()["attributes"] == {}
