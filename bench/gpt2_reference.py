#!/usr/bin/env python3
"""GPT-2's forward pass in PyTorch, written out as transformers' GPT2LMHeadModel computes it (learned positions,
pre-LN blocks, fused c_attn Conv1D weights [in, out], scaled causal attention, the tanh GELU, layer norm eps 1e-5,
LM head tied to wte), on a Hugging Face GPT-2 folder read without the safetensors package. Prints one JSON object:
the token ids of tests/fixtures/gpt2_tiny.ts and the logits, float32. The reference for ilql/gpt2_test.ts.

Usage: python3 bench/gpt2_reference.py DIR > tests/fixtures/gpt2_tiny_logits.json   (torch from bench/setup_torch.sh)
"""
import json
import math
import struct
import sys

import numpy as np
import torch

IDS = [
    [3, 17, 42, 8, 8, 0, 49, 21, 5, 33, 12, 7],
    [49, 1, 2, 3, 44, 45, 46, 10, 30, 20, 11, 9],
]


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", name
        a, b = t["data_offsets"]
        out[name.removeprefix("transformer.")] = torch.from_numpy(
            np.frombuffer(data[base + a:base + b], dtype="<f4").reshape(t["shape"]).copy())
    return out


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(w, cfg, ids):
    D, H = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    B, T = ids.shape
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(T)]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        a = torch.nn.functional.layer_norm(x, (D,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(D, dim=2)
        heads = lambda t: t.view(B, T, H, D // H).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        m = torch.nn.functional.layer_norm(x, (D,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu_new(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = torch.nn.functional.layer_norm(x, (D,), w["ln_f.weight"], w["ln_f.bias"], eps)
    return x @ w["wte.weight"].T


def main():
    folder = sys.argv[1]
    with open(f"{folder}/config.json") as f:
        cfg = json.load(f)
    weights = read_safetensors(f"{folder}/model.safetensors")
    with torch.no_grad():
        logits = forward(weights, cfg, torch.tensor(IDS))
    print(json.dumps({"torch": torch.__version__, "ids": IDS, "logits": logits.tolist()}))


if __name__ == "__main__":
    main()
