"""From a source's settings to a ready connector with its HTTP client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.config import (
    DiscourseSource,
    FeedSource,
    GitHubSource,
    MastodonSource,
    SourceConfig,
)
from generator.gather.sources.base import Source
from generator.gather.sources.http import HttpClient


def make_source(
    config: SourceConfig, environ: Mapping[str, str], **client_options: Any
) -> tuple[Source, HttpClient]:
    """The connector for `config`, with credentials taken only from `environ`."""
    if isinstance(config, GitHubSource):
        from generator.gather.sources import github

        client = HttpClient(
            config.base_url, headers=github.auth_headers(config, environ), **client_options
        )
        return github.GitHubIssues(config, client), client
    if isinstance(config, MastodonSource):
        from generator.gather.sources import mastodon

        client = HttpClient(
            config.base_url, headers=mastodon.auth_headers(config, environ), **client_options
        )
        return mastodon.MastodonMentions(config, client), client
    if isinstance(config, DiscourseSource):
        from generator.gather.sources import discourse

        client = HttpClient(
            config.base_url, headers=discourse.auth_headers(config, environ), **client_options
        )
        return discourse.DiscourseTopics(config, client), client
    if isinstance(config, FeedSource):
        from generator.gather.sources import feed

        client = HttpClient(
            config.url,
            headers={"accept": "application/atom+xml, application/rss+xml, */*"},
            **client_options,
        )
        return feed.FeedEntries(config, client), client
    raise TypeError(f"unknown source type {type(config).__name__}")
