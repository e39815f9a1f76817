"""App Store: an app's customer reviews and the developer's published responses, from the
App Store Connect API.

Endpoint: ``GET v1/apps/{app_id}/customerReviews?sort=-createdDate&limit=200&include=response``
→ ``data`` (``customerReviews``), ``included`` (``customerReviewResponses``) and
``links.next``, followed page after page on the API's own origin only (the token must not
travel elsewhere), up to ``max_pages``.

Every request carries ``Authorization: Bearer <JWT>``: ES256, signed with the API key's
``.p8`` private key (the PEM text is in the variable named by ``private_key_env``),
header ``kid`` = ``key_id``, payload ``iss`` = ``issuer_id`` (a team key; without an
issuer id, ``sub`` = ``user``: an individual key), ``iat``, ``exp`` 15 minutes later
(Apple refuses more than 20), ``aud`` = ``appstoreconnect-v1``. A new token is signed
when the current one is about to expire. Apple limits each key to a number of requests per
rolling hour and says how many are left in ``X-Rate-Limit`` on every answer: the HTTP
layer (``http.hourly_quota``) stops cleanly when none are left.

A review is a root post: ``native_id`` its id, ``at`` its ``createdDate``, ``title``,
text (``body``), ``rating``, ``author_name`` its ``reviewerNickname``. A response whose
``state`` is ``PUBLISHED`` is the brand's answer (``{id}-reply``) at its
``lastModifiedDate``: the time the developer last wrote it (Apple gives no creation or
publication time; an edit moves it, and it is published some time after). A response
``PENDING_PUBLISH`` is not public yet and is skipped until a later run sees it published.
Reviews with a rating and no text are not served by the API.

Cursor: ``{"newest": <newest createdDate seen>}``. Pages are read newest first and no
further than reviews created ``reread_days`` before ``newest``, so a response published
later to a review in that window is gathered on a later run; a response to an older review
is missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import jwt
from pydantic import Field

from generator.errors import matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    RereadSettings,
    Review,
    ReviewSource,
    Window,
    next_url,
    validated,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant

PAGE_SIZE = 200  # the most the API allows
AUDIENCE = "appstoreconnect-v1"
TOKEN_LIFETIME = 15 * 60  # Apple refuses tokens that expire more than 20 minutes ahead
RESPONSES = "customerReviewResponses"


class _Ref(ApiModel):
    type: str
    id: str


class _Related(ApiModel):
    data: _Ref | None = None


class _ReviewRelations(ApiModel):
    response: _Related | None = None


class _ReviewAttributes(ApiModel):
    rating: Annotated[int, Field(ge=1, le=5)]
    title: str | None = None
    body: str | None = None
    reviewerNickname: str | None = None
    createdDate: Instant


class _Review(ApiModel):
    type: Literal["customerReviews"]
    id: Annotated[str, Field(min_length=1, max_length=200)]
    attributes: _ReviewAttributes
    relationships: _ReviewRelations | None = None


class _ResponseAttributes(ApiModel):
    responseBody: str | None = None
    lastModifiedDate: Instant
    state: str


class _ResponseRelations(ApiModel):
    review: _Related | None = None


class _Included(ApiModel):
    type: str
    id: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    relationships: _ResponseRelations | None = None


class _Links(ApiModel):
    next: str | None = None


class _Page(ApiModel):
    data: list[_Review]
    included: list[_Included] = Field(default_factory=list)
    links: _Links | None = None


class AppStoreSettings(RereadSettings):
    """Customer reviews of one app in App Store Connect, with the published responses.

    `app_id` is the app's Apple ID (digits, shown under App Information). `key_id` and
    `issuer_id` come from Users and Access → Integrations → App Store Connect API (leave
    `issuer_id` out for an individual key); the `.p8` key's text goes in the secret named
    by `private_key_env`. `reread_days`: how far behind the newest review each run looks
    again for new responses.
    """

    type: Literal["app_store"]
    app_id: Annotated[str, matching(r"[0-9]{1,20}", "the app's Apple ID (digits)")]
    key_id: Annotated[str, matching(r"[A-Z0-9]{6,20}", "a key ID like 2X9R4HXF34")]
    issuer_id: Annotated[str, matching(r"[0-9a-fA-F-]{36}", "an issuer ID (a UUID)")] | None = None
    private_key_env: base.EnvName = "APP_STORE_CONNECT_KEY"
    base_url: base.BaseUrl = "https://api.appstoreconnect.apple.com/"


def connect(settings: AppStoreSettings, context: base.Context) -> AppStoreReviews:
    """The connector, with the .p8 private key from the variable `private_key_env` names."""
    key = context.secret_text(settings, "private_key_env")
    return AppStoreReviews(settings, context.client(settings.base_url), key)


class AppStoreReviews(ReviewSource[AppStoreSettings]):
    """An app's reviews and published responses (see the module docstring)."""

    page_size = PAGE_SIZE
    hints: ClassVar[Mapping[int, str]] = {
        401: "App Store Connect refused the token: check key_id, issuer_id and the key",
        403: "the API key's role may not read this app's customer reviews",
    }

    def __init__(self, config: AppStoreSettings, client: HttpClient, key: str) -> None:
        super().__init__(config, client)
        self.key = key
        self.expires = 0.0
        self.path = f"v1/apps/{config.app_id}/customerReviews"

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """The reviews created since `newest` minus the re-read window, newest first."""
        window = Window(cursor, self.config.reread_days)
        result = base.FetchResult()
        url: str | None = self.path
        params: dict[str, Any] | None = {
            "sort": "-createdDate",
            "limit": PAGE_SIZE,
            "include": "response",
        }
        for page in range(1, self.config.max_pages + 1):
            where = self.path if page == 1 else f"{self.path} (page {page})"
            self._authorize()
            answer = self.client.get(url or self.path, params)
            found = validated(_Page, answer.data, where)
            fresh = [r for r in found.data if window.keep(r.attributes.createdDate)]
            responses = self._responses(found, where)
            result.posts += self.posts(self._review(r, responses) for r in fresh)
            link = (found.links.next if found.links else None) or None
            refused = f"{where}: links.next is not a URL on this API"
            url, params = next_url(self.client, link, answer.url, refused), None
            if url is None or len(fresh) < len(found.data):
                break
        else:
            result.warnings.append(self.cut_short())
        result.cursor = window.cursor()
        return result

    def _authorize(self) -> None:
        """A fresh token when the current one has less than a minute left."""
        now = int(self.client.clock())
        if now < self.expires - 60:
            return
        claims: dict[str, Any] = {"iat": now, "exp": now + TOKEN_LIFETIME, "aud": AUDIENCE}
        if self.config.issuer_id:
            claims["iss"] = self.config.issuer_id
        else:
            claims["sub"] = "user"
        try:
            token = jwt.encode(
                claims, self.key, algorithm="ES256", headers={"kid": self.config.key_id}
            )
        except (ValueError, TypeError, jwt.PyJWTError):
            variable = self.config.private_key_env
            raise base.SourceError(
                f"{variable} does not hold an App Store Connect private key (the text of"
                " the .p8 file, an EC P-256 key in PEM)"
            ) from None
        self.client.set_bearer(token)
        self.expires = float(now + TOKEN_LIFETIME)

    @staticmethod
    def _responses(found: _Page, where: str) -> dict[str, _ResponseAttributes]:
        """The published responses of a page, by review id."""
        by_id: dict[str, tuple[_Included, _ResponseAttributes]] = {}
        for index, item in enumerate(found.included):
            if item.type == RESPONSES:
                attributes = validated(
                    _ResponseAttributes,
                    item.attributes,
                    f"{where}: included: item {index}: attributes",
                )
                by_id[item.id] = (item, attributes)
        published: dict[str, _ResponseAttributes] = {}
        for review in found.data:
            related = review.relationships.response if review.relationships else None
            ref = related.data if related else None
            if ref is not None and ref.id in by_id:
                published[review.id] = by_id[ref.id][1]
        for item, attributes in by_id.values():  # linked from the response's side only
            back = item.relationships.review if item.relationships else None
            if back is not None and back.data is not None:
                published.setdefault(back.data.id, attributes)
        return {k: v for k, v in published.items() if v.state == "PUBLISHED"}

    @staticmethod
    def _review(review: _Review, responses: Mapping[str, _ResponseAttributes]) -> Review:
        attributes = review.attributes
        response = responses.get(review.id)
        return Review(
            id=review.id,
            at=attributes.createdDate,
            stars=attributes.rating,
            title=attributes.title,
            text=attributes.body,
            author_name=attributes.reviewerNickname,
            reply=response.responseBody if response else None,
            reply_at=response.lastModifiedDate if response else None,
        )


SOURCE = base.SourceType(
    settings=AppStoreSettings,
    channel="app_store",
    display="App Store",
    connect=connect,
    credentials=("private_key_env",),
    summary="Customer reviews of an app in App Store Connect; a published response answers.",
)
