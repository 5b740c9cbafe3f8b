"""Contrastive (CLIP) pretraining on (crop, findings text) pairs.

Each study gives two images (its arterial and venous crops) and one text. A batch of B studies is
2B images against B texts: each image's positive is its study's text (cross-entropy over the B
texts), and each text's positives are its two crops (cross-entropy against a target of one half
on each). That is CLIP's symmetric InfoNCE loss with the text shared by the two phases, so a text
is encoded once per step. The image encoder learns what of the findings a crop shows: the
tumour's and the parenchyma's attenuation in that phase, its size, its surroundings.
"""
from __future__ import annotations

import math
import time
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from clip_model import CLIP, ClipConfig
from dataset import Dataset, Item, PHASES
from runtime import Progress, log
from tokenizer import Tokenizer


def augment(images: torch.Tensor, generator: torch.Generator, max_shift: int) -> torch.Tensor:
    """Random horizontal / vertical flips and integer shifts (edge-replicated) per image. The HU
    values are the evidence, so intensities are left alone. Shifts teach the encoder that the
    node's crop centre (from the localiser) is not exactly the ground-truth centre."""
    b = images.shape[0]
    flip_w = (torch.rand(b, generator=generator) < 0.5).to(images.device).view(b, 1, 1, 1)
    flip_h = (torch.rand(b, generator=generator) < 0.5).to(images.device).view(b, 1, 1, 1)
    x = torch.where(flip_w, images.flip(3), images)
    x = torch.where(flip_h, x.flip(2), x)
    if max_shift <= 0:
        return x
    h, w = x.shape[2], x.shape[3]
    padded = F.pad(x, (max_shift,) * 4, mode="replicate")
    offsets = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets)])


def contrastive_loss(img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """img [2B, D] (the B arterial crops, then the B venous ones), txt [B, D], both normalised."""
    b = txt.shape[0]
    logits = scale * img @ txt.t()  # [2B, B]
    target = torch.arange(b, device=img.device).repeat(2)
    loss_img = F.cross_entropy(logits, target)
    soft = torch.zeros(b, 2 * b, device=img.device)
    idx = torch.arange(b, device=img.device)
    soft[idx, idx] = 0.5
    soft[idx, idx + b] = 0.5
    loss_txt = -(F.log_softmax(logits.t(), dim=1) * soft).sum(dim=1).mean()
    return 0.5 * (loss_img + loss_txt)


def _texts(items: List[Item]) -> List[str]:
    missing = [it.id for it in items if not it.findings_text]
    if missing:
        raise SystemExit(f"contrastive pretraining needs findingsText on every item; {len(missing)} lack it (e.g. {missing[0]})")
    return [it.findings_text or "" for it in items]


@torch.no_grad()
def _evaluate(model: CLIP, crops: torch.Tensor, tokens: torch.Tensor, device: torch.device, batch: int) -> Dict[str, float]:
    """Validation loss and image-to-text top-1 retrieval within batches of `batch` studies."""
    model.eval()
    losses, hits, n = [], 0, 0
    for s in range(0, crops.shape[0], batch):
        c = crops[s:s + batch].to(device)
        t = tokens[s:s + batch].to(device)
        if c.shape[0] < 2:
            continue
        img, txt, scale = model(torch.cat([c[:, 0], c[:, 1]]), t)
        losses.append(float(contrastive_loss(img, txt, scale)))
        pred = (img @ txt.t()).argmax(dim=1).cpu()
        hits += int((pred == torch.arange(c.shape[0]).repeat(2)).sum())
        n += 2 * c.shape[0]
    model.train()
    return {"loss": float(np.mean(losses)) if losses else float("nan"), "top1": hits / max(n, 1)}


def pretrain_clip(ds: Dataset, model: CLIP, tokenizer: Tokenizer, device: torch.device, epochs: int,
                  batch_size: int, lr: float, seed: int, max_shift: int = 4,
                  max_seconds: Optional[float] = None) -> Dict[str, float]:
    train, val = ds.split("train"), ds.split("val")
    cfg: ClipConfig = model.cfg
    tok_train = tokenizer.tokenize(_texts(train), cfg.context_length)
    tok_val = tokenizer.tokenize(_texts(val), cfg.context_length) if val else None
    arr = ds.load_crops(train)
    crops = torch.from_numpy(np.stack([arr[p] for p in PHASES], axis=1))  # [N, 2, C, H, W]
    crops_val = None
    if val:
        arr_v = ds.load_crops(val)
        crops_val = torch.from_numpy(np.stack([arr_v[p] for p in PHASES], axis=1))
    n = crops.shape[0]
    batch_size = max(2, min(batch_size, n))
    steps_per_epoch = max(1, n // batch_size)
    total = epochs * steps_per_epoch
    log(f"pretrain-clip: {n} training studies ({2 * n} crops), {len(val)} validation, {epochs} epochs x {steps_per_epoch} steps, batch {batch_size}, device {device}")

    decay = [p for name, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in name]
    no_decay = [p for name, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in name)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup))))
    gen = torch.Generator().manual_seed(seed)
    model.to(device).train()
    progress = Progress("pretrain-clip", total)
    step, start = 0, time.time()
    last: Dict[str, float] = {}
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        running = []
        for s in range(steps_per_epoch):
            idx = perm[s * batch_size:(s + 1) * batch_size]
            c = crops[idx]
            images = augment(torch.cat([c[:, 0], c[:, 1]]), gen, max_shift).to(device)
            img, txt, scale = model(images, tok_train[idx].to(device))
            loss = contrastive_loss(img, txt, scale)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100.0))
            running.append(float(loss))
            step += 1
            progress.update(step, f"loss {np.mean(running[-20:]):.3f}")
        msg = f"pretrain-clip: epoch {epoch + 1}/{epochs} train loss {np.mean(running):.3f}"
        if crops_val is not None and tok_val is not None and (epoch == epochs - 1 or (epoch + 1) % max(1, epochs // 5) == 0):
            last = _evaluate(model, crops_val, tok_val, device, batch_size)
            msg += f", val loss {last['loss']:.3f}, val image->text top-1 {last['top1']:.3f} (batches of {batch_size})"
        log(msg + f", logit scale {float(model.logit_scale.exp()):.1f}")
        if max_seconds is not None and time.time() - start > max_seconds:
            log(f"pretrain-clip: time budget of {max_seconds:.0f}s reached after epoch {epoch + 1}")
            break
    model.eval()
    return {"trainLoss": float(np.mean(running)), **{f"val_{k}": v for k, v in last.items()}}
