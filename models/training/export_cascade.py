"""Export of the cascade (@2 datasets): stage 1 as tsr-pancreas.onnx (kind "pancreas") and stage 2
as tsr-localizer.onnx (kind "localizer" with `roi`, naming the pancreas model's name, version and
sha256, and after `calibrate` the fitted localisation `confidence` and `minConfidence`), their
manifests, and their parity cases ("pancreas", "localizer")."""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from calibration_stage import localisation_for_export
from dataset import Dataset, Item
from export import export_onnx, sha256_of, write_manifest, write_parity_case
from localizer import ExportedLocalizer
from pancreas_stage import PANCREAS_PHASES, load_pancreas_net, pancreas_pairs
from plans import LOCALIZER_MODEL_NAME, PANCREAS_MODEL_NAME, ExportPlan, PancreasPlan, RoiLocalizerPlan, RunPlan
from roi_localizer import ROI_OUTPUTS, ROI_PHASES, load_roi_localizer, roi_pairs
from runtime import log

# The grid fields of a LocalizerSpec (the dataset's localizer and roi specs carry more, e.g. jitterMm).
GRID_FIELDS = ("voxelMm", "gridSize", "huWindow", "normalisation", "outsideHu")


def _grid_spec(spec: Dict) -> Dict:
    return {k: spec[k] for k in GRID_FIELDS if k in spec}


def _io(grid_zyx, channels_in: int, channels_out: int) -> Tuple[List[Dict], List[Dict]]:
    return ([{"name": "volume", "shape": ["batch", channels_in, *grid_zyx], "dtype": "float32"}],
            [{"name": "probability", "shape": ["batch", channels_out, *grid_zyx], "dtype": "float32"}])


def _numeric(metrics: Dict) -> Dict:
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not (isinstance(v, float) and np.isnan(v))}


def _example(files: Optional[Tuple[str, ...]], channels: int, grid_zyx, seed: int) -> np.ndarray:
    """[1, C, Z, Y, X]: a test study's stored grids, or random values when there is none."""
    if files:
        return np.stack([np.load(p) for p in files])[None].astype(np.float32)
    return np.random.default_rng(seed).normal(0, 1, (1, channels, *grid_zyx)).astype(np.float32)


def _export_pancreas(plan: ExportPlan, pancreas: PancreasPlan, run: RunPlan, ds: Dataset, test_items: List[Item], version: str,
                     trained_on: str, minutes) -> Tuple[str, str, Dict, np.ndarray]:
    """tsr-pancreas.onnx + .json; returns the paths, the manifest's model reference and the example input."""
    net, checkpoint = load_pancreas_net(run)
    model = ExportedLocalizer(net).eval()
    path = os.path.join(plan.models_dir, PANCREAS_MODEL_NAME + ".onnx")
    pairs = pancreas_pairs(test_items[:1])
    volume = _example(pairs[0][0] if pairs else None, 1, pancreas.grid_zyx, plan.seed)
    export_onnx(model, (torch.from_numpy(volume),), path, ["volume"], ["probability"])
    inputs, outputs = _io(pancreas.grid_zyx, 1, 1)
    metrics = _numeric(checkpoint["metrics"])
    metrics["architecture"] = (f"3D U-Net at 8/16/32 mm, base {checkpoint['base']} channels, logits at 8 mm upsampled to the grid; "
                               "input the venous volume, output P(pancreas)")
    if minutes is not None:
        metrics["trainingMinutesAllModels"] = minutes
    preprocessing = {"phases": list(PANCREAS_PHASES),
                     "pancreas": {**_grid_spec(ds.localizer_spec), "threshold": pancreas.threshold, "minVolumeMl": pancreas.min_volume_ml}}
    manifest_path = write_manifest(path, PANCREAS_MODEL_NAME, version, "pancreas", inputs, outputs, preprocessing, trained_on, metrics)
    log(f"export: {path} ({os.path.getsize(path) / 1e6:.2f} MB), {manifest_path}")
    reference = {"name": PANCREAS_MODEL_NAME, "version": version, "sha256": sha256_of(path)}
    return path, manifest_path, reference, volume


def _roi_preprocessing(ds: Dataset, roi: RoiLocalizerPlan, pancreas_model: Dict, run: RunPlan) -> Tuple[Dict, str]:
    """preprocessing.localizer of stage 2, and what the confidence is (for the metrics)."""
    spec = {**_grid_spec(ds.roi_spec), "minConfidence": roi.min_confidence, "averageShifts": [list(x) for x in roi.average_shifts],
            "roi": {"centredOn": "pancreas", "pancreasModel": pancreas_model, "candidateLevel": roi.candidate_level,
                    "minPancreasOverlap": roi.min_pancreas_overlap, "pancreasDilationMm": roi.pancreas_dilation_mm,
                    "maxPhaseDistanceMm": roi.max_phase_distance_mm}}
    fitted = localisation_for_export(run)
    if fitted is None:
        return spec, "the peak probability of the chosen candidate (no calibration fitted); minConfidence is on the peak"
    spec["confidence"] = fitted["confidence"]
    spec["minConfidence"] = fitted["minConfidence"]
    f = fitted["figures"]
    return spec, (f"calibrated ({fitted['confidence']['fittedOn']}): minConfidence keeps {f['keptRate']:.3f} with "
                  f"{f['wrongPlaceRateKept']:.3f} in the wrong place")


def _export_roi(plan: ExportPlan, roi: RoiLocalizerPlan, run: RunPlan, ds: Dataset, test_items: List[Item], version: str,
                trained_on: str, minutes, pancreas_model: Dict) -> Tuple[str, str, np.ndarray]:
    """tsr-localizer.onnx + .json (stage 2); returns the paths and the example input."""
    net, checkpoint = load_roi_localizer(run)
    model = ExportedLocalizer(net).eval()
    path = os.path.join(plan.models_dir, LOCALIZER_MODEL_NAME + ".onnx")
    pairs = roi_pairs(test_items[:1])
    volume = _example(pairs[0][0] if pairs else None, len(ROI_PHASES), roi.grid_zyx, plan.seed)
    export_onnx(model, (torch.from_numpy(volume),), path, ["volume"], ["probability"])
    inputs, outputs = _io(roi.grid_zyx, len(ROI_PHASES), len(ROI_OUTPUTS))
    spec, confidence = _roi_preprocessing(ds, roi, pancreas_model, run)
    metrics = _numeric(checkpoint["metrics"])
    metrics["architecture"] = (f"3D U-Net at 2/4/8/16 mm on the ROI, base {checkpoint['base']} channels, logits at 2 mm; input channels "
                               f"{', '.join(ROI_PHASES)}; output channels {', '.join(ROI_OUTPUTS)}")
    metrics["localisationConfidence"] = confidence
    if minutes is not None:
        metrics["trainingMinutesAllModels"] = minutes
    manifest_path = write_manifest(path, LOCALIZER_MODEL_NAME, version, "localizer", inputs, outputs,
                                   {"phases": list(ROI_PHASES), "localizer": spec}, trained_on, metrics)
    log(f"export: {path} ({os.path.getsize(path) / 1e6:.2f} MB), {manifest_path}; confidence: {confidence}")
    return path, manifest_path, volume


def export_cascade(plan: ExportPlan, pancreas: PancreasPlan, roi: RoiLocalizerPlan, run: RunPlan, ds: Dataset, test_items: List[Item],
                   version: str, trained_on: str, minutes) -> Tuple[List[str], List[Dict]]:
    """Both stages' files and, with a parity folder, the cases "pancreas" and "localizer"."""
    p_path, p_manifest, reference, p_volume = _export_pancreas(plan, pancreas, run, ds, test_items, version, trained_on, minutes)
    r_path, r_manifest, r_volume = _export_roi(plan, roi, run, ds, test_items, version, trained_on, minutes, reference)
    cases: List[Dict] = []
    if plan.parity_dir:
        p_net, _ = load_pancreas_net(run)
        r_net, _ = load_roi_localizer(run)
        cases.append(write_parity_case(plan.parity_dir, "pancreas", p_path, ExportedLocalizer(p_net), {"volume": p_volume},
                                       ["probability"], sample_outputs=["probability"]))
        cases.append(write_parity_case(plan.parity_dir, "localizer", r_path, ExportedLocalizer(r_net), {"volume": r_volume},
                                       ["probability"], sample_outputs=["probability"]))
    return [p_path, p_manifest, r_path, r_manifest], cases
