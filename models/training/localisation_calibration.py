"""Calibration of the cascade's localisation confidence (contract: "Node decision", step 5).

`tsr-node evaluate` writes, for every study that reached stage 2 with a candidate, the six
features of the chosen candidate and whether its venous centre lies inside the true tumour
(`localisation.features`, `localisation.insideTumour`, in cases.json or studies.jsonl). Fitted
here: an L2-penalised logistic regression of insideTumour on the features (Newton's method on
standardised features, pure numpy), written back in raw feature units, so the node computes
confidence = sigmoid(intercept + sum(w_i * f_i)); and minConfidence, the smallest threshold on
that confidence with at most MAX_WRONG_PLACE_RATE of the kept studies in the wrong place.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Tuple

import numpy as np

from metrics import ece

LOCALISATION_FEATURES = ("peakLogit", "meanProbability", "pancreasOverlap", "phaseDistanceMm", "logVolumeMl", "shiftSpreadMm")
MAX_WRONG_PLACE_RATE = 0.01
MIN_LOCALISED = 20  # fewer studies with features: no confidence is fitted (the node then uses the peak)
L2_PENALTY = 1.0  # on the standardised weights (the intercept is not penalised)


def read_localisation_records(evaluation_dir: str) -> List[Dict]:
    """The per-study records of a `tsr-node evaluate` folder that carry localisation features
    (cases.json, a list, and/or studies.jsonl, one record a line)."""
    records: List[Dict] = []
    cases = os.path.join(evaluation_dir, "cases.json")
    if os.path.exists(cases):
        with open(cases, encoding="utf-8") as f:
            records += json.load(f)
    lines = os.path.join(evaluation_dir, "studies.jsonl")
    if os.path.exists(lines) and not records:
        with open(lines, encoding="utf-8") as f:
            records += [json.loads(line) for line in f if line.strip()]
    out = []
    for r in records:
        loc = r.get("localisation") or {}
        features = loc.get("features") or {}
        if isinstance(loc.get("insideTumour"), bool) and all(isinstance(features.get(k), (int, float)) for k in LOCALISATION_FEATURES):
            out.append(r)
    return out


def fit_logistic_l2(x: np.ndarray, y: np.ndarray, penalty: float = L2_PENALTY, iterations: int = 50) -> Tuple[np.ndarray, float]:
    """Weights and intercept (raw feature units) of P(y) = sigmoid(b + x.w), maximising the log
    likelihood minus penalty / 2 * |w_standardised|^2 (Newton's method)."""
    mean, sd = x.mean(0), x.std(0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / sd])
    beta = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], penalty)
    reg[0] = 1e-6  # keep the Hessian invertible when every study is one class
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (y - p) - reg * beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg)
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-9:
            break
    w = beta[1:] / sd
    return w, float(beta[0] - np.sum(beta[1:] * mean / sd))


def pick_min_confidence(confidence: np.ndarray, inside: np.ndarray, max_wrong: float = MAX_WRONG_PLACE_RATE) -> Dict:
    """The smallest threshold t (one of the confidences) such that among the studies with
    confidence >= t at most `max_wrong` are in the wrong place. When no t reaches it, the one with
    the lowest wrong-place rate (the most kept among equals), and reached = False."""
    order = np.argsort(-confidence, kind="stable")
    c, wrong = confidence[order], (~inside[order]).astype(np.float64)
    kept = np.arange(1, len(c) + 1)
    rate = np.cumsum(wrong) / kept
    last_of_ties = np.append(c[1:] < c[:-1], True)  # a threshold keeps every study tied with it
    ok = np.nonzero(last_of_ties & (rate <= max_wrong))[0]
    reached = len(ok) > 0
    if reached:
        k = int(ok[-1])
    else:
        candidates = np.nonzero(last_of_ties)[0]
        best = rate[candidates].min()
        k = int(candidates[rate[candidates] <= best + 1e-12][-1])
    return {"minConfidence": float(c[k]), "reached": bool(reached), "keptRate": (k + 1) / len(c),
            "wrongPlaceRateKept": float(rate[k]), "maxWrongPlaceRate": max_wrong}


def fit_localisation_confidence(evaluation_dir: str, fitted_on: str) -> Optional[Dict]:
    """The localiser manifest's `confidence` and `minConfidence`, with the figures, from an
    evaluation folder; None when fewer than MIN_LOCALISED studies carry features."""
    records = read_localisation_records(evaluation_dir)
    if len(records) < MIN_LOCALISED:
        return None
    x = np.array([[float(r["localisation"]["features"][k]) for k in LOCALISATION_FEATURES] for r in records])
    inside = np.array([bool(r["localisation"]["insideTumour"]) for r in records])
    w, b = fit_logistic_l2(x, inside.astype(np.float64))
    confidence = 1 / (1 + np.exp(-np.clip(b + x @ w, -30, 30)))
    peak = 1 / (1 + np.exp(-np.clip(x[:, 0], -30, 30)))
    choice = pick_min_confidence(confidence, inside)
    return {
        "confidence": {"features": list(LOCALISATION_FEATURES), "weights": [float(v) for v in w], "intercept": b,
                       "fittedOn": f"{fitted_on}, {len(records)} studies with a stage-2 candidate"},
        "minConfidence": choice["minConfidence"],
        "figures": {"n": len(records), "insideRate": float(inside.mean()), **choice,
                    "eceConfidence": ece(inside.astype(np.float64), confidence), "ecePeak": ece(inside.astype(np.float64), peak),
                    "l2Penalty": L2_PENALTY},
    }
