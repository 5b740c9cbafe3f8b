"""What `train.py <stage>` runs: the stage (or, for `all`, every training stage in order (the
pancreas stage on @2 datasets only), export,
node-path calibration, export again), each with its plan; the run's summary.json (figures and
seconds per stage) and plans.json (the plan each stage ran with)."""
from __future__ import annotations

import json
import os
import time
from typing import Callable, Dict, List

import torch

from calibration_stage import calibrate_stage, check_node_cli
from classifier_stage import train_classifiers_stage
from clip_stage import pretrain_clip_stage
from dataset import Dataset
from evaluate_stage import evaluate_stage
from export_stage import export_stage
from localizer_stage import train_localizer_stage
from pancreas_stage import train_pancreas_stage
from plans import Plans, record_plans, with_dataset
from roi_localizer import train_roi_localizer_stage
from runtime import log

# train-pancreas runs only on @2 datasets (the cascade); train-localizer trains stage 2 there.
TRAINING_STAGES = ("pretrain-clip", "train-classifier", "train-pancreas", "train-localizer")
# The plans.json section of each stage's plan (evaluate writes nothing into the run directory).
PLAN_SECTION_OF_STAGE = {"pretrain-clip": "clip", "train-classifier": "classifiers", "train-pancreas": "pancreas",
                         "train-localizer": "localizer", "export": "export", "calibrate": "node_calibration"}


def _stage_runners(plans: Plans, ds: Dataset, device: torch.device, stage: str) -> Dict[str, Callable[[], Dict]]:
    """Each stage, bound to its plan."""
    return {
        "pretrain-clip": lambda: pretrain_clip_stage(plans.clip, plans.run, ds, device),
        "train-classifier": lambda: train_classifiers_stage(plans.classifiers, plans.run, ds, device),
        "train-pancreas": lambda: train_pancreas_stage(plans.pancreas, plans.run, ds, device),
        "train-localizer": ((lambda: train_roi_localizer_stage(plans.roi_localizer, plans.run, ds, device)) if ds.is_cascade
                            else (lambda: train_localizer_stage(plans.localizer, plans.run, ds, device))),
        "export": lambda: export_stage(plans, ds),
        "evaluate": lambda: evaluate_stage(plans, ds, device),
        "calibrate": lambda: calibrate_stage(plans.node_calibration, plans.run, export_follows=stage == "all"),
    }


def _plan_sections(stage: str, ds: Dataset) -> List[str]:
    """The plans.json sections a stage's run records (@2: train-localizer's is roi_localizer).
    Export records only its own: the training plans stay as the training stages ran them."""
    if stage == "train-localizer" and ds.is_cascade:
        return ["roi_localizer"]
    return [PLAN_SECTION_OF_STAGE[stage]] if stage in PLAN_SECTION_OF_STAGE else []


def _run_and_record(plans: Plans, runners: Dict[str, Callable[[], Dict]], stage: str, ds: Dataset) -> Dict:
    """Run one stage; when it has run, record its plan in plans.json."""
    result = runners[stage]()
    sections = _plan_sections(stage, ds)
    if sections:
        record_plans(plans, sections)
    return result


def _write_summary(path: str, summary: Dict) -> None:
    with open(path, "w") as f:
        json.dump(summary, f, indent=2, default=float)


def run_pipeline(stage: str, plans: Plans, device: torch.device, threads: int) -> None:
    run = plans.run
    if stage == "all":
        check_node_cli(plans.node_calibration)
        stale = run.calibration_file
        if plans.node_calibration.cohort_count > 0 and os.path.exists(stale):
            os.remove(stale)
            log(f"all: removed {stale} of an earlier run (refitted at the end)")
    ds = Dataset(run.dataset_dir)
    log(f"dataset {ds.root}: {len(ds.items)} studies, splits " + ", ".join(f"{s} {len(ds.split(s))}" for s in ("train", "val", "test")))
    plans = with_dataset(plans, ds)
    runners = _stage_runners(plans, ds, device, stage)
    started = time.time()
    order = [s for s in TRAINING_STAGES if ds.is_cascade or s != "train-pancreas"] if stage == "all" else [stage]
    summary = {}
    if os.path.exists(run.summary_file):
        with open(run.summary_file) as f:
            summary = json.load(f)
    for name in order:
        stage_started = time.time()
        summary[name] = _run_and_record(plans, runners, name, ds)
        summary.setdefault("seconds", {})[name] = time.time() - stage_started
    if stage == "all":
        summary["minutes"] = round((time.time() - started) / 60, 2)
        summary["device"] = str(device)
        summary["threads"] = threads
    if stage not in ("evaluate", "export", "calibrate"):
        os.makedirs(run.run_dir, exist_ok=True)
        _write_summary(run.summary_file, summary)
    # `all` exports here. So does `export`, a second time after the loop above: kept as the kit
    # did it before train.py was split into stage modules (the same files, written twice).
    if stage in ("all", "export"):
        _run_and_record(plans, runners, "export", ds)
    if stage == "all" and plans.node_calibration.cohort_count > 0:
        calibration_started = time.time()
        summary["calibrate"] = _run_and_record(plans, runners, "calibrate", ds)
        summary["seconds"]["calibrate"] = time.time() - calibration_started
        summary["minutes"] = round((time.time() - started) / 60, 2)
        _write_summary(run.summary_file, summary)
        _run_and_record(plans, runners, "export", ds)
    log(f"train.py {stage}: done in {(time.time() - started) / 60:.1f} min")
