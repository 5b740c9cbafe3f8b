"""The `calibrate` stage: a second Platt scaling of the classifiers on the node's own path
(node_calibration.py), fitted on `tsr-node evaluate` output and written to the run directory's
calibration.json; the next export bakes it into the classifiers (calibration_for_export). With
the cascade, the same evaluation also fits the localisation confidence (localisation_calibration.py,
calibration.json's "localisation"), which the export writes into the localiser's manifest
(localisation_for_export)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Dict, Optional

from export import sha256_of
from localisation_calibration import MIN_LOCALISED, fit_localisation_confidence
from node_calibration import ROLE_OF_VARIANT, fit_node_path_calibration
from plans import CLASSIFIER_MODEL_NAMES, LOCALIZER_MODEL_NAME, PANCREAS_MODEL_NAME, REPO_DIR, NodeCalibrationPlan, RunPlan
from runtime import log


def check_node_cli(plan: NodeCalibrationPlan) -> None:
    """Before hours of training: the node-path calibration needs Node.js and the built node."""
    if plan.cohort_count <= 0 or plan.evaluation_dir:
        return
    if shutil.which(plan.node_executable) is None:
        raise SystemExit(f"the node-path calibration runs `tsr-node evaluate`, but `{plan.node_executable}` (Node.js) is not on PATH: "
                         "install Node.js 20, pass --node PATH, or --calibration-count 0 to skip it")
    if not os.path.exists(os.path.join(REPO_DIR, "dist", "src", "cli", "main.js")):
        raise SystemExit(f"the node-path calibration runs `tsr-node evaluate`, but the node is not built: run `npm run build` in {REPO_DIR} "
                         "(or pass --calibration-count 0 to skip it)")


def run_node_evaluation(plan: NodeCalibrationPlan, run: RunPlan) -> str:
    """`tsr-node evaluate` of the models in plan.models_dir on the calibration cohort; returns its folder."""
    check_node_cli(plan)
    out_dir = run.node_evaluation_dir
    cmd = [plan.node_executable, os.path.join(REPO_DIR, "bin", "tsr-node.js"), "evaluate", "--seed", str(plan.cohort_seed),
           "--count", str(plan.cohort_count), "--out", out_dir, "--models-dir", plan.models_dir]
    log("calibrate: " + " ".join(cmd))
    if subprocess.run(cmd, cwd=REPO_DIR).returncode != 0:
        raise SystemExit("calibrate: `tsr-node evaluate` failed (see above)")
    return out_dir


def calibrate_stage(plan: NodeCalibrationPlan, run: RunPlan, export_follows: bool) -> Dict:
    """Fit on plan.evaluation_dir, or else on the kit's own `tsr-node evaluate` of the calibration
    cohort (plan.cohort_seed, plan.cohort_count). `export_follows`: within `all`, which exports
    next (else the log says to run `train.py export`)."""
    if not plan.evaluation_dir and plan.cohort_count <= 0:
        raise SystemExit("calibrate needs --evaluation DIR (written by `tsr-node evaluate` on the models in --out) or --calibration-count N > 0")
    evaluation_dir = plan.evaluation_dir or run_node_evaluation(plan, run)
    if plan.localizer_only:
        return _calibrate_localisation_only(evaluation_dir, plan, run, export_follows)
    fitted = fit_node_path_calibration(evaluation_dir, plan.models_dir, CLASSIFIER_MODEL_NAMES)
    for variant, c in fitted.items():
        c["checkpointSha256"] = sha256_of(run.classifier_checkpoint(variant))
        log(f"calibrate {variant}: T {c['temperature']:.3f}, bias {c['bias']:.3f}, threshold {c['threshold']:.3f} "
            f"(recalibration T {c['recalibrationTemperature']:.3f}, bias {c['recalibrationBias']:.3f}); "
            f"ECE on the calibration cohort {c['eceBefore']:.3f} -> {c['eceAfter']:.3f}, n={c['n']}")
    localisation = _fit_localisation(evaluation_dir, plan, run)
    if localisation:
        fitted["localisation"] = localisation
    path = run.calibration_file
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fitted, f, indent=2)
    log(f"calibrate: wrote {path}" + ("" if export_follows else "; run `train.py export` to bake it into the models"))
    return fitted


def _check_evaluated_models(evaluation_dir: str, report: Dict, models_dir: str) -> None:
    """--localizer-only: the evaluation must have run the cascade in models_dir (localizer and
    pancreas: both required, sha256 equal to their manifests'), and any classifier it names must
    be the one in models_dir too."""
    models = report.get("models", {})
    roles = [("localizer", LOCALIZER_MODEL_NAME, True), ("pancreas", PANCREAS_MODEL_NAME, True)]
    roles += [(ROLE_OF_VARIANT[v], name, False) for v, name in CLASSIFIER_MODEL_NAMES.items()]
    for role, name, required in roles:
        evaluated = (models.get(role) or {}).get("sha256")
        manifest_path = os.path.join(models_dir, name + ".json")
        if not required and (not evaluated or not os.path.exists(manifest_path)):
            continue
        if not os.path.exists(manifest_path):
            raise SystemExit(f"calibrate --localizer-only: {manifest_path} is missing: export the cascade into --out, evaluate it, then calibrate")
        with open(manifest_path, encoding="utf-8") as f:
            expected = json.load(f)["sha256"]
        if evaluated != expected:
            raise SystemExit(f"{evaluation_dir} evaluated {role} model sha256 {evaluated}, but {manifest_path} is {expected}: "
                             "evaluate the models you calibrate")


def _calibrate_localisation_only(evaluation_dir: str, plan: NodeCalibrationPlan, run: RunPlan, export_follows: bool) -> Dict:
    """--localizer-only: the localisation confidence alone, written as calibration.json's
    "localisation" (any other entries of the file kept); no classifier recalibration, so no
    minimum of analysed studies beyond the fit's own (MIN_LOCALISED studies with features)."""
    if not os.path.exists(run.localizer_checkpoint):
        raise SystemExit(f"calibrate --localizer-only: {run.localizer_checkpoint} is missing: the confidence is bound to that checkpoint")
    with open(os.path.join(evaluation_dir, "evaluation.json"), encoding="utf-8") as f:
        report = json.load(f)
    _check_evaluated_models(evaluation_dir, report, plan.models_dir)
    localisation = _fit_localisation(evaluation_dir, plan, run)
    if localisation is None:
        raise SystemExit(f"calibrate --localizer-only: {evaluation_dir} has fewer than {MIN_LOCALISED} studies with "
                         "localisation.features and insideTumour; nothing fitted")
    path = run.calibration_file
    fitted: Dict = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            fitted = json.load(f)
    fitted["localisation"] = localisation
    os.makedirs(run.run_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fitted, f, indent=2)
    log(f"calibrate --localizer-only: wrote {path} (localisation)"
        + ("" if export_follows else "; run `train.py export --localizer-only` to write it into tsr-localizer.json"))
    return {"localisation": localisation}


def _fit_localisation(evaluation_dir: str, plan: NodeCalibrationPlan, run: RunPlan) -> Optional[Dict]:
    """The localisation confidence fitted on the evaluation, bound to the localiser checkpoint;
    None when the evaluation carries no localisation features (the node then uses the peak)."""
    with open(os.path.join(evaluation_dir, "evaluation.json"), encoding="utf-8") as f:
        report = json.load(f)
    for role, name in (("localizer", LOCALIZER_MODEL_NAME), ("pancreas", PANCREAS_MODEL_NAME)):
        evaluated = (report.get("models", {}).get(role) or {}).get("sha256")
        manifest_path = os.path.join(plan.models_dir, name + ".json")
        if evaluated and os.path.exists(manifest_path):
            with open(manifest_path, encoding="utf-8") as f:
                expected = json.load(f)["sha256"]
            if evaluated != expected:
                raise SystemExit(f"{evaluation_dir} evaluated {role} model sha256 {evaluated}, but {manifest_path} is {expected}: "
                                 "evaluate the models you calibrate")
    seeds = report.get("seeds", {})
    fitted = fit_localisation_confidence(evaluation_dir, f"tsr-node evaluate, seeds {seeds.get('from')}..{seeds.get('to')}")
    if fitted is None:
        log("calibrate: no localisation features in the evaluation: the localiser keeps the peak as its confidence")
        return None
    if os.path.exists(run.localizer_checkpoint):
        fitted["checkpointSha256"] = sha256_of(run.localizer_checkpoint)
    f = fitted["figures"]
    log(f"calibrate localisation: n={f['n']}, inside the tumour {f['insideRate']:.3f}; minConfidence {fitted['minConfidence']:.3f} keeps "
        f"{f['keptRate']:.3f} with {f['wrongPlaceRateKept']:.3f} in the wrong place (target <= {f['maxWrongPlaceRate']:.2f}"
        f"{'' if f['reached'] else ', NOT reached'}); ECE {f['ecePeak']:.3f} (peak) -> {f['eceConfidence']:.3f}")
    return fitted


def localisation_for_export(run: RunPlan) -> Optional[Dict]:
    """The fitted localisation confidence of the run's localiser checkpoint, or None (none fitted,
    or fitted for another checkpoint)."""
    path = run.calibration_file
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        fitted = json.load(f).get("localisation")
    if not fitted:
        return None
    if fitted.get("checkpointSha256") != sha256_of(run.localizer_checkpoint):
        log(f"export: the localisation confidence in {path} was fitted for another localiser checkpoint: ignored")
        return None
    return fitted


def calibration_for_export(run: RunPlan, variant: str, checkpoint_metrics: Dict) -> Dict:
    """Temperature, bias and threshold of a classifier: the node-path recalibration when the run
    directory has one for this very checkpoint, else the validation split's (from the
    checkpoint's metrics)."""
    base = {"temperature": checkpoint_metrics["temperature"], "bias": checkpoint_metrics.get("bias", 0.0),
            "threshold": checkpoint_metrics["threshold"], "fittedOn": "kit validation split, crops at the true centre"}
    path = run.calibration_file
    if not os.path.exists(path):
        return base
    with open(path, encoding="utf-8") as f:
        fitted = json.load(f).get(variant)
    if not fitted:
        return base
    if fitted.get("checkpointSha256") != sha256_of(run.classifier_checkpoint(variant)):
        log(f"export: {path} was fitted for another {variant} checkpoint: ignored (run `train.py calibrate` again)")
        return base
    return fitted
