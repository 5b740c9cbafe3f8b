"""The `export` stage: the run's classifiers and localiser as ONNX files with their manifests
(export.py), the classifiers calibrated (calibration_stage.calibration_for_export), and the parity
fixture: PyTorch's outputs on a few inputs, for the node's onnxruntime to reproduce. On @2
datasets the localiser is the cascade (export_cascade.py)."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
from typing import Dict, List, Tuple

import numpy as np
import torch

from calibration_stage import calibration_for_export
from clip_model import CLIP
from clip_stage import load_pretrained_clip
from export_cascade import export_cascade
from dataset import Dataset
from evaluate_stage import ORACLE_KEY_OF_VARIANT, oracle_aucs
from export import classifier_io, export_onnx, localizer_io, write_manifest, write_parity_case, write_parity_fixture
from grid_shifts import move_grid
from localizer import LOCALIZER_PHASES, ExportedLocalizer, LocalizerNet, load_pair, localizer_pairs
from plans import CLASSIFIER_MODEL_NAMES, LOCALIZER_MODEL_NAME, PANCREAS_MODEL_NAME, ClassifierPlan, ExportPlan, LocalizerPlan, Plans, RunPlan
from runtime import load_checkpoint, log
from tsr_classifier import EncoderTail, ExportedClassifier, TsrHead, TsrModel


def _source_parts(source: str) -> List[str]:
    """The parts of a dataset's `source`: a merged dataset lists its parts' sources joined by "; "
    (tmp-style merges); a plain one is one part."""
    return [p.strip() for p in source.split("; ") if p.strip()] if source else []


def _trained_on(ds: Dataset) -> str:
    """The manifests' trainedOn: the dataset (each part of a merged one), its split sizes, and
    "Synthetic data only." only when every part is synthetic (generated seeds or the toy)."""
    n = {s: len(ds.split(s)) for s in ("train", "val", "test")}
    parts = _source_parts(ds.source)
    if len(parts) > 1:
        described = f"a merge of {len(parts)} datasets: " + "; ".join(f"[{k + 1}] {p}" for k, p in enumerate(parts))
    else:
        described = parts[0] if parts else "dataset"
    synthetic = bool(parts) and all(p.startswith("synthetic seeds") or p.startswith("TOY dataset") for p in parts)
    return (f"{described}. Dataset {os.path.basename(os.path.normpath(ds.root))}, {len(ds.items)} studies, created "
            f"{ds.manifest.get('createdAt', '?')}: {n['train']} training / {n['val']} validation / {n['test']} test studies "
            "(kit splits by StudyInstanceUID hash unless given)." + (" Synthetic data only." if synthetic else ""))


def _classifier_architecture(clip: CLIP, plan: ClassifierPlan) -> str:
    cfg = clip.cfg
    return (f"CLIP ViT width {cfg.vision_width}, {cfg.vision_layers} layers, {cfg.vision_heads} heads, patch {cfg.patch_size}, "
            f"{cfg.image_size} px, embed {cfg.embed_dim}; self-attention fusion; CLIP-Adapter reduction 4, alpha {plan.adapter_alpha}; "
            f"last {plan.tune_blocks} encoder block(s) fine-tuned per classifier")


def _classifier_metrics(checkpoint_metrics: Dict, calibration: Dict, architecture: str, oracle_auc, minutes) -> Dict:
    """The manifest's metrics: the kit's test split figures, validation, calibration (NaNs left out)."""
    m = checkpoint_metrics
    metrics = {"split": "kit test split", "n": m.get("testN", 0), "auc": m.get("testAuc", float("nan")),
               "ece": m.get("testEce", float("nan")), "sensitivity": m.get("testSensitivity", float("nan")),
               "specificity": m.get("testSpecificity", float("nan")), "valAuc": m["valAuc"], "valEce": m["valEce"],
               "calibrationTemperature": calibration["temperature"], "calibrationBias": calibration["bias"],
               "calibration": calibration["fittedOn"], "architecture": architecture}
    if oracle_auc is not None:
        metrics["oracleAuc"] = oracle_auc
    if minutes is not None:
        metrics["trainingMinutesAllModels"] = minutes
    return {k: v for k, v in metrics.items() if not (isinstance(v, float) and np.isnan(v))}


def _load_calibrated_classifier(run: RunPlan, clip: CLIP, variant: str, phases: List[str]) -> Tuple[ExportedClassifier, Dict, Dict]:
    """The variant's checkpoint as the deployable model, its checkpoint metrics and its calibration."""
    checkpoint = load_checkpoint(run.classifier_checkpoint(variant))
    prototypes = checkpoint["prototypes"]
    head = TsrHead(prototypes.shape[1], phases, prototypes, checkpoint["logit_scale"], alpha=checkpoint["alpha"])
    tune_blocks = checkpoint["tune_blocks"]
    tuned = TsrModel(head, EncoderTail(clip, tune_blocks) if tune_blocks > 0 else None)
    tuned.load_state_dict(checkpoint["model_state"])
    calibration = calibration_for_export(run, variant, checkpoint["metrics"])
    model = ExportedClassifier(clip, tuned, calibration["temperature"], calibration["bias"]).eval()
    return model, checkpoint["metrics"], calibration


def _export_classifiers(plan: ExportPlan, classifiers: ClassifierPlan, run: RunPlan, ds: Dataset, clip: CLIP,
                        crops: Dict[str, np.ndarray], minutes) -> Tuple[List[str], List[Dict]]:
    """Each classifier's ONNX file and manifest; its parity cases (fusion: the crops as they are,
    and one study's crops moved by each crop-averaging shift; venous: one study). Returns the
    files written and the parity cases."""
    trained_on = _trained_on(ds)
    oracle = oracle_aucs(ds.split("test"))
    architecture = _classifier_architecture(clip, classifiers)
    average_shifts = [list(x) for x in classifiers.crop_average_shifts]
    written: List[str] = []
    parity_cases: List[Dict] = []
    for variant, phases in classifiers.phases_by_variant.items():
        model, checkpoint_metrics, calibration = _load_calibrated_classifier(run, clip, variant, phases)
        name = CLASSIFIER_MODEL_NAMES[variant]
        path = os.path.join(plan.models_dir, name + ".onnx")
        inputs, outputs = classifier_io(phases, classifiers.crop_shape)
        output_names = [s["name"] for s in outputs]
        example = tuple(torch.from_numpy(crops[p]) for p in phases)
        export_onnx(model, example, path, [s["name"] for s in inputs], output_names)
        metrics = _classifier_metrics(checkpoint_metrics, calibration, architecture, oracle.get(ORACLE_KEY_OF_VARIANT[variant]), minutes)
        manifest_path = write_manifest(path, name, plan.model_version, "classifier", inputs, outputs,
                                       {"phases": phases, "crop": {**ds.crop_spec, "averageShifts": average_shifts}}, trained_on, metrics,
                                       label_definition=ds.label_definition, threshold=calibration["threshold"])
        written += [path, manifest_path]
        log(f"export: {path} ({os.path.getsize(path) / 1e6:.2f} MB), {manifest_path}")
        if plan.parity_dir and variant == "fusion":
            parity_cases.append(write_parity_case(plan.parity_dir, "fusion", path, model, {p: crops[p] for p in phases}, output_names))
            # The crop averaging: one study's crops moved by each shift (move_grid), as a batch.
            # The node's test moves the first (plain) view itself and must get the others.
            moved = {p: torch.cat([move_grid(torch.from_numpy(crops[p][:1]), s) for s in classifiers.crop_average_shifts]).numpy()
                     for p in phases}
            parity_cases.append(write_parity_case(plan.parity_dir, "fusion-shifted", path, model, moved, output_names))
        if plan.parity_dir and variant == "venous":
            parity_cases.append(write_parity_case(plan.parity_dir, "venous", path, model, {"venous": crops["venous"][:1]}, output_names))
    return written, parity_cases


def _export_localizer(plan: ExportPlan, localizer: LocalizerPlan, run: RunPlan, ds: Dataset, test_items, minutes) -> Tuple[List[str], List[Dict]]:
    """The localiser's ONNX file and manifest, and its parity case (the first test study's grid,
    or a random one). Returns the files written and the parity cases."""
    checkpoint = load_checkpoint(run.localizer_checkpoint)
    net = LocalizerNet(checkpoint["base"])
    net.load_state_dict(checkpoint["state_dict"])
    model = ExportedLocalizer(net).eval()
    rng = np.random.default_rng(plan.seed)
    path = os.path.join(plan.models_dir, LOCALIZER_MODEL_NAME + ".onnx")
    inputs, outputs = localizer_io(localizer.grid_zyx, len(LOCALIZER_PHASES))
    pairs = localizer_pairs(test_items[:1])
    if pairs:
        volume = load_pair(pairs[0])[0][None]
    else:
        volume = rng.normal(0, 1, (1, len(LOCALIZER_PHASES)) + tuple(localizer.grid_zyx)).astype(np.float32)
    export_onnx(model, (torch.from_numpy(volume),), path, ["volume"], ["probability"])
    metrics = {k: v for k, v in checkpoint["metrics"].items() if isinstance(v, (int, float)) and not (isinstance(v, float) and np.isnan(v))}
    metrics["architecture"] = (f"3D U-Net at 8/16/32 mm, base {checkpoint['base']} channels, logits at 8 mm upsampled to the grid; "
                               f"input and output channels {', '.join(LOCALIZER_PHASES)}")
    if minutes is not None:
        metrics["trainingMinutesAllModels"] = minutes
    preprocessing = {"phases": list(LOCALIZER_PHASES),
                     "localizer": {**ds.localizer_spec, "averageShifts": [list(x) for x in localizer.average_shifts]}}
    manifest_path = write_manifest(path, LOCALIZER_MODEL_NAME, plan.model_version, "localizer", inputs, outputs, preprocessing,
                                   _trained_on(ds), metrics)
    log(f"export: {path} ({os.path.getsize(path) / 1e6:.2f} MB), {manifest_path}")
    parity_cases = []
    if plan.parity_dir:
        parity_cases.append(write_parity_case(plan.parity_dir, "localizer", path, model, {"volume": volume}, ["probability"],
                                              sample_outputs=["probability"]))
    return [path, manifest_path], parity_cases


# The parity cases of the cascade's models: what `export --localizer-only` replaces.
CASCADE_MODEL_FILES = (LOCALIZER_MODEL_NAME + ".onnx", PANCREAS_MODEL_NAME + ".onnx")


def _retained_parity(plan: ExportPlan) -> Tuple[List[Dict], str]:
    """--localizer-only: the existing fixture's cases of other models (the classifiers'), kept as
    they are, and the note they came with."""
    path = os.path.join(plan.parity_dir, "parity.json")
    if not os.path.exists(path):
        return [], ""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    kept = [c for c in doc.get("cases", []) if os.path.basename(c["model"]) not in CASCADE_MODEL_FILES]
    note = doc.get("note", "")
    marker = " Other cases kept from the earlier fixture: "
    return kept, note.split(marker, 1)[1] if marker in note else note


def _write_parity_fixture(plan: ExportPlan, run: RunPlan, ds: Dataset, parity_cases: List[Dict]) -> None:
    retained, retained_note = _retained_parity(plan) if plan.localizer_only else ([], "")
    note = (f"Written by models/training/train.py export{' --localizer-only' if plan.localizer_only else ''} from run "
            f"{os.path.basename(run.run_dir)} "
            f"({'smoke configuration, toy data' if run.smoke else 'dataset ' + os.path.basename(os.path.normpath(ds.root))})"
            + (f": cases {', '.join(c['case'] for c in parity_cases)}." if plan.localizer_only else "."))
    if retained:
        note += f" Other cases kept from the earlier fixture: {retained_note}"
    if plan.copy_models_into_parity_dir:
        # A self-contained fixture (models beside the data), for runs whose models are not shipped.
        for case in parity_cases:
            source = os.path.normpath(os.path.join(plan.parity_dir, case["model"]))
            shutil.copyfile(source, os.path.join(plan.parity_dir, os.path.basename(source)))
            case["model"] = os.path.basename(source)
    # The retained cases go first (their order in the fixture), their files listed, so kept.
    log(f"export: parity fixture {write_parity_fixture(plan.parity_dir, retained + parity_cases, note)}"
        + (f" ({len(retained)} earlier case(s) kept: {', '.join(c['case'] for c in retained)})" if retained else ""))


def _export_localizer_only(plans: Plans, ds: Dataset, plan: ExportPlan, minutes) -> Dict:
    """--localizer-only: the cascade's two models (and their parity cases) only; no CLIP or
    classifier checkpoint is read and nothing of the classifiers in --out is written."""
    if not ds.is_cascade:
        raise SystemExit("export --localizer-only exports the cascade (tsr-pancreas, tsr-localizer): it needs a tsr-node/dataset@2 "
                         f"dataset with a roi spec; {ds.root} is not one")
    run = plans.run
    for path in (run.pancreas_checkpoint, run.localizer_checkpoint):
        if not os.path.exists(path):
            raise SystemExit(f"export --localizer-only: {path} is missing (run train-pancreas and train-localizer first)")
    test_items = ds.split("test") or ds.split("val") or ds.split("train")
    written, cases = export_cascade(plan, plans.pancreas, plans.roi_localizer, run, ds, test_items, plan.model_version, _trained_on(ds),
                                    minutes)
    if plan.parity_dir:
        _write_parity_fixture(plan, run, ds, cases)
    return {"files": written, "localizerOnly": True}


def export_stage(plans: Plans, ds: Dataset) -> Dict:
    """The classifiers, then the localiser: @2 datasets the cascade (export_cascade.py: pancreas
    and ROI models, version 0.5.0 unless --model-version), @1 the whole-volume localiser (0.4.0).
    With --localizer-only, the cascade alone (_export_localizer_only)."""
    run, classifiers, localizer = plans.run, plans.classifiers, plans.localizer
    version = plans.export.model_version or ("0.5.0" if ds.is_cascade else "0.4.0")
    plan = dataclasses.replace(plans.export, model_version=version)
    os.makedirs(plan.models_dir, exist_ok=True)
    summary = {}
    if os.path.exists(run.summary_file):
        with open(run.summary_file) as f:
            summary = json.load(f)
    minutes = summary.get("minutes")
    if plan.localizer_only:
        return _export_localizer_only(plans, ds, plan, minutes)
    clip, _ = load_pretrained_clip(run)
    test_items = ds.split("test") or ds.split("val") or ds.split("train")
    crops = ds.load_crops(test_items[:2])
    written, parity_cases = _export_classifiers(plan, classifiers, run, ds, clip, crops, minutes)
    if ds.is_cascade:
        localizer_files, localizer_cases = export_cascade(plan, plans.pancreas, plans.roi_localizer, run, ds, test_items, version,
                                                          _trained_on(ds), minutes)
    else:
        localizer_files, localizer_cases = _export_localizer(plan, localizer, run, ds, test_items, minutes)
    written += localizer_files
    parity_cases += localizer_cases
    if plan.parity_dir:
        _write_parity_fixture(plan, run, ds, parity_cases)
    return {"files": written}
