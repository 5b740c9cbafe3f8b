"""Tumour localiser: a compact 3D U-Net on the coarse isotropic grid (LocalizerSpec, 4 mm voxels,
[Z, Y, X] = 48 x 96 x 96 by default), trained on the synthetic cohort's tumour masks.

It sees both phases at once, on one grid (the venous volume's; the arterial volume is sampled on
it in patient coordinates): input channels (arterial, venous), output channels the tumour
probability in each phase (the two differ by the breathing shift). Both phases together find the
tumour far more reliably than either alone: a stroma-rich tumour is nearly isoattenuating in one
phase or the other, and hypodense bowel or duct looks different across the phases than tumour
does. The node takes the centre from the venous channel and refines the arterial centre near it.

A strided first convolution takes the 4 mm grid to 8 mm features; encoder at 8, 16 and 32 mm,
decoder back to 8 mm with additive skips; logits at 8 mm upsampled trilinearly to the input grid.
A typical tumour (30 mm) spans about 4 feature voxels, and the small ones (13 mm) still leave a
clear peak; nothing runs at full resolution, which keeps training and inference cheap on CPU.
Receptive field about 250 mm, enough to see the pancreas around the tumour. Fully convolutional: it trains on
patches and runs on the whole grid. Grid dimensions must be multiples of 8.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dataset import Dataset, Item
from grid_shifts import move_grid
from runtime import Progress, log

if TYPE_CHECKING:
    from plans import LocalizerPlan

# Input and output channel order (the manifest's preprocessing.phases says the same).
LOCALIZER_PHASES = ("arterial", "venous")
PRIMARY = LOCALIZER_PHASES.index("venous")
# Shift averaging at inference: the features are computed on a grid twice as coarse as the input,
# so a small tumour can fall between two feature voxels. The node runs the localiser on its grid
# and on the grid moved by one voxel along each axis (edges repeated), moves the second output back
# and takes the mean (src/inference/gridShifts.ts). These shifts, [x, y, z] in voxels, are the
# default of the localiser plan's average_shifts (plans.py), which the validation here uses and the
# export writes into the manifest (preprocessing.localizer.averageShifts).
AVERAGE_SHIFTS: Tuple[Tuple[int, int, int], ...] = ((0, 0, 0), (1, 1, 1))


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class LocalizerNet(nn.Module):
    def __init__(self, base: int = 12, channels: int = len(LOCALIZER_PHASES)):
        super().__init__()
        c1, c2, c3 = base, 2 * base, 4 * base
        # A strided first convolution: features start at 8 mm, which keeps the cost of a full
        # grid under 1 GMAC (3D convolutions are slow on CPU, in training above all).
        self.stem = nn.Sequential(_block(channels, c1, 2), _block(c1, c1))
        self.down2 = nn.Sequential(_block(c1, c2, 2), _block(c2, c2))
        self.down3 = nn.Sequential(_block(c2, c3, 2), _block(c3, c3))
        self.up3 = nn.ConvTranspose3d(c3, c2, 2, stride=2)
        self.dec2 = _block(c2, c2)
        self.up2 = nn.ConvTranspose3d(c2, c1, 2, stride=2)
        self.dec1 = _block(c1, c1)
        self.head = nn.Conv3d(c1, channels, 1)
        self.base = base
        self.channels = channels

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        """[B, C, Z, Y, X] -> logits [B, C, Z, Y, X] (C = phases, LOCALIZER_PHASES order)."""
        s1 = self.stem(volume)  # 1/2
        s2 = self.down2(s1)  # 1/4
        s3 = self.down3(s2)  # 1/8
        d2 = self.dec2(self.up3(s3) + s2)
        d1 = self.dec1(self.up2(d2) + s1)
        return F.interpolate(self.head(d1), scale_factor=2.0, mode="trilinear", align_corners=False)


class ExportedLocalizer(nn.Module):
    """volume [B, C, Z, Y, X] -> probability [B, C, Z, Y, X] (sigmoid per phase channel)."""

    def __init__(self, net: LocalizerNet):
        super().__init__()
        self.net = net

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(volume))


def shifted_probability(net: nn.Module, volume: torch.Tensor, shifts: Sequence[Sequence[int]] = AVERAGE_SHIFTS) -> torch.Tensor:
    """[C, Z, Y, X] volume -> [C, Z, Y, X] tumour probability as the node computes it: one batch of
    the volume moved by each shift, sigmoid, each output moved back, the mean."""
    prob = torch.sigmoid(net(torch.stack([move_grid(volume, s) for s in shifts])))
    weight = 1.0 / len(shifts)
    total = torch.zeros_like(prob[0])
    for b, s in enumerate(shifts):
        total += weight * move_grid(prob[b], [-x for x in s])
    return total


def localizer_pairs(items: List[Item]) -> List[Tuple[Tuple[str, ...], Tuple[str, ...]]]:
    """((volume per phase), (mask per phase)) paths, LOCALIZER_PHASES order, of every item that
    has localiser data for both phases."""
    out = []
    for it in items:
        loc = it.localizer or {}
        if all(p in loc and p + "Target" in loc for p in LOCALIZER_PHASES):
            out.append((tuple(loc[p] for p in LOCALIZER_PHASES), tuple(loc[p + "Target"] for p in LOCALIZER_PHASES)))
    return out


def load_pair(pair: Tuple[Tuple[str, ...], Tuple[str, ...]]) -> Tuple[np.ndarray, np.ndarray]:
    """[C, Z, Y, X] float32 volumes and uint8 masks of one item."""
    return np.stack([np.load(p) for p in pair[0]]), np.stack([np.load(p) for p in pair[1]])


def _open_pair(pair: Tuple[Tuple[str, ...], Tuple[str, ...]]) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """The volumes and masks of one item, memory-mapped: reading a patch touches only its pages."""
    return [np.load(p, mmap_mode="r") for p in pair[0]], [np.load(p, mmap_mode="r") for p in pair[1]]


def _preload(pairs: Sequence[Tuple[Tuple[str, ...], Tuple[str, ...]]], budget_gb: float) -> Optional[List[Tuple[np.ndarray, np.ndarray]]]:
    """Every training item in memory when they fit in `budget_gb` (None otherwise): reading patches
    from memory-mapped files costs about a third of a training step on a 2-core machine, reading
    them from memory almost nothing. 1129 studies on a 48 x 96 x 96 grid: about 5 GB."""
    if not pairs:
        return []
    vols, masks = _open_pair(pairs[0])
    per_item = sum(v.nbytes for v in vols) + sum(m.nbytes for m in masks)
    if per_item * len(pairs) > budget_gb * 1e9:
        log(f"train-localizer: {per_item * len(pairs) / 1e9:.1f} GB of volumes exceed the preload budget of {budget_gb:.1f} GB: "
            "patches are read from the files")
        return None
    progress = Progress("load-localizer-volumes", len(pairs))
    out = []
    for i, pair in enumerate(pairs):
        out.append(load_pair(pair))
        progress.update(i + 1)
    return out


def _sample_patch(item: Tuple[Sequence[np.ndarray], Sequence[np.ndarray]], patch: Tuple[int, int, int], rng: np.random.Generator,
                  positive: bool) -> Tuple[np.ndarray, np.ndarray]:
    """A [C, pz, py, px] patch of both phases at one place: around a voxel of the venous tumour
    (positive) or anywhere. `item`: the volumes and masks, indexed by phase ([C, Z, Y, X] arrays
    in memory, or lists of memory-mapped [Z, Y, X] arrays)."""
    vols, masks = item
    shape = vols[0].shape
    starts = []
    coords = np.argwhere(masks[PRIMARY]) if positive else None
    for axis in range(3):
        size, p = shape[axis], patch[axis]
        if size <= p:
            starts.append(0)
            continue
        if coords is not None and len(coords):
            c = int(coords[rng.integers(len(coords)), axis])
            lo, hi = max(0, c - p + 4), min(size - p, c - 4)
            starts.append(int(rng.integers(lo, hi + 1)) if hi >= lo else int(np.clip(c - p // 2, 0, size - p)))
        else:
            starts.append(int(rng.integers(0, size - p + 1)))
    sl = tuple(slice(s, s + min(p, n)) for s, p, n in zip(starts, patch, shape))
    return np.stack([v[sl] for v in vols]), np.stack([m[sl] for m in masks])


def _loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy (tumour voxels up-weighted) + soft Dice on the probabilities."""
    pos = target.sum()
    # A moderate up-weighting: enough that a faint tumour still reaches the node's confidence
    # level, not so much that every hypodense structure does.
    weight = ((target.numel() - pos) / pos.clamp(min=1.0)).clamp(max=10.0)
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)
    p = torch.sigmoid(logits)
    dims = (0, 2, 3, 4)  # soft Dice per phase channel, averaged
    dice = 1 - (2 * (p * target).sum(dims) + 1) / (p.sum(dims) + target.sum(dims) + 1)
    return bce + dice.mean()


def _component_26(mask: np.ndarray, seed: Tuple[int, ...]) -> Tuple[np.ndarray, ...]:
    """Indices of the 26-connected component of `mask` that holds `seed`: the seed grown by 3x3x3
    dilations within the mask until it stops growing (vectorised; a voxel-by-voxel flood fill took
    minutes on the near-uniform maps of an undertrained network)."""
    grown = np.zeros_like(mask, dtype=bool)
    grown[seed] = True
    size = 1
    while True:
        for axis in range(3):
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[axis], hi[axis] = slice(0, -1), slice(1, None)
            shifted = grown.copy()
            shifted[tuple(lo)] |= grown[tuple(hi)]
            shifted[tuple(hi)] |= grown[tuple(lo)]
            grown = shifted
        grown &= mask
        grown_size = int(grown.sum())
        if grown_size == size:
            return np.nonzero(grown)
        size = grown_size


def predicted_centre(prob: np.ndarray, level: float = 0.5, near: Optional[Tuple[float, float, float]] = None,
                     radius: float = 0.0) -> Optional[Tuple[float, float, float]]:
    """[Z, Y, X] probability -> centre (z, y, x, voxel units), as the node's findTumour finds it:
    the peak (within `radius` voxels of `near`, when given), then the probability-weighted
    centroid of the 26-connected component of voxels >= half the peak. None when the peak is
    below `level` (the node then refuses: tumour not found)."""
    search = prob
    if near is not None:
        zz, yy, xx = np.indices(prob.shape, sparse=True)
        inside = (zz - near[0]) ** 2 + (yy - near[1]) ** 2 + (xx - near[2]) ** 2 <= radius ** 2
        search = np.where(inside, prob, -1.0)
    peak = np.unravel_index(int(np.argmax(search)), prob.shape)
    if search[peak] < level:
        return None
    members = _component_26(prob >= prob[peak] / 2, peak)
    w = prob[members].astype(np.float64)
    m = np.stack(members, axis=1).astype(np.float64)
    return tuple(float(x) for x in (m * w[:, None]).sum(0) / w.sum())  # type: ignore[return-value]


def _inside(mask: np.ndarray, centre: Optional[Tuple[float, float, float]]) -> bool:
    if centre is None:
        return False
    idx = tuple(int(round(c)) for c in centre)
    return all(0 <= i < n for i, n in zip(idx, mask.shape)) and bool(mask[idx] > 0)


@torch.no_grad()
def evaluate_localizer(net: LocalizerNet, pairs: Sequence[Tuple[Tuple[str, ...], Tuple[str, ...]]], device: torch.device,
                       plan: LocalizerPlan) -> Dict[str, float]:
    """As the node localises (the plan's shift averaging included): the venous centre from the
    venous channel (hit rate: it lies inside the venous tumour mask; found rate: the peak reaches
    plan.min_confidence), then the arterial centre from the arterial channel within
    plan.arterial_radius_mm of it (falling back to the venous centre), scored on the arterial
    mask. Mean Dice of the venous channel at 0.5."""
    level, arterial_radius_voxels = plan.min_confidence, plan.arterial_radius_mm / plan.voxel_mm
    net.eval()
    hits = found = arterial_hits = 0
    dices = []
    art = LOCALIZER_PHASES.index("arterial")
    for pair in pairs:
        vol, mask = load_pair(pair)
        prob = shifted_probability(net, torch.from_numpy(vol).to(device), plan.average_shifts).cpu().numpy()
        centre = predicted_centre(prob[PRIMARY], level)
        if centre is not None:
            found += 1
            hits += int(_inside(mask[PRIMARY], centre))
            refined = predicted_centre(prob[art], level, near=centre, radius=arterial_radius_voxels)
            arterial_hits += int(_inside(mask[art], refined or centre))
        pred = prob[PRIMARY] >= 0.5
        truth = mask[PRIMARY] > 0
        dices.append(2 * (pred & truth).sum() / max(pred.sum() + truth.sum(), 1))
    n = max(len(pairs), 1)
    return {"n": len(pairs), "hitRate": hits / n, "foundRate": found / n, "arterialHitRate": arterial_hits / n,
            "dice": float(np.mean(dices)) if dices else float("nan")}


def train_localizer(ds: Dataset, device: torch.device, plan: LocalizerPlan) -> Tuple[LocalizerNet, Dict[str, float]]:
    """Train on patches of the dataset's training studies (the plan's grid, patch, steps, batch
    size, learning rate, weight decay, seed, preload budget and time cap), then score the
    validation split (at most plan.validation_limit studies). Returns the network (CPU, eval
    mode) and figures."""
    shape = plan.grid_zyx
    if shape is None:
        raise SystemExit("the dataset has no localizer spec")
    if any(s % 8 for s in shape):
        raise SystemExit(f"localizer grid {list(shape)} [Z, Y, X]: every dimension must be a multiple of 8")
    train = localizer_pairs(ds.split("train"))
    if not train:
        raise SystemExit("no training item has localizer volumes and masks")
    val_items = ds.split("val")
    val = localizer_pairs(val_items)[:plan.validation_limit]
    patch, steps, batch_size, lr = plan.patch_zyx, plan.steps, plan.batch_size, plan.learning_rate
    max_seconds = plan.max_minutes * 60 if plan.max_minutes else None
    log(f"train-localizer: {len(train)} training studies (both phases as channels), patch {list(patch)}, batch {batch_size}, {steps} steps, device {device}")
    torch.manual_seed(plan.seed)
    rng = np.random.default_rng(plan.seed)
    loaded = _preload(train, plan.preload_gb)
    net = LocalizerNet(plan.base_channels).to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=plan.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    progress = Progress("train-localizer", steps)
    losses: List[float] = []
    start = time.time()
    done = 0
    for step in range(steps):
        vols, masks = [], []
        for b in range(batch_size):
            k = int(rng.integers(len(train)))
            v, m = _sample_patch(loaded[k] if loaded is not None else _open_pair(train[k]), patch, rng, positive=b % 4 != 3)
            # No flips: the anatomy has one orientation in patient space (LPS), and where the
            # pancreas lies relative to the spine and vessels is part of the evidence.
            vols.append(v)
            masks.append(m)
        x = torch.from_numpy(np.stack(vols)).to(device)
        y = torch.from_numpy(np.stack(masks).astype(np.float32)).to(device)
        loss = _loss(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        done = step + 1
        progress.update(done, f"loss {np.mean(losses[-50:]):.3f}")
        if max_seconds is not None and time.time() - start > max_seconds:
            log(f"train-localizer: time budget of {max_seconds:.0f}s reached at step {done}")
            break
    metrics: Dict[str, float] = {"steps": done, "trainLoss": float(np.mean(losses[-50:])), "seconds": time.time() - start}
    if val:
        v = evaluate_localizer(net, val, device, plan)
        metrics.update({f"val{k[0].upper()}{k[1:]}": x for k, x in v.items()})
        log(f"train-localizer: validation n={v['n']}: venous centre inside the tumour {v['hitRate']:.3f} (found {v['foundRate']:.3f}), "
            f"arterial centre inside {v['arterialHitRate']:.3f}, venous Dice {v['dice']:.3f}")
    net.eval()
    return net.cpu(), metrics
