"""heard: a static "we heard you" site for a brand's public complaints and answers."""

__version__ = "0.2.0"
