"""Metrics and calibration used inside the kit (development figures on the dataset's test split;
the product's own held-out evaluation is `tsr-node evaluate`).

Positive class: high TSR (labelIndex 1); scores are P(high).
"""
from __future__ import annotations

import math
from typing import Dict, Tuple

import numpy as np


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative),
    ties counted one half (Mann-Whitney U with mid-ranks)."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def ece(labels: np.ndarray, p_high: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of P(high): 10 equal-width bins on [0, 1], the sum over bins of
    (bin share) x |observed rate of high - mean predicted P(high)|."""
    labels = np.asarray(labels, dtype=np.float64)
    p = np.asarray(p_high, dtype=np.float64)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * abs(labels[sel].mean() - p[sel].mean())
    return float(total)


def softmax_high(logits: np.ndarray, temperature: float = 1.0, bias: float = 0.0) -> np.ndarray:
    """P(high) from two-class logits [N, 2] (order low, high): softmax of
    [logit_low / T, logit_high / T + bias]."""
    z = (logits[:, 1] - logits[:, 0]) / temperature + bias
    return 1.0 / (1.0 + np.exp(-z))


def nll(labels: np.ndarray, p_high: np.ndarray) -> float:
    p = np.clip(p_high, 1e-7, 1 - 1e-7)
    y = np.asarray(labels, dtype=np.float64)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature scaling (Guo et al. 2017): the T > 0 that minimises the negative
    log-likelihood of the labels; golden-section search on log T in [log 0.02, log 50]."""
    f = lambda log_t: nll(labels, softmax_high(logits, math.exp(log_t)))  # noqa: E731
    lo, hi = math.log(0.02), math.log(50.0)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = f(a), f(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = f(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = f(b)
    return float(math.exp((lo + hi) / 2))


def fit_platt(logits: np.ndarray, labels: np.ndarray, iterations: int = 50) -> Tuple[float, float]:
    """Platt scaling: P(high) = sigmoid(z / T + bias) with z = logit_high - logit_low; T and bias
    by maximum likelihood (Newton's method on the logistic regression of the labels on z, with a
    tiny ridge for stability). Temperature scaling plus an intercept, which also absorbs a shift
    of the class balance. Falls back to temperature scaling if the slope comes out <= 0."""
    z = (logits[:, 1] - logits[:, 0]).astype(np.float64)
    y = np.asarray(labels, dtype=np.float64)
    x = np.stack([z, np.ones_like(z)], axis=1)
    w = np.array([1.0, 0.0])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + 1e-6 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w = w - step
        if np.abs(step).max() < 1e-10:
            break
    if not np.isfinite(w).all() or w[0] <= 0:
        return fit_temperature(logits, labels), 0.0
    return float(1.0 / w[0]), float(w[1])


def youden_threshold(labels: np.ndarray, p_high: np.ndarray) -> Tuple[float, float, float]:
    """Operating threshold on P(high) that maximises sensitivity + specificity - 1 (Youden's J).
    "high" is predicted when P(high) >= threshold. Returns (threshold, sensitivity, specificity).
    The threshold is the midpoint between the chosen score and the next lower one, so it does not
    sit on a validation case."""
    y = np.asarray(labels).astype(bool)
    p = np.asarray(p_high, dtype=np.float64)
    candidates = np.unique(p)
    best = (-1.0, 0.5, 0.0, 0.0)
    for i, t in enumerate(candidates):
        pred = p >= t
        sens = (pred & y).sum() / max(y.sum(), 1)
        spec = (~pred & ~y).sum() / max((~y).sum(), 1)
        if sens + spec - 1 > best[0]:
            lower = candidates[i - 1] if i > 0 else 0.0
            best = (sens + spec - 1, (t + lower) / 2.0, float(sens), float(spec))
    return float(best[1]), best[2], best[3]


def sens_spec(labels: np.ndarray, p_high: np.ndarray, threshold: float) -> Tuple[float, float]:
    y = np.asarray(labels).astype(bool)
    pred = np.asarray(p_high) >= threshold
    return float((pred & y).sum() / max(y.sum(), 1)), float((~pred & ~y).sum() / max((~y).sum(), 1))


def summary(labels: np.ndarray, p_high: np.ndarray, threshold: float) -> Dict[str, float]:
    sens, spec = sens_spec(labels, p_high, threshold)
    return {"n": int(len(labels)), "auc": auc(labels, p_high), "ece": ece(labels, p_high),
            "sensitivity": sens, "specificity": spec,
            "accuracy": float(((np.asarray(p_high) >= threshold) == np.asarray(labels).astype(bool)).mean())}
