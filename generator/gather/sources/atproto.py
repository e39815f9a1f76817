"""An AT Protocol session (Bluesky): logged in once with an app password, then kept.

``com.atproto.server.createSession`` is limited (30 per 5 minutes and about 100 a day on
bsky.social), so the session (``did``, ``accessJwt``, ``refreshJwt``) is kept between runs
in the source's private file (outside content/, mode 0600, written atomically) and reused.
An expired access token (HTTP 401, or 400 ``ExpiredToken``/``InvalidToken``, as the
official client reads them) is renewed with ``com.atproto.server.refreshSession`` (sent
with the refresh token); only a refused refresh (400 or 401) logs in again. Every token is
registered with the client, so no message ever shows one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError

from generator.errors import matching
from generator.gather.sources.base import SourceError
from generator.gather.sources.helpers import ApiModel, validated, write_private
from generator.gather.sources.http import HttpClient

EXPIRED = frozenset({"ExpiredToken", "InvalidToken"})

Did = Annotated[
    str, matching(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}", "a DID (did:plc:… or did:web:…)")
]
_Jwt = Annotated[str, Field(min_length=8, max_length=8000)]


class _Session(ApiModel):
    did: Did
    handle: str
    accessJwt: _Jwt
    refreshJwt: _Jwt


class Session:
    """A logged-in session kept between runs: reused, refreshed, and only then renewed by
    logging in again (createSession is limited to about 100 a day)."""

    def __init__(
        self,
        client: HttpClient,
        *,
        identifier: str,
        password: str,
        password_variable: str,
        path: Path | None,
    ) -> None:
        self.client = client
        self.identifier = identifier
        self.password = password
        self.password_variable = password_variable
        self.path = path
        self.current: _Session | None = self._load()
        self.logins = 0

    @property
    def did(self) -> str:
        """The account's DID (after `ensure`)."""
        assert self.current is not None
        return self.current.did

    def _load(self) -> _Session | None:
        if self.path is None or not self.path.is_file():
            return None
        try:
            kept = json.loads(self.path.read_text("utf-8"))
            if kept.get("service") != self.client.base_url:
                return None
            if str(kept.get("identifier", "")).lower() != self.identifier.lower():
                return None
            session = _Session.model_validate(kept.get("session"))
        except (OSError, ValueError, AttributeError, ValidationError):
            return None  # unreadable: log in again
        self._use(session)
        return session

    def _use(self, session: _Session) -> None:
        self.client.secrets += [session.accessJwt, session.refreshJwt]
        self.client.set_bearer(session.accessJwt)

    def _keep(self, session: _Session) -> None:
        self.current = session
        self._use(session)
        if self.path is not None:
            kept = {
                "service": self.client.base_url,
                "identifier": self.identifier,
                "session": session.model_dump(),
            }
            write_private(self.path, (json.dumps(kept, indent=2) + "\n").encode())

    def ensure(self) -> None:
        """A session to work with: the kept one, else a new login."""
        if self.current is None:
            self.login()

    def login(self) -> None:
        """com.atproto.server.createSession with the app password."""
        method = "xrpc/com.atproto.server.createSession"
        self.client.set_bearer(None)
        try:
            answer = self.client.post(
                method, json={"identifier": self.identifier, "password": self.password}
            )
        except SourceError as exc:
            raise SourceError(
                f"{exc} (logging in as {self.identifier} with {self.password_variable};"
                " logins are limited to about 100 a day)"
            ) from None
        self.logins += 1
        self._keep(validated(_Session, answer.data, method))

    def refresh(self) -> None:
        """com.atproto.server.refreshSession; a refused refresh logs in again."""
        assert self.current is not None
        method = "xrpc/com.atproto.server.refreshSession"
        try:
            answer = self.client.post(
                method, headers={"authorization": f"Bearer {self.current.refreshJwt}"}
            )
        except SourceError as exc:
            if exc.status in (400, 401):
                self.login()
                return
            raise
        self._keep(validated(_Session, answer.data, method))

    def get(self, method: str, params: Mapping[str, Any]) -> Any:
        """An authenticated XRPC query; an expired session is refreshed once."""
        self.ensure()
        try:
            return self.client.get(f"xrpc/{method}", params).data
        except SourceError as exc:
            if not (exc.status == 401 or (exc.status == 400 and exc.code in EXPIRED)):
                raise
        self.refresh()
        return self.client.get(f"xrpc/{method}", params).data
