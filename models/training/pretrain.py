"""Contrastive (CLIP) pretraining on (crop, findings text) pairs.

Each study gives two images (its arterial and venous crops) and one text. A batch of B studies is
2B images against B texts: each image's positive is its study's text (cross-entropy over the B
texts), and each text's positives are its two crops (cross-entropy against a target of one half
on each). That is CLIP's symmetric InfoNCE loss with the text shared by the two phases, so a text
is encoded once per step. The image encoder learns what of the findings a crop shows: the
tumour's and the parenchyma's attenuation in that phase, its size, its surroundings.
"""
from __future__ import annotations

import copy
import math
import re
import time
from typing import TYPE_CHECKING, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from clip_model import CLIP, ClipConfig
from dataset import Dataset, Item, PHASES
from metrics import auc
from runtime import Progress, log
from tokenizer import Tokenizer, WordTokenizer

if TYPE_CHECKING:
    from plans import ClipPlan

_SENTENCE_END = re.compile(r"(?<=[.;])\s+")


def sentence_dropout(text: str, keep: float, rng: np.random.Generator) -> str:
    """Each sentence kept with probability `keep` (at least one kept), order unchanged. Against
    memorising whole reports: the encoders must match on what each sentence says."""
    sentences = [x for x in _SENTENCE_END.split(text) if x]
    if len(sentences) <= 1 or keep >= 1:
        return text
    mask = rng.random(len(sentences)) < keep
    if not mask.any():
        mask[rng.integers(len(sentences))] = True
    return " ".join(x for x, m in zip(sentences, mask) if m)


def init_numeric_token_embeddings(model: CLIP, tokenizer: Tokenizer, amplitude: float = 0.03) -> int:
    """Start the embedding of every number token (e.g. "75" in "about 75 HU") as Fourier
    features of its value, so that near values start near each other. Initialisation only: the
    rows stay ordinary trainable parameters of `token_embedding`. Without it a few thousand
    reports are too few to learn from scratch that 75 HU is close to 80 HU, and the text side
    cannot tell the image side what the attenuation values mean. Returns how many rows were set."""
    if not isinstance(tokenizer, WordTokenizer):
        return 0
    width = model.token_embedding.weight.shape[1]
    half = width // 2
    periods = torch.logspace(math.log10(4.0), math.log10(2000.0), half)
    n = 0
    with torch.no_grad():
        for word, idx in tokenizer.stoi.items():
            if word.isdigit():
                v = float(word)
                feats = torch.cat([torch.sin(2 * math.pi * v / periods), torch.cos(2 * math.pi * v / periods)])
                model.token_embedding.weight[idx, : 2 * half] = amplitude * feats
                n += 1
    return n


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
def _evaluate(model: CLIP, crops: torch.Tensor, tokens: torch.Tensor, device: torch.device, batch: int,
              prompt_tokens: Optional[Dict[str, torch.Tensor]] = None, labels: Optional[torch.Tensor] = None) -> Dict[str, float]:
    """Validation loss, image-to-text top-1 retrieval within batches of `batch` studies, and
    (with prompts) the zero-shot AUC of the class prompts on the mean of the two phases."""
    model.eval()
    losses, hits, n = [], 0, 0
    feats = []
    for s in range(0, crops.shape[0], batch):
        c = crops[s:s + batch].to(device)
        t = tokens[s:s + batch].to(device)
        img, txt, scale = model(torch.cat([c[:, 0], c[:, 1]]), t)
        feats.append(img.reshape(2, c.shape[0], -1).mean(0).cpu())
        if c.shape[0] < 2:
            continue
        losses.append(float(contrastive_loss(img, txt, scale)))
        pred = (img @ txt.t()).argmax(dim=1).cpu()
        hits += int((pred == torch.arange(c.shape[0]).repeat(2)).sum())
        n += 2 * c.shape[0]
    out = {"loss": float(np.mean(losses)) if losses else float("nan"), "top1": hits / max(n, 1)}
    if prompt_tokens and labels is not None and len(set(labels.tolist())) == 2:
        protos = torch.stack([F.normalize(F.normalize(model.encode_text(prompt_tokens[c]), dim=-1).mean(0), dim=0) for c in ("low", "high")]).cpu()
        sim = torch.cat(feats) @ protos.t()
        out["promptAuc"] = auc(labels.numpy(), (sim[:, 1] - sim[:, 0]).numpy())
    model.train()
    return out


def prompt_loss(model: CLIP, img: torch.Tensor, prompt_tokens: Dict[str, torch.Tensor], labels: torch.Tensor,
                scale: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each image against the class prototypes (mean embedding of each class's
    prompts), i.e. the contrastive loss with the class-prompt texts as the only candidates
    (fine-tuning like pretraining, Goyal et al. 2022, FLYP). labels: [2B] (0 low, 1 high)."""
    protos = torch.stack([F.normalize(F.normalize(model.encode_text(prompt_tokens[c]), dim=-1).mean(0), dim=0) for c in ("low", "high")])
    return F.cross_entropy(scale * img @ protos.t(), labels)


def pretrain_clip(ds: Dataset, model: CLIP, tokenizer: Tokenizer, device: torch.device, plan: ClipPlan,
                  prompts: Optional[Dict[str, List[str]]] = None) -> Dict[str, float]:
    """Pretrain with the plan's epochs, batch size, learning rate, seed, augmentation shift,
    sentence keep rate, prompt weight and time cap. Returns figures; `model` ends with the
    weights of the epoch with the lowest validation loss (early stopping: a few thousand pairs
    are quickly memorised).

    plan.prompt_weight > 0 adds `prompt_loss` on the training labels: the (crop, class prompt)
    pairs join the (crop, findings text) pairs, so the frozen features the classifier later reads
    are shaped by the texts it will be compared with."""
    epochs, seed, prompt_weight = plan.epochs, plan.seed, plan.prompt_weight
    max_seconds = plan.max_minutes * 60 if plan.max_minutes else None
    train, val = ds.split("train"), ds.split("val")
    cfg: ClipConfig = model.cfg
    texts_train = _texts(train)
    y_train = torch.tensor([it.label for it in train], dtype=torch.long)
    y_val = torch.tensor([it.label for it in val], dtype=torch.long)
    prompt_tokens = {c: tokenizer.tokenize(v, cfg.context_length).to(device) for c, v in (prompts or {}).items()}
    use_prompts = prompt_weight > 0 and len(prompt_tokens) == 2
    tok_val = tokenizer.tokenize(_texts(val), cfg.context_length) if val else None
    arr = ds.load_crops(train)
    crops = torch.from_numpy(np.stack([arr[p] for p in PHASES], axis=1))  # [N, 2, C, H, W]
    crops_val = None
    if val:
        arr_v = ds.load_crops(val)
        crops_val = torch.from_numpy(np.stack([arr_v[p] for p in PHASES], axis=1))
    n = crops.shape[0]
    batch_size = max(2, min(plan.batch_size, n))
    steps_per_epoch = max(1, n // batch_size)
    total = epochs * steps_per_epoch
    log(f"pretrain-clip: {n} training studies ({2 * n} crops), {len(val)} validation, {epochs} epochs x {steps_per_epoch} steps, batch {batch_size}, device {device}")

    decay = [p for name, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in name]
    no_decay = [p for name, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in name)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": plan.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=plan.learning_rate, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup))))
    gen = torch.Generator().manual_seed(seed)
    text_rng = np.random.default_rng(seed)
    model.to(device).train()
    best_loss, best_state, best_epoch = float("inf"), None, 0
    progress = Progress("pretrain-clip", total)
    step, start = 0, time.time()
    last: Dict[str, float] = {}
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        running = []
        for s in range(steps_per_epoch):
            idx = perm[s * batch_size:(s + 1) * batch_size]
            c = crops[idx]
            images = augment(torch.cat([c[:, 0], c[:, 1]]), gen, plan.augment_shift_px).to(device)
            tokens = tokenizer.tokenize([sentence_dropout(texts_train[i], plan.sentence_keep, text_rng) for i in idx.tolist()], cfg.context_length)
            img, txt, scale = model(images, tokens.to(device))
            loss = contrastive_loss(img, txt, scale)
            if use_prompts:
                loss = loss + prompt_weight * prompt_loss(model, img, prompt_tokens, y_train[idx].repeat(2).to(device), scale)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100.0))
            running.append(float(loss.detach()))
            step += 1
            progress.update(step, f"loss {np.mean(running[-20:]):.3f}")
        msg = f"pretrain-clip: epoch {epoch + 1}/{epochs} train loss {np.mean(running):.3f}"
        if crops_val is not None and tok_val is not None:
            last = _evaluate(model, crops_val, tok_val, device, batch_size, prompt_tokens if use_prompts else None, y_val)
            msg += f", val loss {last['loss']:.3f}, val image->text top-1 {last['top1']:.3f} (batches of {batch_size})"
            if "promptAuc" in last:
                msg += f", val prompt AUC {last['promptAuc']:.3f}"
            if last["loss"] < best_loss:
                best_loss, best_state, best_epoch = last["loss"], copy.deepcopy(model.state_dict()), epoch + 1
        log(msg + f", logit scale {float(model.logit_scale.exp()):.1f}")
        if max_seconds is not None and time.time() - start > max_seconds:
            log(f"pretrain-clip: time budget of {max_seconds:.0f}s reached after epoch {epoch + 1}")
            break
    if best_state is not None:
        model.load_state_dict(best_state)
        log(f"pretrain-clip: kept epoch {best_epoch} (lowest validation loss {best_loss:.3f})")
    model.eval()
    return {"trainLoss": float(np.mean(running)), "bestEpoch": best_epoch, "valLoss": best_loss,
            **{f"lastVal_{k}": v for k, v in last.items()}}
