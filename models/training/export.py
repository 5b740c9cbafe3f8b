"""ONNX export (opset 17) of the classifiers and the localiser, their manifests
(tsr-node/model-manifest@1, src/inference/manifest.ts), onnx.checker, and the parity fixture that
test/unit/onnxParity.test.ts checks with onnxruntime-node.

Parity fixture (test/fixtures/model-parity/parity.json + binary files beside it):
- inputs are stored as uint8 q with value = q / 64 - 2 (exact in float32), gzip-compressed, so a
  realistic crop or grid costs little space and both sides see bit-identical inputs;
- PyTorch's outputs are float32 little-endian; for the localiser's large grid, the values at a
  sample of voxel indices (around the peak and spread over the grid), plus the peak and the sum.
"""
from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import json
import inspect
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch
from torch import nn

OPSET = 17
INTENDED_USE = "research use only, not for clinical use"
MANIFEST_SCHEMA = "tsr-node/model-manifest@1"
PARITY_SCHEMA = "tsr-node/model-parity@1"
QUANT_SCALE, QUANT_OFFSET = 64.0, 2.0


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _spec(name: str, shape: Sequence, dtype: str = "float32") -> Dict:
    return {"name": name, "shape": list(shape), "dtype": dtype}


def export_onnx(module: nn.Module, example: Tuple[torch.Tensor, ...], path: str, input_names: List[str],
                output_names: List[str]) -> None:
    """Trace and export with a dynamic batch axis, then onnx.checker (full check, with shape
    inference) and a check that the graph's inputs and outputs are the declared ones."""
    module = module.eval().cpu()
    dynamic = {n: {0: "batch"} for n in input_names + output_names}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # The TorchScript-based exporter: Debian's torch 1.13 has only it, and newer torch (2.9+)
    # would otherwise pick the dynamo exporter, which needs onnxscript.
    kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(module, example, path, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic, do_constant_folding=True, **kwargs)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    got_in = [i.name for i in model.graph.input]
    got_out = [o.name for o in model.graph.output]
    if got_in != input_names or got_out != output_names:
        raise RuntimeError(f"{path}: graph has inputs {got_in} / outputs {got_out}, expected {input_names} / {output_names}")


def classifier_io(phases: Sequence[str], crop_shape: Sequence[int]) -> Tuple[List[Dict], List[Dict]]:
    c, h, w = crop_shape
    inputs = [_spec(p, ["batch", c, h, w]) for p in phases]
    outputs = [_spec("probabilities", ["batch", 2])] + [_spec(f"saliency_{p}", ["batch", h, w]) for p in phases]
    return inputs, outputs


def localizer_io(grid_zyx: Sequence[int], channels: int) -> Tuple[List[Dict], List[Dict]]:
    """volume [batch, phases, Z, Y, X] in, probability [batch, phases, Z, Y, X] out (channel
    order: the manifest's preprocessing.phases)."""
    return [_spec("volume", ["batch", channels, *grid_zyx])], [_spec("probability", ["batch", channels, *grid_zyx])]


def write_manifest(onnx_path: str, name: str, version: str, kind: str, inputs: List[Dict], outputs: List[Dict],
                   preprocessing: Dict, trained_on: str, metrics: Dict, label_definition: Optional[str] = None,
                   threshold: Optional[float] = None) -> str:
    """models/<name>.json beside models/<name>.onnx (the node refuses a model whose sha256,
    names or shapes do not match it)."""
    manifest: Dict = {
        "schema": MANIFEST_SCHEMA, "name": name, "version": version, "kind": kind,
        "file": os.path.basename(onnx_path), "sha256": sha256_of(onnx_path), "opset": OPSET,
        "inputs": inputs, "outputs": outputs, "preprocessing": preprocessing,
    }
    if kind == "classifier":
        manifest["classLabels"] = ["low", "high"]
        manifest["threshold"] = round(float(threshold if threshold is not None else 0.5), 6)
    if label_definition:
        manifest["labelDefinition"] = label_definition
    manifest.update({
        "trainedOn": trained_on, "intendedUse": INTENDED_USE,
        "metrics": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in metrics.items()},
        "createdAt": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    })
    path = os.path.splitext(onnx_path)[0] + ".json"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return path


# ------------------------------------------------------------------------------------------------
# Parity fixture
# ------------------------------------------------------------------------------------------------

def quantise(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """float32 -> (uint8 q, the exact float32 q / 64 - 2 the test will rebuild)."""
    q = np.clip(np.round((x.astype(np.float64) + QUANT_OFFSET) * QUANT_SCALE), 0, 255).astype(np.uint8)
    return q, (q.astype(np.float32) / np.float32(QUANT_SCALE) - np.float32(QUANT_OFFSET)).astype(np.float32)


def _write(path: str, data: bytes, compress: bool) -> None:
    with open(path, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0) if compress else data)


def _sample_indices(flat: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of the `count // 2` largest values (the peak region, where the node looks) and
    `count // 2` spread over the rest, sorted."""
    rng = np.random.default_rng(seed)
    top = np.argsort(flat)[::-1][: count // 2]
    rest = rng.choice(flat.size, size=count - len(top), replace=False)
    return np.unique(np.concatenate([top, rest])).astype(np.uint32)


def write_parity_case(fixture_dir: str, case: str, onnx_path: str, module: nn.Module, inputs: Dict[str, np.ndarray],
                      output_names: List[str], sample_outputs: Sequence[str] = (), sample_count: int = 4096) -> Dict:
    """Run `module` on the quantised inputs, write inputs and outputs, return the case entry."""
    os.makedirs(fixture_dir, exist_ok=True)
    entry: Dict = {"case": case, "model": os.path.relpath(os.path.abspath(onnx_path), os.path.abspath(fixture_dir)),
                   "sha256": sha256_of(onnx_path), "inputs": [], "outputs": []}
    tensors = []
    for name, x in inputs.items():
        q, xq = quantise(x)
        fname = f"{case}.in.{name}.u8.gz"
        _write(os.path.join(fixture_dir, fname), q.tobytes(), compress=True)
        entry["inputs"].append({"name": name, "shape": list(x.shape), "file": fname,
                                "encoding": f"uint8 gzip, value = q / {QUANT_SCALE:g} - {QUANT_OFFSET:g}"})
        tensors.append(torch.from_numpy(xq))
    with torch.no_grad():
        outs = module.eval().cpu()(*tensors)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    for name, out in zip(output_names, outs):
        arr = out.numpy().astype("<f4")
        spec: Dict = {"name": name, "shape": list(arr.shape)}
        if name in sample_outputs:
            flat = arr.reshape(-1)
            idx = _sample_indices(flat, sample_count, seed=len(case))
            _write(os.path.join(fixture_dir, f"{case}.out.{name}.idx.u32"), idx.astype("<u4").tobytes(), compress=False)
            _write(os.path.join(fixture_dir, f"{case}.out.{name}.f32"), flat[idx].astype("<f4").tobytes(), compress=False)
            spec.update({"file": f"{case}.out.{name}.f32", "indexFile": f"{case}.out.{name}.idx.u32",
                         "max": float(flat.max()), "argmax": int(flat.argmax()), "sum": float(flat.astype(np.float64).sum())})
        else:
            fname = f"{case}.out.{name}.f32"
            _write(os.path.join(fixture_dir, fname), arr.tobytes(), compress=False)
            spec["file"] = fname
        entry["outputs"].append(spec)
    return entry


def write_parity_fixture(fixture_dir: str, cases: List[Dict], note: str) -> str:
    """parity.json: the cases, the tolerance, where the fixture came from. Stale binary files of
    earlier cases are removed."""
    os.makedirs(fixture_dir, exist_ok=True)
    keep = {"parity.json", "README.md"}
    for c in cases:
        keep.update(i["file"] for i in c["inputs"])
        for o in c["outputs"]:
            keep.add(o["file"])
            if "indexFile" in o:
                keep.add(o["indexFile"])
        if not c["model"].startswith(".."):
            keep.add(c["model"])
    for f in os.listdir(fixture_dir):
        if f not in keep and (f.endswith(".gz") or f.endswith(".f32") or f.endswith(".u32") or f.endswith(".onnx")):
            os.remove(os.path.join(fixture_dir, f))
    doc = {"schema": PARITY_SCHEMA, "tolerance": 1e-4, "note": note, "cases": cases}
    path = os.path.join(fixture_dir, "parity.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return path
