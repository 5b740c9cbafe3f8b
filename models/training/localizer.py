"""Tumour localiser: a compact 3D U-Net on the coarse isotropic grid (LocalizerSpec, 4 mm voxels,
[Z, Y, X] = 48 x 96 x 96 by default), trained on the synthetic cohort's tumour masks, on both
phases' grids (the node runs it on the venous volume, then on the arterial one to refine).

Encoder at 1/1, 1/2, 1/4, 1/8 resolution, decoder back to 1/2 with additive skips, logits at 1/2
resolution upsampled trilinearly to the input grid: the tumour (typically 30 mm, 7-8 voxels) is
well resolved at 8 mm, and skipping a full-resolution decoder halves the cost. Receptive field
about 200 mm, enough to see the pancreas around the tumour. Fully convolutional: it trains on
patches and runs on the whole grid. Grid dimensions must be multiples of 8.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dataset import Dataset, Item
from runtime import Progress, log


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class LocalizerNet(nn.Module):
    def __init__(self, base: int = 8):
        super().__init__()
        c1, c2, c3, c4 = base, 2 * base, 4 * base, 8 * base
        self.stem = _block(1, c1)
        self.down1 = nn.Sequential(_block(c1, c2, 2), _block(c2, c2))
        self.down2 = nn.Sequential(_block(c2, c3, 2), _block(c3, c3))
        self.down3 = nn.Sequential(_block(c3, c4, 2), _block(c4, c4))
        self.up3 = nn.ConvTranspose3d(c4, c3, 2, stride=2)
        self.dec3 = _block(c3, c3)
        self.up2 = nn.ConvTranspose3d(c3, c2, 2, stride=2)
        self.dec2 = _block(c2, c2)
        self.head = nn.Conv3d(c2, 1, 1)
        self.base = base

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        """[B, 1, Z, Y, X] -> logits [B, 1, Z, Y, X]."""
        s1 = self.down1(self.stem(volume))
        s2 = self.down2(s1)
        s3 = self.down3(s2)
        d2 = self.dec3(self.up3(s3) + s2)
        d1 = self.dec2(self.up2(d2) + s1)
        return F.interpolate(self.head(d1), scale_factor=2.0, mode="trilinear", align_corners=False)


class ExportedLocalizer(nn.Module):
    """volume [B, 1, Z, Y, X] -> probability [B, 1, Z, Y, X] (sigmoid)."""

    def __init__(self, net: LocalizerNet):
        super().__init__()
        self.net = net

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(volume))


def _pairs(items: List[Item]) -> List[Tuple[str, str]]:
    """(volume, mask) paths of both phases of every item that has localiser data."""
    out = []
    for it in items:
        if it.localizer:
            for phase in ("venous", "arterial"):
                if phase in it.localizer and phase + "Target" in it.localizer:
                    out.append((it.localizer[phase], it.localizer[phase + "Target"]))
    return out


def _sample_patch(vol: np.ndarray, mask: np.ndarray, patch: Tuple[int, int, int], rng: np.random.Generator,
                  positive: bool) -> Tuple[np.ndarray, np.ndarray]:
    starts = []
    coords = np.argwhere(mask) if positive else None
    for axis in range(3):
        size, p = vol.shape[axis], patch[axis]
        if size <= p:
            starts.append(0)
            continue
        if coords is not None and len(coords):
            c = int(coords[rng.integers(len(coords)), axis])
            lo, hi = max(0, c - p + 4), min(size - p, c - 4)
            starts.append(int(rng.integers(lo, hi + 1)) if hi >= lo else int(np.clip(c - p // 2, 0, size - p)))
        else:
            starts.append(int(rng.integers(0, size - p + 1)))
    sl = tuple(slice(s, s + min(p, n)) for s, p, n in zip(starts, patch, vol.shape))
    return np.ascontiguousarray(vol[sl]), np.ascontiguousarray(mask[sl])


def _loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy (tumour voxels up-weighted) + soft Dice on the probabilities."""
    pos = target.sum()
    weight = ((target.numel() - pos) / pos.clamp(min=1.0)).clamp(max=20.0)
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)
    p = torch.sigmoid(logits)
    dice = 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    return bce + dice


def predicted_centre(prob: np.ndarray, level: float = 0.5) -> Optional[Tuple[float, float, float]]:
    """[Z, Y, X] probability -> centroid (z, y, x, voxel units) of the 26-connected component of
    voxels >= level that holds the peak; None when the peak is below `level` (the node then
    refuses: tumour not found)."""
    peak = np.unravel_index(int(np.argmax(prob)), prob.shape)
    if prob[peak] < level:
        return None
    above = prob >= level
    seen = np.zeros_like(above)
    queue = deque([peak])
    seen[peak] = True
    members = []
    while queue:
        v = queue.popleft()
        members.append(v)
        for dz in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    n = (v[0] + dz, v[1] + dy, v[2] + dx)
                    if all(0 <= n[i] < prob.shape[i] for i in range(3)) and above[n] and not seen[n]:
                        seen[n] = True
                        queue.append(n)
    m = np.array(members, dtype=np.float64)
    w = prob[tuple(m.astype(int).T)]
    return tuple(float(x) for x in (m * w[:, None]).sum(0) / w.sum())  # type: ignore[return-value]


@torch.no_grad()
def evaluate_localizer(net: LocalizerNet, pairs: Sequence[Tuple[str, str]], device: torch.device, level: float) -> Dict[str, float]:
    """Hit rate: the centre (as predicted_centre finds it) lies inside the tumour mask; found
    rate: the peak reaches `level`; mean Dice at 0.5."""
    net.eval()
    hits = found = 0
    dices = []
    for vol_path, mask_path in pairs:
        vol = torch.from_numpy(np.load(vol_path)).to(device)[None, None]
        mask = np.load(mask_path)
        prob = torch.sigmoid(net(vol))[0, 0].cpu().numpy()
        centre = predicted_centre(prob, level)
        if centre is not None:
            found += 1
            idx = tuple(int(round(c)) for c in centre)
            hits += int(mask[idx] > 0)
        pred = prob >= 0.5
        dices.append(2 * (pred & (mask > 0)).sum() / max(pred.sum() + (mask > 0).sum(), 1))
    n = max(len(pairs), 1)
    return {"n": len(pairs), "hitRate": hits / n, "foundRate": found / n, "dice": float(np.mean(dices)) if dices else float("nan")}


def train_localizer(ds: Dataset, device: torch.device, steps: int, seed: int, base: int = 8, batch_size: int = 4,
                    patch: Optional[Tuple[int, int, int]] = None, lr: float = 2e-3, val_limit: int = 60,
                    max_seconds: Optional[float] = None) -> Tuple[LocalizerNet, Dict[str, float]]:
    shape = ds.localizer_shape
    if shape is None:
        raise SystemExit("the dataset has no localizer spec")
    if any(s % 8 for s in shape):
        raise SystemExit(f"localizer grid {list(shape)} [Z, Y, X]: every dimension must be a multiple of 8")
    train = _pairs(ds.split("train"))
    if not train:
        raise SystemExit("no training item has localizer volumes and masks")
    val_items = ds.split("val")
    val = [p for p in _pairs(val_items) if "venous" in p[0]][:val_limit]
    patch = patch or tuple(min(s, p) for s, p in zip(shape, (32, 64, 64)))  # type: ignore[assignment]
    level = float(ds.localizer_spec.get("minConfidence", 0.5)) if ds.localizer_spec else 0.5
    log(f"train-localizer: {len(train)} training volumes (both phases), patch {list(patch)}, batch {batch_size}, {steps} steps, device {device}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = LocalizerNet(base).to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    progress = Progress("train-localizer", steps)
    losses: List[float] = []
    start = time.time()
    done = 0
    for step in range(steps):
        vols, masks = [], []
        for b in range(batch_size):
            v_path, m_path = train[int(rng.integers(len(train)))]
            v, m = _sample_patch(np.load(v_path, mmap_mode="r"), np.load(m_path, mmap_mode="r"), patch, rng, positive=b % 3 != 2)
            if rng.random() < 0.5:  # left-right flip
                v, m = v[:, :, ::-1], m[:, :, ::-1]
            vols.append(v.copy())
            masks.append(m.copy())
        x = torch.from_numpy(np.stack(vols))[:, None].to(device)
        y = torch.from_numpy(np.stack(masks).astype(np.float32))[:, None].to(device)
        loss = _loss(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss))
        done = step + 1
        progress.update(done, f"loss {np.mean(losses[-50:]):.3f}")
        if max_seconds is not None and time.time() - start > max_seconds:
            log(f"train-localizer: time budget of {max_seconds:.0f}s reached at step {done}")
            break
    metrics: Dict[str, float] = {"steps": done, "trainLoss": float(np.mean(losses[-50:])), "seconds": time.time() - start}
    if val:
        v = evaluate_localizer(net, val, device, level)
        metrics.update({f"val{k[0].upper()}{k[1:]}": x for k, x in v.items()})
        log(f"train-localizer: validation (venous grids) n={v['n']} centre inside tumour {v['hitRate']:.3f}, found {v['foundRate']:.3f}, Dice {v['dice']:.3f}")
    net.eval()
    return net.cpu(), metrics
