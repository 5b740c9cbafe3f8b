"""The plans: every setting a stage of the kit reads, one plan per model, as nnU-Net's plans file.

    ClipPlan          CLIP pretraining (clip_stage.py)
    ClassifierPlan    the three classifiers, fused, arterial-only and venous-only (classifier_stage.py)
    PancreasPlan      stage 1 of the cascade: the pancreas on the coarse grid (pancreas_stage.py)
    LocalizerPlan     the whole-volume tumour localiser of @1 datasets (localizer_stage.py)
    RoiLocalizerPlan  stage 2 of the cascade: the tumour on the 2 mm ROI grid (roi_localizer.py), @2
    ExportPlan        ONNX export, manifests, parity fixture (export_stage.py)
    NodeCalibrationPlan   recalibration on the node's path (calibration_stage.py)
    RunPlan           the dataset, the run directory and its files, the device

train.py builds them once per invocation: the defaults below, then the command-line flags
(arguments.py), then with --smoke the SMOKE_OVERRIDES, then what the dataset fixes (crop shape,
localiser grid and patch: with_dataset). Each stage reads only its plan. When a stage has run, its
plan goes into the run directory's plans.json (one section per stage, the latest run of each), so
the run records exactly what it used.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from dataset import Dataset
from localizer import AVERAGE_SHIFTS
from node_calibration import CALIBRATION_FILE
from tsr_classifier import CROP_AVERAGE_SHIFTS

KIT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(os.path.dirname(KIT_DIR))
DEFAULT_SEED = 20240611

# The classifiers: kit variant -> the phases it reads, and the name of its model in models/.
CLASSIFIER_PHASES = {"fusion": ["arterial", "venous"], "arterial": ["arterial"], "venous": ["venous"]}
CLASSIFIER_MODEL_NAMES = {"fusion": "tsr-clip-fusion", "arterial": "tsr-clip-arterial", "venous": "tsr-clip-venous"}
LOCALIZER_MODEL_NAME = "tsr-localizer"
PANCREAS_MODEL_NAME = "tsr-pancreas"

PLANS_FILE = "plans.json"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class RunPlan:
    """Where a run reads and writes, and on what device."""

    dataset_dir: str
    run_dir: str
    device: str = "auto"  # auto (CUDA when present), cpu or cuda
    smoke: bool = False  # tiny models, a few steps (SMOKE_OVERRIDES): for tests

    @property
    def clip_checkpoint(self) -> str:
        return os.path.join(self.run_dir, "clip.pt")

    def classifier_checkpoint(self, variant: str) -> str:
        return os.path.join(self.run_dir, f"classifier_{variant}.pt")

    @property
    def localizer_checkpoint(self) -> str:
        """The tumour localiser: whole-volume (@1) or the cascade's ROI model (@2, "kind": "roi")."""
        return os.path.join(self.run_dir, "localizer.pt")

    @property
    def pancreas_checkpoint(self) -> str:
        return os.path.join(self.run_dir, "pancreas.pt")

    @property
    def summary_file(self) -> str:
        return os.path.join(self.run_dir, SUMMARY_FILE)

    @property
    def plans_file(self) -> str:
        return os.path.join(self.run_dir, PLANS_FILE)

    @property
    def calibration_file(self) -> str:
        return os.path.join(self.run_dir, CALIBRATION_FILE)

    @property
    def node_evaluation_dir(self) -> str:
        """Where the kit's own `tsr-node evaluate` of the calibration cohort writes."""
        return os.path.join(self.run_dir, "node-calibration")


def default_run_dir(dataset_dir: str, smoke: bool) -> str:
    """models/training/runs/<dataset folder name>[-smoke]."""
    name = os.path.basename(os.path.normpath(dataset_dir)) + ("-smoke" if smoke else "")
    return os.path.join(KIT_DIR, "runs", name)


@dataclass(frozen=True)
class ClipPlan:
    """CLIP: its size, and its contrastive pretraining on (crop, findings text) pairs."""

    seed: int = DEFAULT_SEED
    crop_shape: Optional[Tuple[int, int, int]] = None  # [slices, height, width]: from the dataset
    start_weights: Optional[str] = None  # a ViT-family CLIP state dict to start from (--clip-weights)
    bpe_vocabulary: Optional[str] = None  # CLIP's BPE merges file: the real tokenizer (--bpe-vocab)
    embed_dim: int = 64
    patch_size: int = 8
    vision_width: int = 64
    vision_layers: int = 4
    vision_heads: int = 2
    text_width: int = 64
    text_layers: int = 2
    text_heads: int = 2
    max_context: int = 128  # longest tokenised text kept
    epochs: int = 80  # 0: no contrastive training (e.g. real CLIP weights as they are)
    max_minutes: Optional[float] = None  # stop pretraining after this many minutes
    batch_size: int = 64  # studies per contrastive batch
    learning_rate: float = 1e-3
    weight_decay: float = 0.1  # on the weight matrices (not on embeddings, biases, norms)
    prompt_weight: float = 1.0  # weight of the (crop, class prompt) term; 0: findings texts only
    sentence_keep: float = 0.7  # probability of keeping each sentence of a findings text per step
    augment_shift_px: int = 4  # largest in-plane shift of the augmented crops


@dataclass(frozen=True)
class ClassifierPlan:
    """The three classifiers. They share one cache of image features, so every setting but the
    phases is common to them."""

    seed: int = DEFAULT_SEED
    crop_shape: Optional[Tuple[int, int, int]] = None  # [slices, height, width]: from the dataset
    phases_by_variant: Dict[str, List[str]] = field(default_factory=lambda: {k: list(v) for k, v in CLASSIFIER_PHASES.items()})
    epochs: int = 60  # --head-epochs
    learning_rate: float = 1e-3  # the encoder blocks tuned with the head: a third of it
    weight_decay: float = 1e-2
    batch_size: int = 64
    tune_blocks: int = 1  # image encoder blocks fine-tuned with each classifier (0: frozen encoder)
    adapter_alpha: float = 0.5  # CLIP-Adapter residual ratio (--alpha)
    views: int = 8  # augmented views of each training crop to embed
    shift_px: int = 8  # largest in-plane shift of those views
    # The node's crop averaging (validation, test, and the manifests): [x, y] pixels, plain first.
    crop_average_shifts: Tuple[Tuple[int, int], ...] = CROP_AVERAGE_SHIFTS


@dataclass(frozen=True)
class LocalizerPlan:
    """The tumour localiser: a 3D U-Net on the dataset's coarse grid, trained on patches."""

    seed: int = DEFAULT_SEED
    grid_zyx: Optional[Tuple[int, int, int]] = None  # from the dataset's localizer spec
    voxel_mm: float = 4.0  # from the dataset's localizer spec
    min_confidence: float = 0.5  # the node's level for "tumour found": from the dataset's localizer spec
    largest_patch_zyx: Tuple[int, int, int] = (32, 64, 64)
    patch_zyx: Optional[Tuple[int, int, int]] = None  # the training patch: the grid, at most largest_patch_zyx
    steps: int = 10000
    max_minutes: Optional[float] = None  # stop training after this many minutes
    base_channels: int = 12  # channels of the first level
    batch_size: int = 4
    learning_rate: float = 2e-3  # one-cycle peak
    weight_decay: float = 1e-4
    preload_gb: float = 8.0  # hold the training volumes in memory when they fit in this many GB
    validation_limit: int = 100  # validation studies scored after training
    # The node's shift averaging (validation, and the manifest): [x, y, z] voxels, plain first.
    average_shifts: Tuple[Tuple[int, int, int], ...] = AVERAGE_SHIFTS
    arterial_radius_mm: float = 20.0  # the arterial centre is searched this close to the venous one


@dataclass(frozen=True)
class PancreasPlan:
    """Stage 1: a 3D U-Net (localizer.LocalizerNet, one channel in and out) on the coarse grid,
    venous volume in, P(pancreas) out. Whole grids by default (the patch is the grid)."""

    seed: int = DEFAULT_SEED
    grid_zyx: Optional[Tuple[int, int, int]] = None  # from the dataset's localizer spec
    voxel_mm: float = 4.0  # from the dataset's localizer spec
    largest_patch_zyx: Tuple[int, int, int] = (48, 96, 96)
    patch_zyx: Optional[Tuple[int, int, int]] = None  # the training patch: the grid, at most largest_patch_zyx
    steps: int = 3000
    max_minutes: Optional[float] = 10.0  # stop training after this many minutes (--pancreas-minutes)
    base_channels: int = 8
    batch_size: int = 2
    learning_rate: float = 2e-3  # one-cycle peak
    weight_decay: float = 1e-4
    max_pos_weight: float = 3.0  # BCE up-weighting of pancreas voxels, at most
    preload_gb: float = 8.0
    validation_limit: int = 100
    threshold: float = 0.5  # the node's mask level (manifest preprocessing.pancreas.threshold)
    min_volume_ml: float = 5.0  # below it for the largest component: pancreas-not-found
    init_checkpoint: Optional[str] = None  # start from this pancreas.pt (--pancreas-init), e.g. to train on after a time cap


@dataclass(frozen=True)
class RoiLocalizerPlan:
    """Stage 2: a 3D U-Net at full resolution on the 2 mm ROI grid, both phases in, tumour
    (arterial, venous) and pancreas out; trained on patches, two thirds around tumour voxels."""

    seed: int = DEFAULT_SEED
    grid_zyx: Optional[Tuple[int, int, int]] = None  # from the dataset's roi spec
    voxel_mm: float = 2.0  # from the dataset's roi spec
    largest_patch_zyx: Tuple[int, int, int] = (32, 48, 64)  # [Z, Y, X]: 64 x 48 x 32 voxels [x, y, z]
    patch_zyx: Optional[Tuple[int, int, int]] = None  # the training patch: the grid, at most largest_patch_zyx
    tumour_fraction: float = 2.0 / 3.0  # share of patches drawn around a venous tumour voxel
    steps: int = 8000
    max_minutes: Optional[float] = 25.0  # stop training after this many minutes (--localizer-minutes)
    base_channels: int = 8
    batch_size: int = 2
    learning_rate: float = 2e-3  # one-cycle peak
    weight_decay: float = 1e-4
    max_pos_weight: float = 10.0  # BCE up-weighting of tumour voxels, at most
    preload_gb: float = 8.0
    validation_limit: int = 100
    # The node's shift averaging (validation, and the manifest): [x, y, z] voxels, plain first.
    average_shifts: Tuple[Tuple[int, int, int], ...] = AVERAGE_SHIFTS
    # The node's decision (validation, and the manifest's preprocessing.localizer.roi).
    min_confidence: float = 0.5  # without a fitted confidence: on the peak
    candidate_level: float = 0.5
    min_pancreas_overlap: float = 0.3
    pancreas_dilation_mm: float = 6.0
    max_phase_distance_mm: float = 20.0
    init_checkpoint: Optional[str] = None  # start from this ROI localizer.pt (--localizer-init), e.g. to train on after a time cap
    arterial_radius_mm: float = 20.0


@dataclass(frozen=True)
class ExportPlan:
    """ONNX files, manifests and the parity fixture."""

    models_dir: str = os.path.join(REPO_DIR, "models")  # absolute (--out)
    parity_dir: Optional[str] = None  # None: no parity fixture
    copy_models_into_parity_dir: bool = False  # a self-contained fixture (--parity-copy-models)
    model_version: Optional[str] = None  # None: 0.5.0 for the cascade (@2 datasets), 0.4.0 for @1
    seed: int = DEFAULT_SEED  # the random localiser input when the dataset has no localiser study
    localizer_only: bool = False  # --localizer-only: only the cascade (tsr-pancreas, tsr-localizer); no CLIP, no classifiers


@dataclass(frozen=True)
class NodeCalibrationPlan:
    """The second Platt scaling, on what `tsr-node evaluate` gives for a calibration cohort."""

    models_dir: str = os.path.join(REPO_DIR, "models")  # the models evaluated (absolute, --out)
    evaluation_dir: Optional[str] = None  # `tsr-node evaluate` output; None: the kit runs it
    cohort_seed: int = 1000400  # first seed of the synthetic calibration cohort
    cohort_count: int = 400  # 0: no node-path calibration in `all`
    node_executable: str = "node"
    localizer_only: bool = False  # --localizer-only: only the localisation confidence, no classifier recalibration


@dataclass(frozen=True)
class Plans:
    run: RunPlan
    clip: ClipPlan
    classifiers: ClassifierPlan
    localizer: LocalizerPlan
    export: ExportPlan
    node_calibration: NodeCalibrationPlan
    pancreas: PancreasPlan = PancreasPlan()
    roi_localizer: RoiLocalizerPlan = RoiLocalizerPlan()


# --smoke: every stage, a tiny model, a few steps, no node-path calibration in `all`. Only for
# tests. These win over the command line.
SMOKE_OVERRIDES: Dict[str, Dict[str, object]] = {
    "clip": {"vision_width": 16, "vision_layers": 2, "vision_heads": 2, "embed_dim": 16, "text_width": 16, "text_layers": 1,
             "text_heads": 2, "epochs": 1, "batch_size": 16},
    "classifiers": {"epochs": 3, "views": 2},
    "localizer": {"steps": 2, "base_channels": 2, "batch_size": 2, "validation_limit": 4},
    "pancreas": {"steps": 2, "base_channels": 2, "batch_size": 2, "validation_limit": 4},
    "roi_localizer": {"steps": 2, "base_channels": 2, "batch_size": 2, "validation_limit": 4},
    "node_calibration": {"cohort_count": 0},
}


def with_smoke_overrides(plans: Plans) -> Plans:
    return dataclasses.replace(plans, **{section: dataclasses.replace(getattr(plans, section), **values)
                                         for section, values in SMOKE_OVERRIDES.items()})


def with_dataset(plans: Plans, ds: Dataset) -> Plans:
    """The plans completed with what the dataset fixes: the crop shape, the localiser's grid,
    voxel size, confidence level and training patch; for @2, stage 1's (the coarse grid) and
    stage 2's (the ROI grid)."""
    crop_shape = tuple(ds.crop_shape)
    localizer, pancreas, roi = plans.localizer, plans.pancreas, plans.roi_localizer
    spec = ds.localizer_spec
    if spec:
        grid = tuple(ds.localizer_shape)
        localizer = dataclasses.replace(
            localizer, grid_zyx=grid, voxel_mm=float(spec.get("voxelMm", 4.0)), min_confidence=float(spec.get("minConfidence", 0.5)),
            patch_zyx=_patch(grid, localizer.largest_patch_zyx))
        pancreas = dataclasses.replace(pancreas, grid_zyx=grid, voxel_mm=float(spec.get("voxelMm", 4.0)),
                                       patch_zyx=_patch(grid, pancreas.largest_patch_zyx))
    if ds.roi_spec:
        grid = tuple(ds.roi_shape)
        roi = dataclasses.replace(roi, grid_zyx=grid, voxel_mm=float(ds.roi_spec.get("voxelMm", 2.0)),
                                  min_confidence=float(ds.roi_spec.get("minConfidence", roi.min_confidence)),
                                  patch_zyx=_patch(grid, roi.largest_patch_zyx))
    return dataclasses.replace(plans, clip=dataclasses.replace(plans.clip, crop_shape=crop_shape),
                               classifiers=dataclasses.replace(plans.classifiers, crop_shape=crop_shape), localizer=localizer,
                               pancreas=pancreas, roi_localizer=roi)


def _patch(grid: Tuple[int, ...], largest: Tuple[int, ...]) -> Tuple[int, int, int]:
    return tuple(min(size, most) for size, most in zip(grid, largest))  # type: ignore[return-value]


def record_plans(plans: Plans, sections: List[str]) -> str:
    """Write these sections of the plans (and the run section) into the run directory's
    plans.json, keeping the other sections of earlier stages. Returns its path."""
    path = plans.run.plans_file
    recorded: Dict[str, Dict] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            recorded = json.load(f)
    for section in ["run"] + sections:
        recorded[section] = dataclasses.asdict(getattr(plans, section))
    os.makedirs(plans.run.run_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(recorded, f, indent=2)
        f.write("\n")
    return path
