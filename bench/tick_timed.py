"""One sweeper process of the timer benchmark: the real `tick` command (`--no-mail --no-figures`: e-mail and
profile figures are other processes' jobs in production), timed from after Django's start-up, so only settling
is measured. Prints two JSON lines: the wall-clock start (at once, so a run stopped at the bench's deadline
still has it), then the end and what the command reported, by kind.

Run with the bench environment (bench/server.py `bench_env`): `python bench/tick_timed.py`."""

import io
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anshin.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def main() -> int:
    connection.ensure_connection()  # connecting is start-up too
    out = io.StringIO()
    started = time.time()
    print(json.dumps({"started": started}), flush=True)
    call_command("tick", no_mail=True, no_figures=True, stdout=out)
    finished = time.time()
    done = Counter()
    for line in out.getvalue().splitlines():
        if not line.startswith("tick "):  # the summary line
            subject, _, action = line.partition(": ")
            done[f"{subject.split()[0]}: {action}"] += 1
    print(json.dumps({"finished": finished, "done": done}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
