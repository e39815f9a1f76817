"""Google Business Profile: a location's reviews and the owner's public replies.

Endpoints (Business Profile APIs; reviews are still served by v4):

* ``POST {token_url}`` ``grant_type=refresh_token`` with the OAuth client's id and secret
  and the refresh token of a manager of the location (scope ``business.manage``) → an
  access token, sent as ``Authorization: Bearer``;
* ``GET v4/accounts/{account}/locations/{location}/reviews?pageSize=50&orderBy=updateTime
  desc[&pageToken=…]`` → ``reviews``, ``nextPageToken``.

A review is a root post: ``native_id`` its ``reviewId``, ``at`` its ``createTime``, the
text its ``comment``, ``rating`` its ``starRating`` (``ONE``…``FIVE``), ``author_name``
the reviewer's ``displayName``. ``STAR_RATING_UNSPECIFIED`` gives no stars: then the
shared praise/complaint patterns judge the text. The owner's ``reviewReply`` is the
brand's answer: ``native_id`` ``{reviewId}-reply``, ``at`` the reply's ``updateTime``.
Google keeps one reply per review and overwrites ``updateTime`` when the owner edits it,
so a reply first seen after an edit carries the edit's time (later than the first answer);
an edited reply keeps its id and is not a second answer.

Cursor: ``{"newest": <newest review updateTime seen>}``. Pages are read newest first and
no further than reviews updated ``reread_days`` before ``newest``: every run reads that
window again, so a reply written later to a review already gathered is gathered too
(whether a reply also moves the review's own ``updateTime`` is not documented). A reply
to a review older than the window is missed. The first run reads up to ``max_pages``
pages (50 reviews each); reviews beyond are not gathered and a warning says so.

Until Google approves the project's "Application for Basic API Access" its quota is 0
requests per minute, and every call answers 429 as if rate limited: the error says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from generator.errors import matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    RereadSettings,
    Review,
    ReviewSource,
    Window,
    access_token,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant

PAGE_SIZE = 50  # the most the API allows
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5, "STAR_RATING_UNSPECIFIED": None}
ZERO_QUOTA = (
    "Google answers 429 to every call until it approves the project's Application for Basic"
    " API Access (quota 0 per minute)"
)

Id = Annotated[str, matching(r"[A-Za-z0-9_-]{1,64}", "an id (letters, digits, _ and -)")]


class _Reviewer(ApiModel):
    displayName: str | None = None


class _Reply(ApiModel):
    comment: str | None = None
    updateTime: Instant


class _Review(ApiModel):
    reviewId: Annotated[str, Field(min_length=1, max_length=500)]
    reviewer: _Reviewer | None = None
    starRating: Literal["ONE", "TWO", "THREE", "FOUR", "FIVE", "STAR_RATING_UNSPECIFIED"]
    comment: str | None = None
    createTime: Instant
    updateTime: Instant
    reviewReply: _Reply | None = None


class _Page(ApiModel):
    reviews: list[_Review] = Field(default_factory=list)
    nextPageToken: str | None = None


def _next_token(page: _Page) -> str | None:
    return page.nextPageToken


class GoogleBusinessSettings(RereadSettings):
    """Reviews of one Business Profile location, with the owner's replies.

    `account` and `location` are the numeric ids in the location's resource name
    (`accounts/{account}/locations/{location}`). The three credentials are an OAuth
    client's id and secret and a location manager's refresh token (scope business.manage).
    `reread_days`: how far behind the newest review each run looks again for new replies.
    """

    type: Literal["google_business"]
    account: Id
    location: Id
    base_url: base.BaseUrl = "https://mybusiness.googleapis.com/"
    token_url: base.ExactUrl = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint
    # Names of environment variables (the secrets' names in the workflow), not secrets:
    client_id_env: base.EnvName = "GOOGLE_BUSINESS_CLIENT_ID"
    client_secret_env: base.EnvName = "GOOGLE_BUSINESS_CLIENT_SECRET"  # noqa: S105
    refresh_token_env: base.EnvName = "GOOGLE_BUSINESS_REFRESH_TOKEN"  # noqa: S105


def connect(settings: GoogleBusinessSettings, context: base.Context) -> GoogleBusinessReviews:
    """The connector, with the OAuth client and refresh token from the variables named."""
    form = {
        "grant_type": "refresh_token",
        "client_id": context.secret(settings, "client_id_env"),
        "client_secret": context.secret(settings, "client_secret_env"),
        "refresh_token": context.secret(settings, "refresh_token_env"),
    }
    token = context.client(settings.token_url)
    return GoogleBusinessReviews(settings, context.client(settings.base_url), token, form)


class GoogleBusinessReviews(ReviewSource[GoogleBusinessSettings]):
    """A location's reviews and replies (see the module docstring)."""

    hints: ClassVar[Mapping[int, str]] = {429: ZERO_QUOTA}
    page_size = PAGE_SIZE

    def __init__(
        self,
        config: GoogleBusinessSettings,
        client: HttpClient,
        token: HttpClient,
        form: Mapping[str, str],
    ) -> None:
        super().__init__(config, client, token)
        self.token = token
        self.form = dict(form)
        self.path = f"v4/accounts/{config.account}/locations/{config.location}/reviews"

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """The reviews updated since `newest` minus the re-read window, newest first."""
        window = Window(cursor, self.config.reread_days)
        self.client.set_bearer(access_token(self.token, self.form))
        result = base.FetchResult()
        reviews: list[_Review] = []
        params = {"pageSize": self.page_size, "orderBy": "updateTime desc"}
        token = ("pageToken", _next_token)
        for found in self.token_pages(params, _Page, token, result.warnings):
            fresh = [r for r in found.reviews if window.keep(r.updateTime)]
            reviews += fresh
            if len(fresh) < len(found.reviews):
                break
        result.posts = self.posts(self._review(r) for r in reviews)
        result.cursor = window.cursor()
        return result

    @staticmethod
    def _review(review: _Review) -> Review:
        reply = review.reviewReply
        return Review(
            id=review.reviewId,
            at=review.createTime,
            stars=STARS[review.starRating],
            text=review.comment,
            author_name=review.reviewer.displayName if review.reviewer else None,
            reply=reply.comment if reply else None,
            reply_at=reply.updateTime if reply else None,
        )


SOURCE = base.SourceType(
    settings=GoogleBusinessSettings,
    channel="google_business",
    display="Google Business Profile",
    connect=connect,
    credentials=("client_id_env", "client_secret_env", "refresh_token_env"),
    summary="Reviews of a Business Profile location; the owner's public reply is the answer.",
)
