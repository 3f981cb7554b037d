"""Tags on topics: TagResource, UntagResource, ListTagsForResource and tags given to CreateTopic."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.sns.conftest import fails, topic_arn


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def test_tag_untag_and_list(sns: Any) -> None:
    arn = sns.create_topic(Name="t", Tags=tags(team="a"))["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=tags(env="dev", team="b"))
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == tags(team="b", env="dev")
    sns.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == tags(env="dev")


def test_fifty_tags_at_most(sns: Any, raw_sns: Any) -> None:
    arn = sns.create_topic(Name="t", Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=tags(k0="replaced"))  # replacing a tag adds none
    fails(raw_sns.tag_resource, "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded",
          400, ResourceArn=arn, Tags=tags(k50="x"))
    fails(raw_sns.create_topic, "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded",
          400, Name="u", Tags=[{"Key": f"k{i}", "Value": ""} for i in range(51)])
    assert len(sns.list_topics()["Topics"]) == 1


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "message", "status"),
    [
        ("tag_resource", {"ResourceArn": topic_arn("missing"), "Tags": tags(a="b")}, "ResourceNotFound",
         "Resource does not exist", 404),
        ("list_tags_for_resource", {"ResourceArn": topic_arn("missing")}, "ResourceNotFound",
         "Resource does not exist", 404),
        ("untag_resource", {"ResourceArn": topic_arn("missing"), "TagKeys": ["a"]}, "ResourceNotFound",
         "Resource does not exist", 404),
        ("list_tags_for_resource", {"ResourceArn": "arn:aws:s3:::bucket"}, "InvalidParameter",
         "Invalid parameter: ResourceArn", 400),
        ("tag_resource", {"ResourceArn": topic_arn("t"), "Tags": tags(**{"aws:x": "y"})}, "InvalidParameter",
         "Invalid parameter: Tag keys must not start with 'aws:'", 400),
        ("tag_resource", {"ResourceArn": topic_arn("t"), "Tags": [{"Key": "k" * 129, "Value": ""}]},
         None, None, 400),
        ("tag_resource", {"ResourceArn": topic_arn("t"), "Tags": [{"Key": "k", "Value": "v" * 257}]},
         None, None, 400),
    ],
)
def test_tagging_refusals(raw_sns: Any, call: str, kwargs: dict[str, Any], code: str | None, message: str | None,
                          status: int) -> None:
    raw_sns.create_topic(Name="t")
    with pytest.raises(ClientError) as caught:
        getattr(raw_sns, call)(**kwargs)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    if code is not None:
        assert (error["Error"]["Code"], error["Error"]["Message"]) == (code, message)
    assert raw_sns.list_tags_for_resource(ResourceArn=topic_arn("t"))["Tags"] == []


def test_other_accounts_may_not_tag_without_permission(aws_client: Any) -> None:
    owner = aws_client("sns")
    arn = owner.create_topic(Name="t")["TopicArn"]
    other = aws_client("sns", account="111111111111")
    with pytest.raises(ClientError) as caught:
        other.tag_resource(ResourceArn=arn, Tags=tags(a="b"))
    assert caught.value.response["Error"]["Code"] == "AuthorizationError"
    assert owner.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
