#!/usr/bin/env python3
"""Export a torchvision classifier (e.g. a pretrained InceptionV3) to ONNX for Saliency Studio, in one step.

    pip install torch torchvision onnx          # once, with internet
    python3 scripts/export-torchvision.py inception_v3 --out models/inception_v3.onnx
    saliency serve --model models/inception_v3.onnx

The model's preprocessing preset is recorded in the ONNX metadata (saliency.preset), so the app feeds it the
right input without guessing: torchvision's ImageNet normalisation ('torchvision'). For inception_v3 that is
right too: torchvision's pretrained InceptionV3 has transform_input=True, which turns the ImageNet-normalised
input into the [-1, 1] scaling the original weights expect inside the graph. The input side (299 for
inception_v3, else 224) is the exported graph's fixed spatial size; the batch dimension is dynamic.

--random skips the download (random weights: for testing shapes and speed only; predictions are meaningless).
"""
import argparse
import inspect
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="a torchvision.models name, e.g. inception_v3, resnet50, mobilenet_v2")
    ap.add_argument("--out", help="output .onnx file (default: <model>.onnx)")
    ap.add_argument("--random", action="store_true", help="random weights (no download): shapes and speed only")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    try:
        import torch
        import torchvision
    except ImportError as e:
        print(f"export-torchvision: needs torch and torchvision ({e}); install them with: pip install torch torchvision onnx", file=sys.stderr)
        return 2

    builder = getattr(torchvision.models, args.model, None)
    if builder is None or not callable(builder):
        print(f"export-torchvision: torchvision.models has no model named {args.model!r}", file=sys.stderr)
        return 2
    kwargs = {"weights": None if args.random else "DEFAULT"}
    if args.model == "inception_v3" and args.random:
        # Without pretrained weights torchvision does not set these: match the pretrained model's graph.
        kwargs.update(aux_logits=False, transform_input=True, init_weights=False)
    model = builder(**kwargs).eval()
    side = 299 if args.model == "inception_v3" else 224
    out = args.out or f"{args.model}.onnx"
    dummy = torch.zeros(1, 3, side, side)
    # The TorchScript exporter: torch >= 2.5 asks for it by dynamo=False (its default moves to dynamo); torch 1.13
    # (Debian's python3-torch) has no such keyword and only that exporter.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, dummy, out, input_names=["input"], output_names=["logits"], opset_version=args.opset,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, **legacy)

    props = {
        "saliency.preset": "torchvision",
        "saliency.source": f"torchvision {torchvision.__version__} {args.model} ({'random weights' if args.random else 'pretrained ' + str(kwargs['weights'])})",
    }
    try:
        import onnx
        m = onnx.load(out)
        onnx.helper.set_model_props(m, props)
        onnx.save(m, out)
    except ImportError:
        print("export-torchvision: the onnx package is missing, so the preset is not recorded in the file; "
              "load it with the preset named: pip install onnx, or pass the preset when loading", file=sys.stderr)
    print(f"{out}: {args.model}, input 1x3x{side}x{side} (dynamic batch), preset torchvision"
          + (" [random weights]" if args.random else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
