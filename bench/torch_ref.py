#!/usr/bin/python3
"""torch_ref.py - the limpid reference network in PyTorch, timed like bench_core.

The network is the one of core/src/internal.h's parameter table, preset "base", STFT
denoising at 48 kHz (Cx = 1026, C = 64, 12 layers, dilation cycle 6, embedding 128/512, GAIN
head), built from nn.Conv1d / nn.Linear at float32:

  h0 = relu(in(x))                        1x1 conv Cx -> C
  c  = relu(cond(noisy))                  1x1 conv Cx -> C
  e  = silu(fc2(silu(fc1(sinus(t)))))     E -> H -> H
  per layer i (d = 2^(i % 6), non-causal: padding = d):
    y = h + emb_i(e)[:, :, None]          Linear H -> C, broadcast over time
    a = dil_i(y) + cnd_i(c)               conv k=3 dilation d C -> 2C;  1x1 C -> 2C (no bias)
    z = tanh(a[:C]) * sigmoid(a[C:])
    r = out_i(z)                          1x1 C -> 2C
    h = (h + r[:C]) / sqrt(2);  skip += r[C:]
  s   = relu(skip(skip_sum / sqrt(N)))    1x1 C -> C
  out = final(s)                          1x1 C -> Co (= Cx: g1[bins], g2[bins])
  GAIN head: pred = (1 + g1) * noisy + g2 * x_t  per bin (re and im rows alike)

Figures (median of several repetitions after warm-up, wall clock):
  inference: forward of 1 item x 1875 frames (10 s) under torch.inference_mode()
  training:  one step on batch 16 x 188 frames (1 s): draw diffusion steps and noise, q_sample,
             forward, MSE loss against x0, backward, torch.optim.AdamW step. A second figure adds
             what limpid's trainer also does every step: gradient-norm clipping and an EMA of the
             weights.
Usage: /usr/bin/python3 bench/torch_ref.py [--threads N] [--quick]
Every figure is also printed as "RESULT name value unit" (names start with torch_).
"""
import argparse
import math
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # run_core.sh checks this before calling us
    print("torch_ref.py: PyTorch is not available (%s)" % exc, file=sys.stderr)
    sys.exit(3)

SR = 48000
N_FFT = 1024
HOP = 256
CX = 2 * (N_FFT // 2 + 1)  # 1026
C = 64
LAYERS = 12
CYCLE = 6
E = 128
H = 512
T_STEPS = 50


class Layer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.emb = nn.Linear(H, C)
        self.dil = nn.Conv1d(C, 2 * C, 3, dilation=d, padding=d)
        self.cnd = nn.Conv1d(C, 2 * C, 1, bias=False)
        self.out = nn.Conv1d(C, 2 * C, 1)

    def forward(self, h, c, e):
        y = h + self.emb(e).unsqueeze(-1)
        a = self.dil(y) + self.cnd(c)
        z = torch.tanh(a[:, :C]) * torch.sigmoid(a[:, C:])
        r = self.out(z)
        return (h + r[:, :C]) * (1.0 / math.sqrt(2.0)), r[:, C:]


class Net(nn.Module):
    def __init__(self, layers=LAYERS):
        super().__init__()
        self.n = layers
        self.inp = nn.Conv1d(CX, C, 1)
        self.cond = nn.Conv1d(CX, C, 1)
        self.fc1 = nn.Linear(E, H)
        self.fc2 = nn.Linear(H, H)
        self.layers = nn.ModuleList(Layer(2 ** (i % CYCLE)) for i in range(layers))
        self.skip = nn.Conv1d(C, C, 1)
        self.final = nn.Conv1d(C, CX, 1)
        half = E // 2
        j = torch.arange(half, dtype=torch.float32)
        self.register_buffer("freqs", torch.pow(10.0, 4.0 * j / (half - 1)), persistent=False)

    def forward(self, xt, noisy, t):
        arg = t[:, None] * self.freqs[None, :]
        e = torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)
        e = F.silu(self.fc2(F.silu(self.fc1(e))))
        h = F.relu(self.inp(xt))
        c = F.relu(self.cond(noisy))
        skip = None
        for layer in self.layers:
            h, s = layer(h, c, e)
            skip = s if skip is None else skip + s
        s = F.relu(self.skip(skip * (1.0 / math.sqrt(self.n))))
        out = self.final(s)
        # GAIN head: out rows [0, F) = g1, [F, 2F) = g2; feature rows re [0, F), im [F, 2F)
        fb = CX // 2
        g1 = 1.0 + out[:, :fb]
        g2 = out[:, fb:]
        return torch.cat([g1 * noisy[:, :fb] + g2 * xt[:, :fb],
                          g1 * noisy[:, fb:] + g2 * xt[:, fb:]], dim=1)


def macs_per_frame(layers=LAYERS):
    """As lpi_net_layout_init: multiply-accumulates per frame of one evaluation."""
    return C * CX + C * CX + C * C + CX * C + layers * (6 * C * C + 2 * C * C + 2 * C * C)


def cosine_abar(T):
    s = 0.008
    f = [math.cos((k / T + s) / (1 + s) * math.pi / 2) ** 2 for k in range(T + 1)]
    abar, a = [1.0], 1.0
    for k in range(1, T + 1):
        beta = min(1.0 - f[k] / f[k - 1], 0.999)
        a *= 1.0 - beta
        abar.append(a)
    return torch.tensor(abar, dtype=torch.float32)


def time_it(fn, warm, reps):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts)


def time_pair(fa, fb, warm, reps):
    """Alternate fa and fb: (median, min) of each and the median of the differences."""
    for _ in range(warm):
        fa()
        fb()
    ta, tb = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        fa()
        t1 = time.perf_counter()
        fb()
        t2 = time.perf_counter()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
    diffs = [a - b for a, b in zip(ta, tb)]
    return (statistics.median(ta), min(ta)), (statistics.median(tb), min(tb)), \
        statistics.median(diffs)


def result(name, value, unit):
    print("RESULT %s %.6g %s" % (name, value, unit))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--infer-frames", type=int, default=1875, help="frames of the inference item")
    ap.add_argument("--train-frames", type=int, default=188, help="frames per training item")
    ap.add_argument("--batch", type=int, default=16, help="training batch")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    warm = 1 if args.quick else 2
    reps_fast = 5 if args.quick else 11
    reps_slow = 3 if args.quick else 7
    Lf, Lt, B = args.infer_frames, args.train_frames, args.batch

    print("PyTorch %s reference: threads %d (torch.get_num_threads %d)%s, mkldnn %s"
          % (torch.__version__, args.threads, torch.get_num_threads(),
             ", quick" if args.quick else "", torch.backends.mkldnn.is_available()))
    print("network: Cx %d, C %d, %d layers, dilation cycle %d, embed %d/%d, GAIN head; "
          "%.0f MACs/frame" % (CX, C, LAYERS, CYCLE, E, H, macs_per_frame()))

    # inference: whole network, and 12-layer minus 6-layer (the residual layers alone)
    # (alternated, median of the per-pair differences: load changes cancel)
    x = torch.randn(1, CX, Lf)
    noisy = 0.5 * torch.randn(1, CX, Lf)
    t = torch.tensor([25.0])
    net12, net6 = Net(LAYERS).eval(), Net(6).eval()
    with torch.inference_mode():
        (t_inf, t_inf_min), (t_inf6, _), t_layers = time_pair(
            lambda: net12(x, noisy, t), lambda: net6(x, noisy, t), warm, reps_fast)
    del net12, net6
    flop_inf = 2.0 * macs_per_frame() * Lf
    gf_inf = flop_inf / t_inf * 1e-9
    macs_layer = 10 * C * C
    gf_layers = 2.0 * macs_layer * (LAYERS - 6) * Lf / t_layers * 1e-9 if t_layers > 0 else 0.0

    # training step
    net = Net(LAYERS).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.01)
    abar_tab = cosine_abar(T_STEPS)
    x0 = 0.3 * torch.randn(B, CX, Lt)
    noisy = x0 + 0.1 * torch.randn(B, CX, Lt)
    ema = [p.detach().clone() for p in net.parameters()]
    params = list(net.parameters())

    def step(full):
        tb = torch.randint(1, T_STEPS + 1, (B,))
        ab = abar_tab[tb].view(B, 1, 1)
        eps = torch.randn(B, CX, Lt)
        xt = ab.sqrt() * x0 + (1.0 - ab).sqrt() * eps
        pred = net(xt, noisy, tb.to(torch.float32))
        loss = F.mse_loss(pred, x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if full:
            torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if full:
            with torch.no_grad():
                torch._foreach_mul_(ema, 0.999)
                torch._foreach_add_(ema, [p.detach() for p in params], alpha=0.001)
        return loss

    t_step, t_step_min = time_it(lambda: step(False), warm, reps_slow)
    t_full, _ = time_it(lambda: step(True), warm, reps_slow)
    audio_s = B * Lt * HOP / SR
    flop_fb = 3.0 * 2.0 * macs_per_frame() * B * Lt

    print()
    print("%-52s %12s %12s %s" % ("figure", "median", "min", "unit"))
    print("--- inference: 1 item x %d frames, inference_mode ---" % Lf)
    print("%-52s %12.2f %12.2f ms" % ("network evaluation", t_inf * 1e3, t_inf_min * 1e3))
    print("%-52s %12.5f %12.5f x real time" % ("real-time factor per sampling step",
                                                t_inf / (Lf * HOP / SR),
                                                t_inf_min / (Lf * HOP / SR)))
    print("%-52s %12.1f %12.1f GFLOP/s" % ("whole network effective rate", gf_inf,
                                          flop_inf / t_inf_min * 1e-9))
    print("%-52s %12.2f %12s ms" % ("6-layer network evaluation", t_inf6 * 1e3, ""))
    print("%-52s %12.2f %12s ms" % ("residual layers, per layer (paired 12L - 6L, / 6)",
                                   t_layers / (LAYERS - 6) * 1e3, ""))
    print("%-52s %12.1f %12s GFLOP/s" % ("residual (convolution) layers rate", gf_layers, ""))
    print("--- training: batch %d x %d frames ---" % (B, Lt))
    print("%-52s %12.1f %12.1f ms" % ("step (noise, fwd, MSE, bwd, AdamW)", t_step * 1e3,
                                     t_step_min * 1e3))
    print("%-52s %12.2f %12.2f audio-s/s" % ("training throughput", audio_s / t_step,
                                            audio_s / t_step_min))
    print("%-52s %12.1f %12s GFLOP/s" % ("network forward+backward rate (whole step)",
                                        flop_fb / t_step * 1e-9, ""))
    print("%-52s %12.1f %12s ms" % ("step + grad clip + EMA (as limpid's trainer)",
                                   t_full * 1e3, ""))
    print()
    result("torch_threads", args.threads, "threads")
    result("torch_infer_frames", Lf, "frames")
    result("torch_infer_ms", t_inf * 1e3, "ms")
    result("torch_infer_rtf", t_inf / (Lf * HOP / SR), "x")
    result("torch_infer_gflops", gf_inf, "GFLOP/s")
    result("torch_layer_ms", t_layers / (LAYERS - 6) * 1e3, "ms")
    result("torch_layers_gflops", gf_layers, "GFLOP/s")
    result("torch_train_frames", Lt, "frames")
    result("torch_train_step_ms", t_step * 1e3, "ms")
    result("torch_train_audio_per_s", audio_s / t_step, "audio-s/s")
    result("torch_train_full_step_ms", t_full * 1e3, "ms")
    result("torch_train_full_audio_per_s", audio_s / t_full, "audio-s/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
