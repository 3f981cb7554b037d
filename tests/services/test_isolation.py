"""Two accounts, or two regions of one account, never see each other's resources."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("first", "second"), [
    ({"account": "111111111111", "region": "us-east-1"}, {"account": "222222222222", "region": "us-east-1"}),
    ({"account": "111111111111", "region": "us-east-1"}, {"account": "111111111111", "region": "eu-west-1"}),
    ({"account": "111111111111", "region": "us-east-1"}, {"region": "us-east-1"}),  # the default account
])
def test_streams_of_one_account_and_region_are_invisible_to_another(aws_client, first, second) -> None:
    mine, theirs = aws_client("kinesis", **first), aws_client("kinesis", **second)
    mine.create_stream(StreamName="orders", ShardCount=1)
    assert theirs.list_streams()["StreamNames"] == []
    with pytest.raises(theirs.exceptions.ResourceNotFoundException):
        theirs.describe_stream_summary(StreamName="orders")
    theirs.create_stream(StreamName="orders", ShardCount=2)  # the same name is free there
    arn = mine.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["StreamARN"]
    assert arn == f"arn:aws:kinesis:{first['region']}:{first['account']}:stream/orders"
    assert mine.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["OpenShardCount"] == 1
    assert theirs.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["OpenShardCount"] == 2


def test_event_buses_belong_to_their_account_and_region(aws_client) -> None:
    arns = {
        aws_client("events", account=account, region=region).list_event_buses()["EventBuses"][0]["Arn"]
        for account in ("111111111111", "222222222222")
        for region in ("us-east-1", "ap-northeast-1")
    }
    assert len(arns) == 4
