"""Which service a request is for, and whose (account, region): table-driven."""

from __future__ import annotations

import pytest

from emulator.routing import route

AUTH = "AWS4-HMAC-SHA256 Credential={}, SignedHeaders=host;x-amz-date, Signature=abc"
DEFAULTS = ("000000000000", "us-east-1")


@pytest.mark.parametrize(("environ", "expected"), [
    ({"HTTP_X_AMZ_TARGET": "Kinesis_20131202.ListStreams",
      "HTTP_AUTHORIZATION": AUTH.format("123456789012/20260101/eu-west-1/kinesis/aws4_request")},
     ("kinesis", "123456789012", "eu-west-1")),
    ({"HTTP_X_AMZ_TARGET": "AWSEvents.PutEvents",
      "HTTP_AUTHORIZATION": AUTH.format("AKIAEXAMPLE/20260101/ap-south-1/events/aws4_request")},
     ("events", "000000000000", "ap-south-1")),
    ({"CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
      "HTTP_AUTHORIZATION": AUTH.format("111111111111/20260101/us-west-2/sns/aws4_request")},
     ("sns", "111111111111", "us-west-2")),
    # The credential scope names the service when nothing else does.
    ({"CONTENT_TYPE": "application/x-amz-json-1.1",
      "HTTP_AUTHORIZATION": AUTH.format("x/20260101/us-east-2/kinesis/aws4_request")},
     ("kinesis", "000000000000", "us-east-2")),
    # A presigned URL carries the credential in the query string.
    ({"QUERY_STRING": "Action=ListTopics&X-Amz-Credential=222222222222%2F20260101%2Feu-central-1%2Fsns%2Faws4_request"},
     ("sns", "222222222222", "eu-central-1")),
    # No credential at all: the defaults.
    ({"HTTP_X_AMZ_TARGET": "AWSEvents.ListRules"}, ("events", "000000000000", "us-east-1")),
    # A scope region that is not a region is ignored, as is an access key that is not 12 digits.
    ({"HTTP_X_AMZ_TARGET": "AWSEvents.ListRules",
      "HTTP_AUTHORIZATION": AUTH.format("12345/20260101/not a region/events/aws4_request")},
     ("events", "000000000000", "us-east-1")),
    ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, (None, "000000000000", "us-east-1")),
    ({"HTTP_AUTHORIZATION": "Bearer token"}, (None, "000000000000", "us-east-1")),
])
def test_route(environ, expected) -> None:
    found = route(environ, *DEFAULTS)
    assert (found.service, found.account, found.region) == expected

