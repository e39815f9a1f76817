"""The `heard` command line, used as a care team would use it."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from generator import __version__
from generator.record.times import parse_instant
from tests.conftest import ROOT, SiteFactory, case, ev, heard, snapshot, write_lines

NOW = "2026-11-30T12:00:00Z"


def demoish(make_site: SiteFactory) -> Path:
    return make_site(
        {
            "2026-11": [
                case(
                    "x-1",
                    ev(
                        "complaint", "2026-11-20T10:00:00Z", text="Charged twice <script>x</script>"
                    ),
                    ev("reply", "2026-11-20T10:43:00Z", "brand", agent="JM", handle="TestCare"),
                    url="https://x.example/u/status/1",
                    title="Double charge",
                ),
                case("x-2", ev("complaint", "2026-11-21T10:00:00Z", text="App crashes")),
            ]
        }
    )


def test_build_is_byte_identical_for_the_same_content_and_now(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = demoish(make_site)
    one = heard("build", "--site", root, "--out", tmp_path / "one", "--now", NOW)
    epoch = str(int(parse_instant(NOW).timestamp()))
    two = heard(
        "build", "--site", root, "--out", tmp_path / "two", env={"SOURCE_DATE_EPOCH": epoch}
    )
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    summary = json.loads((tmp_path / "one/api/summary.json").read_text(encoding="utf-8"))
    assert summary["generated_at"] == NOW
    assert summary["all_time"]["first_response"]["median_s"] == 2580


def test_build_defaults_to_site_folder_and_is_incremental(make_site: SiteFactory) -> None:
    root = demoish(make_site)
    first = heard("build", "--site", root, "--now", NOW)
    assert first.exit_code == 0
    assert (root / "_site/index.html").is_file()
    again = heard("build", "--site", root, "--now", NOW)
    assert "(0 written, 0 removed)" in again.output
    (root / "content/cases/2026-11.jsonl").write_text(
        json.dumps(case("x-2", ev("complaint", "2026-11-21T10:00:00Z"))) + "\n", encoding="utf-8"
    )
    third = heard("build", "--site", root, "--now", NOW)
    assert not (root / "_site/cases/x-1.html").exists()
    assert "removed)" in third.output
    assert "0 removed" not in third.output


def test_bad_line_stops_the_build_with_one_line_and_keep_going_skips_it(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = demoish(make_site)
    path = root / "content/cases/2026-11.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + '{"id": "x-3", "channel": "x"}\n', "utf-8")
    before = snapshot(root)
    out = tmp_path / "out"
    result = heard("build", "--site", root, "--out", out, "--now", NOW)
    assert result.exit_code == 1
    assert result.stderr == (
        "content/cases/2026-11.jsonl:3: events: required\n"
        "content/cases: fix these lines, or pass --keep-going\n"
    )
    assert not out.exists()
    kept = heard("build", "--site", root, "--out", out, "--now", NOW, "--keep-going")
    assert kept.exit_code == 0
    assert "skipped 1 bad record line(s)" in kept.stderr
    assert json.loads((out / "api/summary.json").read_text("utf-8"))["all_time"]["cases"] == 2
    assert snapshot(root) == before  # the bad line is still in the record


def test_build_refuses_to_wipe_a_folder_it_did_not_make(make_site: SiteFactory) -> None:
    root = demoish(make_site)
    result = heard("build", "--site", root, "--out", root, "--now", NOW)
    assert result.exit_code == 1
    assert "refusing to build into a non-empty folder that heard did not make" in result.stderr
    assert (root / "heard.toml").exists()


def test_import_jsonl_merges_and_is_idempotent(make_site: SiteFactory, tmp_path: Path) -> None:
    root = demoish(make_site)
    export = tmp_path / "export.jsonl"
    write_lines(
        export,
        [
            case(  # known case: one duplicate event, one new
                "x-2",
                ev("complaint", "2026-11-21T10:00:00Z", text="App crashes"),
                ev("reply", "2026-11-21T12:00:00Z", "brand", text="Which phone?"),
                tags=["app"],
            ),
            case("mastodon-9", ev("complaint", "2026-10-30T23:59:59Z", text="No signal")),
        ],
    )
    first = heard("import", "--site", root, export)
    assert first.exit_code == 0, first.output
    assert "2 cases read, 1 new, 1 updated, 2 new events; 2 record file(s) written" in first.output
    after_first = snapshot(root)
    second = heard("import", "--site", root, export)
    assert "0 new, 0 updated, 0 new events; 0 record file(s) written" in second.output
    assert snapshot(root) == after_first
    lines = (root / "content/cases/2026-11.jsonl").read_text("utf-8").splitlines()
    x2 = json.loads(lines[1])
    assert [e["kind"] for e in x2["events"]] == ["complaint", "reply"]
    assert x2["tags"] == ["app"]
    assert (
        (root / "content/cases/2026-10.jsonl").read_text("utf-8").startswith('{"id": "mastodon-9"')
    )


def test_a_bad_import_changes_nothing(make_site: SiteFactory, tmp_path: Path) -> None:
    root = demoish(make_site)
    before = snapshot(root)
    export = tmp_path / "export.jsonl"
    write_lines(
        export,
        [
            case("x-5", ev("complaint", "2026-11-21T10:00:00Z")),
            case("x-6", ev("complaint", "2026-11-21T10:00:00Z"), ev("reply", "soon", "brand")),
        ],
    )
    result = heard("import", "--site", root, export)
    assert result.exit_code == 1
    assert result.stderr == f"{export}:2: events[1].at: not an ISO 8601 time with a zone\n"
    assert snapshot(root) == before
    missing = heard("import", "--site", root, tmp_path / "nope.jsonl")
    assert missing.exit_code == 1
    assert "no such file" in missing.stderr


def test_import_refuses_to_rewrite_a_record_with_bad_lines(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site({"2026-11": ["{oops"]})
    before = snapshot(root)
    export = tmp_path / "e.jsonl"
    write_lines(export, [case("x-5", ev("complaint", "2026-11-21T10:00:00Z"))])
    result = heard("import", "--site", root, export)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "content/cases/2026-11.jsonl:1: not valid JSON: Expecting property name enclosed in "
        "double quotes (column 2)",
        "content/cases: fix the record before importing into it",
    ]
    assert snapshot(root) == before


def test_resolve_close_hide_reopen_write_notes(make_site: SiteFactory) -> None:
    root = demoish(make_site)
    no_note = heard("resolve", "--site", root, "x-1", "--now", NOW)
    assert no_note.exit_code == 1
    assert no_note.stderr == (
        "error: x-1: body: a resolved note must say what changed (give --note or --note-file)\n"
    )
    ok = heard("resolve", "--site", root, "x-1", "--now", NOW, "--note", "Refunded **both**.",
               "--agent", "JM")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    note = (root / "content/notes/x-1.md").read_text("utf-8")
    assert (
        note
        == "---\nstatus: resolved\nat: '2026-11-30T12:00:00Z'\nagent: JM\n---\nRefunded **both**.\n"
    )
    reopen = heard("reopen", "--site", root, "https://x.example/u/status/1", "--now",
                   "2026-11-30T13:00:00Z")  # fmt: skip
    assert reopen.exit_code == 0, reopen.output
    shown = heard("show", "--site", root, "x-1", "--now", "2026-11-30T14:00:00Z")
    assert shown.output.splitlines()[0] == "x-1  [responded]  x  https://x.example/u/status/1"
    assert "resolved       brand    (note)  Refunded **both**." in shown.output
    assert "reopened       brand    (note)" in shown.output
    hide = heard("hide", "--site", root, "x-2", "--now", NOW)
    assert hide.exit_code == 1
    assert "give --reason" in hide.stderr
    assert heard("hide", "--site", root, "x-2", "--now", NOW, "--reason", "spam").exit_code == 0
    close = heard("close", "--site", root, "x-404", "--now", NOW, "--note", "n")
    assert close.exit_code == 1
    assert close.stderr.startswith("error: no case 'x-404' in the record")
    early = heard("close", "--site", root, "x-2", "--now", "2026-01-01T00:00:00Z", "--note", "n")
    assert "before the case opened" in early.stderr
    check = heard("check", "--site", root)
    assert check.exit_code == 0
    assert "ok: 2 cases, 2 notes, 0 pages" in check.output


def test_stats_shows_the_figures(make_site: SiteFactory) -> None:
    result = heard("stats", "--site", demoish(make_site), "--now", NOW)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"Test Co — figures as of {NOW}"
    assert lines[2].split()[:6] == ["all", "all", "time", "2", "43", "min"]


def test_check_reports_every_problem(make_site: SiteFactory) -> None:
    root = make_site(
        {"2026-11": ["{bad", json.dumps(case("x-1", ev("complaint", "never")))]},
        notes={
            "x-9": "---\nstatus: note\nat: '2026-11-01T00:00:00Z'\n---\nhi\n",
            "x-1": "---\nstatus: hidden\nat: '2026-11-01T00:00:00Z'\n---\n",
        },
    )
    result = heard("check", "--site", root)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "content/cases/2026-11.jsonl:1: not valid JSON: Expecting property name enclosed in "
        "double quotes (column 2)",
        "content/cases/2026-11.jsonl:2: events[0].at: not an ISO 8601 time with a zone",
        "content/notes/x-1.md:2: reason: a hidden case needs a reason",
        "content/notes/x-9.md: no case with this id in the record",
        "4 problem(s)",
    ]


def test_bad_config_is_reported_by_every_command(make_site: SiteFactory) -> None:
    root = make_site(config='[site]\ntitle = "T"\nbrand = "B"\ncolour = 1\n')
    for command in ("build", "stats", "show x-1"):
        result = heard(*command.split(), "--site", root, "--now", NOW)
        assert result.exit_code == 1
        assert result.stderr == "heard.toml:4: site.colour: unknown key\n"
    checked = heard("check", "--site", root)
    assert checked.exit_code == 1
    assert checked.stderr == "heard.toml:4: site.colour: unknown key\n1 problem(s)\n"


def test_usage_errors_exit_2(make_site: SiteFactory) -> None:
    root = demoish(make_site)
    assert heard("build", "--site", root, "--now", "yesterday").exit_code == 2
    assert heard("frobnicate").exit_code == 2
    assert heard("import", "--site", root, "--format", "xml", "f").exit_code == 2


def test_init_makes_a_site_that_builds(tmp_path: Path) -> None:
    site = tmp_path / "new"
    assert heard("init", site).exit_code == 0
    assert heard("check", "--site", site).exit_code == 0
    built = heard("build", "--site", site, "--now", NOW)
    assert built.exit_code == 0
    assert "2 cases" in built.output
    again = heard("init", site)
    assert again.exit_code == 1
    assert "already holds a heard site" in again.stderr


def test_python_dash_m_and_console_script() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "generator", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"heard, version {__version__}"
    assert version("heard") == __version__  # pyproject.toml and the package agree
    script = Path(sys.executable).parent / "heard"
    if script.exists():
        assert "build" in subprocess.run([script, "--help"], capture_output=True, text=True).stdout


def test_api_outputs_leave_hidden_out_and_strip_removed(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "2026-11": [
                case("x-1", ev("complaint", "2026-11-20T10:00:00Z", text="spam spam")),
                case(
                    "x-2",
                    ev("complaint", "2026-11-20T10:00:00Z", text="my private story"),
                    url="https://x.example/a/status/2",
                    author={"handle": "@a", "name": "Ann"},
                ),
            ]
        },
        notes={
            "x-1": "---\nstatus: hidden\nat: '2026-11-20T11:00:00Z'\nreason: spam\n---\n",
            "x-2": "---\nstatus: removed\nat: '2026-11-21T11:00:00Z'\nreason: author request\n---\n",
        },
    )
    out = tmp_path / "out"
    assert heard("build", "--site", root, "--out", out, "--now", NOW).exit_code == 0
    listed = json.loads((out / "api/cases.json").read_text("utf-8"))
    assert [(c["id"], c["state"], c["url"]) for c in listed] == [("x-2", "removed", None)]
    assert not (out / "api/cases/x-1.json").exists()
    assert not (out / "cases/x-1.html").exists()
    everything = b"".join(snapshot(out).values())
    for secret in (b"spam spam", b"my private story", b"Ann", b"x.example/a"):
        assert secret not in everything
    detail = json.loads((out / "api/cases/x-2.json").read_text("utf-8"))
    assert detail["events"][0] == {
        "kind": "complaint",
        "at": "2026-11-20T10:00:00Z",
        "by": "customer",
        "from_note": False,
        "counts_as_response": False,
    }
    summary = json.loads((out / "api/summary.json").read_text("utf-8"))
    assert summary["all_time"]["states"]["hidden"] == 1
    assert summary["all_time"]["cases"] == 1


@pytest.mark.parametrize("name", ["index.html", "cases/x-1.html"])
def test_public_text_is_escaped(make_site: SiteFactory, tmp_path: Path, name: str) -> None:
    root = demoish(make_site)
    out = tmp_path / "out"
    heard("build", "--site", root, "--out", out, "--now", NOW)
    html = (out / name).read_text("utf-8")
    assert "<script>x</script>" not in html
    if name.startswith("cases"):
        assert "Charged twice &lt;script&gt;x&lt;/script&gt;" in html
        assert 'rel="nofollow ugc noopener"' in html
    assert "Content-Security-Policy" in html


def test_readme_quick_start_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("## Quick start")
    block = readme[start : readme.index("##", start + 5)]
    assert [line.strip() for line in block.splitlines() if line.strip().startswith("make ")] == [
        "make site",
        "make test",
    ]


def test_check_flags_misplaced_and_duplicated_cases(make_site: SiteFactory) -> None:
    october = case("x-1", ev("complaint", "2026-10-31T23:00:00Z"))
    root = make_site({"2026-11": [october], "2026-10": [october]})
    result = heard("check", "--site", root)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "content/cases/2026-11.jsonl:1: id: x-1 belongs in 2026-10.jsonl",
        "content/cases/2026-11.jsonl:1: id: x-1 appears more than once (merged)",
        "2 problem(s)",
    ]
    # gather/import rewrite the record canonically, which puts it right
    assert heard("build", "--site", root, "--now", NOW).exit_code == 0


def test_remove_strips_content_keeps_dates_and_survives_a_regather(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = demoish(make_site)
    heard("resolve", "--site", root, "x-1", "--now", NOW, "--note", "Refunded Ann's card")
    result = heard("remove", "--site", root, "x-1", "--reason", "author request", "--now",
                   "2026-11-30T13:00:00Z")  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    content = b"".join(snapshot(root / "content").values())
    for gone in (b"Charged twice", b"x.example/u/status/1", b"Double charge", b"Refunded Ann"):
        assert gone not in content
    line = json.loads((root / "content/cases/2026-11.jsonl").read_text("utf-8").splitlines()[0])
    assert [(e["kind"], e["at"]) for e in line["events"]] == [
        ("complaint", "2026-11-20T10:00:00Z"),
        ("reply", "2026-11-20T10:43:00Z"),
        ("removed", "2026-11-30T13:00:00Z"),
    ]
    # the same post imported (or gathered) again cannot bring the content back
    again = tmp_path / "again.jsonl"
    write_lines(again, [case("x-1", ev("complaint", "2026-11-20T10:00:00Z", text="Charged twice"),
                             url="https://x.example/u/status/1", title="Double charge")])  # fmt: skip
    assert heard("import", "--site", root, again).exit_code == 0
    assert b"Charged twice" not in b"".join(snapshot(root / "content").values())
    out = tmp_path / "out"
    assert (
        heard("build", "--site", root, "--out", out, "--now", "2026-11-30T14:00:00Z").exit_code == 0
    )
    summary = json.loads((out / "api/summary.json").read_text("utf-8"))
    assert summary["all_time"]["states"]["removed"] == 1
    assert summary["all_time"]["cases"] == 2  # still counts
    assert summary["all_time"]["first_response"]["answered"] == 1  # its answer still counts
    ledger = (out / "ledger.html").read_text("utf-8")
    assert "author request" in ledger
    site_bytes = b"".join(snapshot(out).values())
    assert b"Charged twice" not in site_bytes
    assert heard("check", "--site", root).exit_code == 0
    missing = heard("remove", "--site", root, "x-2", "--reason", " ", "--now", NOW)
    assert missing.exit_code == 1
