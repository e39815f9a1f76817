"""Google Play: an app's reviews and the developer's public replies (the Play Developer
"Reply to Reviews" API).

Endpoints:

* ``POST {token endpoint}`` ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
  with an RS256 JWT assertion signed by the service account's private key (``iss`` its
  ``client_email``, ``scope`` androidpublisher, ``aud`` the token endpoint, one hour) →
  an access token, sent as ``Authorization: Bearer``. The service account's JSON key file
  is in the variable named by ``service_account_env``; the token endpoint is the key
  file's ``token_uri`` unless ``token_url`` is set;
* ``GET androidpublisher/v3/applications/{package}/reviews?maxResults=100[&token=…]`` →
  ``reviews``, ``tokenPagination.nextPageToken``.

Google serves only the reviews **created or modified in the last 7 days**, of the
production app, and only those with text. Each run reads all of them (up to
``max_pages`` pages of 100), so a reply written after the review was gathered comes on
the next run; the cursor ``{"last_run": …}`` only records when the last good run was, and
a run whose previous good run is more than 6 days old warns that reviews may have been
missed. Run it at least daily.

A review is a root post: ``native_id`` its ``reviewId``, text and stars from its
``userComment`` (a title, where the user wrote one, is the text before the first tab),
``author_name`` its ``authorName``, ``at`` the user comment's ``lastModified``: Play gives
no creation time, so an edited review carries the time of its edit. The
``developerComment`` is the brand's answer (``{reviewId}-reply``) at its own
``lastModified``, which an edit overwrites too. Times are ``{"seconds": "<string>",
"nanos": n}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

import jwt
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from generator.errors import http_url, matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    Review,
    ReviewSettings,
    ReviewSource,
    access_token,
    validated,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant
from generator.record.times import format_instant

PAGE_SIZE = 100
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint
SERVED = timedelta(days=7)  # Google serves reviews created or modified in the last 7 days
STALE = timedelta(days=6)  # warn before a gap opens


def _seconds(value: object) -> int:
    # int64 in JSON is a string ("1764480000"); a number is read as well.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return value
    raise PydanticCustomError("seconds", "not a count of seconds since 1970 (digits)")


class _Timestamp(ApiModel):
    seconds: Annotated[int, BeforeValidator(_seconds)]
    nanos: Annotated[int, Field(ge=0, le=999_999_999)] = 0

    @property
    def instant(self) -> datetime:
        return datetime.fromtimestamp(self.seconds, UTC) + timedelta(
            microseconds=self.nanos // 1000
        )


class _UserComment(ApiModel):
    text: str | None = None
    starRating: Annotated[int, Field(ge=1, le=5)] | None = None
    lastModified: _Timestamp


class _DeveloperComment(ApiModel):
    text: str | None = None
    lastModified: _Timestamp


class _Comment(ApiModel):
    userComment: _UserComment | None = None
    developerComment: _DeveloperComment | None = None


class _Review(ApiModel):
    reviewId: Annotated[str, Field(min_length=1, max_length=500)]
    authorName: str | None = None
    comments: list[_Comment] = Field(default_factory=list)


class _Paging(ApiModel):
    nextPageToken: str | None = None


class _Page(ApiModel):
    reviews: list[_Review] = Field(default_factory=list)
    tokenPagination: _Paging | None = None


def _next_token(page: _Page) -> str | None:
    return page.tokenPagination.nextPageToken if page.tokenPagination else None


class _State(ApiModel):
    last_run: Instant | None = None


class _KeyFile(ApiModel):
    """The fields of a service account's JSON key file that heard uses."""

    type: Literal["service_account"]
    client_email: Annotated[str, Field(min_length=3, max_length=320)]
    private_key: Annotated[str, Field(min_length=64)]
    private_key_id: str | None = None
    token_uri: Annotated[str, http_url(GOOGLE_TOKEN)] = GOOGLE_TOKEN


class GooglePlaySettings(ReviewSettings):
    """Reviews of one app on Google Play, with the developer's replies.

    `package` is the app's package name. The credential is a service account's JSON key
    file, invited in Play Console with the "Reply to reviews" permission. `token_url`
    overrides the key file's token endpoint (tests).
    """

    type: Literal["google_play"]
    package: Annotated[
        str,
        matching(
            r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+", "a package name like com.acme.app"
        ),
    ]
    service_account_env: base.EnvName = "GOOGLE_PLAY_SERVICE_ACCOUNT"
    base_url: base.BaseUrl = "https://androidpublisher.googleapis.com/"
    token_url: base.ExactUrl | None = None


def connect(settings: GooglePlaySettings, context: base.Context) -> GooglePlayReviews:
    """The connector, with the service account key from `service_account_env`."""
    variable = settings.service_account_env
    try:
        raw = json.loads(context.secret_text(settings, "service_account_env"))
    except json.JSONDecodeError:
        raise base.SourceError(
            f"{settings.key}: {variable} does not hold a service account key file (JSON)"
        ) from None
    try:
        key = validated(_KeyFile, raw, variable)
    except base.SourceError as exc:
        raise base.SourceError(f"{settings.key}: {exc} (a service account key file)") from None
    context.keep_secret(key.private_key)
    if key.private_key_id:
        context.keep_secret(key.private_key_id)
    endpoint = settings.token_url or key.token_uri
    token = context.client(endpoint)
    return GooglePlayReviews(settings, context.client(settings.base_url), token, key, endpoint)


class GooglePlayReviews(ReviewSource[GooglePlaySettings]):
    """An app's recent reviews and replies (see the module docstring)."""

    page_size = PAGE_SIZE
    hints: ClassVar[Mapping[int, str]] = {
        401: "Google refused the access token",
        403: "the service account may not read this app's reviews: invite it in Play"
        ' Console (Users and permissions) with "Reply to reviews"',
    }

    def __init__(
        self,
        config: GooglePlaySettings,
        client: HttpClient,
        token: HttpClient,
        key: _KeyFile,
        endpoint: str,
    ) -> None:
        super().__init__(config, client, token)
        self.token = token
        self.key = key
        self.endpoint = endpoint
        self.path = f"androidpublisher/v3/applications/{config.package}/reviews"

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """Every review Google still serves (the last 7 days)."""
        state = validated(_State, dict(cursor), "cursor")
        now = datetime.fromtimestamp(self.client.clock(), UTC)
        result = base.FetchResult()
        if state.last_run is not None and now - state.last_run > STALE:
            days = (now - state.last_run).total_seconds() / 86400
            result.warnings.append(
                f"the last good run was {days:.1f} days ago; Google Play serves"
                f" only the last {SERVED.days} days of reviews, so run it at least daily"
                + (" (some reviews were missed)" if now - state.last_run > SERVED else "")
            )
        self.client.set_bearer(self._access_token())
        reviews: list[Review] = []
        skipped = 0
        params = {"maxResults": self.page_size}
        for found in self.token_pages(params, _Page, ("token", _next_token), result.warnings):
            for item in found.reviews:
                review = self._review(item)
                if review is None:
                    skipped += 1
                else:
                    reviews.append(review)
        if skipped:
            result.warnings.append(f"{skipped} reviews without a user comment were skipped")
        result.posts = self.posts(reviews)
        result.cursor = {"last_run": format_instant(now)}
        return result

    def _access_token(self) -> str:
        now = int(self.client.clock())
        claims = {
            "iss": self.key.client_email,
            "scope": SCOPE,
            "aud": self.endpoint,
            "iat": now,
            "exp": now + 3600,
        }
        headers = {"kid": self.key.private_key_id} if self.key.private_key_id else None
        try:
            assertion = jwt.encode(claims, self.key.private_key, algorithm="RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError):
            raise base.SourceError(
                f"{self.config.service_account_env}: private_key is not an RSA private key"
                " (PEM) (a service account key file)"
            ) from None
        return access_token(self.token, {"grant_type": GRANT, "assertion": assertion})

    @staticmethod
    def _review(review: _Review) -> Review | None:
        user = next((c.userComment for c in review.comments if c.userComment), None)
        if user is None:
            return None
        reply = next((c.developerComment for c in review.comments if c.developerComment), None)
        title, text = None, user.text
        if text and "\t" in text:
            head, _, body = text.partition("\t")
            if head.strip() and body.strip():
                title, text = head.strip(), body
        return Review(
            id=review.reviewId,
            at=user.lastModified.instant,
            stars=user.starRating,
            title=title,
            text=text,
            author_name=review.authorName,
            reply=reply.text if reply else None,
            reply_at=reply.lastModified.instant if reply else None,
        )


SOURCE = base.SourceType(
    settings=GooglePlaySettings,
    channel="google_play",
    display="Google Play",
    connect=connect,
    credentials=("service_account_env",),
    summary="Reviews of an app on Google Play (the last 7 days: run daily); replies answer.",
)
