"""Mobile push: platform applications and endpoints over the real socket, and the lookups Publish uses."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.context import RequestContext
from emulator.errors import ServiceError
from emulator.services.sns.platform import platform_payload
from tests.services.sns.conftest import ACCOUNT, REGION, error

CREDENTIALS: dict[str, dict[str, str]] = {
    "GCM": {"PlatformCredential": "api-key"},
    "APNS": {"PlatformPrincipal": "cert", "PlatformCredential": "key"},
    "APNS_SANDBOX": {"PlatformPrincipal": "cert", "PlatformCredential": "key"},
    "ADM": {"PlatformPrincipal": "client-id", "PlatformCredential": "secret"},
    "BAIDU": {"PlatformPrincipal": "api-key", "PlatformCredential": "secret"},
    "MPNS": {"PlatformPrincipal": "cert", "PlatformCredential": "key"},
    "WNS": {"PlatformPrincipal": "sid", "PlatformCredential": "secret"},
}
REASON = "Invalid parameter: Attributes Reason: "


def make_app(sns: Any, name: str = "app", platform: str = "GCM") -> str:
    return sns.create_platform_application(Name=name, Platform=platform, Attributes=CREDENTIALS[platform])[
        "PlatformApplicationArn"
    ]


@pytest.mark.parametrize("platform", sorted(CREDENTIALS))
def test_create_platform_application_with_each_platforms_credentials(sns: Any, platform: str) -> None:
    arn = make_app(sns, "my.app-1_x", platform)
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:app/{platform}/my.app-1_x"
    assert sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"] == {"Enabled": "true"}


def test_apns_token_credentials_need_team_and_bundle_together(raw_sns: Any) -> None:
    attributes = {"PlatformPrincipal": "KEYID", "PlatformCredential": "signing-key", "ApplePlatformTeamID": "TEAM",
                  "ApplePlatformBundleID": "com.example.app"}
    arn = raw_sns.create_platform_application(
        Name="tok", Platform="APNS", Attributes=attributes
    )["PlatformApplicationArn"]
    shown = raw_sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert shown == {"Enabled": "true", "ApplePlatformTeamID": "TEAM", "ApplePlatformBundleID": "com.example.app"}
    del attributes["ApplePlatformBundleID"]
    with pytest.raises(ClientError) as excinfo:
        raw_sns.create_platform_application(Name="tok2", Platform="APNS", Attributes=attributes)
    assert error(excinfo) == (
        "InvalidParameter", 400, REASON + "ApplePlatformTeamID attribute provided without ApplePlatformBundleID"
    )


@pytest.mark.parametrize(
    ("name", "platform", "attributes", "message"),
    [
        ("a", "APNS", {"PlatformCredential": "k"},
         REASON + "PlatformCredential attribute provided without PlatformPrincipal"),
        ("a", "ADM", {"PlatformPrincipal": "p"},
         REASON + "PlatformPrincipal attribute provided without PlatformCredential"),
        ("a", "WNS", {"SuccessFeedbackSampleRate": "5"},
         REASON + "PlatformPrincipal and PlatformCredential attributes required"),
        ("a", "GCM", {"SuccessFeedbackSampleRate": "5"}, REASON + "PlatformCredential attribute required"),
        ("a", "GCM", {"PlatformCredential": "k", "ApplePlatformTeamID": "T"}, "Invalid parameter: AttributeName"),
        ("a", "GCM", {"PlatformCredential": "k", "Colour": "red"}, "Invalid parameter: AttributeName"),
        ("a", "GCM", {"PlatformCredential": "k", "SuccessFeedbackSampleRate": "101"},
         REASON + "SuccessFeedbackSampleRate: must be an integer from 0 to 100"),
        ("a", "FCM", {"PlatformCredential": "k"}, "Invalid parameter: Platform Reason: FCM is not supported"),
        ("bad name", "GCM", {"PlatformCredential": "k"}, "Invalid parameter: Name"),
        ("x" * 257, "GCM", {"PlatformCredential": "k"}, "Invalid parameter: Name"),
    ],
)
def test_create_platform_application_rejects_bad_input(
    raw_sns: Any, name: str, platform: str, attributes: dict[str, str], message: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.create_platform_application(Name=name, Platform=platform, Attributes=attributes)
    assert error(excinfo) == ("InvalidParameter", 400, message)
    assert raw_sns.list_platform_applications()["PlatformApplications"] == []


def _certificate(not_after: dt.datetime) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple Push Services: com.example")])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(1).not_valid_before(not_after - dt.timedelta(days=365)).not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_apns_certificate_expiry_is_shown_and_credentials_never_are(sns: Any) -> None:
    pem = _certificate(dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc))
    arn = sns.create_platform_application(
        Name="cert", Platform="APNS", Attributes={"PlatformPrincipal": pem, "PlatformCredential": "private-key"}
    )["PlatformApplicationArn"]
    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attributes == {"Enabled": "true", "AppleCertificateExpirationDate": "2031-05-06T07:08:09Z"}


def test_set_platform_application_attributes_merges_and_validates(raw_sns: Any) -> None:
    arn = make_app(raw_sns)
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:events"
    raw_sns.set_platform_application_attributes(
        PlatformApplicationArn=arn, Attributes={"EventEndpointCreated": topic, "PlatformCredential": "new-key"}
    )
    shown = raw_sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert shown == {"Enabled": "true", "EventEndpointCreated": topic}
    for attributes, message in [
        ({"Unknown": "x"}, "Invalid parameter: AttributeName"),
        ({"Enabled": "maybe"}, REASON + "Enabled: Invalid value [maybe]. Must be true or false."),
    ]:
        with pytest.raises(ClientError) as excinfo:
            raw_sns.set_platform_application_attributes(PlatformApplicationArn=arn, Attributes=attributes)
        assert error(excinfo) == ("InvalidParameter", 400, message)


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (f"arn:aws:sns:{REGION}:{ACCOUNT}:app/GCM/missing", ("NotFound", 404, "PlatformApplication does not exist")),
        (f"arn:aws:sns:{REGION}:111122223333:app/GCM/app", ("NotFound", 404, "PlatformApplication does not exist")),
        ("not-an-arn", ("InvalidParameter", 400, "Invalid parameter: PlatformApplicationArn")),
        (f"arn:aws:sns:eu-west-1:{ACCOUNT}:app/GCM/app",
         ("InvalidParameter", 400, "Invalid parameter: PlatformApplicationArn")),
    ],
)
def test_unknown_or_malformed_application_arns(raw_sns: Any, arn: str, expected: tuple[str, int, str]) -> None:
    make_app(raw_sns)
    for call in (
        lambda: raw_sns.get_platform_application_attributes(PlatformApplicationArn=arn),
        lambda: raw_sns.list_endpoints_by_platform_application(PlatformApplicationArn=arn),
        lambda: raw_sns.create_platform_endpoint(PlatformApplicationArn=arn, Token="t"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == expected


def test_list_platform_applications_pages_by_100(sns: Any) -> None:
    created = {make_app(sns, f"app-{i:03d}") for i in range(105)}
    first = sns.list_platform_applications()
    assert len(first["PlatformApplications"]) == 100
    second = sns.list_platform_applications(NextToken=first["NextToken"])
    assert "NextToken" not in second
    seen = [a["PlatformApplicationArn"] for a in first["PlatformApplications"] + second["PlatformApplications"]]
    assert sorted(seen) == sorted(created)
    assert first["PlatformApplications"][0]["Attributes"] == {"Enabled": "true"}


def test_list_with_a_forged_token_is_invalid(raw_sns: Any) -> None:
    arn = make_app(raw_sns)
    for call in (
        lambda: raw_sns.list_platform_applications(NextToken="forged"),
        lambda: raw_sns.list_endpoints_by_platform_application(PlatformApplicationArn=arn, NextToken="forged"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: NextToken")


def test_delete_platform_application_deletes_its_endpoints_and_is_idempotent(raw_sns: Any) -> None:
    arn = make_app(raw_sns)
    endpoint = raw_sns.create_platform_endpoint(PlatformApplicationArn=arn, Token="device")["EndpointArn"]
    raw_sns.delete_platform_application(PlatformApplicationArn=arn)
    raw_sns.delete_platform_application(PlatformApplicationArn=arn)
    with pytest.raises(ClientError) as excinfo:
        raw_sns.get_endpoint_attributes(EndpointArn=endpoint)
    assert error(excinfo) == ("NotFound", 404, "Endpoint does not exist")
    assert raw_sns.list_platform_applications()["PlatformApplications"] == []


def test_create_platform_endpoint_is_idempotent_by_token(raw_sns: Any) -> None:
    app = make_app(raw_sns, "phones", "APNS_SANDBOX")
    arn = raw_sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="tok", CustomUserData="user-1"
    )["EndpointArn"]
    assert re.fullmatch(rf"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/APNS_SANDBOX/phones/[0-9a-f-]{{36}}", arn)
    for kwargs in ({}, {"CustomUserData": "user-1"}, {"Attributes": {"Enabled": "true"}}):
        assert raw_sns.create_platform_endpoint(PlatformApplicationArn=app, Token="tok", **kwargs)["EndpointArn"] == arn
    with pytest.raises(ClientError) as excinfo:
        raw_sns.create_platform_endpoint(PlatformApplicationArn=app, Token="tok", CustomUserData="user-2")
    assert error(excinfo) == (
        "InvalidParameter", 400,
        f"Invalid parameter: Token Reason: Endpoint {arn} already exists with the same Token, "
        "but different attributes.",
    )
    other = raw_sns.create_platform_endpoint(PlatformApplicationArn=app, Token="tok-2")["EndpointArn"]
    assert other != arn
    attributes = raw_sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
    assert attributes == {"Enabled": "true", "Token": "tok", "CustomUserData": "user-1"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"Token": ""}, "Invalid parameter: Token"),
        ({"Token": "t", "CustomUserData": "x" * 2049}, "Invalid parameter: CustomUserData"),
        ({"Token": "t", "Attributes": {"Enabled": "yes"}},
         REASON + "Enabled: Invalid value [yes]. Must be true or false."),
        ({"Token": "t", "Attributes": {"Colour": "red"}}, "Invalid parameter: AttributeName"),
    ],
)
def test_create_platform_endpoint_rejects_bad_input(raw_sns: Any, kwargs: dict[str, Any], message: str) -> None:
    app = make_app(raw_sns)
    with pytest.raises(ClientError) as excinfo:
        raw_sns.create_platform_endpoint(PlatformApplicationArn=app, **kwargs)
    assert error(excinfo) == ("InvalidParameter", 400, message)
    assert raw_sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"] == []


def test_set_endpoint_attributes_changes_token_and_enabled(raw_sns: Any) -> None:
    app = make_app(raw_sns)
    arn = raw_sns.create_platform_endpoint(PlatformApplicationArn=app, Token="old")["EndpointArn"]
    raw_sns.set_endpoint_attributes(
        EndpointArn=arn, Attributes={"Token": "new", "Enabled": "FALSE", "CustomUserData": "u"}
    )
    assert raw_sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "false", "Token": "new", "CustomUserData": "u"
    }
    # The old token is free again, the new one finds this endpoint.
    assert raw_sns.create_platform_endpoint(PlatformApplicationArn=app, Token="new")["EndpointArn"] == arn
    assert raw_sns.create_platform_endpoint(PlatformApplicationArn=app, Token="old")["EndpointArn"] != arn
    with pytest.raises(ClientError) as excinfo:
        raw_sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "nope"})
    assert error(excinfo)[:2] == ("InvalidParameter", 400)


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/00000000-0000-0000-0000-000000000000",
         ("NotFound", 404, "Endpoint does not exist")),
        ("arn:aws:sns:nowhere", ("InvalidParameter", 400, "Invalid parameter: EndpointArn")),
    ],
)
def test_endpoint_attributes_of_unknown_endpoints(raw_sns: Any, arn: str, expected: tuple[str, int, str]) -> None:
    for call in (
        lambda: raw_sns.get_endpoint_attributes(EndpointArn=arn),
        lambda: raw_sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true"}),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == expected


def test_list_endpoints_pages_by_100_and_delete_endpoint_is_idempotent(sns: Any) -> None:
    app = make_app(sns)
    arns = {sns.create_platform_endpoint(PlatformApplicationArn=app, Token=f"t{i}")["EndpointArn"] for i in range(101)}
    first = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)
    second = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app, NextToken=first["NextToken"])
    listed = [e["EndpointArn"] for e in first["Endpoints"] + second["Endpoints"]]
    assert (len(first["Endpoints"]), len(second["Endpoints"]), set(listed)) == (100, 1, arns)
    gone = listed[0]
    sns.delete_endpoint(EndpointArn=gone)
    sns.delete_endpoint(EndpointArn=gone)
    remaining = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert len(remaining) == 100 and gone not in {e["EndpointArn"] for e in remaining}


def _lookup_error(provider: Any, arn: str) -> tuple[str, str]:
    with pytest.raises(ServiceError) as excinfo:
        provider._publish_endpoint(RequestContext("sns", ACCOUNT, REGION), arn)
    return excinfo.value.code, excinfo.value.message


def test_publish_endpoint_lookup_answers_what_publish_answers(sns: Any, provider: Any) -> None:
    app = make_app(sns)
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t")["EndpointArn"]
    application, endpoint = provider._publish_endpoint(RequestContext("sns", ACCOUNT, REGION), arn)
    assert (application.arn, endpoint.arn, endpoint.token) == (app, arn, "t")

    assert _lookup_error(provider, "garbage") == ("InvalidParameterException", "Invalid parameter: TargetArn")
    missing = arn[:-36] + "00000000-0000-0000-0000-000000000000"
    assert _lookup_error(provider, missing) == (
        "InvalidParameterException",
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified",
    )
    sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={"Enabled": "false"})
    assert _lookup_error(provider, arn) == ("PlatformApplicationDisabledException", "Platform application is disabled")
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    assert _lookup_error(provider, arn) == ("EndpointDisabledException", "Endpoint is disabled")


@pytest.mark.parametrize(
    ("platform", "structure", "expected"),
    [
        ("GCM", {"default": "d", "GCM": '{"data":{}}'}, '{"data":{}}'),
        ("APNS_SANDBOX", {"default": "d", "APNS": "prod"}, "fallback"),
        ("APNS_SANDBOX", {"APNS_SANDBOX": "sandbox"}, "sandbox"),
        ("ADM", None, "fallback"),
        ("WNS", {"WNS": 5}, "fallback"),
    ],
)
def test_platform_payload_picks_the_platforms_key(
    platform: str, structure: dict[str, Any] | None, expected: str
) -> None:
    assert platform_payload(platform, "fallback", structure) == expected
