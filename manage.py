#!/usr/bin/env python
"""Django's command-line entry point for the musical Turing-test platform."""

import contextlib
import os
import sys


def quiet_fluidsynth_import() -> None:
    """pyfluidsynth prints where it found its library to stdout on import whenever CI is set
    (pretty_midi imports it), which would put that line atop a report piped to a file. Imported
    first with stdout sent to stderr, it is not printed again."""
    with contextlib.redirect_stdout(sys.stderr), contextlib.suppress(ImportError, OSError):
        import fluidsynth  # noqa: F401


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    quiet_fluidsynth_import()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
