"""Image-encoding throughput of every catalogue encoder and ViT-L-14, in ONE run. Prints JSON.

Each model is the real open_clip architecture with *random* weights
(``open_clip.create_model(NAME, pretrained=None)``): the same FLOPs as the trained checkpoint,
which cannot be downloaded on the machines that built this project. So the timings hold; they
say nothing about retrieval quality (the catalogue quotes published figures for that).

Only the image towers are kept (the text towers are dropped to save memory). Batches of random
images at each model's own input size are encoded round-robin, one batch per model per round,
so that the machine's load drifts equally over all models; the median over rounds is reported,
with the ratio to ViT-L-14 measured in the same rounds.

    python bench/encoders.py                    # catalogue models + ViT-L-14, 3 rounds, batch 8
    python bench/encoders.py --rounds 5 --models ViT-B-16-SigLIP2,ViT-L-14
    python bench/encoders.py --device cuda --batch 64    # a GPU (unmeasured here)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.catalogue import ENCODERS  # noqa: E402

REFERENCE = "ViT-L-14"


def architectures() -> list[str]:
    names = [entry.spec.split("/")[0] for entry in ENCODERS]
    return names if REFERENCE in names else [*names, REFERENCE]


def image_tower(name: str, device: str):
    import open_clip
    import torch

    model = open_clip.create_model(name, pretrained=None, device=device)
    visual = model.visual.eval()
    size = visual.image_size if hasattr(visual, "image_size") else model.visual.image_size
    size = size[0] if isinstance(size, tuple | list) else int(size)
    del model
    gc.collect()
    params = sum(p.numel() for p in visual.parameters())
    return visual, size, params, torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="comma-separated open_clip architecture names (default: the catalogue)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.models.split(",") if args.models else architectures()
    load_start = os.getloadavg()
    towers = {}
    for name in names:
        started = time.perf_counter()
        visual, size, params, _ = image_tower(name, args.device)
        towers[name] = {"visual": visual, "size": size, "params": params,
                        "build_s": round(time.perf_counter() - started, 1), "rates": []}
        print(f"built {name}: {size}px, {params / 1e6:.0f} M image-tower parameters", file=sys.stderr)
    with torch.inference_mode():
        for tower in towers.values():  # warm-up, not timed
            tower["visual"](torch.randn(2, 3, tower["size"], tower["size"], device=args.device))
        for round_index in range(args.rounds):
            for name, tower in towers.items():
                pixels = torch.randn(args.batch, 3, tower["size"], tower["size"], device=args.device)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                started = time.perf_counter()
                tower["visual"](pixels)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                rate = args.batch / (time.perf_counter() - started)
                tower["rates"].append(rate)
                print(f"round {round_index + 1}: {name} {rate:.2f} images/s", file=sys.stderr)
    reference = statistics.median(towers[REFERENCE]["rates"]) if REFERENCE in towers else None
    results = []
    for name, tower in towers.items():
        median = statistics.median(tower["rates"])
        # Per-round ratios (same round, same load) are the fairer comparison; report both.
        ratios = ([r / ref for r, ref in zip(tower["rates"], towers[REFERENCE]["rates"], strict=True)]
                  if reference else [])
        results.append({
            "model": name, "image_size": tower["size"], "image_tower_params_m": round(tower["params"] / 1e6, 1),
            "images_per_s": round(median, 2), "images_per_s_rounds": [round(r, 2) for r in tower["rates"]],
            "ratio_vs_vit_l_14": round(median / reference, 2) if reference else None,
            "ratio_vs_vit_l_14_per_round_median": round(statistics.median(ratios), 2) if ratios else None,
        })
    print(json.dumps({
        "benchmark": "image encoder throughput (random weights, real architectures)",
        "device": args.device, "batch": args.batch, "rounds": args.rounds, "torch_threads": torch.get_num_threads(),
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.machine(),
                    "load_average_at_start": [round(x, 2) for x in load_start],
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "note": "shared with other jobs; runs vary"},
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
