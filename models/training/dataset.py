"""Reading a training dataset written by `tsr-node dataset build` (schemas tsr-node/dataset@1 and @2).

    DATASET/manifest.json         crop / localizer (/ roi, @2) specs, label definition, items
    DATASET/crops/*.npy           float32 [C, H, W]: windowed and normalised, exactly the model input
    DATASET/localizer/*.npy       float32 [Z, Y, X] coarse grid; *_mask.npy uint8 {0, 1} tumour mask;
                                  @2: *_pancreas_mask.npy uint8 venous pancreas mask (stage 1's target)
    DATASET/roi/*.npy             @2: float32 [Z, Y, X] on the 2 mm ROI grid (both phases), uint8
                                  tumour masks per phase and the pancreas mask (stage 2's targets)

Items without a "split" are split deterministically by hashing the StudyInstanceUID, so the same
study always lands in the same split whatever else the dataset holds.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

DATASET_SCHEMAS = {"tsr-node/dataset@1": 1, "tsr-node/dataset@2": 2}
# An item's roi entry: these keys are files (made absolute), the others values (centreMm, jitterMm).
ROI_FILE_KEYS = ("arterial", "venous", "arterialTarget", "venousTarget", "pancreasTarget")
PHASES = ("arterial", "venous")
CLASS_LABELS = ("low", "high")  # labelIndex 0 = low TSR, 1 = high TSR
SPLIT_FRACTIONS = {"train": 0.70, "val": 0.15, "test": 0.15}


def hash_split(item_id: str) -> str:
    """train / val / test from sha256(id): stable across runs, machines and dataset sizes."""
    u = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:12], 16) / float(1 << 48)
    if u < SPLIT_FRACTIONS["train"]:
        return "train"
    if u < SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["val"]:
        return "val"
    return "test"


@dataclass
class Item:
    id: str
    label: int  # 0 = low, 1 = high
    split: str
    findings_text: Optional[str]
    crops: Dict[str, str]  # phase -> absolute path
    localizer: Optional[Dict[str, str]]  # arterial, venous, arterialTarget, venousTarget (@2: pancreasTarget) -> absolute path
    oracle: Optional[Dict[str, float]]
    roi: Optional[Dict] = None  # @2: ROI_FILE_KEYS -> absolute path, centreMm and jitterMm [x, y, z] as written


class Dataset:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        path = os.path.join(self.root, "manifest.json")
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
        if m.get("schema") not in DATASET_SCHEMAS:
            raise ValueError(f"{path}: schema {m.get('schema')!r}, expected one of {sorted(DATASET_SCHEMAS)}")
        self.manifest = m
        self.schema_version: int = DATASET_SCHEMAS[m["schema"]]
        self.crop_spec = m["crop"]
        self.localizer_spec = m.get("localizer")
        self.roi_spec: Optional[Dict] = m.get("roi") if self.schema_version >= 2 else None
        self.label_definition: str = m.get("labelDefinition", "")
        self.source: str = m.get("source", "")
        self.items: List[Item] = []
        for raw in m["items"]:
            label = raw.get("labelIndex")
            if label is None:
                label = CLASS_LABELS.index(raw["label"])
            if label not in (0, 1) or raw.get("label", CLASS_LABELS[label]) != CLASS_LABELS[label]:
                raise ValueError(f"item {raw.get('id')}: label {raw.get('label')!r} and labelIndex {raw.get('labelIndex')!r} disagree")
            split = raw.get("split") or hash_split(raw["id"])
            if split not in SPLIT_FRACTIONS:
                raise ValueError(f"item {raw['id']}: unknown split {split!r}")
            loc = raw.get("localizer")
            self.items.append(Item(
                id=raw["id"], label=int(label), split=split, findings_text=raw.get("findingsText"),
                crops={p: os.path.join(self.root, raw["crops"][p]) for p in PHASES},
                localizer={k: os.path.join(self.root, v) for k, v in loc.items()} if loc else None,
                oracle=raw.get("oracle"), roi=self._roi_of(raw.get("roi")),
            ))
        if not self.items:
            raise ValueError(f"{path}: no items")

    def _roi_of(self, raw: Optional[Dict]) -> Optional[Dict]:
        """An item's roi entry with its files made absolute (None in @1 datasets)."""
        if not raw or self.schema_version < 2:
            return None
        return {k: (os.path.join(self.root, v) if k in ROI_FILE_KEYS else v) for k, v in raw.items()}

    @property
    def is_cascade(self) -> bool:
        """@2 with a roi spec: the pancreas-first, coarse-to-fine localiser (stages 1 and 2)."""
        return self.schema_version >= 2 and self.roi_spec is not None

    @property
    def roi_shape(self) -> Optional[tuple]:
        """[Z, Y, X] of the ROI grid (RoiSpec.gridSize is [x, y, z])."""
        if not self.roi_spec:
            return None
        x, y, z = self.roi_spec["gridSize"]
        return (z, y, x)

    @property
    def crop_shape(self) -> tuple:
        return (len(self.crop_spec["sliceOffsetsMm"]), self.crop_spec["sizePx"], self.crop_spec["sizePx"])

    @property
    def localizer_shape(self) -> Optional[tuple]:
        """[Z, Y, X]: LocalizerSpec.gridSize is [x, y, z]."""
        if not self.localizer_spec:
            return None
        x, y, z = self.localizer_spec["gridSize"]
        return (z, y, x)

    def split(self, name: str) -> List[Item]:
        return [it for it in self.items if it.split == name]

    def load_crops(self, items: List[Item]) -> Dict[str, np.ndarray]:
        """phase -> float32 [N, C, H, W], checked against the crop spec."""
        out = {}
        for phase in PHASES:
            arrays = []
            for it in items:
                a = np.load(it.crops[phase])
                if a.shape != self.crop_shape or a.dtype != np.float32:
                    raise ValueError(f"{it.crops[phase]}: {a.dtype}{list(a.shape)}, expected float32{list(self.crop_shape)}")
                arrays.append(a)
            out[phase] = np.stack(arrays) if arrays else np.zeros((0,) + self.crop_shape, np.float32)
        return out


def labels_of(items: List[Item]) -> np.ndarray:
    return np.array([it.label for it in items], dtype=np.int64)
