"""Subscribe, ConfirmSubscription, Unsubscribe and the listings, over the real socket."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.services.sns import fanout
from emulator.testing import admin
from tests.services.sns.conftest import ACCOUNT, REGION, error

OTHER = "111111111111"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
STREAM = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/s"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sns-firehose"
DEVICE = f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/3b1e6a8e-1d3c-3a2b-9a55-0d6c2e1f6c11"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Records the confirmations Subscribe and Unsubscribe hand to fan-out, instead of sending them."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(fanout, "send_confirmation", lambda p, ctx, t, s: calls.append(("confirm", s.arn)))
    monkeypatch.setattr(fanout, "send_unsubscribe_confirmation",
                        lambda p, ctx, t, s, token: calls.append(("bye", s.arn)))
    return calls


@pytest.fixture
def topic(sns: Any) -> str:
    return sns.create_topic(Name="t")["TopicArn"]


def stored(provider: Any, arn: str, account: str = ACCOUNT) -> Any:
    return provider._stores.get(account, REGION).subscriptions.get(arn)


def the_topic(provider: Any, arn: str, account: str = ACCOUNT) -> Any:
    return provider._stores.get(account, REGION).topics[arn]


def pending_arn(sns: Any, topic: str, protocol: str, endpoint: str) -> str:
    return sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint,
                         ReturnSubscriptionArn=True)["SubscriptionArn"]


CONFIRMED_AT_ONCE = [
    ("sqs", QUEUE, {}),
    ("lambda", FUNCTION, {}),
    ("firehose", STREAM, {"SubscriptionRoleArn": ROLE}),
    ("sms", "+15555550100", {}),
    ("application", DEVICE, {}),
]


@pytest.mark.parametrize(("protocol", "endpoint", "attributes"), CONFIRMED_AT_ONCE)
def test_subscribe_confirms_same_account_endpoints_at_once(sns: Any, topic: str, sent: list, protocol: str,
                                                           endpoint: str, attributes: dict[str, str]) -> None:
    arn = sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attributes)["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    got = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert (got["PendingConfirmation"], got["Protocol"], got["Endpoint"]) == ("false", protocol, endpoint)
    assert sent == []


@pytest.mark.parametrize(("protocol", "endpoint"), [
    ("http", "http://example.com/hook"),
    ("https", "https://example.com/hook"),
    ("email", "someone@example.com"),
    ("email-json", "someone@example.com"),
    ("sqs", f"arn:aws:sqs:{REGION}:{OTHER}:their-queue"),
    ("lambda", f"arn:aws:lambda:{REGION}:{OTHER}:function:theirs"),
])
def test_subscribe_leaves_confirming_endpoints_pending(sns: Any, topic: str, sent: list, protocol: str,
                                                       endpoint: str) -> None:
    answer = sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)["SubscriptionArn"]
    assert answer == "pending confirmation"
    arn = pending_arn(sns, topic, protocol, endpoint)  # the same subscription, now by its ARN
    assert sent == [("confirm", arn), ("confirm", arn)]
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "true"


INVALID_ENDPOINTS = [
    ("http", "https://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("https", "http://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("http", "example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("http", "http://", "Invalid parameter: Endpoint"),
    ("email", "not-an-address", "Invalid parameter: Email address"),
    ("email-json", "a@b", "Invalid parameter: Email address"),
    ("sms", "555-0100", "Invalid SMS endpoint: 555-0100"),
    ("sms", "+0123", "Invalid SMS endpoint: +0123"),
    ("sqs", "https://sqs.us-east-1.amazonaws.com/000000000000/q", "Invalid parameter: SQS endpoint ARN"),
    ("sqs", f"arn:aws:sns:{REGION}:{ACCOUNT}:q", "Invalid parameter: SQS endpoint ARN"),
    ("sqs", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo",
     "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS "
     "topics"),
    ("lambda", "my-function", "Invalid parameter: Lambda endpoint ARN"),
    ("firehose", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s", "Invalid parameter: Firehose endpoint ARN"),
    ("application", QUEUE, "Invalid parameter: Application endpoint ARN"),
    ("carrier-pigeon", "coop", "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
]


@pytest.mark.parametrize(("protocol", "endpoint", "message"), INVALID_ENDPOINTS)
def test_subscribe_rejects_endpoints_that_do_not_fit_the_protocol(raw_sns: Any, topic: str, protocol: str,
                                                                  endpoint: str, message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)
    assert error(excinfo) == ("InvalidParameter", 400, message)
    assert raw_sns.list_subscriptions()["Subscriptions"] == []


def test_firehose_needs_a_subscription_role(raw_sns: Any, topic: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=topic, Protocol="firehose", Endpoint=STREAM)
    assert error(excinfo) == (
        "InvalidParameter", 400, "Invalid parameter: Attributes Reason: SubscriptionRoleArn is required for protocol "
        "firehose")


def test_subscribe_to_a_missing_topic_is_not_found(raw_sns: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:nope", Protocol="sqs", Endpoint=QUEUE)
    assert error(excinfo) == ("NotFound", 404, "Topic does not exist")


def test_subscribe_is_idempotent_for_the_same_protocol_and_endpoint(sns: Any, raw_sns: Any, topic: str) -> None:
    first = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE,
                          Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE,
                          Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    bare = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    assert first == again == bare
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE, Attributes={"RawMessageDelivery": "false"})
    assert error(excinfo) == (
        "InvalidParameter", 400,
        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
    assert len(sns.list_subscriptions()["Subscriptions"]) == 1


@pytest.mark.parametrize("protocol,endpoint", [
    ("lambda", FUNCTION), ("http", "http://example.com"), ("email", "a@example.com"), ("sms", "+15555550100"),
])
def test_fifo_topics_take_sqs_only(sns: Any, raw_sns: Any, protocol: str, endpoint: str) -> None:
    fifo = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=fifo, Protocol=protocol, Endpoint=endpoint)
    assert error(excinfo) == ("InvalidParameter", 400, f"Invalid parameter: Invalid protocol type: {protocol}")
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo"
    assert sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=queue)["SubscriptionArn"].startswith(fifo)


# -- confirmation ----------------------------------------------------------------------------------

def test_confirm_by_token_confirms_and_indexes(sns: Any, raw_sns: Any, provider: Any, topic: str, sent: list) -> None:
    arn = pending_arn(sns, topic, "https", "https://example.com/hook")
    token = stored(provider, arn).token
    assert len(token) >= 128 and all(c in "0123456789abcdef" for c in token)
    assert arn not in the_topic(provider, topic).unfiltered
    assert sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"] == arn
    assert arn in the_topic(provider, topic).unfiltered
    # A second confirmation answers the same subscription.
    assert sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"] == arn
    got = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert (got["PendingConfirmation"], got["ConfirmationWasAuthenticated"]) == ("false", "false")
    assert sns.list_subscriptions()["Subscriptions"][0]["SubscriptionArn"] == arn


def test_confirm_with_a_wrong_token_is_invalid(sns: Any, raw_sns: Any, provider: Any, topic: str, sent: list) -> None:
    arn = pending_arn(sns, topic, "email", "a@example.com")
    with pytest.raises(ClientError) as excinfo:
        raw_sns.confirm_subscription(TopicArn=topic, Token="00" * 128)
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: Token")
    other = sns.create_topic(Name="other")["TopicArn"]
    with pytest.raises(ClientError) as excinfo:
        raw_sns.confirm_subscription(TopicArn=other, Token=stored(provider, arn).token)
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: Token")
    assert stored(provider, arn).confirmed is False


def test_pending_subscriptions_expire_after_two_days(emulator_url: str, sns: Any, raw_sns: Any, provider: Any,
                                                     topic: str, sent: list) -> None:
    arn = pending_arn(sns, topic, "email", "a@example.com")
    token = stored(provider, arn).token
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 2 * 86_400 - 60})
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 60})
    with pytest.raises(ClientError) as excinfo:
        raw_sns.confirm_subscription(TopicArn=topic, Token=token)
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: Token")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    # The endpoint may subscribe anew, and gets a new subscription.
    assert pending_arn(sns, topic, "email", "a@example.com") != arn


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_an_unsigned_get_of_the_subscribe_url_confirms(emulator_url: str, sns: Any, provider: Any, sent: list) -> None:
    other_topic = sns.create_topic(Name="t")["TopicArn"]
    arn = pending_arn(sns, other_topic, "http", "http://example.com/hook")
    query = urllib.parse.urlencode({"Action": "ConfirmSubscription", "TopicArn": other_topic,
                                    "Token": stored(provider, arn).token})
    status, body = _get(f"{emulator_url}/?{query}")
    assert status == 200 and arn.encode() in body
    assert stored(provider, arn).confirmed is True
    query = urllib.parse.urlencode({"Action": "ConfirmSubscription", "TopicArn": other_topic, "Token": "ab" * 64})
    status, body = _get(f"{emulator_url}/?{query}")
    assert status == 400 and b"Invalid parameter: Token" in body


def test_a_subscription_of_another_account_confirms_from_its_unsigned_url(aws_client: Any, emulator_url: str,
                                                                          provider: Any, sent: list) -> None:
    owner = aws_client("sns", account=OTHER)
    topic = owner.create_topic(Name="theirs")["TopicArn"]
    arn = pending_arn(owner, topic, "https", "https://example.com/hook")
    query = urllib.parse.urlencode({"Action": "ConfirmSubscription", "TopicArn": topic,
                                    "Token": stored(provider, arn, OTHER).token})
    status, _ = _get(f"{emulator_url}/?{query}")
    assert status == 200 and stored(provider, arn, OTHER).confirmed is True


# -- unsubscribe -----------------------------------------------------------------------------------

def test_unsubscribe_removes_the_subscription_everywhere(sns: Any, raw_sns: Any, provider: Any, topic: str,
                                                         sent: list) -> None:
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE,
                        Attributes={"FilterPolicy": '{"k": ["v"]}'})["SubscriptionArn"]
    assert arn in the_topic(provider, topic).attribute_rules
    sns.unsubscribe(SubscriptionArn=arn)
    state = the_topic(provider, topic)
    assert arn not in state.attribute_rules and arn not in state.unfiltered and state.subscriptions_deleted == 1
    assert sns.list_subscriptions()["Subscriptions"] == []
    with pytest.raises(ClientError) as excinfo:
        raw_sns.unsubscribe(SubscriptionArn=arn)
    assert error(excinfo) == ("NotFound", 404, "Subscription does not exist")
    assert sent == []  # only http/s endpoints hear of it


def test_unsubscribe_tells_an_http_endpoint(sns: Any, provider: Any, topic: str, sent: list) -> None:
    arn = pending_arn(sns, topic, "http", "http://example.com/hook")
    sns.confirm_subscription(TopicArn=topic, Token=stored(provider, arn).token)
    sns.unsubscribe(SubscriptionArn=arn)
    assert sent == [("confirm", arn), ("bye", arn)]


def test_only_the_owners_may_unsubscribe(aws_client: Any, sns: Any, topic: str) -> None:
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    stranger = aws_client("sns", account=OTHER, validate=False)
    with pytest.raises(ClientError) as excinfo:
        stranger.unsubscribe(SubscriptionArn=arn)
    assert error(excinfo) == (
        "AuthorizationError", 403,
        f"User: arn:aws:iam::{OTHER}:root is not authorized to perform: SNS:Unsubscribe on resource: {arn}")
    assert len(sns.list_subscriptions()["Subscriptions"]) == 1


@pytest.mark.parametrize(("authenticate", "status"), [("true", 403), ("false", 200)])
def test_unsigned_unsubscribe_depends_on_authenticate_on_unsubscribe(emulator_url: str, sns: Any, provider: Any,
                                                                     topic: str, sent: list, authenticate: str,
                                                                     status: int) -> None:
    arn = pending_arn(sns, topic, "http", "http://example.com/hook")
    sns.confirm_subscription(TopicArn=topic, Token=stored(provider, arn).token,
                             AuthenticateOnUnsubscribe=authenticate)
    got = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert got["ConfirmationWasAuthenticated"] == authenticate
    query = urllib.parse.urlencode({"Action": "Unsubscribe", "SubscriptionArn": arn})
    answer, body = _get(f"{emulator_url}/?{query}")
    assert answer == status
    assert (stored(provider, arn) is None) == (status == 200)
    if status == 403:
        assert b"AuthorizationError" in body


# -- listings --------------------------------------------------------------------------------------

def _all(call: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    items, pages, token = [], 0, None
    while True:
        answer = call(**kwargs, **({"NextToken": token} if token else {}))
        pages += 1
        assert len(answer["Subscriptions"]) <= 100
        items += answer["Subscriptions"]
        token = answer.get("NextToken")
        if not token:
            return items, pages


def test_listings_page_by_100(sns: Any, topic: str) -> None:
    other = sns.create_topic(Name="other")["TopicArn"]
    arns = {sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUE}{i}")["SubscriptionArn"]
            for i in range(250)}
    sns.subscribe(TopicArn=other, Protocol="sqs", Endpoint=QUEUE)
    by_topic, pages = _all(sns.list_subscriptions_by_topic, TopicArn=topic)
    assert pages == 3 and {s["SubscriptionArn"] for s in by_topic} == arns and len(by_topic) == 250
    assert {s["TopicArn"] for s in by_topic} == {topic}
    everything, pages = _all(sns.list_subscriptions)
    assert pages == 3 and len(everything) == 251
    assert by_topic[0].keys() == {"SubscriptionArn", "Owner", "Protocol", "Endpoint", "TopicArn"}


@pytest.mark.parametrize("token", ["garbage", "Zm9v", ""])
def test_a_bad_next_token_is_invalid(raw_sns: Any, topic: str, token: str) -> None:
    for call, kwargs in ((raw_sns.list_subscriptions, {}), (raw_sns.list_subscriptions_by_topic, {"TopicArn": topic})):
        if token == "":
            assert call(NextToken=token, **kwargs)["Subscriptions"] == []
            continue
        with pytest.raises(ClientError) as excinfo:
            call(NextToken=token, **kwargs)
        assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: NextToken")


def test_list_subscriptions_by_topic_of_a_missing_topic_is_not_found(raw_sns: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.list_subscriptions_by_topic(TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:nope")
    assert error(excinfo) == ("NotFound", 404, "Topic does not exist")


def test_an_http_endpoint_confirms_with_the_subscribe_url_it_receives(sns: Any, provider: Any, topic: str,
                                                                      http_receiver: Any) -> None:
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=http_receiver.url)
    [request] = http_receiver.wait_for(1)
    message = request.json()
    assert message["Type"] == "SubscriptionConfirmation" and message["TopicArn"] == topic
    status, _ = _get(message["SubscribeURL"])
    assert status == 200
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"].startswith(topic + ":")
    assert listed["SubscriptionArn"] in the_topic(provider, topic).unfiltered
