"""A TOY dataset in the tsr-node/dataset@2 format (or @1 with --schema 1), for developing and smoke-testing the kit.

It is NOT the synthetic CT cohort (src/synthetic) and is never used for the shipped weights:
blobs of different HU on flat backgrounds, drawn straight into crops and coarse grids with numpy,
and a short templated text per study. Its only job is to have the right shapes, dtypes and
files, and a label signal split across the two phases like the real generator's (a shared
per-patient nuisance moves the tumour's HU in both phases, stroma moves them differently), so the
fused-versus-single-phase behaviour of the kit can be seen in minutes.

    /usr/bin/python3 models/training/toy_dataset.py --out /tmp/toy --count 300 --seed 1
"""
from __future__ import annotations

import argparse
import json
import math
import os
from typing import Dict, List, Optional, Tuple

import numpy as np

DEFAULT_CROP = {"fieldOfViewMm": 80, "sizePx": 64, "sliceOffsetsMm": [-5, 0, 5],
                "huWindow": {"low": -100, "high": 300}, "normalisation": {"mean": 0.5, "std": 0.25}, "outsideHu": -1000}
DEFAULT_LOCALIZER = {"voxelMm": 4, "gridSize": [96, 96, 48], "huWindow": {"low": -200, "high": 300},
                     "normalisation": {"mean": 0.5, "std": 0.25}, "outsideHu": -1000, "minConfidence": 0.5}
# @2's ROI grid (the contract's is [96, 72, 48] at 2 mm; the toy's default is small, for the smoke run).
DEFAULT_ROI = {"voxelMm": 2, "gridSize": [32, 24, 16], "huWindow": {"low": -200, "high": 300},
               "normalisation": {"mean": 0.5, "std": 0.25}, "outsideHu": -1000, "jitterMm": 4}
LABEL_DEFINITION = "TOY: TSR low = stroma fraction >= 0.5, TSR high = stroma fraction < 0.5"

# Tumour-minus-parenchyma HU per phase: base + slope * stroma + nuisance (shared) + own noise.
ART = (-70.0, 45.0)
VEN = (-30.0, -40.0)
NUISANCE_SD = 15.0
OWN_SD = 7.0
STROMA_BETA = (2.0, 2.4)


def _window(hu: np.ndarray, spec: Dict) -> np.ndarray:
    lo, hi = spec["huWindow"]["low"], spec["huWindow"]["high"]
    x = np.clip((hu - lo) / (hi - lo), 0.0, 1.0)
    return ((x - spec["normalisation"]["mean"]) / spec["normalisation"]["std"]).astype(np.float32)


def oracle(d_art: float, d_ven: float) -> Dict[str, float]:
    """P(high TSR | noise-free contrasts) by integration over the stroma fraction, for both
    phases together and for each alone."""
    s = np.linspace(0.0005, 0.9995, 1000)
    a, b = STROMA_BETA
    prior = s ** (a - 1) * (1 - s) ** (b - 1)
    ma, mv = ART[0] + ART[1] * s, VEN[0] + VEN[1] * s
    var = NUISANCE_SD ** 2 + OWN_SD ** 2
    cov = NUISANCE_SD ** 2
    det = var * var - cov * cov
    ea, ev = d_art - ma, d_ven - mv
    lik_f = np.exp(-0.5 * (var * ea * ea - 2 * cov * ea * ev + var * ev * ev) / det)
    lik_a = np.exp(-0.5 * ea * ea / var)
    lik_v = np.exp(-0.5 * ev * ev / var)
    high = s < 0.5
    out = {}
    for name, lik in (("fused", lik_f), ("arterial", lik_a), ("venous", lik_v)):
        w = prior * lik
        out[name] = float(w[high].sum() / max(w.sum(), 1e-300))
    return out


def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, ...], sd: float) -> np.ndarray:
    n = rng.normal(0.0, 1.0, shape)
    for axis in range(len(shape)):
        n = (np.roll(n, 1, axis) + n + np.roll(n, -1, axis)) / 3.0
    return n / max(n.std(), 1e-6) * sd


def _crop(rng, spec, p_hu, t_hu, vessel_hu, radius_mm, centre_mm, vessel_mm) -> np.ndarray:
    size = spec["sizePx"]
    px = spec["fieldOfViewMm"] / size
    coords = (np.arange(size) - (size - 1) / 2) * px
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    chans = []
    for dz in spec["sliceOffsetsMm"]:
        hu = np.full((size, size), -100.0)
        # Pancreas: a broad ellipse around the tumour.
        pan = ((xx - centre_mm[0] * 0.5) / 34.0) ** 2 + ((yy - centre_mm[1] * 0.5) / 20.0) ** 2
        hu = np.where(pan < 1.0, p_hu, hu)
        # Vessel.
        v = np.hypot(xx - vessel_mm[0], yy - vessel_mm[1])
        hu = np.where(v < 5.0, vessel_hu, hu)
        # Tumour: a sphere's section at this slice, with a soft (partial-volume) edge.
        r = math.sqrt(max(radius_mm ** 2 - (dz - centre_mm[2]) ** 2, 0.0))
        if r > 0:
            d = np.hypot(xx - centre_mm[0], yy - centre_mm[1])
            w = 1.0 / (1.0 + np.exp((d - r) / 0.8))
            hu = hu * (1 - w) + t_hu * w
        hu = hu + _smooth_noise(rng, (size, size), 6.0) + rng.normal(0, 12.0, (size, size))
        chans.append(_window(hu, spec))
    return np.stack(chans).astype(np.float32)


def _phase_scene(rng, spec, p_hu, t_hu, vessel_hu, radius_mm, tumour_vox, shift_vox) -> Dict:
    """One phase's toy anatomy in coarse-grid voxel units (bowel blobs drawn here), so the coarse
    grid and the ROI grid show the same scene."""
    gx, gy, gz = spec["gridSize"]
    cx, cy = (gx - 1) / 2, (gy - 1) / 2
    bowel = [(rng.uniform([cx - gx * 0.3, cy - gy * 0.2, 0], [cx + gx * 0.3, cy + gy * 0.05, gz]), rng.uniform(2, 4)) for _ in range(3)]
    return {"p_hu": p_hu, "t_hu": t_hu, "vessel_hu": vessel_hu, "radius_mm": radius_mm, "tumour": tumour_vox,
            "shift": shift_vox, "bowel": bowel}


def _render(rng, spec, scene: Dict, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HU, tumour mask and pancreas mask (tumour included) at points given in coarse-grid voxel
    coordinates (x, y, z arrays of one shape)."""
    gx, gy, gz = spec["gridSize"]
    vox = spec["voxelMm"]
    x, y, z = x + scene["shift"][0], y + scene["shift"][1], z + scene["shift"][2]
    cx, cy = (gx - 1) / 2, (gy - 1) / 2
    hu = np.full(x.shape, -1000.0)
    body = ((x - cx) / (gx * 0.42)) ** 2 + ((y - cy) / (gy * 0.32)) ** 2
    hu = np.where(body < 1.0, -100.0, hu)
    hu = np.where(body < 0.8, 40.0, hu)
    # Spine and a vessel.
    hu = np.where(np.hypot(x - cx, y - (cy + gy * 0.2)) < gx * 0.06, 600.0, hu)
    hu = np.where(np.hypot(x - cx - gx * 0.05, y - (cy + gy * 0.05)) < gx * 0.03, scene["vessel_hu"], hu)
    # Bowel: water blobs, hypodense like a tumour.
    for b, r in scene["bowel"]:
        hu = np.where(np.sqrt((x - b[0]) ** 2 + (y - b[1]) ** 2 + (z - b[2]) ** 2) < r, 10.0, hu)
    # Pancreas: an elongated ellipsoid through the tumour.
    tx, ty, tz = scene["tumour"]
    pan = ((x - tx - 3) / (gx * 0.22)) ** 2 + ((y - ty) / 3.5) ** 2 + ((z - tz) / 4.0) ** 2
    hu = np.where(pan < 1.0, scene["p_hu"], hu)
    radius_mm = scene["radius_mm"]
    d = np.sqrt((x - tx) ** 2 + (y - ty) ** 2 + (z - tz) ** 2) * vox
    mask = (d <= radius_mm).astype(np.uint8)
    w = 1.0 / (1.0 + np.exp((d - radius_mm) / 1.5))
    hu = hu * (1 - w) + scene["t_hu"] * w
    hu = hu + rng.normal(0, 10.0, hu.shape)
    return hu, mask, ((pan < 1.0) | (mask > 0)).astype(np.uint8)


def _coarse_points(spec) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    gx, gy, gz = spec["gridSize"]
    z, y, x = np.meshgrid(np.arange(gz), np.arange(gy), np.arange(gx), indexing="ij")
    return x.astype(np.float64), y.astype(np.float64), z.astype(np.float64)


def _roi_points(spec, roi_spec, centre_mm) -> Tuple[np.ndarray, ...]:
    """The ROI grid's voxel centres in coarse-grid voxel units (patient mm = (index - (n - 1) / 2)
    * voxelMm on both grids, the coarse grid centred on the patient origin)."""
    axes = []
    for a in range(3):
        n, m = spec["gridSize"][a], roi_spec["gridSize"][a]
        mm = centre_mm[a] + (np.arange(m) - (m - 1) / 2) * roi_spec["voxelMm"]
        axes.append(mm / spec["voxelMm"] + (n - 1) / 2)
    z, y, x = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
    return x, y, z


def _roi_centre(spec, pancreas: np.ndarray) -> List[float]:
    """The ROI centre as the contract defines it on the true mask: the centre of the pancreas
    mask's bounding box on the coarse grid (the toy's pancreas is one component), in patient mm."""
    idx = np.argwhere(pancreas)  # [z, y, x]
    centre_zyx = (idx.min(0) + idx.max(0)) / 2.0
    gx, gy, gz = spec["gridSize"]
    return [float((centre_zyx[2 - a] - (n - 1) / 2) * spec["voxelMm"]) for a, n in enumerate((gx, gy, gz))]


def _grid(rng, spec, scene: Dict) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coarse grid of one phase: windowed volume, tumour mask, pancreas mask."""
    hu, mask, pancreas = _render(rng, spec, scene, *_coarse_points(spec))
    return _window(hu, spec), mask, pancreas


def _write_localizer(out: str, stem: str, rng, loc_spec, roi_spec, scenes: Dict[str, Dict], item_seed: int) -> Tuple[Dict, Dict]:
    """The coarse grids (and, with roi_spec, the pancreas target and the ROI files): the item's
    localizer and roi entries."""
    paths: Dict = {}
    pancreas = None
    for phase in ("venous", "arterial"):
        vol, mask, pan = _grid(rng, loc_spec, scenes[phase])
        paths[phase] = f"localizer/{stem}_{phase}.npy"
        paths[phase + "Target"] = f"localizer/{stem}_{phase}_mask.npy"
        np.save(os.path.join(out, paths[phase]), vol)
        np.save(os.path.join(out, paths[phase + "Target"]), mask)
        if phase == "venous":
            pancreas = pan
    if roi_spec is None:
        return paths, {}
    paths["pancreasTarget"] = f"localizer/{stem}_pancreas_mask.npy"
    np.save(os.path.join(out, paths["pancreasTarget"]), pancreas)
    jitter = np.random.default_rng([item_seed, 20]).uniform(-roi_spec["jitterMm"], roi_spec["jitterMm"], 3)
    centre = [c + float(j) for c, j in zip(_roi_centre(loc_spec, pancreas), jitter)]
    roi: Dict = {}
    points = _roi_points(loc_spec, roi_spec, centre)
    for phase in ("arterial", "venous"):
        hu, mask, pan = _render(rng, loc_spec, scenes[phase], *points)
        roi[phase] = f"roi/{stem}_{phase}.npy"
        roi[phase + "Target"] = f"roi/{stem}_{phase}_mask.npy"
        np.save(os.path.join(out, roi[phase]), _window(hu, roi_spec))
        np.save(os.path.join(out, roi[phase + "Target"]), mask)
        if phase == "venous":
            roi["pancreasTarget"] = f"roi/{stem}_pancreas_mask.npy"
            np.save(os.path.join(out, roi["pancreasTarget"]), pan)
    roi["centreMm"] = [round(c, 3) for c in centre]
    roi["jitterMm"] = [round(float(j), 3) for j in jitter]
    return paths, roi


def make_toy_dataset(out: str, count: int, seed: int, grid=None, localizer: bool = True, with_split: bool = False,
                     schema: int = 2, roi_grid: Optional[List[int]] = None) -> str:
    """Write the toy dataset; schema 2 adds the pancreas masks and the ROI grid (roi_grid [x, y, z],
    default DEFAULT_ROI's)."""
    rng = np.random.default_rng(seed)
    crop_spec = dict(DEFAULT_CROP)
    loc_spec = dict(DEFAULT_LOCALIZER)
    if grid is not None:
        loc_spec["gridSize"] = list(grid)
    roi_spec = None
    if schema >= 2 and localizer:
        roi_spec = dict(DEFAULT_ROI)
        if roi_grid is not None:
            roi_spec["gridSize"] = list(roi_grid)
        os.makedirs(os.path.join(out, "roi"), exist_ok=True)
    os.makedirs(os.path.join(out, "crops"), exist_ok=True)
    if localizer:
        os.makedirs(os.path.join(out, "localizer"), exist_ok=True)
    items = []
    sites = ["head", "neck", "body", "tail", "uncinate process"]
    for n in range(count):
        s = rng.beta(*STROMA_BETA)
        label = 0 if s >= 0.5 else 1
        u = rng.normal(0, NUISANCE_SD)
        d_art = ART[0] + ART[1] * s + u + rng.normal(0, OWN_SD)
        d_ven = VEN[0] + VEN[1] * s + u + rng.normal(0, OWN_SD)
        p_art, p_ven = rng.normal(118, 6), rng.normal(102, 5)
        t_art, t_ven = p_art + d_art, p_ven + d_ven
        radius = float(np.clip(rng.normal(15, 4), 7, 28))
        centre = rng.uniform(-2, 2, 3)
        vessel = rng.uniform(-30, 30, 2)
        stem = f"{n:05d}"
        uid = f"2.25.{int.from_bytes(np.random.default_rng([seed, n]).bytes(12), 'big')}"
        item = {"id": uid, "label": ["low", "high"][label], "labelIndex": label,
                "crops": {"arterial": f"crops/{stem}_arterial.npy", "venous": f"crops/{stem}_venous.npy"},
                "oracle": oracle(d_art, d_ven)}
        if with_split:
            item["split"] = ["train", "train", "train", "val", "test"][n % 5]
        np.save(os.path.join(out, item["crops"]["arterial"]), _crop(rng, crop_spec, p_art, t_art, 280.0, radius, centre, vessel))
        np.save(os.path.join(out, item["crops"]["venous"]), _crop(rng, crop_spec, p_ven, t_ven, 170.0, radius, centre + rng.normal(0, 0.5, 3), vessel))
        r5 = lambda v: int(5 * round(v / 5))  # noqa: E731 - rounded like a radiologist's ROI value
        att = "hypo-attenuating" if d_art < -25 else "iso-attenuating"
        vessel_text = rng.choice(["No vessel contact.", "Abuts the superior mesenteric vein.", "Contact with the splenic vein."])
        item["findingsText"] = (
            f"Toy study. {att.capitalize()} mass in the pancreatic {rng.choice(sites)}, {r5(2 * radius)} mm. "
            f"Pancreatic phase: mass {r5(t_art + rng.normal(0, 2))} HU, parenchyma {r5(p_art + rng.normal(0, 2))} HU. "
            f"Portal venous phase: mass {r5(t_ven + rng.normal(0, 2))} HU, parenchyma {r5(p_ven + rng.normal(0, 2))} HU. {vessel_text}")
        if localizer:
            gx, gy, gz = loc_spec["gridSize"]
            t_vox = (rng.uniform(gx * 0.35, gx * 0.65), rng.uniform(gy * 0.4, gy * 0.55), rng.uniform(gz * 0.3, gz * 0.7))
            t_vox = tuple(float(v) for v in t_vox)
            scenes = {"venous": _phase_scene(rng, loc_spec, p_ven, t_ven, 170.0, radius, t_vox, (0.0, 0.0, 0.0))}
            scenes["arterial"] = _phase_scene(rng, loc_spec, p_art, t_art, 280.0, radius, t_vox, tuple(rng.normal(0, 0.4, 3)))
            item["localizer"], roi = _write_localizer(out, stem, rng, loc_spec, roi_spec, scenes, seed * 100003 + n)
            if roi:
                item["roi"] = roi
        items.append(item)
    manifest = {"schema": f"tsr-node/dataset@{2 if schema >= 2 else 1}", "createdAt": "1970-01-01T00:00:00Z",
                "source": f"TOY dataset (models/training/toy_dataset.py, seed {seed}): not the synthetic CT cohort",
                "crop": crop_spec, "localizer": loc_spec, "labelDefinition": LABEL_DEFINITION, "items": items}
    if roi_spec is not None:
        manifest["roi"] = roi_spec
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--grid", default="96,96,48", help="localizer grid x,y,z in voxels (small for tests)")
    ap.add_argument("--roi-grid", default=",".join(str(v) for v in DEFAULT_ROI["gridSize"]),
                    help="@2's ROI grid x,y,z in 2 mm voxels (the contract's real one: 96,72,48)")
    ap.add_argument("--schema", type=int, choices=(1, 2), default=2, help="dataset schema: 2 (pancreas masks, ROI grid) or 1")
    ap.add_argument("--no-localizer", action="store_true")
    ap.add_argument("--with-split", action="store_true", help="write explicit splits instead of hashing ids")
    a = ap.parse_args()
    grid = [int(v) for v in a.grid.split(",")]
    roi_grid = [int(v) for v in a.roi_grid.split(",")]
    make_toy_dataset(a.out, a.count, a.seed, grid, localizer=not a.no_localizer, with_split=a.with_split, schema=a.schema,
                     roi_grid=roi_grid)
    print(f"toy dataset: {a.count} items in {a.out}")


if __name__ == "__main__":
    main()
