"""`heard`: a thin command line over the pipeline. A user's mistake → one line, exit 1."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from generator import __version__, pipeline
from generator.errors import HeardError, ProblemsError, one_line
from generator.gather.imports import BY_NAME as IMPORT_FORMATS
from generator.gather.imports.base import ImportOptions
from generator.progress import progress_for
from generator.record.model import NoteStatus
from generator.record.times import format_duration, format_instant, resolve_now

F = TypeVar("F", bound=Callable[..., Any])


class HeardGroup(click.Group):
    """Turns our errors (and OS errors such as a full disk) into lines on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProblemsError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            ctx.exit(1)
        except HeardError as exc:
            click.echo(f"error: {one_line(str(exc))}", err=True)
            ctx.exit(1)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{one_line(exc.strerror or str(exc))}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("HEARD_DEBUG"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {one_line(str(exc))} "
                "(a bug in heard; rerun with HEARD_DEBUG=1 for details)",
                err=True,
            )
            ctx.exit(3)


def site_option(func: F) -> F:
    """--site DIR (default: the current folder)."""
    return click.option(
        "--site",
        "site",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(),
        show_default=".",
        help="The site folder (with heard.toml).",
    )(func)


def now_option(func: F) -> F:
    """--now TIME (default: SOURCE_DATE_EPOCH, else the clock)."""
    return click.option(
        "--now",
        "now",
        default=None,
        metavar="TIME",
        help='"Now" of the figures, ISO 8601 with a zone '
        "(default: SOURCE_DATE_EPOCH, else the clock).",
    )(func)


def quiet_option(func: F) -> F:
    """--quiet: no progress (only the result and errors)."""
    return click.option(
        "--quiet", "-q", is_flag=True, help="No progress, only the summary and errors."
    )(func)


def _now(value: str | None) -> datetime:
    try:
        return resolve_now(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None


@click.group(cls=HeardGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heard")
def main() -> None:
    """heard — "we heard you": a public record of complaints, answers and fixes."""


@main.command()
@site_option
@now_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: _site inside the site).",
)
@click.option("--keep-going", is_flag=True, help="Skip bad record lines (counted), build the rest.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes (default: the cores available). The site is the same for any.",
)
@quiet_option
def build(
    site: Path, now: str | None, out: Path | None, keep_going: bool, jobs: int | None, quiet: bool
) -> None:
    """Build the static site (HTML, feeds, JSON) into _site/, redoing only what changed."""
    moment = _now(now)
    target = out if out is not None else site / "_site"
    with progress_for(quiet) as shown:
        report = pipeline.build(
            site, target, moment, keep_going=keep_going, jobs=jobs, progress=shown
        )
    if report.skipped_lines:
        click.echo(f"warning: skipped {report.skipped_lines} bad record line(s)", err=True)
    p = report.published
    click.echo(
        f"built {target}: {report.cases} cases, {p.total} files "
        f"({p.written} written, {p.removed} removed) as of {format_instant(moment)}"
    )


@main.command()
@site_option
@now_option
@click.option("--source", "only", multiple=True, help="Gather only this source (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines, only the summary.")
def gather(site: Path, now: str | None, only: tuple[str, ...], quiet: bool) -> None:
    """Gather every source in heard.toml into the record (a failing source stops no other)."""
    from generator.gather.run import gather as run_gather

    show_progress = not quiet and sys.stderr.isatty()
    report = run_gather(
        site,
        _now(now),
        only=set(only) or None,
        progress=(lambda msg: click.echo(msg, err=True)) if show_progress else None,
    )
    if not report.sources:
        click.echo("no sources in heard.toml: nothing to gather")
        return
    for s in report.sources:
        skipped = sum(s.skipped.values())
        line = (
            f"{s.key:<16} {s.channel:<10} {s.posts:>5} posts  {s.new_cases:>4} new cases  "
            f"{s.new_events:>5} new events  {s.praise:>3} praise  {s.requests:>4} requests  "
            f"{s.retries:>3} retries  {skipped:>4} skipped"
        )
        line += "".join(f"  {n} {what}" for what, n in sorted(s.usage.items()))
        click.echo(line + (f"  FAILED: {s.error}" if s.error else ""))
        for warning in s.warnings:
            click.echo(f"warning: {s.key}: {one_line(warning)}", err=True)
    click.echo(f"{len(report.files)} file(s) written")
    if report.failed:
        for s in report.failed:
            click.echo(f"error: {s.error}", err=True)
        sys.exit(1)


@main.command(name="import")
@site_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(IMPORT_FORMATS)),
    default="jsonl",
    show_default=True,
    help="; ".join(f"{f.name}: {f.summary}" for f in IMPORT_FORMATS.values()) + ".",
)
@click.option("--brand", default=None, help="The brand's handle (twcs).")
@click.option("--company", default=None, help="The company's name as the export writes it.")
@click.option(
    "--map",
    "mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A column mapping (csv): which columns are which case fields.",
)
@click.option(
    "--timezone",
    default=None,
    help="Time zone of times written without one (default: site.timezone).",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@quiet_option
def import_(
    site: Path,
    fmt: str,
    brand: str | None,
    company: str | None,
    mapping: Path | None,
    timezone: str | None,
    file: Path,
    quiet: bool,
) -> None:
    """Merge an export (record JSONL, or another format) into the record."""
    options = ImportOptions(brand=brand, company=company, mapping=mapping, timezone=timezone)
    with progress_for(quiet, "import") as shown:
        report = pipeline.import_cases(site, file, fmt=fmt, options=options, progress=shown)
    skipped = "".join(f", skipped {n} ({why})" for why, n in report.skipped.items() if n)
    click.echo(
        f"imported {file}: {report.read} cases read, {report.new_cases} new, "
        f"{report.updated_cases} updated, {report.new_events} new events{skipped}; "
        f"{len(report.files)} record file(s) written"
    )


def _decision(status: NoteStatus, help_text: str) -> Callable[..., None]:
    @site_option
    @now_option
    @click.option("--note", "note", default=None, help="The public note (Markdown).")
    @click.option(
        "--note-file",
        type=click.File("r", encoding="utf-8"),
        default=None,
        help="Read the public note from a file ('-' for stdin).",
    )
    @click.option("--reason", default=None, help="Why (required to hide).")
    @click.option("--agent", default=None, help="Who decided (first name or initials).")
    @click.argument("case")
    def command(
        site: Path,
        now: str | None,
        note: str | None,
        note_file: Any,
        reason: str | None,
        agent: str | None,
        case: str,
    ) -> None:
        if note is not None and note_file is not None:
            raise click.UsageError("give --note or --note-file, not both")
        body = note_file.read() if note_file is not None else note
        path = pipeline.decide(
            site, case, status, now=_now(now), body=body, reason=reason, agent=agent
        )
        click.echo(f"{status}: wrote {path}")

    command.__doc__ = help_text
    return command


main.command(name="resolve")(
    _decision("resolved", "Mark a case fixed, with a note on what changed.")
)
main.command(name="close")(_decision("closed", "Close a case without a fix, saying why."))
main.command(name="hide")(
    _decision("hidden", "Hide a case (spam, abuse, personal data) with a reason.")
)
main.command(name="reopen")(_decision("reopened", "Reopen a case."))


@main.command()
@site_option
@now_option
@click.option("--reason", required=True, help="Why (for example: author request).")
@click.argument("case")
def remove(site: Path, now: str | None, reason: str, case: str) -> None:
    """Strip a case's content at its author's request; its dates keep counting."""
    files = pipeline.remove(site, case, reason=reason, now=_now(now))
    click.echo(f"removed: {case}'s content is gone from the record ({', '.join(files)})")
    click.echo("note: git history still holds it; see docs/privacy.md to purge it.")


@main.command()
@site_option
@now_option
@click.argument("case")
def show(site: Path, now: str | None, case: str) -> None:
    """Show one case (by id or by the URL of a post) and where it stands."""
    view = pipeline.show(site, case, _now(now))
    c = view.case
    click.echo(f"{view.id}  [{view.state}]  {c.channel}  {one_line(c.url or '')}".rstrip())
    if c.title:
        click.echo(f"title: {one_line(c.title)}")
    if c.author and c.author.handle:
        click.echo(f"author: {one_line(c.author.handle)}")
    click.echo(f"opened: {format_instant(view.opened)}")
    first = view.first_response_at
    fr = format_duration((first - view.opened).total_seconds()) if first else "none yet"
    click.echo(f"first response: {fr}")
    if view.resolved_at:
        took = format_duration((view.resolved_at - view.opened).total_seconds())
        click.echo(f"fixed: after {took}")
    if view.hidden_reason:
        click.echo(f"hidden: {one_line(view.hidden_reason)}")
    for step in view.steps:
        e = step.event
        flags = " (note)" if step.from_note else ""
        flags += " (bot)" if step.bot else ""
        flags += " (superseded)" if not step.applied else ""
        text = f"  {one_line(e.text, 100)}" if e.text else ""
        click.echo(f"  {format_instant(e.at)}  {e.kind:<14} {e.by:<8}{flags}{text}")


@main.command()
@site_option
@now_option
def stats(site: Path, now: str | None) -> None:
    """The figures as a table."""
    moment = _now(now)
    loaded = pipeline.load_site(site)
    views = pipeline.views_of(loaded, moment)
    doc: dict[str, Any] = pipeline.summary_of(loaded, views, moment)
    rows = [
        ("all", "all time", doc["all_time"]),
        ("all", f"last {doc['window_days']} d", doc["window"]),
    ]
    for name, ch in doc["channels"].items():
        rows += [
            (name, "all time", ch["all_time"]),
            (name, f"last {doc['window_days']} d", ch["window"]),
        ]
    click.echo(f"{doc['brand']} — figures as of {doc['generated_at']}")
    header = f"{'channel':<12}{'span':<12}{'cases':>6}{'median 1st':>14}{'p90 1st':>12}"
    header += f"{'waiting':>8}{'in target':>10}{'median fix':>14}{'fixed':>6}"
    click.echo(header)
    for name, span, fig in rows:
        fr, rs = fig["first_response"], fig["resolution"]
        click.echo(
            f"{name:<12}{span:<12}{fig['cases']:>6}{_median(fr):>14}"
            f"{format_duration(fr['p90_s']):>12}{fr['waiting']:>8}"
            f"{_share(fr['within_target']):>10}{_median(rs):>14}{rs['resolved']:>6}"
        )


def _median(block: dict[str, Any]) -> str:
    if block["median_s"] is not None:
        return str(format_duration(block["median_s"]))
    if block["more_than_s"] is not None:
        return "> " + format_duration(block["more_than_s"])
    return "—"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@main.command()
@site_option
@click.option(
    "--credentials",
    is_flag=True,
    help="Also check that every environment variable the sources name is set.",
)
def check(site: Path, credentials: bool) -> None:
    """Validate the config, every record line, note and page; report every problem."""
    report = pipeline.check(site, credentials=credentials)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {report.cases} cases, {report.notes} notes, {report.pages} pages")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a new site: config, sample content, a README stub."""
    from generator.scaffold import write_skeleton

    written = write_skeleton(directory)
    click.echo(f"created {directory} ({len(written)} files); next: cd {directory} && heard build")
