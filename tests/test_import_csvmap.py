"""`heard import --format csv --map MAP.toml`: any CSV through a column map, with the Yelp
example of docs/sources.md as the map; mapping errors name the map's line and the column,
bad values the file, line and column."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator.record.store import load_record
from tests.conftest import ROOT, SiteFactory, heard, snapshot

HEADER = ["Review ID", "Date", "User", "Stars", "Review", "Review URL", "Owner Reply Date", "Owner Reply", "Replied By"]  # fmt: skip
ROWS = [
    ["r1", "2024-03-01 10:15", "Linda K.", "1", "Cold food, waited an hour.", "https://www.yelp.com/biz/acme?hrid=r1", "2024-03-01 14:00", "Sorry Linda, that is not how we want it.", "Sam"],
    ["r2", "2024-03-02 09:00", "Bob", "5", "Great!", "https://www.yelp.com/biz/acme?hrid=r2", "", "", ""],
    ["r3", "2024-03-03", "Pat", "2", "Rude staff", "", "", "", ""],
    ["r4", "2024-03-10 08:00", "Linda K.", "3", "Again slow", "", "", "", ""],
]  # fmt: skip


def docs_map() -> str:
    """The example map in docs/sources.md, exactly as documented."""
    doc = (ROOT / "docs" / "sources.md").read_text("utf-8")
    block = re.search(r"```toml\n(# MAP.toml\n.*?)```", doc, re.DOTALL)
    assert block is not None
    return block.group(1)


def write(
    tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER, name: str = "yelp.csv"
) -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(root: Path, mapping: Path, data: Path) -> tuple[int, str]:
    result = heard("import", "--site", root, "--format", "csv", "--map", mapping, data)
    return result.exit_code, result.stdout + result.stderr


def test_the_documented_yelp_map(make_site: SiteFactory, tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(docs_map(), encoding="utf-8")
    root = make_site()
    code, output = run(root, mapping, write(tmp_path, ROWS))
    assert code == 0, output
    assert "3 cases read, 3 new" in output and "skipped 1 (praise (above 3 stars))" in output
    cases = load_record(root).cases
    assert sorted(cases) == ["yelp-r1", "yelp-r3", "yelp-r4"]
    r1 = cases["yelp-r1"]
    assert (r1.channel, r1.url, r1.author and r1.author.handle) == ("yelp", ROWS[0][5], "Linda K.")
    assert [(e.kind, e.at, e.by, e.agent) for e in r1.events] == [
        ("complaint", datetime(2024, 3, 1, 18, 15, tzinfo=UTC), "customer", None),
        ("reply", datetime(2024, 3, 1, 22, 0, tzinfo=UTC), "brand", "Sam"),
    ]
    r3 = cases["yelp-r3"].events[0]
    assert (r3.at, r3.precision) == (datetime(2024, 3, 3, 12, tzinfo=UTC), "day")
    before = snapshot(root / "content")
    assert run(root, mapping, write(tmp_path, ROWS))[0] == 0
    assert snapshot(root / "content") == before


def test_rows_with_the_same_id_are_one_case_and_a_channel_column(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        'channel_column = "Source"\ntime_formats = ["iso"]\n\n[columns]\nid = "Ticket"\n'
        'opened = "Created"\ntext = "Body"\nreply_at = "Replied"\nreply_text = "Reply"\n'
        'resolved_at = "Solved"\nresolved_note = "Solution"\ntags = "Tags"\n',
        encoding="utf-8",
    )
    header = [
        "Ticket",
        "Source",
        "Created",
        "Body",
        "Replied",
        "Reply",
        "Solved",
        "Solution",
        "Tags",
    ]
    rows = [
        ["T-1", "helpdesk", "2024-05-01T09:00:00Z", "Login fails", "2024-05-01T09:30:00Z", "Looking", "", "", "login, app"],
        ["T-1", "helpdesk", "2024-05-01T09:00:00Z", "Login fails", "2024-05-01T11:00:00Z", "Fixed it", "2024-05-01T11:00:00Z", "Reset the session store", "app"],
    ]  # fmt: skip
    root = make_site()
    code, output = run(root, mapping, write(tmp_path, rows, header, "tickets.csv"))
    assert code == 0, output
    case = load_record(root).cases["helpdesk-T-1"]
    assert case.tags == ["login", "app"]
    assert [e.kind for e in case.events] == ["complaint", "reply", "reply", "resolved"]


def test_a_map_naming_a_missing_column_names_its_line_and_the_column(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        docs_map().replace('reply_text = "Owner Reply"', 'reply_text = "Owner Response"'),
        encoding="utf-8",
    )
    line = next(
        i for i, t in enumerate(mapping.read_text("utf-8").splitlines(), 1) if "Owner Response" in t
    )
    root = make_site()
    code, output = run(root, mapping, write(tmp_path, ROWS))
    assert code == 1
    assert f"{mapping}:{line}: columns.reply_text: no column 'Owner Response' in " in output
    assert "(its columns: 'Review ID', 'Date'," in output
    assert not (root / "content").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('channel = "yelp"\n[columns]\nid = "A"\n', ":2: columns.opened: required"),
        (
            'channel = "Yelp!"\n[columns]\nid = "A"\nopened = "B"\n',
            ":1: channel: is not in the expected form",
        ),
        ('[columns]\nid = "A"\nopened = "B"\n', "give either channel"),
        ('channel = "y"\ncolor = 1\n[columns]\nid = "A"\nopened = "B"\n', ":2: color: unknown key"),
        (
            'channel = "y"\ntime_formats = ["YYYY"]\n[columns]\nid = "A"\nopened = "B"\n',
            "is not 'iso' nor a strftime format",
        ),
        ('channel = "y"\n[columns\n', ":2: invalid TOML"),
    ],
)
def test_a_bad_map_names_its_line(
    make_site: SiteFactory, tmp_path: Path, text: str, message: str
) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(text, encoding="utf-8")
    code, output = run(make_site(), mapping, write(tmp_path, ROWS))
    assert code == 1 and f"{mapping}" in output and message in output, output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((1, "2024-13-01 10:00"), "Date: not a time in the map's formats"),
        ((5, "javascript:alert(1)"), "Review URL: must be an http(s) URL"),
        ((3, "five"), "Stars: not a number: 'five'"),
        ((6, ""), "Owner Reply Date: empty, but Owner Reply is not"),
        ((0, ""), "Review ID: empty"),
    ],
)
def test_a_bad_value_names_file_line_and_column(
    make_site: SiteFactory, tmp_path: Path, change: tuple[int, str], message: str
) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(docs_map(), encoding="utf-8")
    rows = [list(r) for r in ROWS]
    rows[0][change[0]] = change[1]
    data = write(tmp_path, rows)
    root = make_site()
    code, output = run(root, mapping, data)
    assert code == 1
    assert f"{data}:2: {message}" in output
    assert not (root / "content").exists()


def test_csv_needs_a_map(make_site: SiteFactory, tmp_path: Path) -> None:
    result = heard("import", "--site", make_site(), "--format", "csv", write(tmp_path, ROWS))
    assert result.exit_code == 1 and "--map MAP.toml is required" in result.stderr
