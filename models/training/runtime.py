"""Device, threads, seeds, log lines and checkpoints: what every stage of the kit shares."""
from __future__ import annotations

import os
import random
import sys
import time
from typing import Any, Dict

import numpy as np
import torch

_T0 = time.time()


def log(msg: str) -> None:
    """One progress line on stderr, with the time since the kit started."""
    sys.stderr.write(f"[{time.time() - _T0:7.1f}s] {msg}\n")
    sys.stderr.flush()


def configure_threads() -> int:
    """torch's CPU threads: TSR_TRAIN_THREADS, else OMP_NUM_THREADS, else every core."""
    for var in ("TSR_TRAIN_THREADS", "OMP_NUM_THREADS"):
        v = os.environ.get(var)
        if v and v.isdigit() and int(v) > 0:
            n = int(v)
            break
    else:
        n = os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def select_device(name: str) -> torch.device:
    """auto: CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but torch sees no CUDA device")
    return dev


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def save_checkpoint(path: str, payload: Dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str) -> Dict[str, Any]:
    if not os.path.exists(path):
        raise SystemExit(f"checkpoint {path} is missing: run the stage that writes it first")
    # Our own checkpoints (they hold plain Python values beside the tensors); torch >= 2.6 would
    # otherwise refuse anything but tensors by default.
    return torch.load(path, map_location="cpu", weights_only=False)


class Progress:
    """Log a line every `every` seconds (and at the end) with rate and an estimate of time left."""

    def __init__(self, what: str, total: int, every: float = 10.0):
        self.what, self.total, self.every = what, total, every
        self.start = self.last = time.time()

    def update(self, done: int, extra: str = "") -> None:
        now = time.time()
        if now - self.last < self.every and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / max(done, 1) * (self.total - done)
        log(f"{self.what}: {done}/{self.total} ({elapsed:.0f}s, ~{eta:.0f}s left) {extra}")
