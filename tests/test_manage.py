"""manage.py's output is the command's alone, so a report can be piped to a file."""

import os
import subprocess
import sys

from django.conf import settings


def test_a_commands_stdout_holds_only_its_output_even_where_ci_is_set():
    # pyfluidsynth prints where it found its library on import whenever CI is set.
    result = subprocess.run(
        [sys.executable, "manage.py", "report", "--help"],
        cwd=settings.BASE_DIR,
        env=os.environ | {"CI": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("usage: manage.py report")
    assert "AXES" not in result.stderr  # nor does a plugin's greeting crowd the terminal
