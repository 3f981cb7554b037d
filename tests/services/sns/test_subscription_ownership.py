"""ListSubscriptions lists the requester's subscriptions ("Returns a list of the requester's
subscriptions"): those the account made, on its own topics or another account's, never those another
account made on its topics, which only ListSubscriptionsByTopic shows the topic's owner."""

from __future__ import annotations

import json
from typing import Any

import pytest

OWNER = "000000000000"
OTHER = "111111111111"
REGION = "us-east-1"
OTHER_QUEUE = f"arn:aws:sqs:{REGION}:{OTHER}:theirs"
OWN_QUEUE = f"arn:aws:sqs:{REGION}:{OWNER}:mine"


@pytest.fixture
def clients(aws_client: Any) -> tuple[Any, Any]:
    return aws_client("sns"), aws_client("sns", account=OTHER)


def shared_topic(owner: Any, name: str = "shared") -> str:
    """A topic of OWNER that OTHER may subscribe to."""
    arn = owner.create_topic(Name=name)["TopicArn"]
    owner.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "SNS:Subscribe", "Resource": arn}],
    }))
    return arn


def listed(client: Any) -> list[str]:
    return [s["SubscriptionArn"] for s in client.list_subscriptions()["Subscriptions"]]


def test_a_subscription_to_another_accounts_topic_is_listed_for_the_subscriber(clients: tuple[Any, Any]) -> None:
    owner, other = clients
    topic = shared_topic(owner)
    theirs = other.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=OTHER_QUEUE)["SubscriptionArn"]
    mine = owner.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=OWN_QUEUE)["SubscriptionArn"]

    assert listed(other) == [theirs]
    assert listed(owner) == [mine]
    entry = other.list_subscriptions()["Subscriptions"][0]
    assert (entry["Owner"], entry["TopicArn"], entry["Endpoint"]) == (OTHER, topic, OTHER_QUEUE)
    by_topic = owner.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["SubscriptionArn"] for s in by_topic) == sorted([theirs, mine])


@pytest.mark.parametrize("how", ["unsubscribe", "delete_topic"])
def test_a_subscription_leaves_its_owners_listing_when_it_goes(clients: tuple[Any, Any], how: str) -> None:
    owner, other = clients
    topic = shared_topic(owner)
    theirs = other.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=OTHER_QUEUE)["SubscriptionArn"]
    assert listed(other) == [theirs]

    if how == "unsubscribe":
        other.unsubscribe(SubscriptionArn=theirs)
    else:
        owner.delete_topic(TopicArn=topic)

    assert listed(other) == []
    assert listed(owner) == []


def test_the_owners_listing_pages_over_subscriptions_of_several_accounts_topics(clients: tuple[Any, Any]) -> None:
    owner, other = clients
    foreign = shared_topic(owner, "foreign")
    local = other.create_topic(Name="local")["TopicArn"]
    made = [other.subscribe(TopicArn=foreign, Protocol="sqs", Endpoint=f"{OTHER_QUEUE}{i}")["SubscriptionArn"]
            for i in range(60)]
    made += [other.subscribe(TopicArn=local, Protocol="sqs", Endpoint=f"{OTHER_QUEUE}{i}")["SubscriptionArn"]
             for i in range(60)]

    first = other.list_subscriptions()
    assert len(first["Subscriptions"]) == 100 and "NextToken" in first
    second = other.list_subscriptions(NextToken=first["NextToken"])
    assert "NextToken" not in second
    seen = [s["SubscriptionArn"] for s in first["Subscriptions"] + second["Subscriptions"]]
    assert seen == sorted(made)
    assert listed(owner) == []
