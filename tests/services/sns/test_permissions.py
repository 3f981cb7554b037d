"""Topic policies across accounts: AddPermission / RemovePermission, a Policy set outright, and
``policy.allows`` on its own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.services.sns import policy
from emulator.services.sns.models import Topic

OTHER = "111111111111"
OWNER = "000000000000"
TOPIC = Topic(name="t", arn=f"arn:aws:sns:us-east-1:{OWNER}:t", account=OWNER, region="us-east-1")


def denied(call: Any, action: str, arn: str, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    assert error["Error"]["Code"] == "AuthorizationError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"] == (
        f"User: arn:aws:iam::{OTHER}:root is not authorized to perform: SNS:{action} on resource: {arn}"
    )


@pytest.fixture
def clients(aws_client: Any) -> tuple[Any, Any]:
    return aws_client("sns"), aws_client("sns", account=OTHER)


def test_default_policy_keeps_other_accounts_out(clients: tuple[Any, Any]) -> None:
    owner, other = clients
    arn = owner.create_topic(Name="t")["TopicArn"]
    denied(other.get_topic_attributes, "GetTopicAttributes", arn, TopicArn=arn)
    denied(other.set_topic_attributes, "SetTopicAttributes", arn, TopicArn=arn, AttributeName="DisplayName",
           AttributeValue="x")
    denied(other.delete_topic, "DeleteTopic", arn, TopicArn=arn)
    assert owner.list_topics()["Topics"] == [{"TopicArn": arn}]


def test_add_permission_lets_the_account_do_the_action_and_remove_takes_it_back(clients: tuple[Any, Any]) -> None:
    owner, other = clients
    arn = owner.create_topic(Name="t")["TopicArn"]
    owner.add_permission(TopicArn=arn, Label="read", AWSAccountId=[OTHER], ActionName=["GetTopicAttributes"])
    statement = json.loads(owner.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"][-1]
    assert statement == {"Sid": "read", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{OTHER}:root"]},
                         "Action": ["SNS:GetTopicAttributes"], "Resource": arn}
    assert other.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn
    denied(other.set_topic_attributes, "SetTopicAttributes", arn, TopicArn=arn, AttributeName="DisplayName",
           AttributeValue="x")
    owner.remove_permission(TopicArn=arn, Label="read")
    denied(other.get_topic_attributes, "GetTopicAttributes", arn, TopicArn=arn)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"Label": "__default_statement_ID", "ActionName": ["Publish"]}, "Invalid parameter: Statement already exists"),
        ({"Label": "x", "ActionName": ["Fly"]}, "Invalid parameter: Policy statement action out of service scope!"),
    ],
)
def test_add_permission_refusals(sns: Any, kwargs: dict[str, Any], message: str) -> None:
    arn = sns.create_topic(Name="t")["TopicArn"]
    with pytest.raises(ClientError) as caught:
        sns.add_permission(TopicArn=arn, AWSAccountId=[OTHER], **kwargs)
    assert (caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]) == (
        "InvalidParameter", message)


def test_remove_permission_of_an_unknown_label(sns: Any) -> None:
    arn = sns.create_topic(Name="t")["TopicArn"]
    with pytest.raises(ClientError) as caught:
        sns.remove_permission(TopicArn=arn, Label="nothing")
    assert caught.value.response["Error"]["Message"] == "Invalid parameter: Statement doesn't exist"


def test_a_policy_set_outright_grants_and_denies(clients: tuple[Any, Any]) -> None:
    owner, other = clients
    arn = owner.create_topic(Name="t")["TopicArn"]
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:*", "Resource": arn},
        {"Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "SNS:DeleteTopic", "Resource": "*"},
    ]}
    owner.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(document))
    other.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="theirs")
    assert owner.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "theirs"
    denied(other.delete_topic, "DeleteTopic", arn, TopicArn=arn)


def test_cross_account_publish_and_subscribe_need_permission(clients: tuple[Any, Any]) -> None:
    owner, other = clients
    arn = owner.create_topic(Name="t")["TopicArn"]
    denied(other.publish, "Publish", arn, TopicArn=arn, Message="hi")
    denied(other.subscribe, "Subscribe", arn, TopicArn=arn, Protocol="sqs",
           Endpoint=f"arn:aws:sqs:us-east-1:{OTHER}:q")
    owner.add_permission(TopicArn=arn, Label="pub", AWSAccountId=[OTHER], ActionName=["Publish", "Subscribe"])
    assert other.publish(TopicArn=arn, Message="hi")["MessageId"]
    assert other.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{OTHER}:q")[
        "SubscriptionArn"]


def _with(statements: list[dict[str, Any]]) -> Topic:
    return Topic(name=TOPIC.name, arn=TOPIC.arn, account=OWNER, region="us-east-1",
                 attributes={"Policy": json.dumps({"Statement": statements})})


def _allow(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "SNS:Publish", "Resource": TOPIC.arn, **fields}


@pytest.mark.parametrize(
    ("statements", "account", "action", "expected"),
    [
        (None, OWNER, "SNS:Publish", True),  # the owner, whatever the policy
        (None, OTHER, "SNS:Publish", False),  # the default statement's SourceOwner condition
        ([_allow()], OTHER, "SNS:Publish", True),
        ([_allow()], OTHER, "SNS:Subscribe", False),
        ([_allow()], "222222222222", "SNS:Publish", False),
        ([_allow(Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})], OTHER, "SNS:Publish", True),
        ([_allow(Principal={"AWS": [f"arn:aws:iam::{OTHER}:root", "333333333333"]})], OTHER, "SNS:Publish", True),
        ([_allow(Principal="*")], OTHER, "SNS:Publish", True),
        ([_allow(Principal={"Service": "s3.amazonaws.com"})], OTHER, "SNS:Publish", False),
        ([_allow(Action="sns:publish")], OTHER, "SNS:Publish", True),
        ([_allow(Action=["sns:*"])], OTHER, "SNS:Subscribe", True),
        ([_allow(Action="SNS:Get*")], OTHER, "SNS:GetTopicAttributes", True),
        ([_allow(Resource="*")], OTHER, "SNS:Publish", True),
        ([_allow(Resource="arn:aws:sns:us-east-1:000000000000:other")], OTHER, "SNS:Publish", False),
        ([_allow(Resource="arn:aws:sns:*:000000000000:*")], OTHER, "SNS:Publish", True),
        ([_allow(), {**_allow(), "Effect": "Deny"}], OTHER, "SNS:Publish", False),
        ([_allow(Condition={"StringEquals": {"aws:SourceAccount": OTHER}})], OTHER, "SNS:Publish", True),
        ([_allow(Condition={"StringEquals": {"AWS:SourceOwner": OWNER}})], OTHER, "SNS:Publish", False),
        ([_allow(Condition={"NumericLessThan": {"aws:EpochTime": "1"}})], OTHER, "SNS:Publish", False),
        ([_allow(NotAction="SNS:Subscribe")], OTHER, "SNS:Publish", False),
    ],
)
def test_allows(statements: list[dict[str, Any]] | None, account: str, action: str, expected: bool) -> None:
    topic = TOPIC if statements is None else _with(statements)
    assert policy.allows(topic, account, action) is expected
