"""Contact guard throughput: messages per second on one core, for two mixes:

- `corpus`: the labelled corpus lines as they are (short, and half of them full of contact details and
  obfuscations: the guard's worst case);
- `typical`: messages of a typical length (~130 characters), each five corpus lines joined, as chat
  messages are a few sentences long — still half of the lines carry contact details (a worst case);
- `chat`: the average message: five lines of ordinary talk joined (the corpus's negatives, which are the hard
  ones: prices, dates, times, order numbers, reference links), and one message in fifty also carrying a
  contact detail.

Run from the repository root: `.venv/bin/python bench/guard_throughput.py [--json]`. The guard is a pure
function, so no Django set-up is needed; the process is pinned to one core where the OS allows it."""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anshin.trust.contact_guard import scan  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "guard_corpus.jsonl"
TARGET_MESSAGES = 50_000


def corpus_rows() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def chat_messages(rows: list[dict]) -> list[str]:
    ordinary = [r["text"] for r in rows if not r["contact"] and not r["scam"]]
    contacts = [r["text"] for r in rows if r["contact"]]
    messages = ["\n".join(ordinary[i:i + 5]) for i in range(0, len(ordinary) - 5, 5)]
    for n in range(0, len(messages), 50):
        messages[n] = f"{messages[n]}\n{contacts[n % len(contacts)]}"
    return messages


def measure(texts: list[str], messages: int = TARGET_MESSAGES) -> dict:
    batch = texts * (messages // len(texts) + 1)
    batch = batch[:messages]
    for text in texts:  # warm-up: compiled patterns, caches
        scan(text)
    started = time.perf_counter()
    for text in batch:
        scan(text)
    elapsed = time.perf_counter() - started
    return {
        "messages_per_second": round(len(batch) / elapsed),
        "messages": len(batch),
        "avg_chars": round(sum(map(len, batch)) / len(batch), 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--messages", type=int, default=TARGET_MESSAGES)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows = corpus_rows()
    texts = [r["text"] for r in rows]
    typical = ["\n".join(texts[i:i + 5]) for i in range(0, len(texts) - 5, 5)]
    results = {"corpus": measure(texts, args.messages), "typical": measure(typical, args.messages),
               "chat": measure(chat_messages(rows), args.messages)}
    if args.json:
        print(json.dumps(results))
    else:
        for name, result in results.items():
            print(
                f"contact guard ({name}): {result['messages_per_second']:,} messages/s on one core "
                f"({result['messages']:,} messages, avg {result['avg_chars']} chars)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
