"""train.py's command line: the sub-commands, their flags (defaults: the plans' defaults,
plans.py), and the plans built from the flags."""
from __future__ import annotations

import argparse
import os
from typing import List

from plans import (ClassifierPlan, ClipPlan, DEFAULT_SEED, ExportPlan, LocalizerPlan, NodeCalibrationPlan, PancreasPlan, Plans, REPO_DIR,
                   RoiLocalizerPlan, RunPlan, default_run_dir, with_smoke_overrides)

STAGES = (
    ("all", "every stage in order, export, node-path calibration, export again"),
    ("pretrain-clip", "contrastive CLIP pretraining"),
    ("train-classifier", "fused, arterial-only and venous-only classifiers"),
    ("train-pancreas", "cascade stage 1: 3D pancreas model on the coarse grid (@2 datasets)"),
    ("train-localizer", "3D tumour localiser (@2: cascade stage 2 on the ROI grid; @1: whole volume)"),
    ("export", "ONNX + manifests (+ parity fixture)"),
    ("evaluate", "figures on the dataset's test split"),
    ("calibrate", "recalibrate the classifiers on the node's path (`tsr-node evaluate` of the calibration cohort)"),
)


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, help="folder written by `tsr-node dataset build` (manifest.json inside)")
    p.add_argument("--run-dir", help="checkpoints folder (default models/training/runs/<dataset name>)")
    p.add_argument("--device", default=RunPlan.device, help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--smoke", action="store_true", help="tiny models, a few steps: for tests, seconds not minutes")


def _add_clip_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("CLIP")
    g.add_argument("--clip-weights", help="state dict of the OpenAI CLIP ViT family (e.g. ViT-B/16) to start from")
    g.add_argument("--bpe-vocab", help="CLIP's BPE merges file (bpe_simple_vocab_16e6.txt.gz): use the real tokenizer and text weights")
    g.add_argument("--clip-width", type=int, default=ClipPlan.vision_width)
    g.add_argument("--clip-layers", type=int, default=ClipPlan.vision_layers)
    g.add_argument("--clip-heads", type=int, default=ClipPlan.vision_heads)
    g.add_argument("--patch", type=int, default=ClipPlan.patch_size)
    g.add_argument("--embed-dim", type=int, default=ClipPlan.embed_dim)
    g.add_argument("--text-width", type=int, default=ClipPlan.text_width)
    g.add_argument("--text-layers", type=int, default=ClipPlan.text_layers)
    g.add_argument("--text-heads", type=int, default=ClipPlan.text_heads)
    g.add_argument("--max-context", type=int, default=ClipPlan.max_context, help="longest tokenised text kept")
    g.add_argument("--pretrain-epochs", type=int, default=ClipPlan.epochs, help="0: no contrastive training (e.g. real CLIP weights as they are)")
    g.add_argument("--pretrain-minutes", type=float, help="stop pretraining after this many minutes")
    g.add_argument("--batch-size", type=int, default=ClipPlan.batch_size, help="studies per contrastive batch")
    g.add_argument("--lr", type=float, default=ClipPlan.learning_rate)
    g.add_argument("--prompt-weight", type=float, default=ClipPlan.prompt_weight,
                   help="weight of the (crop, class prompt) contrastive term on the training labels; 0: findings texts only")
    g.add_argument("--sentence-keep", type=float, default=ClipPlan.sentence_keep,
                   help="probability of keeping each sentence of a findings text per step")


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("classifier")
    g.add_argument("--head-epochs", type=int, default=ClassifierPlan.epochs)
    g.add_argument("--tune-blocks", type=int, default=ClassifierPlan.tune_blocks,
                   help="fine-tune the image encoder's last N blocks with each classifier (0: frozen encoder, as in CLIP-Adapter)")
    g.add_argument("--alpha", type=float, default=ClassifierPlan.adapter_alpha, help="CLIP-Adapter residual ratio")
    g.add_argument("--views", type=int, default=ClassifierPlan.views, help="augmented views of each training crop to embed")
    g.add_argument("--shift-px", type=int, default=ClassifierPlan.shift_px,
                   help="largest in-plane shift (pixels) of the augmented views: the node's crop centre comes from the localiser, not the truth")
    g = p.add_argument_group("pancreas (cascade stage 1, @2 datasets)")
    g.add_argument("--pancreas-steps", type=int, default=PancreasPlan.steps)
    g.add_argument("--pancreas-minutes", type=float, default=PancreasPlan.max_minutes,
                   help="stop pancreas training after this many minutes (0: no cap)")
    g.add_argument("--pancreas-base", type=int, default=PancreasPlan.base_channels, help="channels of the first level")
    g.add_argument("--pancreas-batch", type=int, default=PancreasPlan.batch_size)
    g.add_argument("--pancreas-init", default=None, help="start from the weights of this pancreas.pt (train on, e.g. after a time cap)")
    g = p.add_argument_group("localiser (@2: cascade stage 2 on the ROI grid; @1: whole volume)")
    g.add_argument("--localizer-steps", type=int,
                   help=f"training steps (default {RoiLocalizerPlan.steps} for the ROI model, {LocalizerPlan.steps} for @1's)")
    g.add_argument("--localizer-minutes", type=float,
                   help=f"stop localiser training after this many minutes (default {RoiLocalizerPlan.max_minutes:g} for the ROI model, "
                        "no cap for @1's; 0: no cap)")
    g.add_argument("--localizer-base", type=int,
                   help=f"channels of the first level (default {RoiLocalizerPlan.base_channels} ROI, {LocalizerPlan.base_channels} @1)")
    g.add_argument("--localizer-batch", type=int,
                   help=f"patches per step (default {RoiLocalizerPlan.batch_size} ROI, {LocalizerPlan.batch_size} @1)")
    g.add_argument("--localizer-init", default=None, help="@2: start from the weights of this ROI localizer.pt (train on, e.g. after a time cap)")
    g.add_argument("--localizer-preload-gb", type=float, default=LocalizerPlan.preload_gb,
                   help="hold the training volumes in memory when they fit in this many GB (faster); else read patches from the files")


def _add_output_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("export")
    g.add_argument("--out", default=ExportPlan.models_dir, help="where the ONNX files and manifests go")
    g.add_argument("--parity-dir", help="write the parity fixture here (default: test/fixtures/model-parity when --out is the repo's models/)")
    g.add_argument("--parity-copy-models", action="store_true", help="copy the ONNX files into the parity folder (self-contained fixture)")
    g.add_argument("--model-version", default=ExportPlan.model_version, help="default 0.5.0 for @2 datasets (the cascade), 0.4.0 for @1")
    g.add_argument("--localizer-only", action="store_true",
                   help="export: only tsr-pancreas and tsr-localizer (@2), no CLIP or classifier checkpoints read, the classifiers in --out "
                        "and their parity cases left as they are; calibrate: only the localisation confidence (no classifier recalibration)")
    g = p.add_argument_group("calibrate")
    g.add_argument("--evaluation", help="folder written by `tsr-node evaluate` (evaluation.json, cases.json) on the models in --out; "
                   "without it the kit runs `tsr-node evaluate` on the calibration cohort itself")
    g.add_argument("--calibration-seed", type=int, default=NodeCalibrationPlan.cohort_seed,
                   help="first seed of the synthetic calibration cohort (keep it apart from the cohort you report on)")
    g.add_argument("--calibration-count", type=int, default=NodeCalibrationPlan.cohort_count,
                   help="studies in the calibration cohort; 0: no node-path calibration in `all`")
    g.add_argument("--node", default=NodeCalibrationPlan.node_executable, help="Node.js executable that runs bin/tsr-node.js")


def build_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="train.py", description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="stage", required=True)
    for name, help_text in STAGES:
        stage_parser = sub.add_parser(name, help=help_text)
        _add_run_arguments(stage_parser)
        _add_clip_arguments(stage_parser)
        _add_model_arguments(stage_parser)
        _add_output_arguments(stage_parser)
    return parser


def _given(value, default):
    """A flag's value, or the plan's default when the flag was not given."""
    return default if value is None else value


def _minutes(value, default):
    """A time cap flag: not given -> the plan's default; 0 (or less) -> no cap."""
    if value is None:
        return default
    return value if value > 0 else None


def plans_from_arguments(args: argparse.Namespace) -> Plans:
    """The plans of this invocation: the defaults, the flags, then --smoke's overrides. The
    dataset's part comes later (plans.with_dataset)."""
    models_dir = os.path.abspath(args.out)
    parity_dir = args.parity_dir
    if parity_dir is None and models_dir == os.path.join(REPO_DIR, "models") and not args.smoke:
        parity_dir = os.path.join(REPO_DIR, "test", "fixtures", "model-parity")
    plans = Plans(
        run=RunPlan(dataset_dir=args.dataset, run_dir=args.run_dir or default_run_dir(args.dataset, args.smoke), device=args.device,
                    smoke=args.smoke),
        clip=ClipPlan(seed=args.seed, start_weights=args.clip_weights, bpe_vocabulary=args.bpe_vocab, embed_dim=args.embed_dim,
                      patch_size=args.patch, vision_width=args.clip_width, vision_layers=args.clip_layers, vision_heads=args.clip_heads,
                      text_width=args.text_width, text_layers=args.text_layers, text_heads=args.text_heads, max_context=args.max_context,
                      epochs=args.pretrain_epochs, max_minutes=args.pretrain_minutes, batch_size=args.batch_size, learning_rate=args.lr,
                      prompt_weight=args.prompt_weight, sentence_keep=args.sentence_keep),
        classifiers=ClassifierPlan(seed=args.seed, epochs=args.head_epochs, tune_blocks=args.tune_blocks, adapter_alpha=args.alpha,
                                   views=args.views, shift_px=args.shift_px),
        localizer=LocalizerPlan(seed=args.seed, steps=_given(args.localizer_steps, LocalizerPlan.steps),
                                max_minutes=_minutes(args.localizer_minutes, LocalizerPlan.max_minutes),
                                base_channels=_given(args.localizer_base, LocalizerPlan.base_channels),
                                batch_size=_given(args.localizer_batch, LocalizerPlan.batch_size), preload_gb=args.localizer_preload_gb),
        pancreas=PancreasPlan(seed=args.seed, steps=args.pancreas_steps, max_minutes=_minutes(args.pancreas_minutes, None),
                              base_channels=args.pancreas_base, batch_size=args.pancreas_batch, init_checkpoint=args.pancreas_init, preload_gb=args.localizer_preload_gb),
        roi_localizer=RoiLocalizerPlan(seed=args.seed, steps=_given(args.localizer_steps, RoiLocalizerPlan.steps),
                                       max_minutes=_minutes(args.localizer_minutes, RoiLocalizerPlan.max_minutes),
                                       base_channels=_given(args.localizer_base, RoiLocalizerPlan.base_channels),
                                       batch_size=_given(args.localizer_batch, RoiLocalizerPlan.batch_size),
                                       init_checkpoint=args.localizer_init, preload_gb=args.localizer_preload_gb),
        export=ExportPlan(models_dir=models_dir, parity_dir=parity_dir, copy_models_into_parity_dir=args.parity_copy_models,
                          model_version=args.model_version, seed=args.seed,
                          localizer_only=args.localizer_only),
        node_calibration=NodeCalibrationPlan(models_dir=models_dir, evaluation_dir=args.evaluation, cohort_seed=args.calibration_seed,
                                             cohort_count=args.calibration_count, node_executable=args.node,
                                             localizer_only=args.localizer_only),
    )
    return with_smoke_overrides(plans) if args.smoke else plans


def parse_plans(argv: List[str], description: str):
    """(stage, plans) of a command line."""
    args = build_parser(description).parse_args(argv)
    return args.stage, plans_from_arguments(args)
