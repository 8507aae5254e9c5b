"""A sentence-transformers BERT folder exported to ONNX once, optionally with int8 weights.

Used by the ``onnx`` embedding backend (``retrieval.embedder.OnnxEmbedder``). The export runs
the folder's transformer under torch (``torch.onnx.export``, eager attention, opset 17, dynamic
batch and sequence axes), fuses it with onnxruntime's transformer optimizer (SkipLayerNorm,
BiasGelu) and writes ``<folder>/onnx/model-<variant>-v<EXPORT_VERSION>.onnx``; int8 variants are made from that by
onnxruntime's dynamic quantisation (weights int8 per output channel, activations quantised at
run time):

- ``fp32``: the export itself (cosine to torch ~0.9999999);
- ``int8``: every weight MatMul and the embedding tables int8 (cosine to torch ~0.997 on news
  chunks; per-tensor scales gave 0.984);
- ``int8-mixed``: all but each layer's FFN output projection, which reads GELU activations with
  a long tail and loses most accuracy in int8 (cosine ~0.999, but slower).

On a 2-core AVX2 CPU (no VNNI), 240 news chunks in batches of 16: fp32 torch 13.3 chunks/s,
fp32 here 17.9, int8 37.1, int8-mixed 26.5 (the SDPA graph unfused: 15.2 / 27.7 / 22.2).

Files are written under a temporary name and renamed, so a reader never sees half a model.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8", "int8-mixed")
# In the file name: a change to how models are exported or quantised gets new files instead of
# silently reusing ones written by the old code.
EXPORT_VERSION = 2  # 2: int8 variants quantise the embedding tables too
OPSET = 17
# Torch's exporter names nodes after modules: /m/encoder/layer.3/output/dense/MatMul is the FFN
# output projection (attention's own is .../attention/output/dense/MatMul).
FFN_OUTPUT = re.compile(r"layer\.\d+/output/dense/MatMul$")


def onnx_path(folder: Path, variant: str) -> Path:
    return Path(folder) / "onnx" / f"model-{variant}-v{EXPORT_VERSION}.onnx"


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def export_fp32(folder: Path) -> Path:
    """``onnx_path(folder, "fp32")``: inputs input_ids, attention_mask; output last_hidden_state."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    dest = onnx_path(folder, "fp32")
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(str(folder))
    # Eager attention exports plain MatMul/Softmax, which the optimizer fuses around; the SDPA
    # graph carries IsNaN/Where guards and ran ~25% slower in int8.
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = tok(["passage: xin chào", "passage: một hai ba bốn"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "sequence"}
    tmp = _tmp(dest)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden(model),
                (sample["input_ids"], sample["attention_mask"]),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        _optimize(tmp, model.config)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _optimize(path: Path, config) -> None:
    """Fuse the exported BERT graph in place (onnxruntime's transformer optimizer, level 1)."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(path), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size, opt_level=1
    )
    fused.save_model_to_file(str(path))


def export_model(folder: Path, variant: str) -> Path:
    """The ONNX file of ``variant`` for the model ``folder``, exported (and quantised) if missing.

    Each step runs in a fresh process: torch's exporter, onnxruntime's optimizer and the quantiser
    keep what they allocate (measured in one process: peaks 1.6, 4.4 and 6.1 GB, and 3.5 GB still
    resident after), which a bot exporting at its first start would carry for its whole life.
    Apart, the peak is the largest step's and the caller's memory is untouched."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    dest = onnx_path(folder, variant)
    if dest.exists():
        return dest
    _in_fresh_process("fp32", folder)
    if variant != "fp32":
        _in_fresh_process(variant, folder)
    if not dest.exists():
        raise RuntimeError(f"the ONNX export did not write {dest}")
    return dest


def _in_fresh_process(variant: str, folder: Path) -> None:
    """``python -m retrieval.onnx_export VARIANT FOLDER``: a new interpreter, not a fork (which
    would start with the caller's memory) nor multiprocessing's spawn (which re-runs the caller's
    main script). Its log and errors reach the caller's stderr."""
    env = dict(os.environ)
    # The package as the caller imported it, even from a source tree that is not installed.
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, "-m", __name__, variant, str(folder)], env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"exporting the {variant} ONNX model under {folder} failed (exit status {done.returncode}; its error is above)")


def quantize(folder: Path, variant: str) -> Path:
    """``onnx_path(folder, variant)`` from the fp32 export: weights int8 per output channel."""
    dest = onnx_path(folder, variant)
    if dest.exists():
        return dest
    fp32 = onnx_path(folder, "fp32")
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    keep = [n.name for n in graph.node if n.op_type == "MatMul" and FFN_OUTPUT.search(n.name)] if variant == "int8-mixed" else []
    if variant == "int8-mixed" and not keep:
        raise RuntimeError(f"{fp32}: no FFN output MatMul found to keep in fp32")
    tmp = _tmp(dest)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(fp32),
                str(tmp),
                # Gather: the embedding tables. A 250k-token vocabulary is 384 MB of the 387 MB
                # model in fp32; int8 rows cut the file to 112 MB and the loaded session from ~450
                # to ~90 MB, with vectors as close to fp32 as before (cosine 0.996 min, 0.997 mean).
                op_types_to_quantize=["MatMul", "Gather"],
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=keep,
                # the fused ops are outside ONNX's shape inference: their outputs are float
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


if __name__ == "__main__":  # one step of export_model, in its own process
    step, where = sys.argv[1], Path(sys.argv[2])
    export_fp32(where) if step == "fp32" else quantize(where, step)
