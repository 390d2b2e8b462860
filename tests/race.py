"""Racing real transactions: every call starts at the same moment in its own thread and database connection."""

import random
import threading

from django.db import connection

from anshin.core.errors import DomainError


def run_together(*calls, names: list[str] | None = None):
    """Returns one (outcome, value) per call: ("ok", result), ("refused", DomainError) or ("crash", exception).
    `names` name the threads (tests may give each racer its own clock by thread name)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def runner(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", call())
        except DomainError as error:
            results[i] = ("refused", error)
        except BaseException as error:  # noqa: BLE001 - a crash is what the test looks for
            results[i] = ("crash", error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=runner, args=(i, call), name=names[i] if names else None)
        for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung (deadlock?)"
    return results


def run_named(**calls):
    """`run_together` with names, started in a random order: {name: (outcome, value)}."""
    names = list(calls)
    random.shuffle(names)
    return dict(zip(names, run_together(*(calls[name] for name in names), names=names), strict=True))
