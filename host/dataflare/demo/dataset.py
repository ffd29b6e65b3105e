"""The demo's sample data: user events generated from a fixed seed, the same on every machine.

Each line of ``events.jsonl`` is one event::

    {"id": 17, "user": "u0042", "email": "ada.42@example.org", "country": "DE",
     "status": "active", "amount": 23.5}

`amount` is 0 for views and a two-decimal price for purchases. Records are
kept small on purpose: every byte crosses the WASM boundary three times.

The file is regenerated
only when it is missing or was made with other settings (`events.meta.json`
records them).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

__all__ = ["ensure_events", "generate_events"]

_VERSION = 2
_COUNTRIES = ("DE", "FR", "US", "BR", "IN", "JP", "NG", "SE")
_STATUSES = ("active", "active", "active", "inactive", "suspended")
_NAMES = ("ada", "alan", "grace", "linus", "barbara", "ken", "margaret", "dennis")


def generate_events(path: Path, count: int, seed: int) -> None:
    """Write `count` events from `seed` to `path` (atomically)."""
    rng = random.Random(seed)
    users = []
    for n in range(max(1, count // 20)):
        name = rng.choice(_NAMES)
        users.append(
            {
                "user": f"u{n:04d}",
                "email": f"{name}.{n}@example.org",
                "country": rng.choice(_COUNTRIES),
                "status": rng.choice(_STATUSES),
            }
        )
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for event_id in range(count):
            user = rng.choice(users)
            purchase = rng.random() < 0.2
            amount = round(rng.uniform(1, 200), 2) if purchase else 0
            doc = {"id": event_id, **user, "amount": amount}
            out.write(json.dumps(doc, separators=(",", ":")) + "\n")
    tmp.replace(path)


def ensure_events(folder: Path, count: int, seed: int) -> Path:
    """`folder/events.jsonl`, generated unless it already holds these settings."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.jsonl"
    meta_path = folder / "events.meta.json"
    wanted = {"version": _VERSION, "count": count, "seed": seed}
    try:
        current = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = None
    if current != wanted or not path.is_file():
        generate_events(path, count, seed)
        meta_path.write_text(json.dumps(wanted) + "\n", encoding="utf-8")
    return path
