#!/usr/bin/python3
"""tsr-node training kit: CLIP pretraining, TSR classifiers (fused, arterial-only, venous-only),
tumour localiser, ONNX export with manifests. Run with Debian's Python (torch 1.13, onnx 1.12):

    /usr/bin/python3 models/training/train.py all --dataset DATASET          # the demo models, end to end
    /usr/bin/python3 models/training/train.py pretrain-clip --dataset DATASET
    /usr/bin/python3 models/training/train.py train-classifier --dataset DATASET
    /usr/bin/python3 models/training/train.py train-localizer --dataset DATASET
    /usr/bin/python3 models/training/train.py export --dataset DATASET [--out models]
    /usr/bin/python3 models/training/train.py evaluate --dataset DATASET     # figures on the test split
    /usr/bin/python3 models/training/train.py all --dataset DATASET --smoke --out /tmp/x   # seconds

DATASET is what `tsr-node dataset build` writes (schema tsr-node/dataset@1). Checkpoints go to
models/training/runs/<dataset folder name>/ (--run-dir). --device auto uses CUDA when present.
CPU threads: TSR_TRAIN_THREADS, else OMP_NUM_THREADS, else all cores. See docs/model-card.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Dict, List

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from clip_model import CLIP, ClipConfig, config_from_state_dict, load_clip_state_dict, read_state_dict  # noqa: E402
from dataset import PHASES, Dataset, labels_of  # noqa: E402
from export import (classifier_io, export_onnx, localizer_io, sha256_of, write_manifest, write_parity_case,  # noqa: E402
                    write_parity_fixture)
from grid_shifts import move_grid  # noqa: E402
from localizer import AVERAGE_SHIFTS, LOCALIZER_PHASES, ExportedLocalizer, LocalizerNet, evaluate_localizer, load_pair, train_localizer, _pairs  # noqa: E402
from metrics import auc  # noqa: E402
from node_calibration import CALIBRATION_FILE, fit_node_path_calibration  # noqa: E402
from pretrain import init_numeric_token_embeddings, pretrain_clip  # noqa: E402
from runtime import configure_threads, load_checkpoint, log, save_checkpoint, seed_everything, select_device  # noqa: E402
from tokenizer import ClipBpeTokenizer, WordTokenizer, tokenizer_from_dict  # noqa: E402
from tsr_classifier import (CLASS_PROMPTS, CROP_AVERAGE_SHIFTS, EncoderTail, ExportedClassifier, TsrHead, TsrModel, all_prompts, calibrate_and_evaluate, embed_crops,  # noqa: E402
                            text_prototypes, train_head, zero_shot_auc)

REPO = os.path.dirname(os.path.dirname(HERE))
VARIANTS = {"fusion": ["arterial", "venous"], "arterial": ["arterial"], "venous": ["venous"]}
MODEL_NAMES = {"fusion": "tsr-clip-fusion", "arterial": "tsr-clip-arterial", "venous": "tsr-clip-venous"}
LOCALIZER_NAME = "tsr-localizer"

# The smoke configuration: every stage, a tiny model, a few steps. Only for tests.
SMOKE = {"clip_width": 16, "clip_layers": 2, "clip_heads": 2, "embed_dim": 16, "text_width": 16, "text_layers": 1,
         "text_heads": 2, "pretrain_epochs": 1, "batch_size": 16, "head_epochs": 3, "views": 2,
         "localizer_steps": 2, "localizer_base": 2, "localizer_batch": 2, "calibration_count": 0}


def _run_dir(a: argparse.Namespace) -> str:
    if a.run_dir:
        return a.run_dir
    name = os.path.basename(os.path.normpath(a.dataset)) + ("-smoke" if a.smoke else "")
    return os.path.join(HERE, "runs", name)


# ------------------------------------------------------------------------------------------------
# Stages
# ------------------------------------------------------------------------------------------------

def stage_pretrain(a: argparse.Namespace, ds: Dataset, device: torch.device) -> Dict:
    seed_everything(a.seed)
    c, h, w = ds.crop_shape
    if h != w:
        raise SystemExit(f"crops are {h}x{w}: the ViT expects square crops")
    texts = [it.findings_text or "" for it in ds.split("train")]
    state = None
    if a.clip_weights:
        state = read_state_dict(a.clip_weights)
        site = config_from_state_dict(state, image_size=h)
        if site.image_channels != c:
            raise SystemExit(f"--clip-weights: the encoder takes {site.image_channels} channels, the crops have {c} slices")
        if h % site.patch_size:
            raise SystemExit(f"--clip-weights: crop size {h} px is not a multiple of the patch size {site.patch_size}")
    if a.bpe_vocab:
        tokenizer = ClipBpeTokenizer(a.bpe_vocab)
    else:
        tokenizer = WordTokenizer.build(texts, extra_texts=all_prompts())
    lengths = [len(tokenizer.encode(t)) + 2 for t in texts + all_prompts()]
    context = min(a.max_context, int(np.ceil(max(lengths) / 8) * 8))
    if state is not None:
        cfg = site
        if a.bpe_vocab:
            parts = "all"
        else:
            # Real image weights, but the site's texts use this kit's word tokenizer: the text tower
            # is a fresh small one (in the same embedding space size), trained by pretraining.
            parts = "visual"
            cfg = ClipConfig(**{**site.to_dict(), "vocab_size": tokenizer.vocab_size, "context_length": context,
                                "text_width": a.text_width, "text_layers": a.text_layers, "text_heads": a.text_heads})
    else:
        cfg = ClipConfig(embed_dim=a.embed_dim, image_size=h, image_channels=c, patch_size=a.patch,
                         vision_width=a.clip_width, vision_layers=a.clip_layers, vision_heads=a.clip_heads,
                         context_length=context, vocab_size=tokenizer.vocab_size, text_width=a.text_width,
                         text_layers=a.text_layers, text_heads=a.text_heads)
    model = CLIP(cfg)
    if state is not None:
        loaded = load_clip_state_dict(model, state, parts)
        log(f"pretrain-clip: loaded {len(loaded)} tensors ({parts}) from {a.clip_weights}")
    if state is None or parts == "visual":
        n_num = init_numeric_token_embeddings(model, tokenizer)
        log(f"pretrain-clip: {n_num} number tokens start from Fourier features of their value")
    n_params = sum(p.numel() for p in model.visual.parameters())
    log(f"pretrain-clip: CLIP {cfg.to_dict()} ({n_params / 1e6:.2f}M image-encoder parameters), vocabulary {tokenizer.vocab_size}")
    t0 = time.time()
    metrics = {}
    if a.pretrain_epochs > 0:
        metrics = pretrain_clip(ds, model, tokenizer, device, a.pretrain_epochs, a.batch_size, a.lr, a.seed,
                                sentence_keep=a.sentence_keep, prompts=CLASS_PROMPTS, prompt_weight=a.prompt_weight, max_seconds=a.pretrain_minutes * 60 if a.pretrain_minutes else None)
    metrics["seconds"] = time.time() - t0
    path = os.path.join(_run_dir(a), "clip.pt")
    save_checkpoint(path, {"config": cfg.to_dict(), "tokenizer": tokenizer.to_dict(),
                           "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, "metrics": metrics})
    log(f"pretrain-clip: wrote {path} ({metrics['seconds']:.0f}s)")
    return metrics


def _load_clip(a: argparse.Namespace):
    ck = load_checkpoint(os.path.join(_run_dir(a), "clip.pt"))
    model = CLIP(ClipConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["state_dict"])
    return model.eval(), tokenizer_from_dict(ck["tokenizer"])


def stage_classifier(a: argparse.Namespace, ds: Dataset, device: torch.device) -> Dict:
    seed_everything(a.seed)
    t0 = time.time()
    clip, tokenizer = _load_clip(a)
    clip.to(device)
    prototypes = text_prototypes(clip, tokenizer, device)
    logit_scale = float(clip.logit_scale.exp().clamp(max=100.0))
    splits = {s: ds.split(s) for s in ("train", "val", "test")}
    k = a.tune_blocks
    feats: Dict[str, Dict[str, np.ndarray]] = {}
    y = {s: labels_of(items) for s, items in splits.items()}
    zs = float("nan")
    for s, items in splits.items():
        crops = ds.load_crops(items)
        # Training: augmented views. Validation and test: one view per crop shift of the node's
        # crop averaging (CROP_AVERAGE_SHIFTS, the plain crop first).
        shifts = None if s == "train" else CROP_AVERAGE_SHIFTS
        feats[s] = {p: embed_crops(clip, crops[p], device, views=a.views, seed=a.seed, tune_blocks=k, max_shift=a.shift_px, shifts=shifts)
                    for p in PHASES}
        if s == "val" and len(set(y["val"].tolist())) == 2:
            emb_val = {p: v[0] for p, v in feats[s].items()} if k == 0 else {p: embed_crops(clip, crops[p], device)[0] for p in PHASES}
            zs = zero_shot_auc(emb_val, y["val"], prototypes, PHASES)
    what = "embeddings" if k == 0 else f"tokens entering the last {k} encoder block(s)"
    log(f"train-classifier: cached frozen {what} of {sum(len(i) for i in splits.values())} studies x 2 phases ({a.views} views of the training crops) in {time.time() - t0:.0f}s")
    if len(y["val"]) == 0 or len(set(y["val"].tolist())) < 2:
        log("train-classifier: WARNING the validation split lacks a class: temperature 1 and threshold 0.5 are used")
    log(f"train-classifier: zero-shot AUC of the class prompts on validation (no training): {zs:.3f}")
    results = {}
    for variant, phases in VARIANTS.items():
        # Early stopping on the plain validation crops; calibration and figures with crop averaging.
        model, info = train_head(phases, {p: feats["train"][p] for p in phases}, y["train"], {p: feats["val"][p][0] for p in phases},
                                 y["val"], prototypes, logit_scale, a.head_epochs, a.seed, alpha=a.alpha,
                                 clip=clip, tune_blocks=k, device=device)
        m = calibrate_and_evaluate(variant, model, {p: feats["val"][p] for p in phases}, y["val"],
                                   {p: feats["test"][p] for p in phases}, y["test"])
        m.update({"bestEpoch": info["bestEpoch"], "zeroShotValAuc": zs, "seconds": info["seconds"]})
        path = os.path.join(_run_dir(a), f"classifier_{variant}.pt")
        save_checkpoint(path, {"phases": phases, "alpha": a.alpha, "tune_blocks": k, "model_state": model.state_dict(),
                               "prototypes": prototypes, "logit_scale": logit_scale, "metrics": m})
        results[variant] = m
    oracle = _oracle_aucs(splits["test"])
    if oracle:
        results["oracleTest"] = oracle
    results["seconds"] = time.time() - t0
    _print_table(results)
    return results


def _oracle_aucs(items) -> Dict[str, float]:
    if not items or any(it.oracle is None for it in items):
        return {}
    y = labels_of(items)
    return {k: auc(y, np.array([it.oracle[k] for it in items])) for k in ("fused", "arterial", "venous")}


def _print_table(results: Dict) -> None:
    oracle = results.get("oracleTest", {})
    log("test split:   model      AUC    oracle AUC   ECE    sens  spec  threshold")
    for v, key in (("fusion", "fused"), ("arterial", "arterial"), ("venous", "venous")):
        m = results.get(v)
        if m and "testAuc" in m:
            log(f"test split:   {v:9s}  {m['testAuc']:.3f}  {oracle.get(key, float('nan')):.3f}        {m['testEce']:.3f}  {m['testSensitivity']:.2f}  {m['testSpecificity']:.2f}  {m['threshold']:.3f}")


def stage_localizer(a: argparse.Namespace, ds: Dataset, device: torch.device) -> Dict:
    seed_everything(a.seed)
    net, metrics = train_localizer(ds, device, a.localizer_steps, a.seed, base=a.localizer_base, batch_size=a.localizer_batch,
                                   max_seconds=a.localizer_minutes * 60 if a.localizer_minutes else None,
                                   val_limit=4 if a.smoke else 100, preload_gb=a.localizer_preload_gb)
    path = os.path.join(_run_dir(a), "localizer.pt")
    save_checkpoint(path, {"base": a.localizer_base, "state_dict": net.state_dict(), "metrics": metrics})
    log(f"train-localizer: wrote {path}")
    return metrics


def stage_evaluate(a: argparse.Namespace, ds: Dataset, device: torch.device) -> Dict:
    """Figures on the dataset's test split from the checkpoints (the product's held-out
    evaluation is `tsr-node evaluate`, on the shipped ONNX models)."""
    results = {}
    for variant in VARIANTS:
        results[variant] = load_checkpoint(os.path.join(_run_dir(a), f"classifier_{variant}.pt"))["metrics"]
    oracle = _oracle_aucs(ds.split("test"))
    if oracle:
        results["oracleTest"] = oracle
    _print_table(results)
    loc_path = os.path.join(_run_dir(a), "localizer.pt")
    if os.path.exists(loc_path):
        ck = load_checkpoint(loc_path)
        net = LocalizerNet(ck["base"])
        net.load_state_dict(ck["state_dict"])
        level = float(ds.localizer_spec.get("minConfidence", 0.5))
        voxel_mm = float(ds.localizer_spec.get("voxelMm", 4.0))
        results["localizerTest"] = evaluate_localizer(net.to(device), _pairs(ds.split("test")), device, level, voxel_mm)
        r = results["localizerTest"]
        log(f"test split:   localiser n={r['n']}: venous centre inside the tumour {r['hitRate']:.3f} (found {r['foundRate']:.3f}), "
            f"arterial centre inside {r['arterialHitRate']:.3f}, venous Dice {r['dice']:.3f}")
    return results


def check_node_cli(a: argparse.Namespace) -> None:
    """Before hours of training: the node-path calibration needs Node.js and the built node."""
    if a.calibration_count <= 0 or a.evaluation:
        return
    if shutil.which(a.node) is None:
        raise SystemExit(f"the node-path calibration runs `tsr-node evaluate`, but `{a.node}` (Node.js) is not on PATH: "
                         "install Node.js 20, pass --node PATH, or --calibration-count 0 to skip it")
    if not os.path.exists(os.path.join(REPO, "dist", "src", "cli", "main.js")):
        raise SystemExit(f"the node-path calibration runs `tsr-node evaluate`, but the node is not built: run `npm run build` in {REPO} "
                         "(or pass --calibration-count 0 to skip it)")


def run_node_evaluation(a: argparse.Namespace) -> str:
    """`tsr-node evaluate` of the models in --out on the calibration cohort; returns its folder."""
    check_node_cli(a)
    out_dir = os.path.join(_run_dir(a), "node-calibration")
    cmd = [a.node, os.path.join(REPO, "bin", "tsr-node.js"), "evaluate", "--seed", str(a.calibration_seed), "--count", str(a.calibration_count),
           "--out", out_dir, "--models-dir", os.path.abspath(a.out)]
    log("calibrate: " + " ".join(cmd))
    if subprocess.run(cmd, cwd=REPO).returncode != 0:
        raise SystemExit("calibrate: `tsr-node evaluate` failed (see above)")
    return out_dir


def stage_calibrate(a: argparse.Namespace, ds: Dataset, device: torch.device) -> Dict:
    """Second Platt scaling on the node's own path (node_calibration.py), written to the run dir;
    the next export bakes it into the classifiers. Without --evaluation, the kit runs
    `tsr-node evaluate` on the calibration cohort (--calibration-seed, --calibration-count) itself."""
    if not a.evaluation and a.calibration_count <= 0:
        raise SystemExit("calibrate needs --evaluation DIR (written by `tsr-node evaluate` on the models in --out) or --calibration-count N > 0")
    evaluation = a.evaluation or run_node_evaluation(a)
    fitted = fit_node_path_calibration(evaluation, os.path.abspath(a.out), MODEL_NAMES)
    for variant, c in fitted.items():
        c["checkpointSha256"] = sha256_of(os.path.join(_run_dir(a), f"classifier_{variant}.pt"))
        log(f"calibrate {variant}: T {c['temperature']:.3f}, bias {c['bias']:.3f}, threshold {c['threshold']:.3f} "
            f"(recalibration T {c['recalibrationTemperature']:.3f}, bias {c['recalibrationBias']:.3f}); "
            f"ECE on the calibration cohort {c['eceBefore']:.3f} -> {c['eceAfter']:.3f}, n={c['n']}")
    path = os.path.join(_run_dir(a), CALIBRATION_FILE)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fitted, f, indent=2)
    log(f"calibrate: wrote {path}" + ("" if a.stage == "all" else "; run `train.py export` to bake it into the models"))
    return fitted


def _calibration(a: argparse.Namespace, variant: str, m: Dict) -> Dict:
    """Temperature, bias and threshold of a classifier (`m`: its checkpoint's metrics): the
    node-path recalibration when the run dir has one for this very checkpoint, else the
    validation split's."""
    ck_path = os.path.join(_run_dir(a), f"classifier_{variant}.pt")
    base = {"temperature": m["temperature"], "bias": m.get("bias", 0.0), "threshold": m["threshold"],
            "fittedOn": "kit validation split, crops at the true centre"}
    path = os.path.join(_run_dir(a), CALIBRATION_FILE)
    if not os.path.exists(path):
        return base
    with open(path, encoding="utf-8") as f:
        c = json.load(f).get(variant)
    if not c:
        return base
    if c.get("checkpointSha256") != sha256_of(ck_path):
        log(f"export: {path} was fitted for another {variant} checkpoint: ignored (run `train.py calibrate` again)")
        return base
    return c


def stage_export(a: argparse.Namespace, ds: Dataset, device: torch.device) -> Dict:
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    clip, _ = _load_clip(a)
    summary_path = os.path.join(_run_dir(a), "summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    n = {s: len(ds.split(s)) for s in ("train", "val", "test")}
    trained_on = (f"{ds.source or 'dataset'} ({os.path.basename(os.path.normpath(ds.root))}, created {ds.manifest.get('createdAt', '?')}): "
                  f"{n['train']} training / {n['val']} validation / {n['test']} test studies (kit splits by StudyInstanceUID hash unless given). "
                  "Synthetic data only.")
    c, h, w = ds.crop_shape
    oracle = _oracle_aucs(ds.split("test"))
    cfg = clip.cfg
    arch = (f"CLIP ViT width {cfg.vision_width}, {cfg.vision_layers} layers, {cfg.vision_heads} heads, patch {cfg.patch_size}, "
            f"{cfg.image_size} px, embed {cfg.embed_dim}; self-attention fusion; CLIP-Adapter reduction 4, alpha {a.alpha}; "
            f"last {a.tune_blocks} encoder block(s) fine-tuned per classifier")
    minutes = summary.get("minutes")
    parity_cases = []
    rng = np.random.default_rng(a.seed)
    test_items = ds.split("test") or ds.split("val") or ds.split("train")
    sample = test_items[: 2]
    crops = ds.load_crops(sample)
    written = []
    for variant, phases in VARIANTS.items():
        ck = load_checkpoint(os.path.join(_run_dir(a), f"classifier_{variant}.pt"))
        head = TsrHead(ck["prototypes"].shape[1], phases, ck["prototypes"], ck["logit_scale"], alpha=ck["alpha"])
        tuned = TsrModel(head, EncoderTail(clip, ck["tune_blocks"]) if ck["tune_blocks"] > 0 else None)
        tuned.load_state_dict(ck["model_state"])
        cal = _calibration(a, variant, ck["metrics"])
        model = ExportedClassifier(clip, tuned, cal["temperature"], cal["bias"]).eval()
        name = MODEL_NAMES[variant]
        path = os.path.join(out, name + ".onnx")
        inputs, outputs = classifier_io(phases, (c, h, w))
        example = tuple(torch.from_numpy(crops[p]) for p in phases)
        export_onnx(model, example, path, [s["name"] for s in inputs], [s["name"] for s in outputs])
        m = ck["metrics"]
        metrics = {"split": "kit test split", "n": m.get("testN", 0), "auc": m.get("testAuc", float("nan")),
                   "ece": m.get("testEce", float("nan")), "sensitivity": m.get("testSensitivity", float("nan")),
                   "specificity": m.get("testSpecificity", float("nan")), "valAuc": m["valAuc"], "valEce": m["valEce"],
                   "calibrationTemperature": cal["temperature"], "calibrationBias": cal["bias"], "calibration": cal["fittedOn"],
                   "architecture": arch}
        key = {"fusion": "fused"}.get(variant, variant)
        if key in oracle:
            metrics["oracleAuc"] = oracle[key]
        if minutes is not None:
            metrics["trainingMinutesAllModels"] = minutes
        metrics = {k: v for k, v in metrics.items() if not (isinstance(v, float) and np.isnan(v))}
        mpath = write_manifest(path, name, a.model_version, "classifier", inputs, outputs,
                               {"phases": phases, "crop": {**ds.crop_spec, "averageShifts": [list(x) for x in CROP_AVERAGE_SHIFTS]}}, trained_on, metrics,
                               label_definition=ds.label_definition, threshold=cal["threshold"])
        written += [path, mpath]
        log(f"export: {path} ({os.path.getsize(path) / 1e6:.2f} MB), {mpath}")
        if a.parity_dir and variant == "fusion":
            parity_cases.append(write_parity_case(a.parity_dir, "fusion", path, model,
                                                  {p: crops[p] for p in phases}, [s["name"] for s in outputs]))
            # The crop averaging: one study's crops moved by each shift (move_grid), as a batch.
            # The node's test moves the first (plain) view itself and must get the others.
            moved = {p: torch.cat([move_grid(torch.from_numpy(crops[p][:1]), s) for s in CROP_AVERAGE_SHIFTS]).numpy() for p in phases}
            parity_cases.append(write_parity_case(a.parity_dir, "fusion-shifted", path, model, moved, [s["name"] for s in outputs]))
        if a.parity_dir and variant == "venous":
            parity_cases.append(write_parity_case(a.parity_dir, "venous", path, model,
                                                  {"venous": crops["venous"][:1]}, [s["name"] for s in outputs]))
    ck = load_checkpoint(os.path.join(_run_dir(a), "localizer.pt"))
    net = LocalizerNet(ck["base"])
    net.load_state_dict(ck["state_dict"])
    loc = ExportedLocalizer(net).eval()
    grid = ds.localizer_shape
    path = os.path.join(out, LOCALIZER_NAME + ".onnx")
    inputs, outputs = localizer_io(grid, len(LOCALIZER_PHASES))
    pairs = _pairs(test_items[:1])
    vol = load_pair(pairs[0])[0][None] if pairs else rng.normal(0, 1, (1, len(LOCALIZER_PHASES)) + tuple(grid)).astype(np.float32)
    export_onnx(loc, (torch.from_numpy(vol),), path, ["volume"], ["probability"])
    lm = ck["metrics"]
    metrics = {k: v for k, v in lm.items() if isinstance(v, (int, float)) and not (isinstance(v, float) and np.isnan(v))}
    metrics["architecture"] = (f"3D U-Net at 8/16/32 mm, base {ck['base']} channels, logits at 8 mm upsampled to the grid; "
                              f"input and output channels {', '.join(LOCALIZER_PHASES)}")
    if minutes is not None:
        metrics["trainingMinutesAllModels"] = minutes
    mpath = write_manifest(path, LOCALIZER_NAME, a.model_version, "localizer", inputs, outputs,
                           {"phases": list(LOCALIZER_PHASES), "localizer": {**ds.localizer_spec, "averageShifts": [list(x) for x in AVERAGE_SHIFTS]}}, trained_on, metrics)
    written += [path, mpath]
    log(f"export: {path} ({os.path.getsize(path) / 1e6:.2f} MB), {mpath}")
    if a.parity_dir:
        parity_cases.append(write_parity_case(a.parity_dir, "localizer", path, loc, {"volume": vol}, ["probability"],
                                              sample_outputs=["probability"]))
        note = (f"Written by models/training/train.py export from run {os.path.basename(_run_dir(a))} "
                f"({'smoke configuration, toy data' if a.smoke else 'dataset ' + os.path.basename(os.path.normpath(ds.root))}).")
        if a.parity_copy_models:
            # A self-contained fixture (models beside the data), for runs whose models are not shipped.
            for case in parity_cases:
                src = os.path.normpath(os.path.join(a.parity_dir, case["model"]))
                shutil.copyfile(src, os.path.join(a.parity_dir, os.path.basename(src)))
                case["model"] = os.path.basename(src)
        log(f"export: parity fixture {write_parity_fixture(a.parity_dir, parity_cases, note)}")
    return {"files": written}


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, help="folder written by `tsr-node dataset build` (manifest.json inside)")
    p.add_argument("--run-dir", help="checkpoints folder (default models/training/runs/<dataset name>)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--smoke", action="store_true", help="tiny models, a few steps: for tests, seconds not minutes")
    g = p.add_argument_group("CLIP")
    g.add_argument("--clip-weights", help="state dict of the OpenAI CLIP ViT family (e.g. ViT-B/16) to start from")
    g.add_argument("--bpe-vocab", help="CLIP's BPE merges file (bpe_simple_vocab_16e6.txt.gz): use the real tokenizer and text weights")
    g.add_argument("--clip-width", type=int, default=64)
    g.add_argument("--clip-layers", type=int, default=4)
    g.add_argument("--clip-heads", type=int, default=2)
    g.add_argument("--patch", type=int, default=8)
    g.add_argument("--embed-dim", type=int, default=64)
    g.add_argument("--text-width", type=int, default=64)
    g.add_argument("--text-layers", type=int, default=2)
    g.add_argument("--text-heads", type=int, default=2)
    g.add_argument("--max-context", type=int, default=128, help="longest tokenised text kept")
    g.add_argument("--pretrain-epochs", type=int, default=80, help="0: no contrastive training (e.g. real CLIP weights as they are)")
    g.add_argument("--pretrain-minutes", type=float, help="stop pretraining after this many minutes")
    g.add_argument("--batch-size", type=int, default=64, help="studies per contrastive batch")
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--prompt-weight", type=float, default=1.0,
                   help="weight of the (crop, class prompt) contrastive term on the training labels; 0: findings texts only")
    g.add_argument("--sentence-keep", type=float, default=0.7, help="probability of keeping each sentence of a findings text per step")
    g = p.add_argument_group("classifier")
    g.add_argument("--head-epochs", type=int, default=60)
    g.add_argument("--tune-blocks", type=int, default=1,
                   help="fine-tune the image encoder's last N blocks with each classifier (0: frozen encoder, as in CLIP-Adapter)")
    g.add_argument("--alpha", type=float, default=0.5, help="CLIP-Adapter residual ratio")
    g.add_argument("--views", type=int, default=8, help="augmented views of each training crop to embed")
    g.add_argument("--shift-px", type=int, default=8,
                   help="largest in-plane shift (pixels) of the augmented views: the node's crop centre comes from the localiser, not the truth")
    g = p.add_argument_group("localiser")
    g.add_argument("--localizer-steps", type=int, default=10000)
    g.add_argument("--localizer-minutes", type=float, help="stop localiser training after this many minutes")
    g.add_argument("--localizer-base", type=int, default=12, help="channels of the first level")
    g.add_argument("--localizer-batch", type=int, default=4)
    g.add_argument("--localizer-preload-gb", type=float, default=8.0,
                   help="hold the training volumes in memory when they fit in this many GB (faster); else read patches from the files")
    g = p.add_argument_group("export")
    g.add_argument("--out", default=os.path.join(REPO, "models"), help="where the ONNX files and manifests go")
    g.add_argument("--parity-dir", help="write the parity fixture here (default: test/fixtures/model-parity when --out is the repo's models/)")
    g.add_argument("--parity-copy-models", action="store_true", help="copy the ONNX files into the parity folder (self-contained fixture)")
    g.add_argument("--model-version", default="0.4.0")
    g = p.add_argument_group("calibrate")
    g.add_argument("--evaluation", help="folder written by `tsr-node evaluate` (evaluation.json, cases.json) on the models in --out; "
                   "without it the kit runs `tsr-node evaluate` on the calibration cohort itself")
    g.add_argument("--calibration-seed", type=int, default=1000400,
                   help="first seed of the synthetic calibration cohort (keep it apart from the cohort you report on)")
    g.add_argument("--calibration-count", type=int, default=400, help="studies in the calibration cohort; 0: no node-path calibration in `all`")
    g.add_argument("--node", default="node", help="Node.js executable that runs bin/tsr-node.js")


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(prog="train.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="stage", required=True)
    for name, help_ in (("all", "every stage in order, export, node-path calibration, export again"), ("pretrain-clip", "contrastive CLIP pretraining"),
                        ("train-classifier", "fused, arterial-only and venous-only classifiers"),
                        ("train-localizer", "3D tumour localiser"), ("export", "ONNX + manifests (+ parity fixture)"),
                        ("evaluate", "figures on the dataset's test split"),
                        ("calibrate", "recalibrate the classifiers on the node's path (`tsr-node evaluate` of the calibration cohort)")):
        add_common(sub.add_parser(name, help=help_))
    a = ap.parse_args(argv)
    if a.smoke:
        for k, v in SMOKE.items():
            setattr(a, k, v)
    if a.parity_dir is None and os.path.abspath(a.out) == os.path.join(REPO, "models") and not a.smoke:
        a.parity_dir = os.path.join(REPO, "test", "fixtures", "model-parity")
    threads = configure_threads()
    device = select_device(a.device)
    log(f"train.py {a.stage}: torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else f", {threads} CPU threads")
        + f", run dir {_run_dir(a)}")
    if a.stage == "all":
        check_node_cli(a)
        stale = os.path.join(_run_dir(a), CALIBRATION_FILE)
        if a.calibration_count > 0 and os.path.exists(stale):
            os.remove(stale)
            log(f"all: removed {stale} of an earlier run (refitted at the end)")
    ds = Dataset(a.dataset)
    log(f"dataset {ds.root}: {len(ds.items)} studies, splits " + ", ".join(f"{s} {len(ds.split(s))}" for s in ("train", "val", "test")))
    t0 = time.time()
    stages = {"pretrain-clip": stage_pretrain, "train-classifier": stage_classifier, "train-localizer": stage_localizer,
              "export": stage_export, "evaluate": stage_evaluate, "calibrate": stage_calibrate}
    order = ["pretrain-clip", "train-classifier", "train-localizer"] if a.stage == "all" else [a.stage]
    summary_path = os.path.join(_run_dir(a), "summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    for s in order:
        t = time.time()
        summary[s] = stages[s](a, ds, device)
        summary.setdefault("seconds", {})[s] = time.time() - t
    if a.stage == "all":
        summary["minutes"] = round((time.time() - t0) / 60, 2)
        summary["device"] = str(device)
        summary["threads"] = threads
    if a.stage not in ("evaluate", "export", "calibrate"):
        os.makedirs(_run_dir(a), exist_ok=True)
        with open(summary_path, "w") as f:
            json.dump(summary, f, indent=2, default=float)
    if a.stage in ("all", "export"):
        stage_export(a, ds, device)
    if a.stage == "all" and a.calibration_count > 0:
        t = time.time()
        summary["calibrate"] = stage_calibrate(a, ds, device)
        summary["seconds"]["calibrate"] = time.time() - t
        summary["minutes"] = round((time.time() - t0) / 60, 2)
        with open(summary_path, "w") as f:
            json.dump(summary, f, indent=2, default=float)
        stage_export(a, ds, device)
    log(f"train.py {a.stage}: done in {(time.time() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
