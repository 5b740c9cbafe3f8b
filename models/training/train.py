#!/usr/bin/python3
"""tsr-node training kit: CLIP pretraining, TSR classifiers (fused, arterial-only, venous-only),
tumour localiser, ONNX export with manifests. Run with Debian's Python (torch 1.13, onnx 1.12):

    /usr/bin/python3 models/training/train.py all --dataset DATASET          # the demo models, end to end
    /usr/bin/python3 models/training/train.py pretrain-clip --dataset DATASET
    /usr/bin/python3 models/training/train.py train-classifier --dataset DATASET
    /usr/bin/python3 models/training/train.py train-pancreas --dataset DATASET     # @2: cascade stage 1
    /usr/bin/python3 models/training/train.py train-localizer --dataset DATASET    # @2: stage 2 on the ROI; @1: whole volume
    /usr/bin/python3 models/training/train.py export --dataset DATASET [--out models]
    /usr/bin/python3 models/training/train.py evaluate --dataset DATASET     # figures on the test split
    /usr/bin/python3 models/training/train.py all --dataset DATASET --smoke --out /tmp/x   # seconds

DATASET is what `tsr-node dataset build` writes (schema tsr-node/dataset@2, or @1). Checkpoints go to
models/training/runs/<dataset folder name>/ (--run-dir). --device auto uses CUDA when present.
CPU threads: TSR_TRAIN_THREADS, else OMP_NUM_THREADS, else all cores. See docs/model-card.md.
"""
from __future__ import annotations

import os
import sys
from typing import List

import torch

KIT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, KIT_DIR)

from arguments import parse_plans  # noqa: E402
from pipeline import run_pipeline  # noqa: E402
from runtime import configure_threads, log, select_device  # noqa: E402


def main(argv: List[str]) -> int:
    stage, plans = parse_plans(argv, __doc__)
    threads = configure_threads()
    device = select_device(plans.run.device)
    log(f"train.py {stage}: torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else f", {threads} CPU threads")
        + f", run dir {plans.run.run_dir}")
    run_pipeline(stage, plans, device, threads)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
