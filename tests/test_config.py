"""heard.toml: typed, unknown keys refused, every problem reported at once with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.config import load_config, parse_config
from generator.errors import ProblemsError
from generator.gather.sources import BY_TYPE
from tests.conftest import BASE_CONFIG


def problems(text: str) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        parse_config(text)
    return [str(p) for p in caught.value.problems]


def test_base_config_loads_with_defaults(tmp_path: Path) -> None:
    (tmp_path / "heard.toml").write_text(BASE_CONFIG, encoding="utf-8")
    config = load_config(tmp_path)
    assert config.site.brand == "Test Co"
    assert config.site.timezone == "UTC"
    assert config.policy.response_target == 3600
    assert config.policy.resolution_target is None
    assert config.policy.window_days == 30
    assert config.is_brand("x", "@testcare")
    assert config.is_bot("x", "testbot")
    assert not config.is_bot("mastodon", "TestBot")


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    text = """\
[site]
title = "T"
brand = "B"
timezone = "Mars/Olympus"
colour = "red"

[policy]
response_target = "soon"
window_days = 0

[acounts]
x = ["a"]
"""
    assert problems(text) == [
        "heard.toml:4: site.timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)",
        "heard.toml:5: site.colour: unknown key",
        "heard.toml:8: policy.response_target: not a duration like 1h, 30m or 2d: 'soon'",
        "heard.toml:9: policy.window_days: must be at least 1",
        "heard.toml:11: acounts: unknown key",
    ]


def test_missing_required_fields_name_the_table() -> None:
    assert problems('[site]\ntitle = "T"\n') == ["heard.toml:1: site.brand: required"]
    assert problems("") == ["heard.toml: site: required"]


def test_wrong_types_are_not_coerced() -> None:
    text = BASE_CONFIG.replace("window_days = 30", 'window_days = "30"')
    assert problems(text) == [
        "heard.toml:14: policy.window_days: must be a whole number, not a string"
    ]


def test_toml_syntax_error_names_the_line() -> None:
    out = problems('[site]\ntitle = "T\nbrand = "B"\n')
    assert len(out) == 1
    assert out[0].startswith("heard.toml:2: invalid TOML: ")


def test_bad_channel_name_and_handles() -> None:
    text = BASE_CONFIG.replace('x = ["TestCare"]', 'X-Twitter = ["a b"]')
    out = problems(text)
    assert any("accounts.X-Twitter" in p and "not an account handle" in p for p in out)
    assert any(
        "not a channel name" in p
        for p in problems(BASE_CONFIG.replace('x = ["TestCare"]', 'X = ["a"]'))
    )


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith("heard.toml: not found in ")


def test_base_url_gets_a_trailing_slash() -> None:
    config = parse_config(BASE_CONFIG.replace("https://test.example/", "https://a.example/x"))
    assert config.site.base_url == "https://a.example/x/"
    assert problems(BASE_CONFIG.replace("https://test.example/", "javascript:alert(1)")) == [
        "heard.toml:4: site.base_url: must be an http(s) URL like https://acme.github.io/heard/"
    ]


SOURCES = (
    BASE_CONFIG
    + """
[[sources]]
type = "github"
repo = "acme/app"
token_env = "GITHUB_TOKEN"

[[sources]]
type = "rss"
url = "https://reviews.example/acme.atom"

[[sources]]
type = "mastodon"
name = "mastodon-care"
base_url = "https://social.example"
hashtags = ["acme"]
"""
)


def test_sources_are_typed_and_named() -> None:
    config = parse_config(SOURCES)
    assert [(s.key, s.channel_name) for s in config.sources] == [
        ("github", "github"),
        ("rss", "reviews"),
        ("mastodon-care", "mastodon"),
    ]


def test_a_secret_pasted_into_the_config_is_refused_without_echoing_it() -> None:
    text = SOURCES.replace('token_env = "GITHUB_TOKEN"', 'token_env = "ghp_s3cr3tvalue"')
    out = problems(text)
    assert out == [
        "heard.toml:19: sources[0].token_env: must name an environment variable "
        "(like GITHUB_TOKEN: capital letters, digits and _), not hold a secret"
    ]
    assert "s3cr3t" not in out[0]


def test_source_problems() -> None:
    text = (
        SOURCES + '\n[[sources]]\ntype = "myspace"\n\n[[sources]]\ntype = "rss"\nurl = "ftp://x"\n'
    )
    out = problems(text)
    types = ", ".join(sorted(BY_TYPE))  # every declared source type
    assert (
        out[0]
        == f"heard.toml:31: sources[3]: unknown source type 'myspace' (the types are {types})"
    )
    assert out[1:] == [
        "heard.toml:34: sources[4]: two sources are named 'rss'; give each its own name",
        "heard.toml:36: sources[4].url: must be an http(s) URL like https://example.com/feed.xml",
    ]
    dup = SOURCES + '\n[[sources]]\ntype = "rss"\nurl = "https://other.example/feed"\n'
    assert problems(dup) == [
        "heard.toml:31: sources[3]: two sources are named 'rss'; give each its own name"
    ]


def test_duplicate_names_are_reported_with_every_other_problem() -> None:
    text = SOURCES.replace("window_days = 30", "window_days = 0") + (
        '\n[[sources]]\ntype = "rss"\nurl = "https://other.example/feed"\n'
    )
    out = problems(text)
    assert any("two sources are named 'rss'" in line for line in out)
    assert any("policy.window_days: must be at least 1" in line for line in out)


def test_a_feed_url_is_kept_exactly_as_written() -> None:
    text = SOURCES.replace(
        "https://reviews.example/acme.atom", "https://r.example/feed.xml?lang=en"
    )
    feed = parse_config(text).sources[1]
    assert getattr(feed, "url") == "https://r.example/feed.xml?lang=en"  # noqa: B009


def test_two_sources_of_a_kind_on_one_channel_are_refused() -> None:
    text = SOURCES + '\n[[sources]]\ntype = "github"\nname = "web"\nrepo = "acme/web"\n'
    assert problems(text) == [
        "heard.toml:31: sources[3]: sources 'github' and 'web' share the channel 'github', so "
        'their case ids would collide; give one its own channel (e.g. channel = "github_web")'
    ]
    fixed = text + 'channel = "github_web"\n'
    assert [s.channel_name for s in parse_config(fixed).sources][-1] == "github_web"
