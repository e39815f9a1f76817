"""The docs say what the product does: their worked example and command list are checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import ROOT, SiteFactory, heard


def test_worked_example_in_figures_doc(make_site: SiteFactory, tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "figures.md").read_text("utf-8")
    block = re.search(r"```jsonl\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    config = '[site]\ntitle = "T"\nbrand = "B"\n\n[policy]\nresponse_target = "1h"\n'
    root = make_site({"2026-11": block.group(1).strip().splitlines()}, config=config)
    out = tmp_path / "out"
    assert (
        heard("build", "--site", root, "--out", out, "--now", "2026-11-30T12:00:00Z").exit_code == 0
    )
    fig = json.loads((out / "api/summary.json").read_text("utf-8"))["all_time"]
    assert "median first response is 20 minutes** (1200 s)" in doc
    assert fig["first_response"]["median_s"] == 1200
    assert fig["first_response"]["p90_s"] is None
    assert "= **0.5**" in doc
    assert fig["first_response"]["within_target"] == 0.5
    assert "(`more_than_s` = 93600)" in doc
    assert (fig["resolution"]["median_s"], fig["resolution"]["more_than_s"]) == (None, 93600)


def test_readme_lists_every_command() -> None:
    from generator.cli import main

    readme = (ROOT / "README.md").read_text("utf-8")
    documented = set(re.findall(r"^\| `heard ([\w-]+)", readme, re.MULTILINE))
    assert documented == set(main.commands)


def test_every_source_type_and_import_format_has_its_section() -> None:
    from generator.gather.imports import FORMATS
    from generator.gather.sources import SOURCES

    doc = (ROOT / "docs" / "sources.md").read_text("utf-8")
    headed = set(re.findall(r"^#{2,3} .*\(`([a-z0-9_]+)`\)$", doc, re.MULTILINE))
    declared = {spec.type for spec in SOURCES} | {f.name for f in FORMATS}
    assert declared - headed == set(), "undocumented in docs/sources.md"
    assert headed - declared == set(), "documented but not declared"


def test_the_code_points_only_at_files_that_exist() -> None:
    """Docstrings and comments that name a file of the project name one that is there."""
    named = re.compile(
        r"\b((?:generator|docs|tests|bench|themes)/[\w./-]+\.(?:py|md|js|html|css|toml|yml))"
    )
    missing = []
    for path in sorted((ROOT / "generator").rglob("*")):
        if path.suffix not in {".py", ".js", ".html", ".css"}:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            for target in named.findall(line):
                if not (ROOT / target).exists():
                    missing.append(f"{path.relative_to(ROOT)}:{number}: {target}")
    assert missing == []
