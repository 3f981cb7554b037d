"""Mobile push: platform applications (one per push service and app) and their device endpoints.

The emulator never talks to APNs, FCM or the other push services, so credentials are checked for
presence and pairing (which ones each platform needs), never against the service; they are kept and
never returned, as AWS never returns them. A publish to an endpoint is recorded by the delivery layer
exactly as it would have been sent (``publish.py`` finds the endpoint with ``_publish_endpoint`` and
the platform's text with ``platform_payload``).

Application events: an application's EventEndpointCreated, EventEndpointDeleted and
EventEndpointUpdated attributes name topics that CreatePlatformEndpoint, DeleteEndpoint and
SetEndpointAttributes publish to (after the store's lock is released), and EventDeliveryFailure one
that a push failing for good publishes to (``fanout.py``, on a worker). The message is the JSON
document AWS sends (``event_document``), with the Subject "<EventType> event for app <name>
(<platform>)"; a topic that is gone or refuses the publish loses the event, as on AWS.

Cost: an endpoint is found by ARN in the store's dict and by device token in its application's
``by_token`` dict, so CreatePlatformEndpoint's idempotency check is one lookup whatever the number
of endpoints. Listings sort the application's endpoints by ARN under the lock, once per page.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.errors import ServiceError
from emulator.services.pagination import InvalidToken, paginate
from emulator.services.sns.common import (
    EndpointDisabled,
    InvalidParameter,
    NotFound,
    PlatformApplicationDisabled,
    SnsBase,
    invalid,
)
from emulator.services.sns.messages import timestamp
from emulator.services.sns.models import PlatformApplication, PlatformEndpoint, SnsStore

log = logging.getLogger("emulator.sns")

# Apple's platforms (certificate or token credentials), then the others by what they require.
APPLE_PLATFORMS = frozenset({"APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "MACOS", "MACOS_SANDBOX"})
PLATFORMS = APPLE_PLATFORMS | {"ADM", "BAIDU", "GCM", "MPNS", "WNS"}
_NO_PRINCIPAL = frozenset({"GCM"})  # FCM: the credential alone (an API key or a service-account JSON)

# What Create/SetPlatformApplicationAttributes accept. Enabled is the emulator's way to disable an
# application (AWS disables one itself when the push service rejects its credentials).
_APPLICATION_ATTRIBUTES = frozenset({
    "PlatformCredential", "PlatformPrincipal", "ApplePlatformTeamID", "ApplePlatformBundleID",
    "EventEndpointCreated", "EventEndpointDeleted", "EventEndpointUpdated", "EventDeliveryFailure",
    "SuccessFeedbackRoleArn", "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate", "Enabled",
})
_SECRET_ATTRIBUTES = ("PlatformCredential", "PlatformPrincipal")
_ENDPOINT_ATTRIBUTES = frozenset({"CustomUserData", "Enabled", "Token"})

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_APP_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):([0-9]{12}):app/([A-Z_]+)/([A-Za-z0-9_.-]{1,256})$")
_ENDPOINT_ARN = re.compile(
    r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):([0-9]{12}):endpoint/([A-Z_]+)/([A-Za-z0-9_.-]{1,256})/([0-9a-f-]{36})$"
)
CUSTOM_USER_DATA_MAX = 2048  # bytes of UTF-8: "less than 2 KB"
PAGE_SIZE = 100  # both listings: "a limited list ... up to 100"
APPLICATION_NOT_FOUND = "PlatformApplication does not exist"
ENDPOINT_NOT_FOUND = "Endpoint does not exist"


def event_document(application: PlatformApplication, event_type: str, endpoint_arn: str, now: float,
                   **extra: Any) -> tuple[str, str]:
    """(Subject, Message) of an application event: a compact JSON object with its keys in sorted order,
    as AWS's DeliveryFailure events read (``DeliveryAttempts``, ``EndpointArn``, ``EventType``,
    ``FailureMessage``, ``FailureType``, ``MessageId``, ``Resource``, ``Service``, ``Time``)."""
    document = {"EndpointArn": endpoint_arn, "EventType": event_type, "Resource": application.arn,
                "Service": "SNS", "Time": timestamp(now), **extra}
    subject = f"{event_type} event for app {application.name} ({application.platform})"
    return subject, json.dumps(document, sort_keys=True, separators=(",", ":"))


def platform_payload(platform: str, default: str, structure: dict[str, Any] | None) -> str:
    """What an endpoint of ``platform`` receives: with MessageStructure=json the platform's own key
    (``"GCM"``, ``"APNS_SANDBOX"``: no fallback from a sandbox to its production key), else the default."""
    if structure:
        text = structure.get(platform)
        if isinstance(text, str):
            return text
    return default


def _reason(text: str) -> ServiceError:
    return InvalidParameter(f"Invalid parameter: Attributes Reason: {text}")


def _check_boolean(name: str, value: str) -> None:
    if value.lower() not in ("true", "false"):
        raise _reason(f"{name}: Invalid value [{value}]. Must be true or false.")


def _check_credentials(platform: str, attributes: dict[str, str]) -> None:
    """The credentials ``platform`` needs: a credential always; a principal too, except for GCM (FCM);
    for Apple's token authentication the team and bundle ids together."""
    credential, principal = "PlatformCredential" in attributes, "PlatformPrincipal" in attributes
    if platform in _NO_PRINCIPAL:
        if not credential:
            raise _reason("PlatformCredential attribute required")
    elif principal and not credential:
        raise _reason("PlatformPrincipal attribute provided without PlatformCredential")
    elif credential and not principal:
        raise _reason("PlatformCredential attribute provided without PlatformPrincipal")
    elif not credential:
        raise _reason("PlatformPrincipal and PlatformCredential attributes required")
    team, bundle = "ApplePlatformTeamID" in attributes, "ApplePlatformBundleID" in attributes
    if (team or bundle) and platform not in APPLE_PLATFORMS:
        raise invalid("AttributeName")
    if team and not bundle:
        raise _reason("ApplePlatformTeamID attribute provided without ApplePlatformBundleID")
    if bundle and not team:
        raise _reason("ApplePlatformBundleID attribute provided without ApplePlatformTeamID")


def _check_application_attributes(attributes: dict[str, str]) -> None:
    for name, value in attributes.items():
        if name not in _APPLICATION_ATTRIBUTES:
            raise invalid("AttributeName")
        if name == "Enabled":
            _check_boolean(name, value)
        elif name == "SuccessFeedbackSampleRate" and not (value.isdigit() and 0 <= int(value) <= 100):
            raise _reason(f"{name}: must be an integer from 0 to 100")


def _certificate_expiry(principal: str) -> str | None:
    """AppleCertificateExpirationDate of a certificate principal, when it is a readable PEM certificate.

    The emulator accepts any principal (tests use placeholders), so a placeholder has no expiry to
    report rather than an invented one.
    """
    try:
        from cryptography import x509

        certificate = x509.load_pem_x509_certificate(principal.encode("utf-8"))
    except Exception:  # not a PEM certificate, or cryptography missing: nothing to report
        return None
    expiry = certificate.not_valid_after_utc.astimezone(dt.timezone.utc)
    return expiry.strftime("%Y-%m-%dT%H:%M:%SZ")


def _application_view(application: PlatformApplication) -> dict[str, str]:
    """The attributes AWS shows: everything set except the credentials, Enabled, and the certificate's
    expiry for certificate-based Apple applications."""
    shown = {k: v for k, v in application.attributes.items() if k not in _SECRET_ATTRIBUTES}
    shown["Enabled"] = shown.get("Enabled", "true").lower()
    token_auth = "ApplePlatformTeamID" in application.attributes
    if application.platform in APPLE_PLATFORMS and not token_auth:
        expiry = _certificate_expiry(application.attributes.get("PlatformPrincipal", ""))
        if expiry:
            shown["AppleCertificateExpirationDate"] = expiry
    return shown


def _check_endpoint_attributes(attributes: dict[str, str]) -> None:
    for name, value in attributes.items():
        if name not in _ENDPOINT_ATTRIBUTES:
            raise invalid("AttributeName")
        if name == "Enabled":
            _check_boolean(name, value)
        elif name == "Token" and not value:
            raise invalid("Token")
        elif name == "CustomUserData" and len(value.encode("utf-8")) > CUSTOM_USER_DATA_MAX:
            raise invalid("CustomUserData")


def _page(items: list[Any], next_token: str | None, kind: str) -> tuple[list[Any], str | None]:
    try:
        return paginate(sorted(items, key=lambda item: item.arn), lambda item: item.arn, next_token, PAGE_SIZE, kind)
    except InvalidToken:
        raise invalid("NextToken") from None


class PlatformMixin(SnsBase):
    publish: Callable[..., dict[str, Any]]  # PublishMixin's, joined into the same provider

    # --- application events --------------------------------------------------------------------

    def _application_event(self, ctx: RequestContext, application: PlatformApplication, event_type: str,
                           endpoint_arn: str, **extra: Any) -> None:
        """Publishes ``event_type`` (EndpointCreated, ...) to the topic the application names for it,
        as the application's own account; call with no lock held."""
        topic_arn = application.attributes.get(f"Event{event_type}")
        if not topic_arn:
            return
        subject, message = event_document(application, event_type, endpoint_arn, clock.now(), **extra)
        event_ctx = RequestContext(service="sns", account=application.arn.split(":")[4], region=ctx.region,
                                   operation="Publish", base_url=ctx.base_url)
        try:
            self.publish(event_ctx, topic_arn=topic_arn, message=message, subject=subject)
        except ServiceError as error:
            log.info("%s event of %s not published to %s: %s", event_type, application.arn, topic_arn, error.message)

    # --- lookups -------------------------------------------------------------------------------

    def _application(self, ctx: RequestContext, arn: str | None) -> tuple[SnsStore, PlatformApplication]:
        """The caller's application ``arn`` names (read or change it under ``store.lock``)."""
        match = _APP_ARN.match(arn or "")
        if match is None or match.group(1) != ctx.region or match.group(3) not in PLATFORMS:
            raise invalid("PlatformApplicationArn")
        store = self._store(ctx)
        application = store.applications.get(arn or "") if match.group(2) == ctx.account else None
        if application is None:
            raise NotFound(APPLICATION_NOT_FOUND)
        return store, application

    def _endpoint(self, ctx: RequestContext, arn: str | None) -> tuple[SnsStore, PlatformEndpoint]:
        match = _ENDPOINT_ARN.match(arn or "")
        if match is None or match.group(1) != ctx.region:
            raise invalid("EndpointArn")
        store = self._store(ctx)
        endpoint = store.endpoints.get(arn or "") if match.group(2) == ctx.account else None
        if endpoint is None:
            raise NotFound(ENDPOINT_NOT_FOUND)
        return store, endpoint

    def _publish_endpoint(self, ctx: RequestContext, target_arn: str) -> tuple[PlatformApplication, PlatformEndpoint]:
        """The application and endpoint a Publish TargetArn names, or the error AWS answers that Publish.

        A missing endpoint is ``InvalidParameter`` "... TargetArn Reason: No endpoint found for the
        target arn specified" (not ``NotFound``), as AWS answers a TargetArn.
        """
        match = _ENDPOINT_ARN.match(target_arn or "")
        if match is None or match.group(1) != ctx.region:
            raise invalid("TargetArn")
        store = self._store(ctx)
        with store.lock:
            endpoint = store.endpoints.get(target_arn) if match.group(2) == ctx.account else None
            application = store.applications.get(endpoint.application_arn) if endpoint else None
            if endpoint is None or application is None:
                raise InvalidParameter(
                    "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"
                )
            if endpoint.attributes.get("Enabled", "true").lower() != "true":
                raise EndpointDisabled("Endpoint is disabled")
            if application.attributes.get("Enabled", "true").lower() != "true":
                raise PlatformApplicationDisabled("Platform application is disabled")
        return application, endpoint

    # --- platform applications -----------------------------------------------------------------

    def create_platform_application(
        self, ctx: RequestContext, *, name: str, platform: str, attributes: dict[str, str], **_: Any
    ) -> dict[str, Any]:
        if not _NAME.match(name or ""):
            raise invalid("Name")
        if platform not in PLATFORMS:
            raise InvalidParameter(f"Invalid parameter: Platform Reason: {platform} is not supported")
        _check_application_attributes(attributes)
        _check_credentials(platform, attributes)
        arn = f"arn:{partition_for(ctx.region)}:sns:{ctx.region}:{ctx.account}:app/{platform}/{name}"
        store = self._store(ctx)
        with store.lock:
            existing = store.applications.get(arn)
            if existing is not None:
                # Creating it again updates its attributes and keeps its endpoints, like a Set.
                existing.attributes.update(attributes)
            else:
                store.applications[arn] = PlatformApplication(name, arn, platform, dict(attributes))
        return {"PlatformApplicationArn": arn}

    def get_platform_application_attributes(
        self, ctx: RequestContext, *, platform_application_arn: str, **_: Any
    ) -> dict[str, Any]:
        store, application = self._application(ctx, platform_application_arn)
        with store.lock:
            return {"Attributes": _application_view(application)}

    def set_platform_application_attributes(
        self, ctx: RequestContext, *, platform_application_arn: str, attributes: dict[str, str], **_: Any
    ) -> dict[str, Any]:
        store, application = self._application(ctx, platform_application_arn)
        _check_application_attributes(attributes)
        with store.lock:
            merged = {**application.attributes, **attributes}
            _check_credentials(application.platform, merged)
            application.attributes = merged
        return {}

    def list_platform_applications(
        self, ctx: RequestContext, *, next_token: str | None = None, **_: Any
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            page, token = _page(list(store.applications.values()), next_token, "sns-platform-applications")
            result: dict[str, Any] = {
                "PlatformApplications": [
                    {"PlatformApplicationArn": app.arn, "Attributes": _application_view(app)} for app in page
                ]
            }
        if token:
            result["NextToken"] = token
        return result

    def delete_platform_application(
        self, ctx: RequestContext, *, platform_application_arn: str, **_: Any
    ) -> dict[str, Any]:
        """Deletes the application and its endpoints; an application that is not there is no error."""
        try:
            store, application = self._application(ctx, platform_application_arn)
        except NotFound:
            return {}
        with store.lock:
            for endpoint_arn in application.endpoints:
                store.endpoints.pop(endpoint_arn, None)
            store.applications.pop(application.arn, None)
        return {}

    # --- endpoints -----------------------------------------------------------------------------

    def create_platform_endpoint(
        self,
        ctx: RequestContext,
        *,
        platform_application_arn: str,
        token: str,
        custom_user_data: str | None = None,
        attributes: dict[str, str] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Idempotent by device token: the same token with the same (or no) attributes gives the same
        endpoint; with different ones, AWS's "already exists ... but different attributes"."""
        if not token:
            raise invalid("Token")
        given = dict(attributes or {})
        if custom_user_data is not None:
            given["CustomUserData"] = custom_user_data
        _check_endpoint_attributes(given)
        given.pop("Token", None)  # the Token member wins over a Token attribute
        if "Enabled" in given:
            given["Enabled"] = given["Enabled"].lower()
        store, application = self._application(ctx, platform_application_arn)
        with store.lock:
            existing_arn = application.by_token.get(token)
            if existing_arn is not None:
                existing = store.endpoints[existing_arn]
                if any(existing.attributes.get(k) != v for k, v in given.items()):
                    raise InvalidParameter(
                        f"Invalid parameter: Token Reason: Endpoint {existing_arn} already exists with the same "
                        "Token, but different attributes."
                    )
                return {"EndpointArn": existing_arn}
            arn = (
                f"arn:{partition_for(ctx.region)}:sns:{ctx.region}:{ctx.account}:endpoint/"
                f"{application.platform}/{application.name}/{uuid.uuid4()}"
            )
            endpoint = PlatformEndpoint(arn, application.arn, token, {"Enabled": "true", **given, "Token": token})
            application.endpoints[arn] = endpoint
            application.by_token[token] = arn
            store.endpoints[arn] = endpoint
        self._application_event(ctx, application, "EndpointCreated", arn)
        return {"EndpointArn": arn}

    def get_endpoint_attributes(self, ctx: RequestContext, *, endpoint_arn: str, **_: Any) -> dict[str, Any]:
        store, endpoint = self._endpoint(ctx, endpoint_arn)
        with store.lock:
            return {"Attributes": dict(endpoint.attributes)}

    def set_endpoint_attributes(
        self, ctx: RequestContext, *, endpoint_arn: str, attributes: dict[str, str], **_: Any
    ) -> dict[str, Any]:
        store, endpoint = self._endpoint(ctx, endpoint_arn)
        _check_endpoint_attributes(attributes)
        with store.lock:
            application = store.applications[endpoint.application_arn]
            new_token = attributes.get("Token")
            if new_token is not None and new_token != endpoint.token:
                other = application.by_token.get(new_token)
                if other is not None:
                    raise InvalidParameter(
                        f"Invalid parameter: Token Reason: Endpoint {other} already exists with the same Token, "
                        "but different attributes."
                    )
                del application.by_token[endpoint.token]
                application.by_token[new_token] = endpoint.arn
                endpoint.token = new_token
            endpoint.attributes.update(attributes)
            if "Enabled" in attributes:
                endpoint.attributes["Enabled"] = attributes["Enabled"].lower()
        self._application_event(ctx, application, "EndpointUpdated", endpoint.arn)
        return {}

    def list_endpoints_by_platform_application(
        self, ctx: RequestContext, *, platform_application_arn: str, next_token: str | None = None, **_: Any
    ) -> dict[str, Any]:
        store, application = self._application(ctx, platform_application_arn)
        with store.lock:
            page, token = _page(list(application.endpoints.values()), next_token, f"sns-endpoints:{application.arn}")
            result: dict[str, Any] = {
                "Endpoints": [{"EndpointArn": e.arn, "Attributes": dict(e.attributes)} for e in page]
            }
        if token:
            result["NextToken"] = token
        return result

    def delete_endpoint(self, ctx: RequestContext, *, endpoint_arn: str, **_: Any) -> dict[str, Any]:
        """Idempotent: deleting an endpoint that is not there succeeds."""
        try:
            store, endpoint = self._endpoint(ctx, endpoint_arn)
        except NotFound:
            return {}
        with store.lock:
            deleted = store.endpoints.pop(endpoint.arn, None) is not None
            application = store.applications.get(endpoint.application_arn)
            if application is not None:
                application.endpoints.pop(endpoint.arn, None)
                if application.by_token.get(endpoint.token) == endpoint.arn:
                    del application.by_token[endpoint.token]
        if deleted and application is not None:
            self._application_event(ctx, application, "EndpointDeleted", endpoint.arn)
        return {}
