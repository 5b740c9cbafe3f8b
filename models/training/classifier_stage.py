"""The `train-classifier` stage: the fused, arterial-only and venous-only classifiers
(tsr_classifier.py) on the pretrained CLIP's cached image features; Platt scaling and threshold
on validation, figures on test; a checkpoint per classifier."""
from __future__ import annotations

import time
from typing import Dict

import numpy as np
import torch

from clip_model import CLIP
from clip_stage import load_pretrained_clip
from dataset import PHASES, Dataset, labels_of
from evaluate_stage import log_test_table, oracle_aucs
from plans import ClassifierPlan, RunPlan
from runtime import log, save_checkpoint, seed_everything
from tsr_classifier import calibrate_and_evaluate, embed_crops, text_prototypes, train_head, zero_shot_auc

SPLITS = ("train", "val", "test")


def _cache_features(plan: ClassifierPlan, clip: CLIP, ds: Dataset, labels: Dict[str, np.ndarray], prototypes: torch.Tensor,
                    device: torch.device):
    """Frozen image features per split and phase, [views, N, ...] (tsr_classifier.embed_crops):
    training, augmented views; validation and test, one view per crop shift of the node's crop
    averaging (the plain crop first). Also the zero-shot AUC of the class prompts on validation."""
    features: Dict[str, Dict[str, np.ndarray]] = {}
    zero_shot = float("nan")
    for split in SPLITS:
        crops = ds.load_crops(ds.split(split))
        shifts = None if split == "train" else plan.crop_average_shifts
        features[split] = {p: embed_crops(clip, crops[p], device, views=plan.views, seed=plan.seed, tune_blocks=plan.tune_blocks,
                                          max_shift=plan.shift_px, shifts=shifts)
                           for p in PHASES}
        if split == "val" and len(set(labels["val"].tolist())) == 2:
            if plan.tune_blocks == 0:
                embeddings = {p: v[0] for p, v in features[split].items()}
            else:
                embeddings = {p: embed_crops(clip, crops[p], device)[0] for p in PHASES}
            zero_shot = zero_shot_auc(embeddings, labels["val"], prototypes, PHASES)
    return features, zero_shot


def train_classifiers_stage(plan: ClassifierPlan, run: RunPlan, ds: Dataset, device: torch.device) -> Dict:
    seed_everything(plan.seed)
    started = time.time()
    clip, tokenizer = load_pretrained_clip(run)
    clip.to(device)
    prototypes = text_prototypes(clip, tokenizer, device)
    logit_scale = float(clip.logit_scale.exp().clamp(max=100.0))
    labels = {split: labels_of(ds.split(split)) for split in SPLITS}
    features, zero_shot = _cache_features(plan, clip, ds, labels, prototypes, device)
    what = "embeddings" if plan.tune_blocks == 0 else f"tokens entering the last {plan.tune_blocks} encoder block(s)"
    log(f"train-classifier: cached frozen {what} of {sum(len(ds.split(s)) for s in SPLITS)} studies x 2 phases "
        f"({plan.views} views of the training crops) in {time.time() - started:.0f}s")
    if len(labels["val"]) == 0 or len(set(labels["val"].tolist())) < 2:
        log("train-classifier: WARNING the validation split lacks a class: temperature 1 and threshold 0.5 are used")
    log(f"train-classifier: zero-shot AUC of the class prompts on validation (no training): {zero_shot:.3f}")
    results = {}
    for variant, phases in plan.phases_by_variant.items():
        # Early stopping on the plain validation crops; calibration and figures with crop averaging.
        model, info = train_head(plan, phases, {p: features["train"][p] for p in phases}, labels["train"],
                                 {p: features["val"][p][0] for p in phases}, labels["val"], prototypes, logit_scale,
                                 clip=clip, device=device)
        m = calibrate_and_evaluate(variant, model, {p: features["val"][p] for p in phases}, labels["val"],
                                   {p: features["test"][p] for p in phases}, labels["test"])
        m.update({"bestEpoch": info["bestEpoch"], "zeroShotValAuc": zero_shot, "seconds": info["seconds"]})
        save_checkpoint(run.classifier_checkpoint(variant), {
            "phases": phases, "alpha": plan.adapter_alpha, "tune_blocks": plan.tune_blocks, "model_state": model.state_dict(),
            "prototypes": prototypes, "logit_scale": logit_scale, "metrics": m})
        results[variant] = m
    oracle = oracle_aucs(ds.split("test"))
    if oracle:
        results["oracleTest"] = oracle
    results["seconds"] = time.time() - started
    log_test_table(results)
    return results
