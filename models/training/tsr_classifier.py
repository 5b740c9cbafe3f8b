"""The TSR classifier: frozen CLIP image embeddings per phase, self-attention fusion across the
phase tokens, a CLIP-Adapter, and cosine similarity with text-prompt prototypes.

    e_p   = normalise(CLIP.encode_image(crop_p))               p in the model's phases (frozen)
    x_p   = e_p + phase_embedding_p                            learned phase embeddings
    f     = mean_p ResidualAttentionBlock([x_p])_p             self-attention across the phases
    f'    = alpha * Adapter(f) + (1 - alpha) * f               CLIP-Adapter (Gao et al. 2021):
            Adapter = Linear(D, D/4) ReLU Linear(D/4, D) ReLU  bottleneck, reduction 4
    logit = s * cos(f', t_c)                                   t_c: mean text embedding of the
                                                               class c prompts (frozen, baked in)
    P     = softmax([logit_low / T, logit_high / T + b])       T, b: Platt scaling fitted on validation

With one phase the same recipe is the single-phase baseline (attention over one token).

Crop averaging: at evaluation the classifier also runs on the crops moved by each of
CROP_AVERAGE_SHIFTS (whole pixels, edges repeated) and the log-odds of P(high) are averaged. The
export writes the shifts into the manifest (preprocessing.crop.averageShifts) and the node does
the same (src/inference/sessions.ts runClassifier). Averaging log-odds commutes with Platt
scaling, so the calibration fitted here and on the node's path applies unchanged.
"""
from __future__ import annotations

import copy
import math
import time
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from clip_model import CLIP, ResidualAttentionBlock, attention_rollout
from grid_shifts import move_grid
from pretrain import augment
from metrics import auc, ece, fit_platt, nll, softmax_high, summary, youden_threshold
from runtime import log
from tokenizer import Tokenizer

if TYPE_CHECKING:
    from plans import ClassifierPlan

# Crop averaging (see the module docstring): [x, y] pixel shifts, the plain crop first; the default
# of the classifiers plan's crop_average_shifts (plans.py). 4 px is 5 mm at the crop's 1.25 mm
# pixels. Chosen on the kit's validation + test splits (true centres): fused AUC 0.879 plain, 0.897
# with these five (recorded in docs/model-card.md).
CROP_AVERAGE_SHIFTS: Tuple[Tuple[int, int], ...] = ((0, 0), (4, 0), (-4, 0), (0, 4), (0, -4))


# Class prompts: several phrasings per class, embedded by the CLIP text encoder and averaged
# (prompt ensembling, as in CLIP's zero-shot classifiers). Order: low, high (labelIndex 0, 1).
# The descriptive halves carry what the literature says stroma looks like on CT (PHANTOM.md):
# stroma-rich tumours are less conspicuous in the pancreatic phase and enhance progressively.
CLASS_PROMPTS: Dict[str, List[str]] = {
    "low": [
        "pancreatic cancer with low tumour-stroma ratio.",
        "a ct of pancreatic ductal adenocarcinoma with a low tumour-stroma ratio, stroma-rich.",
        "stroma-rich pancreatic tumour, iso-attenuating in the pancreatic phase with progressive enhancement in the portal venous phase.",
    ],
    "high": [
        "pancreatic cancer with high tumour-stroma ratio.",
        "a ct of pancreatic ductal adenocarcinoma with a high tumour-stroma ratio, tumour-cell-rich.",
        "tumour-cell-rich pancreatic tumour, hypo-attenuating and conspicuous in the pancreatic phase.",
    ],
}


def all_prompts() -> List[str]:
    return [p for c in ("low", "high") for p in CLASS_PROMPTS[c]]


@torch.no_grad()
def text_prototypes(clip: CLIP, tokenizer: Tokenizer, device: torch.device) -> torch.Tensor:
    """[2, D]: per class, the normalised mean of its normalised prompt embeddings."""
    clip.eval()
    protos = []
    for c in ("low", "high"):
        tokens = tokenizer.tokenize(CLASS_PROMPTS[c], clip.cfg.context_length).to(device)
        e = F.normalize(clip.encode_text(tokens), dim=-1).mean(dim=0)
        protos.append(F.normalize(e, dim=0))
    return torch.stack(protos).cpu()


class ClipAdapter(nn.Module):
    def __init__(self, dim: int, reduction: int = 4, alpha: float = 0.5):
        super().__init__()
        self.alpha = alpha
        self.fc = nn.Sequential(
            nn.Linear(dim, dim // reduction, bias=False), nn.ReLU(),
            nn.Linear(dim // reduction, dim, bias=False), nn.ReLU(),
        )

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.alpha * self.fc(f) + (1 - self.alpha) * f


class PhaseFusion(nn.Module):
    """Self-attention across the phase tokens (one pre-LN transformer block, CLIP's block), with
    a learned embedding per phase; the fused embedding is the mean of the output tokens."""

    def __init__(self, dim: int, n_phases: int, heads: int):
        super().__init__()
        self.phase_embedding = nn.Parameter(0.02 * torch.randn(n_phases, dim))
        self.block = ResidualAttentionBlock(dim, heads)
        # Start near the identity: the fused embedding begins as the mean phase embedding, which
        # still lives in CLIP's space (where the text prototypes are meaningful).
        nn.init.zeros_(self.block.attn.out_proj.weight)
        nn.init.zeros_(self.block.mlp.c_proj.weight)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x, _ = self.block(tokens + self.phase_embedding)
        return x.mean(dim=1)


class TsrHead(nn.Module):
    """Everything after the frozen image encoder: [B, P, D] embeddings -> [B, 2] logits."""

    def __init__(self, dim: int, phases: Sequence[str], prototypes: torch.Tensor, logit_scale: float,
                 heads: int = 4, reduction: int = 4, alpha: float = 0.5):
        super().__init__()
        self.phases = list(phases)
        self.fusion = PhaseFusion(dim, len(self.phases), heads)
        self.adapter = ClipAdapter(dim, reduction, alpha)
        self.register_buffer("prototypes", prototypes.clone())
        self.log_scale = nn.Parameter(torch.tensor(math.log(logit_scale)))

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        e = F.normalize(embeddings, dim=-1)
        f = F.normalize(self.adapter(self.fusion(e)), dim=-1)
        return self.log_scale.exp() * f @ self.prototypes.t()


class EncoderTail(nn.Module):
    """The last k blocks of the CLIP image encoder, with ln_post and proj: the part that
    `--tune-blocks k` fine-tunes with the classifier (k = 0: a frozen encoder, CLIP-Adapter's
    setting). Input: the tokens entering block L-k, [M, N, W]; output: embeddings [M, D]."""

    def __init__(self, clip: CLIP, k: int):
        super().__init__()
        self.k = k
        self.blocks = nn.ModuleList(copy.deepcopy(b) for b in clip.visual.transformer.resblocks[len(clip.visual.transformer.resblocks) - k:])
        self.ln_post = copy.deepcopy(clip.visual.ln_post)
        self.proj = nn.Parameter(clip.visual.proj.detach().clone())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens
        for block in self.blocks:
            x, _ = block(x)
        return self.ln_post(x[:, 0, :]) @ self.proj


class TsrModel(nn.Module):
    """What the classifier stage trains: an optional encoder tail, then the head. Input [B, P, D]
    frozen embeddings (no tail), or [B, P, N, W] tokens entering the tail."""

    def __init__(self, head: TsrHead, tail: Optional[EncoderTail] = None):
        super().__init__()
        self.head = head
        self.tail = tail
        self.phases = head.phases

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.tail is not None:
            b, p = x.shape[0], x.shape[1]
            x = self.tail(x.reshape(b * p, x.shape[2], x.shape[3])).reshape(b, p, -1)
        return self.head(x)


class ExportedClassifier(nn.Module):
    """The deployable classifier: image encoder (with its tuned tail, if any) + head + calibrated
    softmax + saliency. forward(*crops, one per phase, [B, C, H, W]) ->
    (probabilities [B, 2], saliency per phase [B, H, W])."""

    def __init__(self, clip: CLIP, model: TsrModel, temperature: float, bias: float = 0.0):
        super().__init__()
        self.visual = copy.deepcopy(clip.visual)
        if model.tail is not None:
            blocks = self.visual.transformer.resblocks
            for i, block in enumerate(model.tail.blocks):
                blocks[len(blocks) - model.tail.k + i].load_state_dict(block.state_dict())
            self.visual.ln_post.load_state_dict(model.tail.ln_post.state_dict())
            self.visual.proj.data.copy_(model.tail.proj.data)
        self.head = model.head
        self.register_buffer("temperature", torch.tensor(float(temperature)))
        self.register_buffer("class_bias", torch.tensor([0.0, float(bias)]))
        self.image_size = clip.cfg.image_size
        self.grid = clip.cfg.grid_size

    def forward(self, *crops: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        p = len(crops)
        x = torch.cat(crops, dim=0) if p > 1 else crops[0]
        emb, attentions = self.visual(x)
        saliency = attention_rollout(attentions, self.grid, self.image_size)
        emb = emb.reshape(p, -1, emb.shape[-1]).transpose(0, 1)  # [B, P, D]
        probs = torch.softmax(self.head(emb) / self.temperature + self.class_bias, dim=-1)
        sal = saliency.reshape(p, -1, self.image_size, self.image_size)
        return (probs,) + tuple(sal[i] for i in range(p))


@torch.no_grad()
def encoder_prefix(clip: CLIP, x: torch.Tensor, k: int) -> torch.Tensor:
    """The frozen part of the encoder: embeddings [B, D] (k = 0) or the tokens entering the
    last k blocks [B, N, W]."""
    v = clip.visual
    if k == 0:
        return v(x)[0]
    t = v.conv1(x).flatten(2).transpose(1, 2)
    cls = v.class_embedding.reshape(1, 1, -1).expand(t.shape[0], 1, t.shape[-1])
    t = v.ln_pre(torch.cat([cls, t], dim=1) + v.positional_embedding)
    for block in v.transformer.resblocks[: len(v.transformer.resblocks) - k]:
        t, _ = block(t)
    return t


@torch.no_grad()
def embed_crops(clip: CLIP, crops: np.ndarray, device: torch.device, views: int = 1, batch: int = 256,
                seed: int = 0, max_shift: int = 4, tune_blocks: int = 0,
                shifts: Optional[Sequence[Sequence[int]]] = None) -> np.ndarray:
    """Frozen features [views, N, ...] of crops [N, C, H, W] (see encoder_prefix): view 0 as is,
    the others augmented (flips, shifts) for training. With `shifts` (evaluation), one view per
    shift instead: the crops moved by it (move_grid)."""
    clip.eval()
    gen = torch.Generator().manual_seed(seed)
    out = []
    for v in range(len(shifts) if shifts is not None else views):
        parts = []
        for s in range(0, crops.shape[0], batch):
            x = torch.from_numpy(crops[s:s + batch])
            if shifts is not None:
                x = move_grid(x, shifts[v])
            elif v > 0:
                x = augment(x, gen, max_shift)
            parts.append(encoder_prefix(clip, x.to(device), tune_blocks).float().cpu())
        if not parts:  # an empty split
            parts.append(encoder_prefix(clip, torch.from_numpy(crops).to(device), tune_blocks).float().cpu())
        out.append(torch.cat(parts).numpy())
    return np.stack(out)


def train_head(plan: ClassifierPlan, phases: Sequence[str], feats_train: Dict[str, np.ndarray], y_train: np.ndarray,
               feats_val: Dict[str, np.ndarray], y_val: np.ndarray, prototypes: torch.Tensor, logit_scale: float,
               clip: Optional[CLIP] = None, device: torch.device = torch.device("cpu")) -> Tuple[TsrModel, Dict[str, float]]:
    """Train fusion + adapter (+ logit scale, + the encoder's last plan.tune_blocks blocks at a
    third of the learning rate) with cross-entropy on cached frozen features, for the plan's
    epochs, batch size, learning rate, weight decay, adapter alpha and seed.
    feats_train[phase]: [views, N, ...] (a random view per phase per step); feats_val[phase]:
    [N, ...]. The epoch with the lowest validation loss is kept (early stopping)."""
    seed, tune_blocks, lr, batch_size = plan.seed, plan.tune_blocks, plan.learning_rate, plan.batch_size
    torch.manual_seed(seed)
    dim = prototypes.shape[1]
    tail = EncoderTail(clip, tune_blocks) if (clip is not None and tune_blocks > 0) else None
    model = TsrModel(TsrHead(dim, phases, prototypes, logit_scale, alpha=plan.adapter_alpha), tail).to(device)
    groups = [{"params": model.head.parameters(), "lr": lr}]
    if tail is not None:
        groups.append({"params": tail.parameters(), "lr": lr / 3})
    opt = torch.optim.AdamW(groups, lr=lr, weight_decay=plan.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    tr = {p: torch.from_numpy(feats_train[p]) for p in phases}
    views, n = tr[phases[0]].shape[0], tr[phases[0]].shape[1]
    yt = torch.from_numpy(y_train)
    xv = torch.stack([torch.from_numpy(feats_val[p]) for p in phases], dim=1).to(device)
    yv = torch.from_numpy(y_val).to(device)
    best, best_state, best_epoch = float("inf"), copy.deepcopy(model.state_dict()), 0
    start = time.time()
    for epoch in range(plan.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, batch_size):
            idx = perm[s:s + batch_size]
            view = torch.randint(0, views, (len(phases), len(idx)), generator=gen)
            x = torch.stack([tr[p][view[i], idx] for i, p in enumerate(phases)], dim=1).to(device)
            loss = F.cross_entropy(model(x), yt[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val_loss = float(F.cross_entropy(model(xv), yv)) if len(y_val) else float(loss)
        if val_loss < best:
            best, best_state, best_epoch = val_loss, copy.deepcopy(model.state_dict()), epoch + 1
    model.load_state_dict(best_state)
    model.eval()
    return model.cpu(), {"bestEpoch": best_epoch, "valLoss": best, "seconds": time.time() - start}


@torch.no_grad()
def model_logits(model: TsrModel, feats: Dict[str, np.ndarray], batch: int = 256) -> np.ndarray:
    """Logits [N, 2] of features [views, N, ...] per phase (embed_crops' layout), averaged over the
    views: the crop averaging of the node (the log-odds are the difference of the two logits)."""
    x = torch.stack([torch.from_numpy(feats[p]) for p in model.phases], dim=2)  # [views, N, P, ...]
    if x.shape[1] == 0:
        return np.zeros((0, 2))
    per_view = [torch.cat([model(v[s:s + batch]) for s in range(0, v.shape[0], batch)]) for v in x]
    return torch.stack(per_view).mean(0).numpy().astype(np.float64)


def calibrate_and_evaluate(name: str, model: TsrModel, feats_val: Dict[str, np.ndarray], y_val: np.ndarray,
                           feats_test: Dict[str, np.ndarray], y_test: np.ndarray) -> Dict[str, float]:
    """Platt scaling on validation (NLL), operating threshold on validation (Youden), figures on
    the test split (never used for any choice). Features [views, N, ...]: one view per crop
    shift, averaged (model_logits)."""
    lv = model_logits(model, feats_val)
    t, bias = fit_platt(lv, y_val) if len(set(y_val.tolist())) == 2 else (1.0, 0.0)
    pv = softmax_high(lv, t, bias)
    threshold, _, _ = youden_threshold(y_val, pv) if len(set(y_val.tolist())) == 2 else (0.5, 0, 0)
    out: Dict[str, float] = {"temperature": t, "bias": bias, "threshold": threshold,
                             "valAuc": auc(y_val, pv), "valEce": ece(y_val, pv), "valNll": nll(y_val, pv),
                             "valEceUncalibrated": ece(y_val, softmax_high(lv, 1.0))}
    if len(y_test):
        pt = softmax_high(model_logits(model, feats_test), t, bias)
        s = summary(y_test, pt, threshold)
        out.update({f"test{k[0].upper()}{k[1:]}": v for k, v in s.items()})
    log(f"classifier {name}: T={t:.3f} b={bias:.3f} threshold={threshold:.3f} val AUC {out['valAuc']:.3f} ECE {out['valEce']:.3f}"
        + (f" | test n={out['testN']} AUC {out['testAuc']:.3f} ECE {out['testEce']:.3f} sens {out['testSensitivity']:.2f} spec {out['testSpecificity']:.2f}" if len(y_test) else ""))
    return out


def zero_shot_auc(emb: Dict[str, np.ndarray], y: np.ndarray, prototypes: torch.Tensor, phases: Sequence[str]) -> float:
    """AUC of the prompts alone (no fusion training, no adapter): mean of the phases'
    normalised embeddings against the prototypes. A diagnostic of what pretraining learned."""
    e = np.mean([emb[p] / np.linalg.norm(emb[p], axis=1, keepdims=True) for p in phases], axis=0)
    s = e @ prototypes.numpy().T
    return auc(y, s[:, 1] - s[:, 0])


__all__ = ["CROP_AVERAGE_SHIFTS", "CLASS_PROMPTS", "all_prompts", "text_prototypes", "ClipAdapter", "PhaseFusion", "TsrHead", "EncoderTail",
           "TsrModel", "ExportedClassifier", "encoder_prefix", "embed_crops", "train_head", "model_logits",
           "calibrate_and_evaluate", "zero_shot_auc"]
