"""CLIP: a ViT image encoder and a transformer text encoder, trained contrastively.

The module tree and the parameter names and shapes follow OpenAI's CLIP ViT family (e.g.
ViT-B/16: width 768, 12 layers, 12 heads, patch 16, 224 px, embed 512, text width 512, context 77,
vocabulary 49408), so a state dict of that family loads with `load_clip_state_dict`:

    visual.conv1.weight                       [width, 3, patch, patch]  (no bias)
    visual.class_embedding                    [width]
    visual.positional_embedding               [grid*grid + 1, width]
    visual.ln_pre.{weight,bias}
    visual.transformer.resblocks.N.attn.in_proj_weight   [3*width, width]
    visual.transformer.resblocks.N.attn.in_proj_bias     [3*width]
    visual.transformer.resblocks.N.attn.out_proj.{weight,bias}
    visual.transformer.resblocks.N.ln_1 / mlp.c_fc / mlp.c_proj / ln_2
    visual.ln_post.{weight,bias}
    visual.proj                               [width, embed]
    token_embedding.weight                    [vocab, text_width]
    positional_embedding                      [context, text_width]
    transformer.resblocks.N....               (as above, causal mask)
    ln_final.{weight,bias}
    text_projection                           [text_width, embed]
    logit_scale                               []  (log of the inverse temperature)

This is an independent implementation written for this project (see docs/clip-model.md for what
is and is not the original). Attention is written out by hand instead of nn.MultiheadAttention:
the parameter names stay the same, the ONNX export stays plain, and the attention probabilities
are available for the saliency map.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ClipConfig:
    """Hyper-parameters of one CLIP model. Defaults: the small demo configuration."""

    embed_dim: int = 64
    # Image side (ViT).
    image_size: int = 64
    image_channels: int = 3
    patch_size: int = 8
    vision_width: int = 64
    vision_layers: int = 4
    vision_heads: int = 2
    # Text side (causal transformer; the feature is taken at the end-of-text token).
    context_length: int = 64
    vocab_size: int = 1000
    text_width: int = 64
    text_layers: int = 2
    text_heads: int = 2

    def to_dict(self) -> Dict[str, int]:
        return asdict(self)

    @staticmethod
    def from_dict(d: Dict[str, int]) -> "ClipConfig":
        return ClipConfig(**{k: int(v) for k, v in d.items() if k in ClipConfig.__dataclass_fields__})

    @property
    def grid_size(self) -> int:
        return self.image_size // self.patch_size


class QuickGELU(nn.Module):
    """x * sigmoid(1.702 x): the GELU approximation OpenAI's CLIP was trained with."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class SelfAttention(nn.Module):
    """Multi-head self-attention with nn.MultiheadAttention's parameter names (in_proj_weight,
    in_proj_bias, out_proj), on batch-first tensors [B, N, D]. Returns the head-averaged
    attention probabilities [B, N, N] too."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads != 0:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        self.width = width
        self.heads = heads
        self.scale = 1.0 / math.sqrt(width // heads)
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        b, n, d = x.shape
        h = self.heads
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)  # [B, N, 3D]
        qkv = qkv.reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)  # [3, B, H, N, Dh]
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        if mask is not None:
            scores = scores + mask
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, n, d)
        return self.out_proj(out), probs.mean(dim=1)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.attn = SelfAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, width * 4)),
            ("gelu", QuickGELU()),
            ("c_proj", nn.Linear(width * 4, width)),
        ]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        a, probs = self.attn(self.ln_1(x), mask)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, probs


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.width = width
        self.layers = layers
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        attentions = []
        for block in self.resblocks:
            x, probs = block(x, mask)
            attentions.append(probs)
        return x, attentions


class VisionTransformer(nn.Module):
    def __init__(self, cfg: ClipConfig):
        super().__init__()
        if cfg.image_size % cfg.patch_size != 0:
            raise ValueError(f"image size {cfg.image_size} is not a multiple of patch size {cfg.patch_size}")
        width = cfg.vision_width
        scale = width ** -0.5
        self.grid = cfg.grid_size
        self.conv1 = nn.Conv2d(cfg.image_channels, width, kernel_size=cfg.patch_size, stride=cfg.patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(self.grid * self.grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, cfg.vision_layers, cfg.vision_heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, cfg.embed_dim))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Image [B, C, H, W] -> (embedding [B, embed], per-layer head-averaged attention [B, N, N])."""
        x = self.conv1(x)  # [B, width, g, g]
        x = x.flatten(2).transpose(1, 2)  # [B, g*g, width]
        cls = self.class_embedding.to(x.dtype).reshape(1, 1, -1).expand(x.shape[0], 1, x.shape[-1])
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x, attentions = self.transformer(x)
        x = self.ln_post(x[:, 0, :])
        return x @ self.proj, attentions


def sincos_positions(grid: int, width: int) -> torch.Tensor:
    """[grid*grid, width] fixed 2D sine-cosine position codes (half the channels for rows, half
    for columns). Used to initialise the learned patch positional embedding of a model trained
    from scratch: nearby patches start alike, which a small dataset could not teach quickly."""
    q = width // 4
    omega = 1.0 / (10000 ** (torch.arange(q, dtype=torch.float32) / q))
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32), indexing="ij")
    enc = lambda p: torch.cat([torch.sin(p.reshape(-1, 1) * omega), torch.cos(p.reshape(-1, 1) * omega)], dim=1)  # noqa: E731
    out = torch.zeros(grid * grid, width)
    out[:, : 4 * q] = torch.cat([enc(ys), enc(xs)], dim=1)
    return out


def attention_rollout(attentions: List[torch.Tensor], grid: int, out_size: int) -> torch.Tensor:
    """Saliency [B, out_size, out_size] in [0, 1] from a ViT's attention.

    Attention rollout (Abnar & Zuidema 2020): the per-layer, head-averaged attention, mixed half
    and half with the identity for the residual path, multiplied through the layers; the class
    token's row over the patches is how much each patch fed the embedding. Bilinear upsampling to
    the input size, then min-max scaling per image. Plain tensor ops, so it exports to ONNX and
    needs no gradients at inference.
    """
    n = attentions[0].shape[-1]
    eye = torch.eye(n, dtype=attentions[0].dtype, device=attentions[0].device)
    rollout = None
    for a in attentions:
        a = 0.5 * a + 0.5 * eye
        a = a / a.sum(dim=-1, keepdim=True)
        rollout = a if rollout is None else torch.matmul(a, rollout)
    assert rollout is not None
    cls_to_patch = rollout[:, 0, 1:].reshape(-1, 1, grid, grid)
    up = F.interpolate(cls_to_patch, size=(out_size, out_size), mode="bilinear", align_corners=False)[:, 0]
    lo = up.amin(dim=(1, 2), keepdim=True)
    hi = up.amax(dim=(1, 2), keepdim=True)
    return (up - lo) / (hi - lo + 1e-8)


class CLIP(nn.Module):
    def __init__(self, cfg: ClipConfig):
        super().__init__()
        self.cfg = cfg
        self.visual = VisionTransformer(cfg)
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.text_width)
        self.positional_embedding = nn.Parameter(torch.empty(cfg.context_length, cfg.text_width))
        self.transformer = Transformer(cfg.text_width, cfg.text_layers, cfg.text_heads)
        self.ln_final = nn.LayerNorm(cfg.text_width)
        self.text_projection = nn.Parameter(torch.empty(cfg.text_width, cfg.embed_dim))
        # CLIP starts at temperature 0.07 and clips the scale at 100 (log 4.6052).
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        mask = torch.full((cfg.context_length, cfg.context_length), float("-inf")).triu(1)
        self.register_buffer("causal_mask", mask, persistent=False)
        self._init_weights()

    def _init_weights(self) -> None:
        """Initialisation in the spirit of CLIP's: small embeddings, residual projections scaled
        down with depth."""
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        for tower, width, layers in ((self.transformer, self.cfg.text_width, self.cfg.text_layers),
                                     (self.visual.transformer, self.cfg.vision_width, self.cfg.vision_layers)):
            attn_std = width ** -0.5
            proj_std = attn_std * (2 * layers) ** -0.5
            fc_std = (2 * width) ** -0.5
            for block in tower.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
                nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
                nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
                nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=self.cfg.text_width ** -0.5)
        with torch.no_grad():
            self.visual.positional_embedding[1:] = 0.5 * sincos_positions(self.visual.grid, self.cfg.vision_width)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        return self.visual(images)[0]

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids [B, context] -> [B, embed]. The feature is read at the end-of-text token,
        which has the highest id in the vocabulary (CLIP's convention: argmax finds it)."""
        n = tokens.shape[1]
        x = self.token_embedding(tokens) + self.positional_embedding[:n]
        x, _ = self.transformer(x, self.causal_mask[:n, :n])
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
        return x @ self.text_projection

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Normalised image and text embeddings and the logit scale (exp, clipped at 100)."""
        img = F.normalize(self.encode_image(images), dim=-1)
        txt = F.normalize(self.encode_text(tokens), dim=-1)
        return img, txt, self.logit_scale.exp().clamp(max=100.0)


# ---------------------------------------------------------------------------------------------
# Loading weights of the OpenAI CLIP ViT family
# ---------------------------------------------------------------------------------------------

# Keys some released checkpoints carry that are not parameters.
_NON_PARAMETER_KEYS = ("input_resolution", "context_length", "vocab_size")


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """A state dict from a file: torch.save'd dict (optionally under "state_dict"), or a
    TorchScript archive (OpenAI's released .pt files are TorchScript)."""
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception:  # a TorchScript archive: torch.load refuses it (how depends on the torch version)
        obj = torch.jit.load(path, map_location="cpu").state_dict()
    if isinstance(obj, torch.jit.ScriptModule):
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a state dict")
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()}
    return {k: v.float() for k, v in state.items() if k not in _NON_PARAMETER_KEYS}


def config_from_state_dict(state: Dict[str, torch.Tensor], image_size: Optional[int] = None) -> ClipConfig:
    """The architecture a CLIP ViT state dict implies. Heads: width / 64, CLIP's convention.
    image_size: the input size to use; the positional embedding is interpolated if it differs."""
    width = state["visual.conv1.weight"].shape[0]
    patch = state["visual.conv1.weight"].shape[-1]
    grid = int(round(math.sqrt(state["visual.positional_embedding"].shape[0] - 1)))
    v_layers = len({k.split(".")[3] for k in state if k.startswith("visual.transformer.resblocks.")})
    t_width = state["ln_final.weight"].shape[0]
    t_layers = len({k.split(".")[2] for k in state if k.startswith("transformer.resblocks.")})
    return ClipConfig(
        embed_dim=state["visual.proj"].shape[1],
        image_size=image_size or grid * patch,
        image_channels=state["visual.conv1.weight"].shape[1],
        patch_size=patch,
        vision_width=width,
        vision_layers=v_layers,
        vision_heads=max(1, width // 64),
        context_length=state["positional_embedding"].shape[0],
        vocab_size=state["token_embedding.weight"].shape[0],
        text_width=t_width,
        text_layers=t_layers,
        text_heads=max(1, t_width // 64),
    )


def interpolate_positional_embedding(pos: torch.Tensor, new_grid: int) -> torch.Tensor:
    """[1 + g*g, W] -> [1 + new_grid^2, W]: bicubic resampling of the patch part, the class
    token's row kept as is."""
    old_grid = int(round(math.sqrt(pos.shape[0] - 1)))
    if old_grid == new_grid:
        return pos
    cls, patches = pos[:1], pos[1:]
    patches = patches.reshape(1, old_grid, old_grid, -1).permute(0, 3, 1, 2)
    patches = F.interpolate(patches, size=(new_grid, new_grid), mode="bicubic", align_corners=False)
    return torch.cat([cls, patches.permute(0, 2, 3, 1).reshape(new_grid * new_grid, -1)], dim=0)


def load_clip_state_dict(model: CLIP, state: Dict[str, torch.Tensor], parts: str = "all") -> List[str]:
    """Copy a CLIP ViT-family state dict into `model`. parts: "all", "visual" or "text".
    The visual positional embedding is interpolated to the model's grid. Returns the names
    loaded; raises on a shape mismatch so a wrong file never loads silently."""
    state = dict(state)
    key = "visual.positional_embedding"
    if key in state:
        state[key] = interpolate_positional_embedding(state[key], model.visual.grid)
    own = model.state_dict()
    wanted = [k for k in own if (parts == "all" or (parts == "visual") == k.startswith("visual."))]
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ValueError(f"CLIP weights lack {len(missing)} parameters, e.g. {missing[:3]}")
    for k in wanted:
        if tuple(state[k].shape) != tuple(own[k].shape):
            raise ValueError(f"CLIP weights: {k} has shape {tuple(state[k].shape)}, the model expects {tuple(own[k].shape)}")
    model.load_state_dict({k: state[k] for k in wanted}, strict=False)
    return wanted


def build_clip(cfg: ClipConfig) -> CLIP:
    return CLIP(cfg)


__all__ = [
    "ClipConfig", "CLIP", "VisionTransformer", "Transformer", "ResidualAttentionBlock", "SelfAttention",
    "QuickGELU", "attention_rollout", "sincos_positions", "read_state_dict", "config_from_state_dict",
    "interpolate_positional_embedding", "load_clip_state_dict", "build_clip",
]
