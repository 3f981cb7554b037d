"""CreateTopic, Get/SetTopicAttributes, DeleteTopic, ListTopics and the data protection policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.testing import admin
from tests.services.sns.conftest import fails, topic_arn

FIFO_NAME_ERROR = (
    "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and "
    "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
)
DEFAULT_EFFECTIVE = {
    "http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
    }
}


def test_new_topic_shows_aws_default_attributes(sns: Any) -> None:
    arn = sns.create_topic(Name="orders")["TopicArn"]
    assert arn == topic_arn("orders")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert json.loads(attributes.pop("EffectiveDeliveryPolicy")) == DEFAULT_EFFECTIVE
    assert json.loads(attributes.pop("Policy")) == {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
            ],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": "000000000000"}},
        }],
    }
    assert attributes == {
        "Owner": "000000000000", "TopicArn": arn, "DisplayName": "", "SubscriptionsPending": "0",
        "SubscriptionsConfirmed": "0", "SubscriptionsDeleted": "0",
    }


def test_fifo_topic_shows_fifo_attributes(sns: Any) -> None:
    arn = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attributes["FifoTopic"], attributes["ContentBasedDeduplication"]) == ("true", "false")


@pytest.mark.parametrize(
    ("name", "attributes", "message"),
    [
        ("", {}, "Invalid parameter: Topic Name"),
        ("a" * 257, {}, "Invalid parameter: Topic Name"),
        ("has space", {}, "Invalid parameter: Topic Name"),
        ("dot.ted", {}, "Invalid parameter: Topic Name"),
        ("orders.fifo", {}, "Invalid parameter: Topic Name"),
        ("orders", {"FifoTopic": "true"}, FIFO_NAME_ERROR),
        ("a" * 252 + ".fifo", {"FifoTopic": "true"}, FIFO_NAME_ERROR),
        ("t", {"Colour": "blue"}, "Invalid parameter: Attributes Reason: Unknown attribute: Colour"),
        ("t", {"SignatureVersion": "3"}, "Invalid parameter: Attributes Reason: SignatureVersion"),
        ("t", {"Policy": "{"}, "Invalid parameter: Attributes Reason: Policy Error: null"),
        ("t", {"DeliveryPolicy": '{"http":{"defaultHealthyRetryPolicy":{"numRetries":3}}}'},
         "Invalid parameter: Attributes Reason: DeliveryPolicy: http.defaultHealthyRetryPolicy.minDelayTarget "
         "must be specified"),
        ("t", {"ContentBasedDeduplication": "true"},
         "Invalid parameter: Attributes Reason: Content based deduplication can only be set for FIFO topics"),
    ],
)
def test_create_topic_refuses_bad_names_and_attributes(raw_sns: Any, name: str, attributes: dict[str, str],
                                                       message: str) -> None:
    fails(raw_sns.create_topic, "InvalidParameter", message, Name=name, Attributes=attributes)
    assert raw_sns.list_topics()["Topics"] == []


def test_longest_names_are_accepted(sns: Any) -> None:
    sns.create_topic(Name="a" * 256)
    sns.create_topic(Name="a" * 251 + ".fifo", Attributes={"FifoTopic": "true"})
    assert len(sns.list_topics()["Topics"]) == 2


def test_create_topic_is_idempotent_for_the_same_attributes_and_tags(sns: Any) -> None:
    kwargs = {"Name": "t", "Attributes": {"DisplayName": "Shop"}, "Tags": [{"Key": "team", "Value": "a"}]}
    first = sns.create_topic(**kwargs)["TopicArn"]
    assert sns.create_topic(**kwargs)["TopicArn"] == first
    assert sns.create_topic(Name="t")["TopicArn"] == first
    fails(sns.create_topic, "InvalidParameter",
          "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
          Name="t", Attributes={"DisplayName": "Other"})
    fails(sns.create_topic, "InvalidParameter",
          "Invalid parameter: Tags Reason: Topic already exists with different tags",
          Name="t", Tags=[{"Key": "team", "Value": "b"}])


def test_topic_limit(sns: Any, provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.services.sns import topics

    monkeypatch.setattr(topics, "MAX_STANDARD_TOPICS", 2)
    sns.create_topic(Name="a")
    sns.create_topic(Name="b")
    fails(sns.create_topic, "TopicLimitExceeded", "Topic limit exceeded", 403, Name="c")
    sns.create_topic(Name="a")  # an existing topic is no new one
    sns.create_topic(Name="c.fifo", Attributes={"FifoTopic": "true"})  # FIFO topics count apart


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("DisplayName", "Shop", "Shop"),
        ("SignatureVersion", "2", "2"),
        ("TracingConfig", "Active", "Active"),
        ("KmsMasterKeyId", "alias/aws/sns", "alias/aws/sns"),
        ("HTTPSuccessFeedbackRoleArn", "arn:aws:iam::000000000000:role/feedback", None),
        ("SQSSuccessFeedbackSampleRate", "40", None),
        ("MaximumMessageSize", "1024", None),
        ("DeliveryPolicy", '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":10,'
                           '"numRetries":4}}}', None),
    ],
)
def test_set_topic_attributes_round_trips(sns: Any, name: str, value: str, shown: str | None) -> None:
    arn = sns.create_topic(Name="t")["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"][name] == (shown or value)


def test_topic_delivery_policy_shapes_the_effective_policy(sns: Any) -> None:
    arn = sns.create_topic(Name="t")["TopicArn"]
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 10, "numRetries": 4},
                       "defaultThrottlePolicy": {"maxReceivesPerSecond": 3}}}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    effective = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"] == {
        "minDelayTarget": 5, "maxDelayTarget": 10, "numRetries": 4, "numMaxDelayRetries": 0,
        "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear",
    }
    assert effective["http"]["defaultThrottlePolicy"] == {"maxReceivesPerSecond": 3}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue="")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert "DeliveryPolicy" not in attributes
    assert json.loads(attributes["EffectiveDeliveryPolicy"]) == DEFAULT_EFFECTIVE


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("Colour", "blue", "Invalid parameter: AttributeName"),
        ("FifoTopic", "true", "Invalid parameter: AttributeName"),
        ("SignatureVersion", "3", "Invalid parameter: SignatureVersion"),
        ("TracingConfig", "Off", "Invalid parameter: TracingConfig"),
        ("Policy", "", "Invalid parameter: Policy is empty"),
        ("Policy", '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}',
         "Invalid parameter: Policy statement action out of service scope!"),
        ("HTTPFailureFeedbackRoleArn", "not-a-role", "Invalid parameter: HTTPFailureFeedbackRoleArn"),
        ("LambdaSuccessFeedbackSampleRate", "101", "Invalid parameter: LambdaSuccessFeedbackSampleRate"),
        ("MaximumMessageSize", "1023", "Invalid parameter: MaximumMessageSize"),
        ("ContentBasedDeduplication", "true", "Invalid parameter: Content based deduplication can only be set for "
                                              "FIFO topics"),
        ("FifoThroughputScope", "Topic", "Invalid parameter: FifoThroughputScope"),
        ("ArchivePolicy", '{"MessageRetentionPeriod":"30"}', "Invalid parameter: ArchivePolicy"),
        ("DeliveryPolicy", '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":"1","maxDelayTarget":2,'
                           '"numRetries":1}}}',
         "Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.minDelayTarget type mismatch, "
         "expecting integer, received a string"),
    ],
)
def test_set_topic_attributes_refuses_bad_values(raw_sns: Any, name: str, value: str, message: str) -> None:
    arn = raw_sns.create_topic(Name="t")["TopicArn"]
    before = raw_sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    fails(raw_sns.set_topic_attributes, "InvalidParameter", message, TopicArn=arn, AttributeName=name,
          AttributeValue=value)
    assert raw_sns.get_topic_attributes(TopicArn=arn)["Attributes"] == before


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ContentBasedDeduplication", "maybe", "Invalid parameter: ContentBasedDeduplication"),
        ("FifoThroughputScope", "Queue", "Invalid parameter: FifoThroughputScope"),
        ("ArchivePolicy", '{"MessageRetentionPeriod":"366"}',
         "Invalid parameter: ArchivePolicy: MessageRetentionPeriod must be between 1 and 365"),
        ("ArchivePolicy", '{"Days":"3"}', "Invalid parameter: ArchivePolicy: Unknown attribute: Days"),
    ],
)
def test_fifo_attributes_are_checked(raw_sns: Any, name: str, value: str, message: str) -> None:
    arn = raw_sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    fails(raw_sns.set_topic_attributes, "InvalidParameter", message, TopicArn=arn, AttributeName=name,
          AttributeValue=value)


def test_fifo_attributes_and_archive_time(sns: Any, emulator_url: str) -> None:
    arn = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "TRUE"})[
        "TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoThroughputScope", AttributeValue="MessageGroup")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ArchivePolicy",
                             AttributeValue='{"MessageRetentionPeriod":"1"}')
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["ContentBasedDeduplication"] == "true"
    assert attributes["FifoThroughputScope"] == "MessageGroup"
    started = attributes["BeginningArchiveTime"]
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 3600})
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["BeginningArchiveTime"] == started
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 2 * 86_400})
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["BeginningArchiveTime"] > started
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ArchivePolicy", AttributeValue="{}")
    assert "BeginningArchiveTime" not in sns.get_topic_attributes(TopicArn=arn)["Attributes"]


@pytest.mark.parametrize(
    ("arn", "code", "message", "status"),
    [
        ("not-an-arn", "InvalidParameter", "Invalid parameter: TopicArn", 400),
        (topic_arn("t", region="eu-west-1"), "InvalidParameter", "Invalid parameter: TopicArn", 400),
        (topic_arn("missing"), "NotFound", "Topic does not exist", 404),
    ],
)
def test_get_topic_attributes_of_what_is_no_topic(raw_sns: Any, arn: str, code: str, message: str,
                                                  status: int) -> None:
    fails(raw_sns.get_topic_attributes, code, message, status, TopicArn=arn)


def test_delete_topic_is_idempotent_and_takes_its_subscriptions(sns: Any, provider: Any) -> None:
    from emulator.services.sns.models import Subscription

    arn = sns.create_topic(Name="t")["TopicArn"]
    store = provider._stores.get("000000000000", "us-east-1")
    with store.lock:
        sub = Subscription(arn=f"{arn}:abc", topic_arn=arn, protocol="sqs", endpoint="q", owner="000000000000",
                           confirmed=True)
        store.topics[arn].subscriptions[sub.arn] = sub
        store.subscriptions[sub.arn] = sub
    sns.delete_topic(TopicArn=arn)
    assert sub.arn not in store.subscriptions
    assert sns.list_topics()["Topics"] == []
    sns.delete_topic(TopicArn=arn)  # no error for a topic that is gone
    fails(sns.delete_topic, "InvalidParameter", "Invalid parameter: TopicArn", TopicArn="nope")


def test_list_topics_pages_by_100(sns: Any) -> None:
    names = [f"t{i:03d}" for i in range(150)]
    for name in names:
        sns.create_topic(Name=name)
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    second = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert [t["TopicArn"] for t in first["Topics"] + second["Topics"]] == [topic_arn(n) for n in names]
    fails(sns.list_topics, "InvalidParameter", "Invalid parameter: NextToken", NextToken="forged")


def test_topics_are_per_account_and_region(aws_client: Any) -> None:
    sns = aws_client("sns")
    sns.create_topic(Name="t")
    assert aws_client("sns", region="eu-west-1").list_topics()["Topics"] == []
    assert aws_client("sns", account="111111111111").list_topics()["Topics"] == []


def test_data_protection_policy(sns: Any, raw_sns: Any) -> None:
    document = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    arn = sns.create_topic(Name="t", DataProtectionPolicy=document)["TopicArn"]
    assert json.loads(sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"]) == json.loads(document)
    other = sns.create_topic(Name="u")["TopicArn"]
    assert "DataProtectionPolicy" not in sns.get_data_protection_policy(ResourceArn=other)
    sns.put_data_protection_policy(ResourceArn=other, DataProtectionPolicy=document)
    assert sns.get_data_protection_policy(ResourceArn=other)["DataProtectionPolicy"] == document
    fails(raw_sns.put_data_protection_policy, "InvalidParameter", "Invalid parameter: DataProtectionPolicy",
          ResourceArn=other, DataProtectionPolicy="[1]")
    fails(raw_sns.get_data_protection_policy, "NotFound", "Topic does not exist", 404,
          ResourceArn=topic_arn("missing"))
    fails(raw_sns.get_data_protection_policy, "InvalidParameter", "Invalid parameter: ResourceArn",
          ResourceArn="arn:nope")
