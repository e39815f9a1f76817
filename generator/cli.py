"""`heard`: a thin command line over the pipeline. A user's mistake → one line, exit 1."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from generator import __version__, pipeline
from generator.config import load_config
from generator.errors import HeardError, ProblemsError, one_line
from generator.gather.imports import BY_NAME as IMPORT_FORMATS
from generator.gather.imports.base import ImportOptions
from generator.progress import progress_for
from generator.record.model import NoteStatus
from generator.record.times import format_duration, format_instant, resolve_now
from generator.scaffold import REPOSITORY, check_install, write_skeleton, write_workflows

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
        except BrokenPipeError:
            # `heard stats | head -1`: the reader has all it wanted. Quiet, and no second
            # complaint when Python flushes stdout on its way out.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
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
    _warn_not_yet(report.not_yet, report.cases, moment)
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
@click.option(
    "--company",
    default=None,
    help="cfpb: the company's name as the export writes it ('*': every company); "
    "nyc311, open311: keep one agency.",
)
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
@click.option(
    "--closed-as",
    type=click.Choice(["closed", "resolved"]),
    default=None,
    help="nyc311, open311: a closed request counts as closed, not fixed (the default), "
    "or as resolved.",
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
    closed_as: Literal["closed", "resolved"] | None,
    file: Path,
    quiet: bool,
) -> None:
    """Merge an export (record JSONL, or another format) into the record."""
    options = ImportOptions(
        brand=brand, company=company, mapping=mapping, timezone=timezone, closed_as=closed_as
    )
    with progress_for(quiet, "import") as shown:
        report = pipeline.import_cases(site, file, fmt=fmt, options=options, progress=shown)
    skipped = "".join(f", skipped {n} ({why})" for why, n in report.skipped.items() if n)
    click.echo(
        f"imported {file}: {report.read} cases read, {report.new_cases} new, "
        f"{report.updated_cases} updated, {report.new_events} new events{skipped}; "
        f"{len(report.files)} record file(s) written"
    )


def _decision(
    status: NoteStatus, help_text: str, *, note_help: str, reason_help: str
) -> Callable[..., None]:
    """A decision command (resolve, close, hide, reopen) with its own option texts."""

    @site_option
    @now_option
    @click.option("--note", "note", default=None, metavar="MARKDOWN", help=note_help)
    @click.option(
        "--note-file",
        type=click.File("r", encoding="utf-8"),
        default=None,
        help="Read that note from a file ('-' for stdin) instead of --note.",
    )
    @click.option("--reason", default=None, help=reason_help)
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
    _decision(
        "resolved",
        "Mark a case fixed (by id or post URL), saying in public what changed.",
        note_help="What was fixed, in public words (required; Markdown).",
        reason_help="An optional short reason kept with the decision.",
    )
)
main.command(name="close")(
    _decision(
        "closed",
        "Close a case without a fix, saying honestly why (it counts as not fixed).",
        note_help="Why it ends without a fix (required; Markdown).",
        reason_help="An optional short reason kept with the decision.",
    )
)
main.command(name="hide")(
    _decision(
        "hidden",
        "Hide a case (spam, abuse, personal data): left out of the figures but counted, "
        "its reason public on the moderation ledger.",
        note_help="An optional public note (Markdown).",
        reason_help="Why it is hidden, e.g. spam, abuse, personal data (required; public).",
    )
)
main.command(name="reopen")(
    _decision(
        "reopened",
        "Reopen a fixed, closed or hidden case; the earlier decision stays in its history.",
        note_help="An optional public note on why it is reopened (Markdown).",
        reason_help="An optional short reason kept with the decision.",
    )
)


@main.command()
@site_option
@now_option
@click.option("--reason", required=True, help="Why (for example: author request).")
@click.argument("case")
def remove(site: Path, now: str | None, reason: str, case: str) -> None:
    """Strip a case's content at its author's request; its dates keep counting.

    \b
    Git history still holds what was removed. To purge it for good:
    1. commit this removal;
    2. rewrite history, e.g. `git filter-repo --replace-text expressions.txt`
       (one `literal==>[removed]` per line; https://github.com/newren/git-filter-repo);
    3. `git push --force --all && git push --force --tags`; collaborators re-clone;
    4. ask GitHub Support to purge cached views, and re-run the publish workflow.
    """
    files = pipeline.remove(site, case, reason=reason, now=_now(now))
    click.echo(f"removed: {case}'s content is gone from the record ({', '.join(files)})")
    click.echo(
        "note: git history still holds it: `heard remove --help` says how to purge it "
        f"(and {PRIVACY_DOC})"
    )


@main.command()
@site_option
@now_option
@click.option("--keep-going", is_flag=True, help="Look past bad record lines.")
@click.argument("case")
def show(site: Path, now: str | None, keep_going: bool, case: str) -> None:
    """Show one case (by id or by the URL of a post) and where it stands."""
    view, skipped = pipeline.show(site, case, _now(now), keep_going=keep_going)
    if skipped:
        click.echo(f"warning: skipped {skipped} bad record line(s)", err=True)
    c = view.case
    click.echo(f"{view.id}  [{view.state}]  {c.channel}  {one_line(c.url or '')}".rstrip())
    if c.title:
        click.echo(f"title: {one_line(c.title)}")
    if c.author and c.author.handle:
        click.echo(f"author: {one_line(c.author.handle)}")
    click.echo(f"opened: {format_instant(view.opened)}")
    first = view.first_response_at
    fr = format_duration((first - view.opened).total_seconds()) if first else "none yet"
    if c.outcome is not None:
        timely = {True: ", timely", False: ", late", None: ""}[c.outcome.timely]
        fr = f"time not known (dates only); the response: {one_line(c.outcome.label)}{timely}"
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
@click.option("--keep-going", is_flag=True, help="Skip bad record lines (counted).")
def stats(site: Path, now: str | None, keep_going: bool) -> None:
    """The figures as a table."""
    moment = _now(now)
    report = pipeline.figures_of(site, moment, keep_going=keep_going)
    if report.skipped_lines:
        click.echo(f"warning: skipped {report.skipped_lines} bad record line(s)", err=True)
    doc = report.summary
    _warn_not_yet(report.not_yet, doc["all_time"]["cases"], moment)
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


def _warn_not_yet(not_yet: int, shown: int, moment: datetime) -> None:
    """Say when "now" comes before cases of the record (a --now or SOURCE_DATE_EPOCH from
    the past): they do not exist yet as of then."""
    if not not_yet:
        return
    which = "every case" if not shown else f"{not_yet} case(s)"
    click.echo(
        f"warning: {which} of the record open(s) after {format_instant(moment)}, the 'now' of"
        " these figures: left out (check --now and SOURCE_DATE_EPOCH)",
        err=True,
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
    """Validate the config, theme, every record line, note and page; report every problem
    (and, as warnings, a publish workflow that does not pass the credentials heard.toml
    names)."""
    report = pipeline.check(site, credentials=credentials)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {report.cases} cases, {report.notes} notes, {report.pages} pages")


PRIVACY_DOC = f"{REPOSITORY}/blob/v{__version__}/docs/privacy.md"
INSTALL_HELP = (
    "What the workflows pip-install: a requirement or a wheel's URL "
    "(default: this version's release tag from git, until heard is on PyPI)."
)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--install", "install", default=None, metavar="SPEC", help=INSTALL_HELP)
@click.option("--empty", is_flag=True, help="No sample cases or note: start the real record.")
def init(directory: Path, install: str | None, empty: bool) -> None:
    """Create a new site: config, sample content, a README stub and the workflows."""
    written = write_skeleton(directory, install=install, empty=empty)
    click.echo(f"created {directory} ({len(written)} files); next: cd {directory} && heard build")
    if not empty:
        click.echo("the sample cases are there to look at: `heard reset-samples` removes them")


@main.command()
@site_option
@click.option("--install", "install", default=None, metavar="SPEC", help=INSTALL_HELP)
def workflows(site: Path, install: str | None) -> None:
    """Rewrite .github/workflows/ from heard.toml: the secrets the sources name."""
    config = load_config(site)
    spec = check_install(install) if install is not None else None
    for path in write_workflows(site, config, spec):
        click.echo(f"wrote {path}")


@main.command(name="queue")
@site_option
@now_option
@click.option("--channel", default=None, help="Only this channel.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for tools.")
@click.option("--keep-going", is_flag=True, help="Skip bad record lines (counted).")
def queue_(
    site: Path,
    now: str | None,
    channel: str | None,
    limit: int | None,
    as_json: bool,
    keep_going: bool,
) -> None:
    """What to answer next (for the team; never published).

    \b
    1. answer: no public answer yet (waiting / response target x reach weight)
    2. fix: answered, not fixed (customer's wait / resolution target x reach weight)
    3. still concerned: the customer went silent after the brand's question
    4. follow up: fixed, no public follow-up since
    Reach weight: 1 + log10(1 + followers). Reach never changes a published figure.
    """
    rows = pipeline.queue_of(site, _now(now), channel=channel, limit=limit, keep_going=keep_going)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("nothing to do: every case is answered, fixed and followed up")
        return
    width = max(len(r.case_id) for r in rows)
    for rank, row in enumerate(rows, start=1):
        click.echo(
            f"{rank:>3}  {row.group:<15}  {row.case_id:<{width}}  {row.channel:<10}  "
            f"{row.priority:>6.2f}  {one_line(row.reason)}"
        )
        click.echo(
            f"{'':>3}  {'':<15}  {one_line(row.title)}"
            + (f"  {one_line(row.url)}" if row.url else "")
        )


@main.command()
@site_option
@now_option
@click.option("--agent", default=None, help="Who linked them (first name or initials).")
@click.argument("keep")
@click.argument("merge")
def link(site: Path, now: str | None, agent: str | None, keep: str, merge: str) -> None:
    """Show MERGE as part of KEEP: one complaint made on two channels is one case.

    Both posts go on one timeline, each with its channel; the case counts once, from the
    earliest complaint, and a link never makes a figure better than the two counted
    apart. MERGE's page leads to KEEP. The link is listed on the moderation ledger.
    """
    path = pipeline.link(site, keep, merge, now=_now(now), agent=agent)
    click.echo(f"linked: {merge} is shown as part of {keep} (wrote {path})")


@main.command()
@site_option
@click.argument("keep")
@click.argument("merge")
def unlink(site: Path, keep: str, merge: str) -> None:
    """Undo `heard link KEEP MERGE`: the two cases are shown and counted apart again."""
    path = pipeline.unlink(site, keep, merge)
    click.echo(f"unlinked: {keep} and {merge} (wrote {path})")


@main.command(name="reset-samples")
@site_option
def reset_samples(site: Path) -> None:
    """Remove the sample cases and note that `heard init` wrote (start the real record)."""
    files = pipeline.reset_samples(site)
    if not files:
        click.echo("no sample cases in the record: nothing to remove")
        return
    click.echo(f"removed the samples ({', '.join(files)})")
