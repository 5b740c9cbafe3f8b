"""Recalibration of the classifiers on the node's own path.

The classifiers are calibrated first on the validation split, with crops at the true tumour
centre (Platt scaling, tsr_classifier.calibrate_and_evaluate). In the node the crop centre comes
from the localiser instead: a few millimetres off, now and then on the wrong structure. The
scores then spread less cleanly and the validation calibration is overconfident on that path.

`train.py calibrate --evaluation DIR` fits a second Platt scaling on what `tsr-node evaluate`
wrote for a calibration cohort (DIR/cases.json: label and P(high) of each analysed study, from
the ONNX models in the node, localiser included), and composes it with the first:

    p = sigmoid(z / T + b)               (the evaluated model; z = logit_high - logit_low)
    p' = sigmoid(logit(p) / Tr + br)     (fitted here)
       = sigmoid(z / (T * Tr) + b / Tr + br)

so the exported model carries T' = T * Tr and b' = b / Tr + br, and the operating threshold moves
with the scores (same sensitivity and specificity). The calibration cohort must be apart from the
cohort a figure is reported on.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict

import numpy as np

from export import sha256_of
from metrics import ece, fit_platt

# Kit variant -> the node's model role in evaluation.json / cases.json.
ROLE_OF_VARIANT = {"fusion": "fused", "arterial": "arterial", "venous": "venous"}
CALIBRATION_FILE = "calibration.json"
# Fewer analysed studies give a fit that follows the sample, not the model (with a handful of
# separable studies the temperature runs towards 0).
MIN_ANALYSED = 100


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return np.log(q / (1 - q))


def fit_node_path_calibration(evaluation_dir: str, models_dir: str, model_names: Dict[str, str]) -> Dict[str, Dict]:
    """Per kit variant: the composed temperature, bias and threshold, and what they were fitted on.
    Refuses an evaluation of other models than those in `models_dir` (their T and b are the base
    of the composition)."""
    with open(os.path.join(evaluation_dir, "evaluation.json"), encoding="utf-8") as f:
        report = json.load(f)
    with open(os.path.join(evaluation_dir, "cases.json"), encoding="utf-8") as f:
        cases = [c for c in json.load(f) if c.get("analysed") and c.get("probabilities")]
    if len(cases) < MIN_ANALYSED:
        raise SystemExit(f"{evaluation_dir}/cases.json: {len(cases)} analysed studies; the recalibration needs at least {MIN_ANALYSED} "
                         "(use a calibration cohort of about 400)")
    labels = np.array([c["label"] == "high" for c in cases], dtype=np.float64)
    if labels.min() == labels.max():
        raise SystemExit(f"{evaluation_dir}: the analysed studies hold one class only; cannot calibrate")
    seeds = report.get("seeds", {})
    out: Dict[str, Dict] = {}
    for variant, name in model_names.items():
        role = ROLE_OF_VARIANT[variant]
        with open(os.path.join(models_dir, name + ".json"), encoding="utf-8") as f:
            manifest = json.load(f)
        evaluated = report.get("models", {}).get(role, {}).get("sha256")
        if evaluated != manifest["sha256"]:
            raise SystemExit(f"{evaluation_dir} evaluated {role} model sha256 {evaluated}, but {models_dir}/{name}.json is "
                             f"{manifest['sha256']}: evaluate the models you calibrate")
        t0 = float(manifest["metrics"]["calibrationTemperature"])
        b0 = float(manifest["metrics"].get("calibrationBias", 0.0))
        th0 = float(manifest["threshold"])
        p = np.array([c["probabilities"][role] for c in cases], dtype=np.float64)
        z = _logit(p)
        tr, br = fit_platt(np.stack([np.zeros_like(z), z], axis=1), labels)
        p_new = 1 / (1 + np.exp(-(z / tr + br)))
        threshold = 1 / (1 + math.exp(-(math.log(th0 / (1 - th0)) / tr + br)))
        out[variant] = {
            "temperature": t0 * tr, "bias": b0 / tr + br, "threshold": threshold,
            "fittedOn": f"tsr-node evaluate, seeds {seeds.get('from')}..{seeds.get('to')}, {len(cases)} analysed studies",
            "n": len(cases), "recalibrationTemperature": tr, "recalibrationBias": br,
            "eceBefore": ece(labels, p), "eceAfter": ece(labels, p_new),
        }
    return out
