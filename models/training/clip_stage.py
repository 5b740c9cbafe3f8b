"""The `pretrain-clip` stage: build CLIP (fresh, or from ViT-family weights), pretrain it on
(crop, findings text) pairs (pretrain.py), write clip.pt; and loading that checkpoint for the
later stages."""
from __future__ import annotations

import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from clip_model import CLIP, ClipConfig, config_from_state_dict, load_clip_state_dict, read_state_dict
from dataset import Dataset
from plans import ClipPlan, RunPlan
from pretrain import init_numeric_token_embeddings, pretrain_clip
from runtime import load_checkpoint, log, save_checkpoint, seed_everything
from tokenizer import ClipBpeTokenizer, Tokenizer, WordTokenizer, tokenizer_from_dict
from tsr_classifier import CLASS_PROMPTS, all_prompts


def _read_start_weights(plan: ClipPlan) -> Tuple[Optional[Dict[str, torch.Tensor]], Optional[ClipConfig]]:
    """The ViT-family state dict of --clip-weights and the configuration it implies, checked
    against the crops (None, None without it)."""
    if not plan.start_weights:
        return None, None
    channels, size, _ = plan.crop_shape
    state = read_state_dict(plan.start_weights)
    weights_config = config_from_state_dict(state, image_size=size)
    if weights_config.image_channels != channels:
        raise SystemExit(f"--clip-weights: the encoder takes {weights_config.image_channels} channels, the crops have {channels} slices")
    if size % weights_config.patch_size:
        raise SystemExit(f"--clip-weights: crop size {size} px is not a multiple of the patch size {weights_config.patch_size}")
    return state, weights_config


def _clip_config(plan: ClipPlan, weights_config: Optional[ClipConfig], tokenizer: Tokenizer, context: int) -> Tuple[ClipConfig, str]:
    """The model's configuration, and which parts of the start weights it loads ("all",
    "visual", or "" without start weights)."""
    channels, size, _ = plan.crop_shape
    if weights_config is None:
        return ClipConfig(embed_dim=plan.embed_dim, image_size=size, image_channels=channels, patch_size=plan.patch_size,
                          vision_width=plan.vision_width, vision_layers=plan.vision_layers, vision_heads=plan.vision_heads,
                          context_length=context, vocab_size=tokenizer.vocab_size, text_width=plan.text_width,
                          text_layers=plan.text_layers, text_heads=plan.text_heads), ""
    if plan.bpe_vocabulary:
        return weights_config, "all"
    # Real image weights, but the site's texts use this kit's word tokenizer: the text tower is a
    # fresh small one (in the same embedding space size), trained by pretraining.
    return ClipConfig(**{**weights_config.to_dict(), "vocab_size": tokenizer.vocab_size, "context_length": context,
                         "text_width": plan.text_width, "text_layers": plan.text_layers, "text_heads": plan.text_heads}), "visual"


def pretrain_clip_stage(plan: ClipPlan, run: RunPlan, ds: Dataset, device: torch.device) -> Dict:
    seed_everything(plan.seed)
    _, height, width = plan.crop_shape
    if height != width:
        raise SystemExit(f"crops are {height}x{width}: the ViT expects square crops")
    texts: List[str] = [it.findings_text or "" for it in ds.split("train")]
    state, weights_config = _read_start_weights(plan)
    if plan.bpe_vocabulary:
        tokenizer: Tokenizer = ClipBpeTokenizer(plan.bpe_vocabulary)
    else:
        tokenizer = WordTokenizer.build(texts, extra_texts=all_prompts())
    lengths = [len(tokenizer.encode(t)) + 2 for t in texts + all_prompts()]
    context = min(plan.max_context, int(np.ceil(max(lengths) / 8) * 8))
    config, loaded_parts = _clip_config(plan, weights_config, tokenizer, context)
    model = CLIP(config)
    if state is not None:
        loaded = load_clip_state_dict(model, state, loaded_parts)
        log(f"pretrain-clip: loaded {len(loaded)} tensors ({loaded_parts}) from {plan.start_weights}")
    if state is None or loaded_parts == "visual":
        number_tokens = init_numeric_token_embeddings(model, tokenizer)
        log(f"pretrain-clip: {number_tokens} number tokens start from Fourier features of their value")
    encoder_parameters = sum(p.numel() for p in model.visual.parameters())
    log(f"pretrain-clip: CLIP {config.to_dict()} ({encoder_parameters / 1e6:.2f}M image-encoder parameters), vocabulary {tokenizer.vocab_size}")
    started = time.time()
    metrics = {}
    if plan.epochs > 0:
        metrics = pretrain_clip(ds, model, tokenizer, device, plan, prompts=CLASS_PROMPTS)
    metrics["seconds"] = time.time() - started
    path = run.clip_checkpoint
    save_checkpoint(path, {"config": config.to_dict(), "tokenizer": tokenizer.to_dict(),
                           "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, "metrics": metrics})
    log(f"pretrain-clip: wrote {path} ({metrics['seconds']:.0f}s)")
    return metrics


def load_pretrained_clip(run: RunPlan) -> Tuple[CLIP, Tokenizer]:
    """The pretrained CLIP of the run (eval mode) and its tokenizer."""
    checkpoint = load_checkpoint(run.clip_checkpoint)
    model = CLIP(ClipConfig.from_dict(checkpoint["config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), tokenizer_from_dict(checkpoint["tokenizer"])
