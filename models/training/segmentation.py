"""What the cascade's two stages share (pancreas_stage.py, roi_localizer.py): random patches of
stored grids, the Dice + BCE loss, a patch training loop with a time cap, 26-connected
components, Dice, and the ROI centre of a mask (the contract's definition).

A "pair" is ((volume files, channel order), (target files, channel order)): [Z, Y, X] .npy files,
float32 volumes and uint8 masks, stacked as channels.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from localizer import _open_pair, _preload
from runtime import Progress, log

Pair = Tuple[Tuple[str, ...], Tuple[str, ...]]


@dataclass(frozen=True)
class PatchSchedule:
    """How a network is trained on patches: what the loop needs from a stage's plan."""

    what: str  # the stage's name in log lines
    patch_zyx: Tuple[int, int, int]
    steps: int
    batch_size: int
    learning_rate: float  # one-cycle peak
    weight_decay: float
    max_minutes: Optional[float]
    preload_gb: float
    seed: int
    positive_fraction: float  # share of patches drawn around a voxel of the positive channel
    positive_channel: int  # the target channel whose voxels make a patch "positive"


def sample_patch(item: Tuple[Sequence[np.ndarray], Sequence[np.ndarray]], patch: Tuple[int, int, int], rng: np.random.Generator,
                 positive: bool, positive_channel: int) -> Tuple[np.ndarray, np.ndarray]:
    """[C, pz, py, px] volumes and targets at one place: around a voxel of target channel
    `positive_channel` (positive; with a margin of 4 voxels where the grid allows) or anywhere.
    A grid smaller than the patch along an axis is taken whole along it."""
    vols, masks = item
    shape = vols[0].shape
    coords = np.argwhere(np.asarray(masks[positive_channel])) if positive else None
    voxel = coords[rng.integers(len(coords))] if coords is not None and len(coords) else None
    starts = []
    for axis in range(3):
        size, p = shape[axis], patch[axis]
        if size <= p:
            starts.append(0)
        elif voxel is not None:
            c = int(voxel[axis])
            lo, hi = max(0, c - p + 4), min(size - p, c - 4)
            starts.append(int(rng.integers(lo, hi + 1)) if hi >= lo else int(np.clip(c - p // 2, 0, size - p)))
        else:
            starts.append(int(rng.integers(0, size - p + 1)))
    sl = tuple(slice(s, s + min(p, n)) for s, p, n in zip(starts, patch, shape))
    return np.stack([v[sl] for v in vols]), np.stack([m[sl] for m in masks])


def dice_bce(logits: torch.Tensor, target: torch.Tensor, max_pos_weight: float) -> torch.Tensor:
    """Binary cross-entropy (positives up-weighted by the negative/positive ratio, at most
    `max_pos_weight`) + soft Dice per channel, averaged over the channels."""
    pos = target.sum()
    weight = ((target.numel() - pos) / pos.clamp(min=1.0)).clamp(min=1.0, max=max_pos_weight)
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)
    p = torch.sigmoid(logits)
    dims = (0, 2, 3, 4)
    dice = 1 - (2 * (p * target).sum(dims) + 1) / (p.sum(dims) + target.sum(dims) + 1)
    return bce + dice.mean()


def one_cycle_lr(peak: float, fraction: float, warm_up: float = 0.1) -> float:
    """One-cycle learning rate at `fraction` (0..1) of the training: linear warm-up from peak / 25
    over the first `warm_up`, then cosine annealing to peak / 1e4 (torch's OneCycleLR's shape)."""
    if fraction < warm_up:
        return peak * (0.04 + 0.96 * fraction / warm_up)
    t = min((fraction - warm_up) / (1 - warm_up), 1.0)
    return peak * (1e-4 + (1 - 1e-4) * 0.5 * (1 + math.cos(math.pi * t)))


def train_on_patches(net: nn.Module, train: Sequence[Pair], device: torch.device, schedule: PatchSchedule,
                     loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Dict[str, float]:
    """AdamW with a one-cycle schedule (over the steps or the time cap, whichever comes first) on
    random patches of the training pairs, until the steps or the time cap run out. Returns steps
    done, the final loss and the seconds."""
    s = schedule
    rng = np.random.default_rng(s.seed)
    loaded = _preload(list(train), s.preload_gb)
    net.to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=one_cycle_lr(s.learning_rate, 0.0), weight_decay=s.weight_decay)
    progress = Progress(s.what, s.steps)
    max_seconds = s.max_minutes * 60 if s.max_minutes else None
    losses: List[float] = []
    start = time.time()
    done = 0
    for step in range(s.steps):
        vols, masks = [], []
        for _ in range(s.batch_size):
            k = int(rng.integers(len(train)))
            item = loaded[k] if loaded is not None else _open_pair(train[k])
            v, m = sample_patch(item, s.patch_zyx, rng, bool(rng.random() < s.positive_fraction), s.positive_channel)
            vols.append(v)
            masks.append(m)
        x = torch.from_numpy(np.stack(vols)).to(device)
        y = torch.from_numpy(np.stack(masks).astype(np.float32)).to(device)
        # The schedule runs on the steps or on the time cap, whichever is further along: a run
        # the cap stops still ends annealed (at the cost of determinism when the cap binds).
        elapsed = time.time() - start
        fraction = max(step / max(s.steps, 1), elapsed / max_seconds if max_seconds else 0.0)
        for group in opt.param_groups:
            group["lr"] = one_cycle_lr(s.learning_rate, fraction)
        loss = loss_fn(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        done = step + 1
        progress.update(done, f"loss {np.mean(losses[-50:]):.3f}, lr {opt.param_groups[0]['lr']:.2e}")
        if max_seconds is not None and time.time() - start > max_seconds:
            log(f"{s.what}: time budget of {max_seconds:.0f}s reached at step {done}")
            break
    net.eval()
    return {"steps": done, "trainLoss": float(np.mean(losses[-50:])) if losses else float("nan"), "seconds": time.time() - start}


def label_components(mask: np.ndarray) -> Tuple[np.ndarray, int]:
    """26-connected components of a boolean [Z, Y, X] mask: int32 labels 1..n (0 outside), n.
    Within the mask's bounding box, each voxel's label is the largest voxel number of its
    component, spread by 3x3x3 max pooling within the mask until nothing changes; then renumbered."""
    mask = np.asarray(mask, dtype=bool)
    labels = np.zeros(mask.shape, np.int32)
    if not mask.any():
        return labels, 0
    idx = np.argwhere(mask)
    box = tuple(slice(int(lo), int(hi) + 1) for lo, hi in zip(idx.min(0), idx.max(0)))
    m = torch.from_numpy(np.ascontiguousarray(mask[box]))
    dtype = torch.float32 if m.numel() < (1 << 24) else torch.float64  # voxel numbers exact in the float type
    inside = m.to(dtype)
    lab = torch.arange(1, m.numel() + 1, dtype=dtype).reshape(m.shape) * inside
    while True:
        grown = F.max_pool3d(lab[None, None], 3, stride=1, padding=1)[0, 0] * inside
        if torch.equal(grown, lab):
            break
        lab = grown
    values, inverse = np.unique(lab.numpy().astype(np.int64), return_inverse=True)
    labels[box] = inverse.reshape(m.shape)  # values[0] is 0 (outside)
    return labels, len(values) - 1


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 26-connected component of a boolean mask (empty when the mask is)."""
    labels, n = label_components(mask)
    if n == 0:
        return np.zeros(mask.shape, bool)
    counts = np.bincount(labels.reshape(-1), minlength=n + 1)
    counts[0] = 0
    return labels == int(np.argmax(counts))


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Dice of two boolean masks (1 when both are empty)."""
    denominator = int(pred.sum()) + int(truth.sum())
    return 1.0 if denominator == 0 else 2.0 * int((pred & truth).sum()) / denominator


def roi_centre_mm(mask: np.ndarray, voxel_mm: float, component: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
    """The contract's ROI centre of a [Z, Y, X] pancreas mask: the largest 26-connected
    component's bounding-box centre (`component` when the caller has it), [x, y, z] mm from the
    grid's centre (the grid is centred on the volume, so this is the offset from it). None for
    an empty mask."""
    if component is None:
        component = largest_component(mask)
    if not component.any():
        return None
    idx = np.argwhere(component)
    centre_zyx = (idx.min(0) + idx.max(0)) / 2.0 - (np.array(mask.shape) - 1) / 2.0
    return centre_zyx[::-1] * voxel_mm
