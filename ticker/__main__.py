"""`python -m ticker`: the same command line, for running under a given interpreter."""

from .cli import cli

if __name__ == "__main__":
    cli(prog_name="ticker")
