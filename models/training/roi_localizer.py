"""Stage 2 of the cascade (`train-localizer` on @2 datasets): the tumour on the 2 mm region of
interest around the pancreas (the dataset's roi spec: [Z, Y, X] = 48 x 72 x 96 by default).

A 3D U-Net at full resolution: encoder at 2, 4, 8 and 16 mm, decoder back to 2 mm with additive
skips at every level, so the logits are at 2 mm (a 10 mm tumour spans 5 voxels; at 8 mm it would
be one). Input channels (arterial, venous); output channels (tumour as the arterial image shows
it, tumour as the venous image shows it, pancreas). Base 8 channels keeps a 2-core CPU able to
train it on patches (64 x 48 x 32 voxels [x, y, z], two thirds around a tumour voxel); it is
fully convolutional, and the node runs it on the whole ROI grid. Grid dimensions: multiples of 8.

Validation follows the node's decision (contract, "Node decision"): candidates are 26-connected
components of the shift-averaged venous map >= candidate_level; each one's pancreas overlap is
the share of its voxels in the predicted pancreas (channel 2 >= 0.5) dilated by
pancreas_dilation_mm; the tumour is the candidate with the highest peak * (1 or 0.1 outside the
pancreas); a hit is its probability-weighted centre inside the true venous tumour mask.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dataset import Dataset, Item
from localizer import _block, shifted_probability
from runtime import load_checkpoint, log, save_checkpoint, seed_everything
from segmentation import Pair, PatchSchedule, dice, dice_bce, label_components, train_on_patches

if TYPE_CHECKING:
    from plans import RoiLocalizerPlan, RunPlan

ROI_PHASES = ("arterial", "venous")  # input channels (the manifest's preprocessing.phases)
ROI_OUTPUTS = ("tumour-arterial", "tumour-venous", "pancreas")  # output channels
ROI_TARGET_KEYS = ("arterialTarget", "venousTarget", "pancreasTarget")
VENOUS, PANCREAS = 1, 2


class RoiLocalizerNet(nn.Module):
    def __init__(self, base: int = 8, in_channels: int = len(ROI_PHASES), out_channels: int = len(ROI_OUTPUTS)):
        super().__init__()
        c1, c2, c3, c4 = base, 2 * base, 4 * base, 8 * base
        self.enc1 = nn.Sequential(_block(in_channels, c1), _block(c1, c1))  # 2 mm
        self.enc2 = nn.Sequential(_block(c1, c2, 2), _block(c2, c2))  # 4 mm
        self.enc3 = nn.Sequential(_block(c2, c3, 2), _block(c3, c3))  # 8 mm
        self.enc4 = nn.Sequential(_block(c3, c4, 2), _block(c4, c4))  # 16 mm
        self.up4 = nn.ConvTranspose3d(c4, c3, 2, stride=2)
        self.dec3 = _block(c3, c3)
        self.up3 = nn.ConvTranspose3d(c3, c2, 2, stride=2)
        self.dec2 = _block(c2, c2)
        self.up2 = nn.ConvTranspose3d(c2, c1, 2, stride=2)
        self.dec1 = _block(c1, c1)
        self.head = nn.Conv3d(c1, out_channels, 1)
        self.base = base

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        """[B, 2, Z, Y, X] -> logits [B, 3, Z, Y, X] (ROI_OUTPUTS order), same grid."""
        s1 = self.enc1(volume)
        s2 = self.enc2(s1)
        s3 = self.enc3(s2)
        s4 = self.enc4(s3)
        d3 = self.dec3(self.up4(s4) + s3)
        d2 = self.dec2(self.up3(d3) + s2)
        d1 = self.dec1(self.up2(d2) + s1)
        return self.head(d1)


def roi_pairs(items: List[Item]) -> List[Pair]:
    """((arterial, venous ROI volumes), (arterial, venous tumour masks, pancreas mask)) of every
    item with a complete roi entry."""
    out = []
    for it in items:
        roi = it.roi or {}
        if all(k in roi for k in ROI_PHASES + ROI_TARGET_KEYS):
            out.append((tuple(roi[p] for p in ROI_PHASES), tuple(roi[k] for k in ROI_TARGET_KEYS)))
    return out


def _roi_loss(logits: torch.Tensor, target: torch.Tensor, max_pos_weight: float) -> torch.Tensor:
    """Dice + BCE on the two tumour channels (tumour voxels up-weighted) plus Dice + BCE on the
    pancreas channel."""
    return dice_bce(logits[:, :PANCREAS], target[:, :PANCREAS], max_pos_weight) + dice_bce(logits[:, PANCREAS:], target[:, PANCREAS:], 3.0)


def _dilate(mask: np.ndarray, radius_voxels: float) -> np.ndarray:
    """A boolean [Z, Y, X] mask dilated by a ball of `radius_voxels`."""
    r = int(np.floor(radius_voxels))
    if r < 1:
        return mask
    zz, yy, xx = np.mgrid[-r:r + 1, -r:r + 1, -r:r + 1]
    ball = torch.from_numpy(((zz ** 2 + yy ** 2 + xx ** 2) <= radius_voxels ** 2).astype(np.float32))[None, None]
    x = torch.from_numpy(mask.astype(np.float32))[None, None]
    return (F.conv3d(x, ball, padding=r)[0, 0] > 0.5).numpy()


def find_tumour(prob: np.ndarray, plan: "RoiLocalizerPlan") -> Dict:
    """The node's decision on a [3, Z, Y, X] probability: {"status": "found" | "tumour-not-found" |
    "finding-outside-pancreas", and when found "centre" (z, y, x voxels), "component" (mask),
    "peak", "pancreasOverlap"}."""
    venous = prob[VENOUS]
    labels, n = label_components(venous >= plan.candidate_level)
    if n == 0:
        return {"status": "tumour-not-found"}
    pancreas = _dilate(prob[PANCREAS] >= 0.5, plan.pancreas_dilation_mm / plan.voxel_mm)
    flat_labels = labels.reshape(-1)
    peaks = np.zeros(n + 1)
    np.maximum.at(peaks, flat_labels, venous.reshape(-1))
    sizes = np.bincount(flat_labels, minlength=n + 1)
    overlap = np.bincount(flat_labels, weights=pancreas.reshape(-1).astype(np.float64), minlength=n + 1) / np.maximum(sizes, 1)
    inside = overlap >= plan.min_pancreas_overlap
    evidence = peaks * np.where(inside, 1.0, 0.1)
    evidence[0] = -1.0
    best = int(np.argmax(evidence))
    if not inside[best]:
        return {"status": "finding-outside-pancreas"}
    component = labels == best
    idx = np.argwhere(component).astype(np.float64)
    w = venous[component].astype(np.float64)
    centre = tuple(float(c) for c in (idx * w[:, None]).sum(0) / w.sum())
    return {"status": "found", "centre": centre, "component": component, "peak": float(peaks[best]), "pancreasOverlap": float(overlap[best])}


def _inside(mask: np.ndarray, centre: Optional[Tuple[float, ...]]) -> bool:
    if centre is None:
        return False
    idx = tuple(int(round(c)) for c in centre)
    return all(0 <= i < n for i, n in zip(idx, mask.shape)) and bool(mask[idx] > 0)


@torch.no_grad()
def evaluate_roi_localizer(net: nn.Module, pairs: Sequence[Pair], device: torch.device, plan: "RoiLocalizerPlan") -> Dict[str, float]:
    """As the node decides on the ROI (shift averaging included): hit rate (the chosen venous
    centre inside the true venous tumour), found rate, refusals by code, tumour Dice (venous
    channel >= 0.5, and the chosen component alone) and pancreas Dice (channel 2 >= 0.5)."""
    net.eval()
    hits = 0
    status_counts: Dict[str, int] = {}
    dices: List[float] = []
    component_dices: List[float] = []
    pancreas_dices: List[float] = []
    for pair in pairs:
        volume = np.stack([np.load(p) for p in pair[0]])
        masks = np.stack([np.load(p) for p in pair[1]]) > 0
        prob = shifted_probability(net, torch.from_numpy(volume).to(device), plan.average_shifts).cpu().numpy()
        decision = find_tumour(prob, plan)
        status_counts[decision["status"]] = status_counts.get(decision["status"], 0) + 1
        hits += int(_inside(masks[VENOUS], decision.get("centre")))
        dices.append(dice(prob[VENOUS] >= 0.5, masks[VENOUS]))
        component_dices.append(dice(decision["component"], masks[VENOUS]) if "component" in decision else 0.0)
        pancreas_dices.append(dice(prob[PANCREAS] >= 0.5, masks[PANCREAS]))
    n = max(len(pairs), 1)
    out = {"n": len(pairs), "hitRate": hits / n, "foundRate": status_counts.get("found", 0) / n,
           "outsidePancreasRate": status_counts.get("finding-outside-pancreas", 0) / n,
           "notFoundRate": status_counts.get("tumour-not-found", 0) / n}
    if pairs:
        out.update({"dice": float(np.mean(dices)), "componentDice": float(np.mean(component_dices)),
                    "pancreasDice": float(np.mean(pancreas_dices))})
    return out


def train_roi_localizer(ds: Dataset, device: torch.device, plan: "RoiLocalizerPlan") -> Tuple[RoiLocalizerNet, Dict[str, float]]:
    """Train on ROI patches of the training split (two thirds around a venous tumour voxel), then
    score the validation split's whole ROI grids."""
    if plan.grid_zyx is None or any(s % 8 for s in plan.grid_zyx) or any(s % 8 for s in plan.patch_zyx):
        raise SystemExit(f"ROI grid {plan.grid_zyx} / patch {plan.patch_zyx} [Z, Y, X]: every dimension must be a multiple of 8")
    train = roi_pairs(ds.split("train"))
    if not train:
        raise SystemExit("no training item has complete roi files (volumes and the three masks)")
    val = roi_pairs(ds.split("val"))[:plan.validation_limit]
    log(f"train-localizer (ROI, stage 2): {len(train)} training studies, grid {list(plan.grid_zyx)}, patch {list(plan.patch_zyx)}, "
        f"batch {plan.batch_size}, {plan.steps} steps, cap {plan.max_minutes} min, device {device}")
    torch.manual_seed(plan.seed)
    net = RoiLocalizerNet(plan.base_channels)
    if plan.init_checkpoint:
        start = load_checkpoint(plan.init_checkpoint)
        if start.get("kind") != "roi" or start.get("base") != plan.base_channels:
            raise SystemExit(f"--localizer-init {plan.init_checkpoint}: not an ROI localiser with base {plan.base_channels} channels")
        net.load_state_dict(start["state_dict"])
        log(f"train-localizer: starting from {plan.init_checkpoint}")
    schedule = PatchSchedule("train-localizer", plan.patch_zyx, plan.steps, plan.batch_size, plan.learning_rate, plan.weight_decay,
                             plan.max_minutes, plan.preload_gb, plan.seed, positive_fraction=plan.tumour_fraction, positive_channel=VENOUS)
    metrics = train_on_patches(net, train, device, schedule, lambda logits, y: _roi_loss(logits, y, plan.max_pos_weight))
    if val:
        v = evaluate_roi_localizer(net, val, device, plan)
        metrics.update({f"val{k[0].upper()}{k[1:]}": x for k, x in v.items()})
        log(f"train-localizer: validation n={v['n']}: venous centre inside the tumour {v['hitRate']:.3f} (found {v['foundRate']:.3f}, "
            f"outside the pancreas {v['outsidePancreasRate']:.3f}), tumour Dice {v.get('dice', float('nan')):.3f} "
            f"(component {v.get('componentDice', float('nan')):.3f}), pancreas Dice {v.get('pancreasDice', float('nan')):.3f}")
    return net.cpu().eval(), metrics


def train_roi_localizer_stage(plan: "RoiLocalizerPlan", run: "RunPlan", ds: Dataset, device: torch.device) -> Dict:
    """`train-localizer` on a @2 dataset: stage 2, written to localizer.pt ("kind": "roi")."""
    seed_everything(plan.seed)
    net, metrics = train_roi_localizer(ds, device, plan)
    path = run.localizer_checkpoint
    save_checkpoint(path, {"kind": "roi", "base": plan.base_channels, "state_dict": net.state_dict(), "metrics": metrics})
    log(f"train-localizer: wrote {path}")
    return metrics


def load_roi_localizer(run: "RunPlan") -> Tuple[RoiLocalizerNet, Dict]:
    """The run's stage-2 network (eval mode) and its checkpoint; refuses a whole-volume one."""
    checkpoint = load_checkpoint(run.localizer_checkpoint)
    if checkpoint.get("kind") != "roi":
        raise SystemExit(f"{run.localizer_checkpoint} is a whole-volume localiser (@1): run `train.py train-localizer` on the @2 dataset")
    net = RoiLocalizerNet(checkpoint["base"])
    net.load_state_dict(checkpoint["state_dict"])
    return net.eval(), checkpoint
