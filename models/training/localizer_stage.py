"""The `train-localizer` stage: train the tumour localiser (localizer.py) and write localizer.pt."""
from __future__ import annotations

from typing import Dict

import torch

from dataset import Dataset
from localizer import train_localizer
from plans import LocalizerPlan, RunPlan
from runtime import log, save_checkpoint, seed_everything


def train_localizer_stage(plan: LocalizerPlan, run: RunPlan, ds: Dataset, device: torch.device) -> Dict:
    seed_everything(plan.seed)
    net, metrics = train_localizer(ds, device, plan)
    path = run.localizer_checkpoint
    save_checkpoint(path, {"base": plan.base_channels, "state_dict": net.state_dict(), "metrics": metrics})
    log(f"train-localizer: wrote {path}")
    return metrics
