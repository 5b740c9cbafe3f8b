"""The `evaluate` stage: figures on the dataset's test split from the run's checkpoints (the
product's held-out evaluation is `tsr-node evaluate`, on the shipped ONNX models); and the test
split's table, which the classifier stage logs too."""
from __future__ import annotations

import os
from typing import Dict, List

import numpy as np
import torch

from dataset import Dataset, Item, labels_of
from localizer import LocalizerNet, evaluate_localizer, localizer_pairs
from metrics import auc
from pancreas_stage import evaluate_pancreas, load_pancreas_net, pancreas_pairs
from plans import CLASSIFIER_PHASES, Plans
from roi_localizer import evaluate_roi_localizer, load_roi_localizer, roi_pairs
from runtime import load_checkpoint, log

# Kit variant -> the key of its figure in the dataset's oracle scores.
ORACLE_KEY_OF_VARIANT = {"fusion": "fused", "arterial": "arterial", "venous": "venous"}


def oracle_aucs(items: List[Item]) -> Dict[str, float]:
    """AUC of the dataset's oracle scores (what a perfect reader of the toy or synthetic data
    would score), per model role; empty when an item has none."""
    if not items or any(it.oracle is None for it in items):
        return {}
    labels = labels_of(items)
    return {key: auc(labels, np.array([it.oracle[key] for it in items])) for key in ("fused", "arterial", "venous")}


def log_test_table(results: Dict) -> None:
    oracle = results.get("oracleTest", {})
    log("test split:   model      AUC    oracle AUC   ECE    sens  spec  threshold")
    for variant, key in ORACLE_KEY_OF_VARIANT.items():
        m = results.get(variant)
        if m and "testAuc" in m:
            log(f"test split:   {variant:9s}  {m['testAuc']:.3f}  {oracle.get(key, float('nan')):.3f}        {m['testEce']:.3f}  "
                f"{m['testSensitivity']:.2f}  {m['testSpecificity']:.2f}  {m['threshold']:.3f}")


def _evaluate_cascade(plans: Plans, ds: Dataset, device: torch.device) -> Dict:
    """Stage 1 and stage 2 on the test split, each on its own stored grids (stage 2 on the ROI the
    dataset centred on the true pancreas; the node's full cascade is `tsr-node evaluate`)."""
    results = {}
    run, test = plans.run, ds.split("test")
    if os.path.exists(run.pancreas_checkpoint):
        net, _ = load_pancreas_net(run)
        r = results["pancreasTest"] = evaluate_pancreas(net.to(device), pancreas_pairs(test), device, plans.pancreas)
        log(f"test split:   pancreas n={r['n']}: Dice {r['dice']:.3f}, found {r['foundRate']:.3f}, "
            f"ROI centre error {r.get('centreErrorMm', float('nan')):.1f} mm")
    if os.path.exists(run.localizer_checkpoint):
        net, _ = load_roi_localizer(run)
        r = results["localizerTest"] = evaluate_roi_localizer(net.to(device), roi_pairs(test), device, plans.roi_localizer)
        log(f"test split:   ROI localiser n={r['n']}: venous centre inside the tumour {r['hitRate']:.3f} (found {r['foundRate']:.3f}), "
            f"tumour Dice {r.get('dice', float('nan')):.3f}, pancreas Dice {r.get('pancreasDice', float('nan')):.3f}")
    return results


def evaluate_stage(plans: Plans, ds: Dataset, device: torch.device) -> Dict:
    run, localizer_plan = plans.run, plans.localizer
    results = {}
    for variant in CLASSIFIER_PHASES:
        results[variant] = load_checkpoint(run.classifier_checkpoint(variant))["metrics"]
    oracle = oracle_aucs(ds.split("test"))
    if oracle:
        results["oracleTest"] = oracle
    log_test_table(results)
    if ds.is_cascade:
        results.update(_evaluate_cascade(plans, ds, device))
        return results
    if os.path.exists(run.localizer_checkpoint):
        checkpoint = load_checkpoint(run.localizer_checkpoint)
        net = LocalizerNet(checkpoint["base"])
        net.load_state_dict(checkpoint["state_dict"])
        results["localizerTest"] = evaluate_localizer(net.to(device), localizer_pairs(ds.split("test")), device, localizer_plan)
        r = results["localizerTest"]
        log(f"test split:   localiser n={r['n']}: venous centre inside the tumour {r['hitRate']:.3f} (found {r['foundRate']:.3f}), "
            f"arterial centre inside {r['arterialHitRate']:.3f}, venous Dice {r['dice']:.3f}")
    return results
