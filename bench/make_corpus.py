#!/usr/bin/env python3
# mypy: ignore-errors
# ruff: noqa
# (Kept as shared/bench has it, so its corpora stay byte-identical.)
"""Deterministic synthetic corpus of brand complaints, one Markdown file each.

Usage:
    python3 bench/make_corpus.py N OUTDIR [--flavor yaml|pelican] [--seed S]

Writes OUTDIR/c/c000001.md ... OUTDIR/c/cNNNNNN.md.  Complaint i is generated
from its own RNG seeded with (seed, i), so the N=1k corpus is exactly the first
1k files of the N=100k corpus, and reruns are byte-identical.

Flavors (same content, same RNG stream, only the header syntax differs):
  yaml     YAML front matter between '---' lines: id, title, channel, author
           (handle, no '@'), created, first_response, resolved, status, tags
           (flow list).  Empty first_response/resolved are YAML null.
  pelican  Pelican's native Markdown metadata (Python-Markdown 'meta'
           extension): same keys plus 'date' (= created) and 'slug'; status
           renamed 'state' (Pelican reserves 'status' for draft/published) and
           author renamed 'handle' (Pelican's 'author' makes one Author object
           per handle and costs O(N x authors) even with author pages off);
           tags as a comma-separated string.  Stock Pelican reads this with no
           plugin.

Body: 80-150 words of plain-text complaint in 2-3 paragraphs, then a
'## Brand reply' section (15-40 words) and a '## Fix' section (8-30 words).
"""

import argparse
import datetime as dt
import os
import random
import sys

WORDS = (
    "account app order delivery parcel courier refund charge card payment "
    "invoice subscription plan renewal price discount voucher code login "
    "password reset email message support agent chat ticket queue hold call "
    "line number week day hour morning evening store branch manager staff "
    "counter receipt item box product screen update version phone laptop "
    "router signal outage network speed connection engineer visit slot "
    "window appointment booking seat flight gate luggage bag train platform "
    "station ticket fare meter reading bill tariff contract cancel notice "
    "letter form portal page button error crash freeze battery charger "
    "warranty repair replacement return label collection driver van address "
    "postcode door neighbour safe place photo proof tracking status promise "
    "callback reference case complaint escalation team response apology "
    "compensation credit balance statement overdraft fee interest transfer "
    "branch queue wait again still never always twice three four five late "
    "early missing broken damaged wrong cold slow rude helpful unclear "
    "confusing expensive hidden extra duplicate frozen blocked locked "
    "expired delayed lost sent received opened closed paid charged promised "
    "told asked waited called emailed visited tried checked reported "
    "explained chased cancelled returned booked moved changed fixed"
).split()

FILLER = "the a my our your their this that and but so then after before when since because with without for from to in on at by of".split()

TITLE_PATTERNS = (
    "{A} {n1} still {adj} after {k} {unit}",
    "Charged twice for {n1} {n2}",
    "{A} {n1} {verb} but never {verb2}",
    "No reply about {adj} {n1} for {k} {unit}",
    "{A} {n1} keeps showing {n2} error",
    "Refund for {adj} {n1} not received",
    "{A} {n1} {n2} {verb} without notice",
    "Cannot reach support about {n1} {n2}",
)
NOUNS = (
    "order parcel refund card payment invoice subscription plan login "
    "password router signal flight luggage ticket bill contract app update "
    "battery charger warranty repair delivery booking account voucher meter"
).split()
ADJS = "missing broken damaged wrong slow late duplicate frozen blocked expired delayed lost hidden".split()
VERBS = "cancelled returned booked moved changed charged promised reported explained".split()
VERBS2 = "fixed refunded answered delivered credited confirmed replaced".split()
UNITS = ("days", "weeks", "hours")

CHANNELS = ("twitter", "facebook", "trustpilot", "reddit", "email", "app-store", "forum", "phone")
HANDLE_A = "maple otter river quiet amber north pixel cobalt lunar velvet cedar ember".split()
HANDLE_B = "fox owl lynx heron badger wren moth falcon hare crane finch vole".split()
TAGS = (
    "billing refund delivery login outage app mobile web account payment "
    "subscription hardware support-wait rude-staff data-privacy pricing "
    "cancellation warranty network accessibility"
).split()
# (status, weight, has_response, has_resolved)
STATUSES = (
    ("open", 20, False, False),
    ("acknowledged", 15, True, False),
    ("fixed", 50, True, True),
    ("wontfix", 10, True, True),
    ("duplicate", 5, True, True),
)
STATUS_WEIGHTS = [s[1] for s in STATUSES]
BASE = dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc)
SPAN_S = 3 * 365 * 86400


def sentence(rng, lo=8, hi=18):
    n = rng.randint(lo, hi)
    out = []
    for _ in range(n):
        out.append(rng.choice(FILLER) if rng.random() < 0.35 else rng.choice(WORDS))
    out[0] = out[0].capitalize()
    return " ".join(out) + rng.choice((".", ".", ".", "!", "?"))


def words_text(rng, lo, hi):
    target = rng.randint(lo, hi)
    sents, count = [], 0
    while count < target:
        s = sentence(rng)
        sents.append(s)
        count += s.count(" ") + 1
    return sents


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def complaint(seed, i):
    rng = random.Random(f"{seed}:{i}")
    cid = f"C{i:06d}"
    pat = rng.choice(TITLE_PATTERNS)
    title = pat.format(
        A=rng.choice(("My", "Our", "The", "Another")),
        n1=rng.choice(NOUNS),
        n2=rng.choice(NOUNS),
        adj=rng.choice(ADJS),
        verb=rng.choice(VERBS),
        verb2=rng.choice(VERBS2),
        k=rng.randint(2, 9),
        unit=rng.choice(UNITS),
    )
    title = title[0].upper() + title[1:]
    channel = rng.choice(CHANNELS)
    author = f"{rng.choice(HANDLE_A)}_{rng.choice(HANDLE_B)}{rng.randint(1, 999)}"
    created = BASE + dt.timedelta(seconds=rng.randrange(SPAN_S))
    status, _, has_resp, has_res = rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
    first_response = resolved = None
    if has_resp:
        # minutes to days, heavy tail
        first_response = created + dt.timedelta(seconds=int(rng.lognormvariate(9.0, 1.4)))
        if has_res:
            resolved = first_response + dt.timedelta(seconds=int(rng.lognormvariate(11.5, 1.2)))
    tags = rng.sample(TAGS, rng.randint(1, 3))

    body_sents = words_text(rng, 80, 150)
    # split into 2-3 paragraphs
    k = rng.randint(2, 3)
    cut = [len(body_sents) * j // k for j in range(k + 1)]
    paras = [" ".join(body_sents[cut[j] : cut[j + 1]]) for j in range(k) if cut[j] < cut[j + 1]]
    reply = " ".join(words_text(rng, 15, 40)) if has_resp else "No reply yet."
    fix = " ".join(words_text(rng, 8, 30)) if has_res else "No fix yet."
    return dict(
        id=cid,
        title=title,
        channel=channel,
        author=author,
        created=created,
        first_response=first_response,
        resolved=resolved,
        status=status,
        tags=tags,
        paras=paras,
        reply=reply,
        fix=fix,
    )


def render(c, flavor):
    ts = lambda t: iso(t) if t else ""
    if flavor == "yaml":
        head = [
            "---",
            f"id: {c['id']}",
            f'title: "{c["title"]}"',
            f"channel: {c['channel']}",
            f"author: {c['author']}",
            f"created: {iso(c['created'])}",
            f"first_response: {ts(c['first_response'])}".rstrip(),
            f"resolved: {ts(c['resolved'])}".rstrip(),
            f"status: {c['status']}",
            f"tags: [{', '.join(c['tags'])}]",
            "---",
        ]
    else:  # pelican native metadata
        head = [
            f"Title: {c['title']}",
            f"Date: {c['created'].strftime('%Y-%m-%d %H:%M')}",
            f"Slug: {c['id'].lower()}",
            f"Id: {c['id']}",
            f"Channel: {c['channel']}",
            f"Handle: {c['author']}",  # Pelican's 'author' is the site author (see docstring)
            f"Created: {iso(c['created'])}",
            f"First_response: {ts(c['first_response'])}".rstrip(),
            f"Resolved: {ts(c['resolved'])}".rstrip(),
            f"State: {c['status']}",  # Pelican reserves "status" (draft/published/hidden)
            f"Tags: {', '.join(c['tags'])}",
        ]
    parts = ["\n".join(head), ""]
    parts += [p + "\n" for p in c["paras"]]
    parts += ["## Brand reply\n", c["reply"] + "\n", "## Fix\n", c["fix"] + "\n"]
    return "\n".join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("n", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--flavor", choices=("yaml", "pelican"), default="yaml")
    ap.add_argument("--seed", type=int, default=20240601)
    a = ap.parse_args(argv)
    d = os.path.join(a.outdir, "c")
    os.makedirs(d, exist_ok=True)
    total = 0
    for i in range(1, a.n + 1):
        text = render(complaint(a.seed, i), a.flavor)
        with open(os.path.join(d, f"c{i:06d}.md"), "w", encoding="utf-8") as f:
            f.write(text)
        total += len(text)
    print(f"wrote {a.n} files, {total} bytes ({total / a.n:.0f} B/file) to {d}", file=sys.stderr)


if __name__ == "__main__":
    main()
