"""Stage 1 of the cascade (`train-pancreas`, @2 datasets): P(pancreas) on the coarse whole-volume
grid (the dataset's localizer spec: 4 mm, [Z, Y, X] = 48 x 96 x 96), from the venous volume only.

The network is the localiser's 3D U-Net (localizer.LocalizerNet) with one channel in and one out:
features at 8, 16 and 32 mm, logits upsampled to the grid. The pancreas is large (60-100 ml, about
1000-1500 coarse voxels), so 8 mm features place it well enough for the ROI centre, which is all
stage 2 needs (a box of 192 x 144 x 96 mm around it). Trained on whole grids (Dice + BCE).
Validation: Dice at the node's threshold, the ROI centre's error in mm (the contract's centre of
the largest component's bounding box, predicted versus true) and how often the node would refuse
(largest component under min_volume_ml).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Sequence, Tuple

import numpy as np
import torch

from dataset import Dataset, Item
from localizer import LocalizerNet
from runtime import load_checkpoint, log, save_checkpoint, seed_everything
from segmentation import Pair, PatchSchedule, dice, dice_bce, largest_component, roi_centre_mm, train_on_patches

if TYPE_CHECKING:
    from plans import PancreasPlan, RunPlan

PANCREAS_PHASES = ("venous",)


def pancreas_net(base: int) -> LocalizerNet:
    """One channel in (venous), one out (pancreas logit)."""
    return LocalizerNet(base, channels=1)


def pancreas_pairs(items: List[Item]) -> List[Pair]:
    """((venous coarse volume,), (venous pancreas mask,)) of every item that has both."""
    out = []
    for it in items:
        loc = it.localizer or {}
        if "venous" in loc and "pancreasTarget" in loc:
            out.append(((loc["venous"],), (loc["pancreasTarget"],)))
    return out


@torch.no_grad()
def pancreas_probability(net: torch.nn.Module, volume: np.ndarray, device: torch.device) -> np.ndarray:
    """[Z, Y, X] venous volume -> [Z, Y, X] P(pancreas)."""
    x = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None].to(device)
    return torch.sigmoid(net(x))[0, 0].cpu().numpy()


@torch.no_grad()
def evaluate_pancreas(net: torch.nn.Module, pairs: Sequence[Pair], device: torch.device, plan: "PancreasPlan") -> Dict[str, float]:
    """Dice at plan.threshold; the ROI centre error (mm, predicted vs true mask, as the node and
    the dataset builder compute it); found rate (largest component >= plan.min_volume_ml)."""
    net.eval()
    voxel_ml = plan.voxel_mm ** 3 / 1000.0
    dices: List[float] = []
    errors: List[float] = []
    found = 0
    for pair in pairs:
        volume, truth = np.load(pair[0][0]), np.load(pair[1][0]) > 0
        pred = pancreas_probability(net, volume, device) >= plan.threshold
        dices.append(dice(pred, truth))
        component = largest_component(pred)
        if component.sum() * voxel_ml >= plan.min_volume_ml:
            found += 1
        centre, true_centre = roi_centre_mm(pred, plan.voxel_mm, component), roi_centre_mm(truth, plan.voxel_mm)
        if centre is not None and true_centre is not None:
            errors.append(float(np.linalg.norm(centre - true_centre)))
    n = max(len(pairs), 1)
    out = {"n": len(pairs), "dice": float(np.mean(dices)) if dices else float("nan"), "foundRate": found / n}
    if errors:
        out.update({"centreErrorMm": float(np.mean(errors)), "centreErrorP95Mm": float(np.percentile(errors, 95)),
                    "centreErrorMaxMm": float(np.max(errors))})
    return out


def train_pancreas(ds: Dataset, device: torch.device, plan: "PancreasPlan") -> Tuple[LocalizerNet, Dict[str, float]]:
    """Train on the training split's coarse venous grids, score the validation split."""
    if not ds.is_cascade:
        raise SystemExit("train-pancreas needs a tsr-node/dataset@2 dataset (pancreas masks and a roi spec)")
    if plan.grid_zyx is None or any(s % 8 for s in plan.grid_zyx):
        raise SystemExit(f"pancreas grid {plan.grid_zyx} [Z, Y, X]: every dimension must be a multiple of 8")
    train = pancreas_pairs(ds.split("train"))
    if not train:
        raise SystemExit("no training item has a coarse venous volume and pancreas mask (localizer.pancreasTarget)")
    val = pancreas_pairs(ds.split("val"))[:plan.validation_limit]
    log(f"train-pancreas: {len(train)} training studies (venous), patch {list(plan.patch_zyx)}, batch {plan.batch_size}, "
        f"{plan.steps} steps, cap {plan.max_minutes} min, device {device}")
    torch.manual_seed(plan.seed)
    net = pancreas_net(plan.base_channels)
    if plan.init_checkpoint:
        start = load_checkpoint(plan.init_checkpoint)
        if start.get("base") != plan.base_channels:
            raise SystemExit(f"--pancreas-init {plan.init_checkpoint}: base {start.get('base')} channels, the plan has {plan.base_channels}")
        net.load_state_dict(start["state_dict"])
        log(f"train-pancreas: starting from {plan.init_checkpoint}")
    schedule = PatchSchedule("train-pancreas", plan.patch_zyx, plan.steps, plan.batch_size, plan.learning_rate, plan.weight_decay,
                             plan.max_minutes, plan.preload_gb, plan.seed, positive_fraction=0.5, positive_channel=0)
    metrics = train_on_patches(net, train, device, schedule, lambda logits, y: dice_bce(logits, y, plan.max_pos_weight))
    if val:
        v = evaluate_pancreas(net, val, device, plan)
        metrics.update({f"val{k[0].upper()}{k[1:]}": x for k, x in v.items()})
        log(f"train-pancreas: validation n={v['n']}: Dice {v['dice']:.3f}, found {v['foundRate']:.3f}, "
            f"ROI centre error {v.get('centreErrorMm', float('nan')):.1f} mm (p95 {v.get('centreErrorP95Mm', float('nan')):.1f})")
    return net.cpu().eval(), metrics


def train_pancreas_stage(plan: "PancreasPlan", run: "RunPlan", ds: Dataset, device: torch.device) -> Dict:
    """`train-pancreas`: train stage 1 and write pancreas.pt."""
    seed_everything(plan.seed)
    net, metrics = train_pancreas(ds, device, plan)
    path = run.pancreas_checkpoint
    save_checkpoint(path, {"kind": "pancreas", "base": plan.base_channels, "state_dict": net.state_dict(), "metrics": metrics})
    log(f"train-pancreas: wrote {path}")
    return metrics


def load_pancreas_net(run: "RunPlan") -> Tuple[LocalizerNet, Dict]:
    """The run's stage-1 network (eval mode) and its checkpoint."""
    checkpoint = load_checkpoint(run.pancreas_checkpoint)
    net = pancreas_net(checkpoint["base"])
    net.load_state_dict(checkpoint["state_dict"])
    return net.eval(), checkpoint
