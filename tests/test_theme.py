"""Themes: a site overrides any template or asset, a child theme extends a parent, and no
theme can change the feeds, the JSON, Open311, the badges or the lookup index."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SiteFactory, case, ev, heard, snapshot

NOW = "2026-11-30T12:00:00Z"
MACHINE = ("feed.xml", "feeds/", "api/", "open311/", "badges/", "lookup/")


def site(make_site: SiteFactory, theme: str | None = None, name: str = "site") -> Path:
    from tests.conftest import BASE_CONFIG

    config = BASE_CONFIG.replace('base_url = "https://test.example/"',
                                 'base_url = "https://test.example/"' +
                                 (f'\ntheme = "{theme}"' if theme else ""))  # fmt: skip
    return make_site(
        {"2026-11": [case("x-1", ev("complaint", "2026-11-20T10:00:00Z", text="Broken"))]},
        config=config,
        name=name,
    )


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build(root: Path, out: Path) -> dict[str, bytes]:
    result = heard("build", "--site", root, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.stderr
    return snapshot(out)


def test_a_site_overrides_one_template_and_one_asset(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = site(make_site)
    plain = build(root, tmp_path / "plain")
    write(root / "themes/default/templates/home.html",
          '{% extends "base.html" %}{% block main %}<h1>Our own home</h1>{% endblock %}')  # fmt: skip
    write(root / "themes/default/static/style.css", "body { color: black; }\n")
    custom = build(root, tmp_path / "custom")
    assert b"<h1>Our own home</h1>" in custom["index.html"]
    assert custom["static/style.css"] == b"body { color: black; }\n"
    assert custom["cases/x-1.html"] == plain["cases/x-1.html"]  # untouched templates stay
    assert custom["static/favicon.svg"] == plain["static/favicon.svg"]


def test_a_child_theme_extends_its_parent(make_site: SiteFactory, tmp_path: Path) -> None:
    root = site(make_site, theme="brand")
    write(root / "themes/brand/theme.toml", 'name = "brand"\nextends = "default"\n')
    write(root / "themes/brand/templates/case.html",
          '{% extends "base.html" %}{% block main %}<h1>Case {{ view.id }}</h1>{% endblock %}')  # fmt: skip
    write(root / "themes/brand/static/brand.css", ".x { }\n")
    files = build(root, tmp_path / "out")
    assert b"<h1>Case x-1</h1>" in files["cases/x-1.html"]
    assert b"Skip to content" in files["cases/x-1.html"]  # base.html from the parent
    assert b"How fast we answer in public" in files["index.html"]
    assert "static/brand.css" in files
    assert "static/style.css" in files


def test_no_theme_can_change_the_machine_outputs(make_site: SiteFactory, tmp_path: Path) -> None:
    root = site(make_site)
    plain = build(root, tmp_path / "plain")
    write(root / "themes/default/templates/base.html", "<p>{% block main %}{% endblock %}</p>")
    themed = build(root, tmp_path / "themed")
    machine = [name for name in plain if name.startswith(MACHINE)]
    assert len(machine) > 10
    for name in machine:
        assert themed[name] == plain[name], name


def test_theme_mistakes_are_one_line(make_site: SiteFactory, tmp_path: Path) -> None:
    root = site(make_site, theme="nope")
    result = heard("build", "--site", root, "--out", tmp_path / "a", "--now", NOW)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: heard.toml: site.theme: no theme named 'nope'")
    checked = heard("check", "--site", root)  # check says so too, before any build
    assert checked.exit_code == 1
    assert checked.stderr.startswith("heard.toml: site.theme: no theme named 'nope'")
    root = site(make_site, theme="loop", name="loop")
    write(root / "themes/loop/theme.toml", 'extends = "loop"\n')
    looped = heard("build", "--site", root, "--out", tmp_path / "b", "--now", NOW)
    assert looped.stderr.startswith("error: theme 'loop' extends itself")
    write(root / "themes/loop/theme.toml", 'extend = "default"\n')
    typo = heard("build", "--site", root, "--out", tmp_path / "c", "--now", NOW)
    assert typo.stderr.strip().endswith("theme.toml: extend: unknown key")
