"""Our Integrated Gradients against a PyTorch reference on the very inputs our engine used: Captum's own
IntegratedGradients (--reference captum, the default), or Captum's formula written out on torch.autograd
(--reference autograd: for machines without Captum, such as CI).

  node --import tsx scripts/eval-ig-completeness.ts --steps 64 --dump /tmp/ig    # our IG, and its inputs
  python3 scripts/ig-crosscheck.py /tmp/ig [--reference captum|autograd] [--check]

Needs torch and onnx (Debian: python3-torch python3-onnx); for Captum also python3-tqdm python3-matplotlib and a
Captum checkout on CAPTUM_PATH (it is on neither npm nor Debian). The ONNX graph is run by a small torch interpreter
of the ops in OPS (SqueezeNet 1.1, torchvision's InceptionV3 export, plain CNN heads); any other op is named and the script stops. Per image and
step count it prints the reference's convergence delta and relative error next to ours, and how far our
channel-summed map is from the reference's attribution summed over channels (max abs difference over the
reference's max abs value), with the model in float32 (as Captum runs it) and in float64. --check exits 1 when a
relative error differs by more than MAX_REL_GAP_PP percentage points or a map by more than MAX_MAP_GAP.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

MAX_REL_GAP_PP = 0.05
MAX_MAP_GAP = 0.02


def pads(a):
    p = a.get('pads', [0, 0, 0, 0])
    return (p[1], p[3], p[0], p[2])


OPS = {
    'Conv': lambda i, a: F.conv2d(F.pad(i[0], pads(a)), i[1], i[2] if len(i) > 2 else None, a.get('strides', [1, 1]), 0,
                                  a.get('dilations', [1, 1]), a.get('group', 1)),
    'Relu': lambda i, a: F.relu(i[0]),
    'Clip': lambda i, a: torch.clamp(i[0], *(float(v) for v in i[1:3])),
    'MaxPool': lambda i, a: F.max_pool2d(F.pad(i[0], pads(a), value=-float('inf')), a['kernel_shape'], a.get('strides', [1, 1]),
                                         ceil_mode=bool(a.get('ceil_mode', 0))),
    'AveragePool': lambda i, a: F.avg_pool2d(i[0], a['kernel_shape'], a.get('strides', [1, 1]), symmetric(a),
                                             ceil_mode=bool(a.get('ceil_mode', 0)),
                                             count_include_pad=bool(a.get('count_include_pad', 0))),
    'GlobalAveragePool': lambda i, a: i[0].mean(dim=(2, 3), keepdim=True),
    'Concat': lambda i, a: torch.cat(i, dim=a['axis']),
    'Add': lambda i, a: i[0] + i[1],
    'Dropout': lambda i, a: i[0],
    'Identity': lambda i, a: i[0],
    'Flatten': lambda i, a: i[0].flatten(a.get('axis', 1)),
    'Gemm': lambda i, a: a.get('alpha', 1.0) * (i[0] @ (i[1].T if a.get('transB', 0) else i[1])) + a.get('beta', 1.0) * i[2],
    'Softmax': lambda i, a: torch.softmax(i[0], dim=a.get('axis', -1)),
    'Constant': lambda i, a: torch.from_numpy(numpy_helper.to_array(a['value']).copy()),
    'Pad': lambda i, a: pad(i, a),
}


def symmetric(a):
    p = a.get('pads', [0, 0, 0, 0])
    if p[:2] != p[2:]:
        raise SystemExit(f'AveragePool with asymmetric pads {p} is not in this script\'s interpreter')
    return tuple(p[:2])


def pad(i, a):
    """ONNX Pad (opset >= 11: pads as an input, [begins..., ends...]; constant mode)."""
    mode = a.get('mode', b'constant')
    if mode != b'constant':
        raise SystemExit(f'Pad mode {mode.decode()} is not in this script\'s interpreter')
    p = [int(v) for v in i[1].tolist()]
    half = len(p) // 2
    torch_pads = [v for d in reversed(range(half)) for v in (p[d], p[d + half])]
    return F.pad(i[0], torch_pads, value=float(i[2]) if len(i) > 2 and i[2] is not None else 0.0)


class OnnxNet(torch.nn.Module):
    """The graph up to the logits our engine reads (the input of a final Softmax), in the given dtype."""

    def __init__(self, meta, dtype):
        super().__init__()
        self.graph = onnx.load(meta['model']).graph
        self.input_name, self.output_name = meta['inputName'], meta['logitsTensor']
        self.weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).to(dtype) for t in self.graph.initializer}
        self.probability = meta['score'] == 'probability'
        for n in self.graph.node:
            if n.op_type not in OPS:
                raise SystemExit(f'{meta["model"]}: op {n.op_type} (node {n.name or n.output[0]}) is not in this script\'s interpreter')

    def forward(self, x):
        env = {self.input_name: x}
        for n in self.graph.node:
            a = {k.name: onnx.helper.get_attribute_value(k) for k in n.attribute}
            inputs = [None if k == '' else env[k] if k in env else self.weights[k] for k in n.input]
            env[n.output[0]] = OPS[n.op_type](inputs, a)
            if n.output[0] == self.output_name:
                break
        y = env[self.output_name].flatten(1)
        return torch.softmax(y, dim=1) if self.probability else y


def captum_rule(method, n):
    """Captum's approximation_parameters (captum/attr/_utils/approximation_methods.py)."""
    if method == 'gausslegendre':
        x, w = np.polynomial.legendre.leggauss(n)
        return 0.5 * (1 + x), 0.5 * w
    if method == 'riemann_trapezoid':
        return np.linspace(0, 1, n), np.array([0.5] + [1.0] * (n - 2) + [0.5]) / (n - 1)
    shift = {'riemann_left': 0.0, 'riemann_right': 1.0, 'riemann_middle': 0.5}[method]
    return (np.arange(n) + shift) / n, np.full(n, 1.0 / n)


def autograd_ig(net, x, b, target, steps, method, chunk=16):
    """IntegratedGradients.attribute with return_convergence_delta, as Captum computes it, on torch.autograd."""
    alphas, weights = captum_rule(method, steps)
    total = torch.zeros_like(x)
    for s in range(0, steps, chunk):
        a = torch.tensor(alphas[s:s + chunk], dtype=x.dtype).view(-1, 1, 1, 1)
        w = torch.tensor(weights[s:s + chunk], dtype=x.dtype).view(-1, 1, 1, 1)
        points = (b + a * (x - b)).requires_grad_(True)
        grads, = torch.autograd.grad(net(points)[:, target].sum(), points)
        total += (w * grads).sum(dim=0, keepdim=True)
    attr = total * (x - b)
    with torch.no_grad():
        delta = attr.sum() - (net(x)[0, target] - net(b)[0, target])
    return attr, delta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('folder', help='the --dump folder of scripts/eval-ig-completeness.ts')
    ap.add_argument('--reference', choices=['captum', 'autograd'], default='captum')
    ap.add_argument('--check', action='store_true', help=f'exit 1 beyond {MAX_REL_GAP_PP} pp or a map gap of {MAX_MAP_GAP}')
    args = ap.parse_args()
    meta_file = os.path.join(args.folder, 'meta.json')
    if not os.path.isfile(meta_file):
        raise SystemExit(f'{args.folder}: no meta.json (write it with: node --import tsx scripts/eval-ig-completeness.ts --dump {args.folder})')
    meta = json.load(open(meta_file))
    if meta['layout'] != 'NCHW':
        raise SystemExit(f'{meta["model"]}: this check needs an NCHW model (got {meta["layout"]})')
    s = meta['settings']
    if args.reference == 'captum':
        if os.environ.get('CAPTUM_PATH'):
            sys.path.insert(0, os.environ['CAPTUM_PATH'])
        import captum
        from captum.attr import IntegratedGradients
        name = f'Captum {captum.__version__} IntegratedGradients'
    else:
        name = "Captum's formula on torch.autograd"
    print(f'{name}, torch {torch.__version__}, {os.path.basename(meta["model"])}, target = top-1 {meta["score"]}, '
          f'method {s["method"]}, baseline {s["baseline"]} (the arrays our engine used), n = {len(meta["images"])}')
    read = lambda name: torch.from_numpy(np.fromfile(os.path.join(args.folder, name), dtype=np.float32).reshape(meta['shape']))
    rel_gaps, map_gaps = [], []
    for dtype in (torch.float32, torch.float64):
        net = OnnxNet(meta, dtype).eval()
        if args.reference == 'captum':
            ig = IntegratedGradients(net)
            attribute = lambda x, b, cls, n: ig.attribute(x, baselines=b, target=cls, n_steps=n, method=s['method'],
                                                          internal_batch_size=16, return_convergence_delta=True)
        else:
            attribute = lambda x, b, cls, n: autograd_ig(net, x, b, cls, n, s['method'])
        for im in meta['images']:
            k, cls = im['index'], im['classIndex']
            x, b = read(f'{k}.x.f32').to(dtype), read(f'{k}.baseline.f32').to(dtype)
            with torch.no_grad():
                out_x, out_b = net(x), net(b)
            change = float(out_x[0, cls] - out_b[0, cls])
            cells = []
            for steps, ours in im['completeness'].items():
                attr, delta = attribute(x, b, cls, int(steps))
                ref_map = attr.detach().sum(dim=1)[0].double().numpy().ravel()
                our_map = np.fromfile(os.path.join(args.folder, f'{k}.map{steps}.f32'), dtype=np.float32).astype(np.float64)
                gap = np.abs(ref_map - our_map).max() / np.abs(ref_map).max()
                rel = 100 * abs(float(delta)) / abs(change)
                rel_gaps.append(abs(rel - 100 * ours['relError']))
                map_gaps.append(gap)
                cells.append(f'{steps}: reference delta {float(delta):+.4f} ({rel:.2f}%), ours {ours["delta"]:+.4f} '
                             f'({100 * ours["relError"]:.2f}%), map gap {gap:.1e}')
            top = int(out_x.argmax())
            print(f'{str(dtype)[6:]} {im["file"]} class {cls}{"" if top == cls else f" (torch top-1 {top})"} '
                  f'change {change:.4f} (ours {ours["change"]:.4f})  ' + '  '.join(cells), flush=True)
    print(f'\nrelative error, reference vs ours: largest difference {max(rel_gaps):.3f} percentage points; map gap largest '
          f'{max(map_gaps):.1e}, median {float(np.median(map_gaps)):.1e} ({len(map_gaps)} maps: images x steps x dtypes)')
    if args.check and (max(rel_gaps) > MAX_REL_GAP_PP or max(map_gaps) > MAX_MAP_GAP):
        print(f'ig-crosscheck: ours differs from the reference beyond {MAX_REL_GAP_PP} percentage points or a map gap of {MAX_MAP_GAP}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
