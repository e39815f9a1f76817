"""Trustpilot: a business unit's public reviews and the company's public replies.

Endpoint (Business Units API, public; the key in the ``apikey`` header, from the variable
named by ``api_key_env``)::

    GET v1/business-units/{business_unit_id}/reviews?page=N&perPage=100&orderBy=createdat.desc

Each answer is ``{"reviews": [...]}``, newest first; pages are read until one is empty or
every review on it is older than the point this run must reach. The business unit id is
found once with ``GET v1/business-units/find?name=<your domain>`` (see docs/sources.md).

Mapping: a review is a root post (``native_id`` its id): ``title``, ``text``, ``stars`` as
its ``rating``, ``consumer.displayName`` as the author's name, and ``praise`` when its
stars are above ``star_threshold`` (at or below is a complaint). ``companyReply`` is the
brand's public answer: a post ``<review id>-reply`` answering the review, by the brand,
at ``companyReply.createdAt``. Not ``updatedAt``: that moves whenever the company edits its
reply, and the record wants when the customer was first answered, not when the answer
was last touched; a reply without ``createdAt`` is skipped (heard never invents a time).

Replies come after their review, often days later, on reviews already gathered: each run
reads again the reviews created in the last ``reread_days`` and gathers a reply it has
not gathered yet. A reply added later than that is not gathered.

Cursor::

    newest      createdAt of the newest review gathered, and newest_ids: those at it
    replied     {review id: createdAt} of the recent reviews whose reply was gathered
    gap         when a run was cut by max_pages before reaching the reviews it had: the
                reviews between `bottom` (and bottom_ids) and `top` (and top_ids) are not
                gathered yet; `above` is how many reviews were listed above `top` then,
                so the next run can jump to its page instead of reading down to it

The first run reads back at most ``max_pages`` pages (100 reviews each); older reviews
are not gathered (the run says so). There are no rate-limit headers: a 429 is retried
with exponential backoff by the HTTP layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from generator.errors import matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    Connector,
    ReviewSettings,
    reply_id,
    review_praise,
    validated,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant
from generator.record.times import format_instant

PER_PAGE = 100
MARGIN = 10  # a jump to a gap lands this many reviews above it (some may have been deleted)
WEB = "https://www.trustpilot.com/reviews/"
REFUSED = {
    401: "Trustpilot refused the API key (check the variable named by api_key_env)",
    403: "the API key may not read this business unit (Trustpilot's API needs a paid plan"
    " or the API add-on, and the key must belong to the business)",
    404: "no such business unit (find its id with v1/business-units/find?name=<domain>)",
}

ReviewId = Annotated[str, matching(r"[A-Za-z0-9]{1,64}", "a Trustpilot id (letters and digits)")]


class TrustpilotSettings(ReviewSettings):
    """A business unit's reviews and the company's replies, read with its API key.

    - `business_unit_id`: the business unit (its id, from v1/business-units/find);
    - `api_key_env`: the variable holding the API key (sent as the `apikey` header);
    - `star_threshold`: a review with this many stars or fewer is a complaint, one with
      more is praise (default 3);
    - `reread_days`: how long after a review its company reply is still looked for;
    - `base_url`: the API (tests point it at a local server).
    """

    type: Literal["trustpilot"]
    business_unit_id: ReviewId
    api_key_env: base.EnvName
    reread_days: Annotated[int, Field(ge=0, le=365)] = 14
    base_url: base.BaseUrl = "https://api.trustpilot.com/"


def connect(settings: TrustpilotSettings, context: base.Context) -> TrustpilotReviews:
    """The connector, with the key from the variable named by `api_key_env`."""
    key = context.secret(settings, "api_key_env")
    return TrustpilotReviews(settings, context.client(settings.base_url, {"apikey": key}))


# --- the answers we read ------------------------------------------------------------------------


class _Consumer(ApiModel):
    display_name: str | None = Field(default=None, alias="displayName")


class _Reply(ApiModel):
    text: str | None = None
    created_at: Instant | None = Field(default=None, alias="createdAt")


class _Review(ApiModel):
    id: ReviewId
    stars: Annotated[int, Field(ge=1, le=5)]
    title: str | None = None
    text: str | None = None
    created_at: Instant = Field(alias="createdAt")
    consumer: _Consumer | None = None
    company_reply: _Reply | None = Field(default=None, alias="companyReply")


class _Page(ApiModel):
    reviews: list[_Review]


class _Gap(ApiModel):
    top: Instant
    top_ids: list[ReviewId] = Field(default_factory=list)
    bottom: Instant
    bottom_ids: list[ReviewId] = Field(default_factory=list)
    above: Annotated[int, Field(ge=0)] = 0

    def holds(self, review: _Review) -> bool:
        """Whether a review lies in the gap (not gathered yet)."""
        at, rid = review.created_at, review.id
        below_top = at < self.top or (at == self.top and rid not in self.top_ids)
        above_bottom = at > self.bottom or (at == self.bottom and rid not in self.bottom_ids)
        return below_top and above_bottom


class _State(ApiModel):
    newest: Instant | None = None
    newest_ids: list[ReviewId] = Field(default_factory=list)
    replied: dict[ReviewId, Instant] = Field(default_factory=dict)
    gap: _Gap | None = None


# --- one run --------------------------------------------------------------------------------------


@dataclass
class _Run:
    state: _State
    window: datetime  # replies to reviews created since then are looked for
    result: base.FetchResult = field(default_factory=base.FetchResult)
    handled: set[str] = field(default_factory=set)
    replied: dict[str, datetime] = field(default_factory=dict)
    newest: datetime | None = None
    newest_ids: set[str] = field(default_factory=set)
    first_known: int | None = None  # position of the first review already gathered
    oldest: tuple[datetime, set[str], int] | None = None  # oldest seen: time, ids, position
    gap_above: int | None = None  # a landing showed the gap begins above this position
    skipped_replies: int = 0


class TrustpilotReviews(Connector[TrustpilotSettings]):
    """A business unit's reviews and replies (see the module docstring)."""

    def __init__(self, config: TrustpilotSettings, client: HttpClient) -> None:
        super().__init__(config, client)
        self.path = f"v1/business-units/{config.business_unit_id}/reviews"

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """Every review and reply new since `cursor`."""
        state = validated(_State, dict(cursor), "cursor")
        now = datetime.fromtimestamp(self.client.clock(), UTC)
        run = _Run(state, now - timedelta(days=self.config.reread_days))
        run.newest, run.newest_ids = state.newest, set(state.newest_ids)
        run.replied = {rid: at for rid, at in state.replied.items() if at >= run.window}
        gap = self._scan(run)
        cursor_out: base.Cursor = {}
        if run.newest is not None:
            cursor_out.update(newest=format_instant(run.newest), newest_ids=sorted(run.newest_ids))
        cursor_out["replied"] = {
            rid: format_instant(at) for rid, at in sorted(run.replied.items()) if at >= run.window
        }
        if gap is not None:
            cursor_out["gap"] = {
                "top": format_instant(gap.top),
                "top_ids": sorted(gap.top_ids),
                "bottom": format_instant(gap.bottom),
                "bottom_ids": sorted(gap.bottom_ids),
                "above": gap.above,
            }
        run.result.cursor = cursor_out
        if run.skipped_replies:
            run.result.warnings.append(
                f"{self.name}: {run.skipped_replies} company replies had no createdAt and were"
                " not gathered"
            )
        return run.result

    # -- paging --

    def _scan(self, run: _Run) -> _Gap | None:
        """Read pages newest first until the run has what it needs; the gap left, if any."""
        state = run.state
        old_gap = state.gap
        # Down to the last newest (every new review) and through the reply window.
        stop = None if state.newest is None else min(state.newest, run.window)
        budget = self.config.max_pages
        page, origin = 1, 1
        may_jump, landing, gap_done = True, False, old_gap is None
        while budget > 0:
            budget -= 1
            reviews = self._page(page)
            if landing:
                if page > origin + 1 and (not reviews or self._overshot(reviews[0], old_gap)):
                    # Reviews above were deleted: the gap begins higher (remembered, should
                    # this run end before finding it).
                    run.gap_above = (page - 1) * PER_PAGE - 1
                    page -= 1
                    continue
                landing = False
            if not reviews:
                return None  # the end of the list: nothing is left unread
            for index, review in enumerate(reviews):
                self._review(run, review, (page - 1) * PER_PAGE + index)
            oldest = min(r.created_at for r in reviews)
            if old_gap is not None and oldest < old_gap.bottom:
                gap_done = True
            window_done = stop is not None and oldest < stop
            if window_done and gap_done:
                return None
            if window_done and may_jump and old_gap is not None and run.first_known is not None:
                # Skip the pages gathered before: land just above where the gap begins.
                target = (run.first_known + old_gap.above - MARGIN) // PER_PAGE + 1
                if target > page + 1:
                    origin, page, may_jump, landing = page, target, False, True
                    continue
            page += 1
        return self._cut(run, old_gap, gap_done, stop)

    def _cut(
        self, run: _Run, old_gap: _Gap | None, gap_done: bool, stop: datetime | None
    ) -> _Gap | None:
        """The run used its max_pages: what is left for the next one."""
        newest, seen = run.state.newest, run.oldest
        pages = self.config.max_pages
        if newest is None or seen is None:
            run.result.warnings.append(
                f"{self.name}: the first run read the newest {pages * PER_PAGE} reviews"
                " (max_pages); older ones are not gathered"
            )
            return None
        at, ids, position = seen
        if run.first_known is None:
            # More new reviews than max_pages: the rest (and an older gap) wait.
            run.result.warnings.append(
                f"{self.name}: more new reviews than {pages} pages hold; the next runs gather"
                " the rest"
            )
            bottom, bottom_ids = (
                (old_gap.bottom, old_gap.bottom_ids) if old_gap else (newest, run.state.newest_ids)
            )
            return _Gap(top=at, top_ids=sorted(ids), bottom=bottom,
                        bottom_ids=list(bottom_ids), above=position)  # fmt: skip
        if old_gap is not None and not gap_done:
            if at < old_gap.top or (at == old_gap.top and not ids <= set(old_gap.top_ids)):
                # Read part of the gap: it now begins below what was read.
                top_ids = ids | set(old_gap.top_ids) if at == old_gap.top else ids
                return old_gap.model_copy(
                    update={"top": at, "top_ids": sorted(top_ids), "above": position}
                )
            run.result.warnings.append(
                f"{self.name}: reviews from {format_instant(old_gap.bottom)} to"
                f" {format_instant(old_gap.top)} are still to gather and {pages} pages did not"
                " reach them; raise max_pages"
            )
            above = old_gap.above + run.first_known
            if run.gap_above is not None:
                above = min(above, run.gap_above)
            return old_gap.model_copy(update={"above": above})
        if stop is not None:
            run.result.warnings.append(
                f"{self.name}: replies to reviews since {format_instant(stop)} were not all"
                f" looked for again ({pages} pages); the next run does"
            )
        return None

    def _page(self, page: int) -> list[_Review]:
        where = self.path if page == 1 else f"{self.path} (page {page})"
        params = {"page": page, "perPage": PER_PAGE, "orderBy": "createdat.desc"}
        answer = self.client.get(self.path, params, allow=tuple(REFUSED))
        if answer.status in REFUSED:
            raise base.SourceError(f"{where}: HTTP {answer.status}: {REFUSED[answer.status]}")
        return validated(_Page, answer.data, where).reviews

    @staticmethod
    def _overshot(first: _Review, gap: _Gap | None) -> bool:
        """A jump landed inside or below the gap (more than MARGIN reviews above it were
        deleted): the page above may hold some of it."""
        if gap is None:
            return False
        at = first.created_at
        return not (at > gap.top or (at == gap.top and first.id in gap.top_ids))

    # -- one review --

    def _review(self, run: _Run, review: _Review, position: int) -> None:
        if review.id in run.handled:
            return  # listed twice (new reviews arrived between two pages)
        run.handled.add(review.id)
        state = run.state
        at = review.created_at
        if run.oldest is None or at < run.oldest[0]:
            run.oldest = (at, {review.id}, position)
        elif at == run.oldest[0]:
            run.oldest[1].add(review.id)
        new = (
            state.newest is None
            or at > state.newest
            or (at == state.newest and review.id not in state.newest_ids)
        )
        if not new and run.first_known is None:
            run.first_known = position
        if new or (state.gap is not None and state.gap.holds(review)):
            run.result.posts.append(self._post(review))
            if run.newest is None or at > run.newest:
                run.newest, run.newest_ids = at, {review.id}
            elif at == run.newest:
                run.newest_ids.add(review.id)
            self._reply(run, review)
        elif at >= run.window and review.id not in run.replied:
            self._reply(run, review)

    def _post(self, review: _Review) -> base.Post:
        name = review.consumer.display_name if review.consumer else None
        return base.Post(
            native_id=review.id,
            root_id=review.id,
            at=review.created_at,
            author=None,
            author_name=(name or "").strip() or None,
            title=(review.title or "").strip() or None,
            text=(review.text or "").strip() or None,
            url=WEB + review.id,
            is_brand=False,
            praise=review_praise(review.stars, self.config.star_threshold),
            rating=review.stars,
        )

    def _reply(self, run: _Run, review: _Review) -> None:
        reply = review.company_reply
        if reply is None:
            return
        if reply.created_at is None:
            run.skipped_replies += 1
            return
        run.replied[review.id] = review.created_at
        run.result.posts.append(
            base.Post(
                native_id=reply_id(review.id),
                root_id=review.id,
                parent_id=review.id,
                at=reply.created_at,
                author=None,
                text=(reply.text or "").strip() or None,
                url=WEB + review.id,
                is_brand=True,
            )
        )


SOURCE = base.SourceType(
    settings=TrustpilotSettings,
    channel="trustpilot",
    display="Trustpilot",
    connect=connect,
    credentials=("api_key_env",),
    summary="A business unit's reviews (low stars are complaints) and the company's replies.",
)
