"""Whole-voxel shifts with the edge repeated, as the node's src/inference/gridShifts.ts does them:
the localiser's shift averaging (localizer.py) and the classifiers' crop averaging
(tsr_classifier.py) move their inputs, and the localiser's outputs back, with move_grid."""
from __future__ import annotations

from typing import Sequence

import torch


def move_grid(t: torch.Tensor, shift: Sequence[int]) -> torch.Tensor:
    """`t` moved by `shift` [x, y(, z)] along its last axes (x the last, y the one before, z the
    one before that): out[..., y, x] = t[..., y - sy, x - sx], indices clamped to the grid (the
    nearest edge voxel where that falls outside)."""
    out = t
    for axis, s in zip((-1, -2, -3), shift):
        if s:
            n = t.shape[axis]
            index = (torch.arange(n, device=t.device) - int(s)).clamp(0, n - 1)
            out = out.index_select(axis, index)
    return out


__all__ = ["move_grid"]
