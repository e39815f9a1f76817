"""`python -m generator` runs the `heard` command line."""

from generator.cli import main

main()
