#!/usr/bin/python3
"""synth.py - physically informed synthetic sound textures for the texture data recipe.

    /usr/bin/python3 models/textures/synth.py CLASS SEED SECONDS OUT.f32

Writes SECONDS of 48 kHz mono audio as raw little-endian float32 (build_data.sh converts,
normalises and encodes it). CLASS is rain, wind, fire or stream. The same (CLASS, SEED) gives
the same file: every random choice comes from one numpy PCG64 generator seeded with (SEED,
CLASS), and every clip draws its own parameters (intensity, spectral shape, event rates), so
the clips of a class differ from each other like different recordings.

Needs numpy (Debian: python3-numpy); nothing else. The models, in short:

  rain    a noise bed (the sum of far drops: a broad hump in log frequency, 0.4-4 kHz, plus
          a low roar at 70-250 Hz of random strength) with a slowly drifting intensity; a
          Poisson stream of near drops (short decaying noise clicks of log-normal size);
          drops landing on water ring as Minnaert bubbles (van den Doel 2005: a sinusoid
          whose frequency rises, f(t) = f0 (1 + xi d t), with damping
          d = 0.043 f0 + 0.0014 f0^1.5 per second); and a few heavy drops on leaves or a roof
          (a click exciting a low damped resonance).
  wind    noise through 1-3 band-pass filters (Gaussian in log frequency, 0.1-0.9 kHz, steep
          low-pass above) whose centres and gains follow a slow gust process g(t), each band
          only partly (stronger gusts are louder and higher: the pitch of flow noise rises
          with speed); a low buffeting rumble; an occasional whistle (a narrow band at a
          gust-dependent pitch); weak leaf rustle (high-passed noise) following the gusts.
  fire    a low rumble and a broad roar (300-1200 Hz) flickering at a few Hz; crackle: a
          doubly stochastic Poisson process (the rate itself drifts) of clicks with Pareto
          (heavy-tailed) amplitudes and random signs, some followed by bursts of micro
          clicks (a crack splitting), through a bank of short resonant kernels; rare louder
          pops with a low body; a faint hiss tied to the crackle density.
  stream  many small bubbles (hundreds to thousands per second; Minnaert frequencies
          log-normal around 1-3.5 kHz) whose rate gurgles at 1-4 Hz, over turbulent
          flow noise (a broad low-mid hump) and a weak splash hiss.

Events are rendered from small kernel banks (a few dozen precomputed waveforms), added at
their positions: a loop over events (thousands per clip), not over samples.
"""
import sys

import numpy as np

SR = 48000
NFFT = 1024
HOP = 256
CLASSES = ("rain", "wind", "fire", "stream")


# ---------------------------------------------------------------- helpers

def smooth(rng, n, cutoff_hz, rate_hz):
    """A smooth random process: n points at rate_hz, white noise low-passed (Gaussian in
    frequency, -3 dB near cutoff_hz) and scaled to unit standard deviation."""
    m = 1
    while m < 2 * n:
        m *= 2
    w = rng.standard_normal(m)
    f = np.fft.rfftfreq(m, 1.0 / rate_hz)
    spec = np.fft.rfft(w) * np.exp(-0.5 * (f / (cutoff_hz / 1.18)) ** 2)
    x = np.fft.irfft(spec, m)[:n]
    s = x.std()
    return x / s if s > 0 else x


def frames_for(n):
    return (n + NFFT) // HOP + 1


def shaped_noise(rng, n, mag):
    """White noise whose short-time spectrum is multiplied by mag[frames, bins] (frames =
    frames_for(n), bins = NFFT/2+1): sqrt-Hann STFT, scale, weighted overlap-add."""
    nfr = mag.shape[0]
    total = (nfr - 1) * HOP + NFFT
    x = rng.standard_normal(total)
    win = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(NFFT) / NFFT))
    idx = np.arange(NFFT)[None, :] + HOP * np.arange(nfr)[:, None]
    spec = np.fft.rfft(x[idx] * win, axis=1) * mag
    fr = np.fft.irfft(spec, NFFT, axis=1) * win
    y = np.zeros(total)
    # frames r, r+4, r+8... (hop = NFFT/4) tile y without overlap: add them as one block
    for r in range(NFFT // HOP):
        blk = fr[r::NFFT // HOP].ravel()
        y[r * HOP: r * HOP + len(blk)] += blk
    # sqrt-Hann analysis x synthesis at 75 % overlap sums to 2: undo it
    return y[NFFT // 2: NFFT // 2 + n] / 2.0


def bins_hz():
    return np.fft.rfftfreq(NFFT, 1.0 / SR)


def log_bump(f, centre, octaves):
    """Gain (linear amplitude) of a Gaussian bump in log2 frequency, std = octaves."""
    lf = np.log2(np.maximum(f, 1.0))
    return np.exp(-0.5 * ((lf - np.log2(centre)) / octaves) ** 2)


def lowpass_gain(f, fc, order=4):
    return 1.0 / np.sqrt(1.0 + (f / fc) ** (2 * order))


def highpass_gain(f, fc, order=2):
    r = (f / fc) ** (2 * order)
    return np.sqrt(r / (1.0 + r))


def poisson_times(rng, rate_per_sample):
    """Event sample positions of an inhomogeneous Poisson process (rate per sample array)."""
    return np.nonzero(rng.random(len(rate_per_sample)) < rate_per_sample)[0]


def upsample_env(ctrl, n, ctrl_rate):
    """Linear interpolation of a control signal at ctrl_rate Hz to n samples."""
    t = np.arange(n) / SR
    tc = np.arange(len(ctrl)) / ctrl_rate
    return np.interp(t, tc, ctrl)


def bubble_kernel(f0, xi=0.1, max_s=0.25):
    """A Minnaert bubble (van den Doel 2005): rising frequency, exponential damping."""
    d = 0.043 * f0 + 0.0014 * f0 ** 1.5  # 1/s
    L = int(min(max_s, 6.0 / d) * SR)
    t = np.arange(L) / SR
    phase = 2 * np.pi * f0 * (t + 0.5 * xi * d * t * t)
    return np.sin(phase) * np.exp(-d * t)


def add_events(out, pos, amp, kernels, which):
    """out[p:] += a * kernels[w] for every event (cut at the end of out)."""
    n = len(out)
    for p, a, w in zip(pos.tolist(), amp.tolist(), which.tolist()):
        k = kernels[w]
        e = min(n, p + len(k))
        out[p:e] += a * k[:e - p]
    return out


def bubbles(rng, n, rate_per_sample, f_lo, f_hi, f_median, f_sigma_oct, amp_exp, nbank=48):
    """Bubbles at Poisson times with log-normal frequencies, quantised to nbank log-spaced
    frequencies (about 1/10 octave: one precomputed kernel each). Amplitude ~
    (f_median/f)^amp_exp (bigger bubbles are louder) times a log-normal factor."""
    out = np.zeros(n)
    pos = poisson_times(rng, rate_per_sample)
    if len(pos) == 0:
        return out
    lf = np.log2(f_median) + f_sigma_oct * rng.standard_normal(len(pos))
    lf = np.clip(lf, np.log2(f_lo), np.log2(f_hi))
    grid = np.linspace(np.log2(f_lo), np.log2(f_hi), nbank)
    k = np.clip(np.rint((lf - grid[0]) / (grid[1] - grid[0])).astype(int), 0, nbank - 1)
    amp = (f_median / 2.0 ** lf) ** amp_exp * np.exp(0.5 * rng.standard_normal(len(pos)))
    return add_events(out, pos, amp, [bubble_kernel(2.0 ** g) for g in grid], k)


def click_bank(rng, count, dur_lo_ms, dur_hi_ms, hp_hz, lp_lo, lp_hi):
    """count short decaying noise clicks with random length and colour (kernels)."""
    ks = []
    for _ in range(count):
        L = int(SR * 1e-3 * np.exp(rng.uniform(np.log(dur_lo_ms), np.log(dur_hi_ms))) * 5)
        L = max(L, 16)
        tau = L / 5.0
        k = rng.standard_normal(L) * np.exp(-np.arange(L) / tau)
        m = 1
        while m < 4 * L:
            m *= 2
        f = np.fft.rfftfreq(m, 1.0 / SR)
        g = highpass_gain(f, hp_hz) * lowpass_gain(f, rng.uniform(lp_lo, lp_hi), 2)
        k = np.fft.irfft(np.fft.rfft(k, m) * g, m)[:L + L // 2]
        ks.append(k / (np.abs(k).max() + 1e-12))
    return ks


def render_bank(rng, n, pos, amp, kernels):
    which = rng.integers(0, len(kernels), len(pos))
    return add_events(np.zeros(n), pos, amp, kernels, which)


def rms(x):
    return float(np.sqrt(np.mean(x * x)) + 1e-12)


def db(x):
    return 10.0 ** (x / 20.0)


# ---------------------------------------------------------------- textures

def rain(rng, n):
    f = bins_hz()
    nfr = frames_for(n)
    fps = SR / HOP
    intensity = rng.uniform(0.25, 1.0)
    # bed: far drops fuse into a hiss with a broad hump
    fc = np.exp(rng.uniform(np.log(400), np.log(4000)))
    bed_shape = (log_bump(f, fc, rng.uniform(1.5, 2.5)) * highpass_gain(f, rng.uniform(40, 200))
                 * lowpass_gain(f, rng.uniform(3000, 14000), 2))
    # the low roar of rain on the ground and on large surfaces (strong in many recordings)
    # (+10 dB: an octave at 125 Hz holds 2 STFT bins, at 2 kHz 30: per-bin gain is not power)
    low = log_bump(f, rng.uniform(70, 250), rng.uniform(0.8, 1.5)) * highpass_gain(f, 30)
    bed_shape = bed_shape + db(rng.uniform(-10, 13)) * low
    drift = db(rng.uniform(0.8, 2.5) * smooth(rng, nfr, 0.08, fps))
    bed = shaped_noise(rng, n, drift[:, None] * bed_shape[None, :])
    # near drops: clicks of log-normal size; their rate follows the same drift
    rate = rng.uniform(40, 500) * intensity
    env = upsample_env(drift, n, fps)
    pos = poisson_times(rng, rate / SR * env)
    amp = np.exp(rng.normal(0, 0.8, len(pos))) * rng.choice([-1.0, 1.0], len(pos))
    drops = render_bank(rng, n, pos, amp, click_bank(rng, 12, 0.15, 1.5, 300, 2500, 10000))
    # drops on water: Minnaert bubbles (only a fraction of impacts entrain one)
    brate = rng.uniform(3, 60) * intensity
    bub = bubbles(rng, n, brate / SR * env, 900, 6000, rng.uniform(1800, 3500), 0.45, 0.8)
    # heavy drops on leaves / a roof: click + low damped resonance
    hrate = rng.uniform(0.5, 12) * intensity
    hp = poisson_times(rng, np.full(n, hrate / SR))
    kern = []
    for _ in range(6):
        fr = rng.uniform(250, 1600)
        L = int(SR * rng.uniform(0.01, 0.05))
        t = np.arange(L) / SR
        k = np.sin(2 * np.pi * fr * t) * np.exp(-t / (L / SR / 5))
        k[:24] += rng.standard_normal(24) * np.exp(-np.arange(24) / 6.0)
        kern.append(k / np.abs(k).max())
    heavy = render_bank(rng, n, hp, np.exp(rng.normal(0, 0.5, len(hp))), kern)
    y = (bed / rms(bed) * db(rng.uniform(-4, 0))
         + drops / rms(drops) * db(rng.uniform(-14, -4))
         + bub / rms(bub) * db(rng.uniform(-22, -8))
         + (heavy / rms(heavy) * db(rng.uniform(-24, -10)) if len(hp) else 0.0))
    return y


def wind(rng, n):
    f = bins_hz()
    nfr = frames_for(n)
    fps = SR / HOP
    lf = np.log2(np.maximum(f, 1.0))[None, :]
    # gust process: slow; each band follows it only partly (rho), so the bands' envelopes are
    # correlated but not locked together, as in recordings
    g = smooth(rng, nfr, rng.uniform(0.04, 0.3), fps)
    depth = rng.uniform(0.1, 0.3)
    s = np.exp(depth * g)  # relative wind speed, ~0.5..2
    mag = np.zeros((nfr, len(f)))
    for _ in range(rng.integers(1, 4)):
        rho = rng.uniform(0.3, 0.8)
        gk = rho * g + np.sqrt(1 - rho * rho) * smooth(rng, nfr, rng.uniform(0.1, 1.0), fps)
        sk = np.exp(depth * gk)
        base = np.exp(rng.uniform(np.log(100), np.log(900)))
        centre = base * sk ** rng.uniform(0.3, 0.8)
        width = rng.uniform(0.5, 1.2)
        gain = db(rng.uniform(-6, 0)) * sk ** rng.uniform(0.8, 1.3)
        mag += gain[:, None] * np.exp(-0.5 * ((lf - np.log2(centre)[:, None]) / width) ** 2)
    mag *= lowpass_gain(f, rng.uniform(800, 2500), 3)[None, :]  # flow noise falls fast above ~1 kHz
    # buffeting rumble below ~150 Hz
    rum = log_bump(f, rng.uniform(30, 80), 1.0) * highpass_gain(f, 15)
    mag += db(rng.uniform(-10, 0)) * (s ** 1.2)[:, None] * rum[None, :]
    # leaf rustle / air hiss: a weak high band, gust dependent
    hiss = highpass_gain(f, rng.uniform(1500, 4000)) * lowpass_gain(f, rng.uniform(6000, 12000))
    mag += db(rng.uniform(-60, -45)) * (s ** 1.5)[:, None] * hiss[None, :]
    # occasional whistle: a narrow band whose pitch follows the gusts
    if rng.random() < 0.3:
        wc = rng.uniform(300, 1200) * s ** 0.5
        bump = np.exp(-0.5 * ((lf - np.log2(wc)[:, None]) / rng.uniform(0.03, 0.08)) ** 2)
        mag += db(rng.uniform(-24, -10)) * (np.maximum(s - 1.0, 0.0) ** 2)[:, None] * bump
    return shaped_noise(rng, n, mag)


def fire(rng, n):
    f = bins_hz()
    nfr = frames_for(n)
    fps = SR / HOP
    flick = db(rng.uniform(2, 5) * smooth(rng, nfr, rng.uniform(2, 8), fps)
               + rng.uniform(1, 3) * smooth(rng, nfr, 0.2, fps))
    rumble = log_bump(f, rng.uniform(50, 140), rng.uniform(0.8, 1.4)) * highpass_gain(f, 20)
    roar = (log_bump(f, rng.uniform(300, 1200), rng.uniform(1.0, 1.8))
            * lowpass_gain(f, rng.uniform(3000, 8000), 2))
    bed_mag = flick[:, None] * (rumble + db(rng.uniform(-12, -3)) * roar)[None, :]
    bed = shaped_noise(rng, n, bed_mag)
    # crackle: rate drifts (doubly stochastic); Pareto amplitudes; random signs
    lam0 = rng.uniform(3, 35)
    lam = lam0 * np.exp(rng.uniform(0.5, 1.2) * smooth(rng, nfr, rng.uniform(0.1, 0.6), fps))
    lam_s = upsample_env(lam, n, fps)
    pos = poisson_times(rng, lam_s / SR)
    alpha = rng.uniform(1.3, 2.3)
    amp = np.minimum(rng.pareto(alpha, len(pos)) + 1.0, 60.0)
    amp *= rng.choice([-1.0, 1.0], len(pos))
    # some cracks split into a burst of micro clicks within 5-40 ms
    extra_p, extra_a = [], []
    for p, a in zip(pos, amp):
        if rng.random() < 0.3:
            k = rng.integers(2, 9)
            off = np.sort(rng.uniform(0.002, 0.04, k)) * SR
            extra_p.append(p + off.astype(int))
            extra_a.append(a * 0.4 * rng.uniform(0.1, 1.0, k) * rng.choice([-1.0, 1.0], k))
    if extra_p:
        pos = np.concatenate([pos] + extra_p)
        amp = np.concatenate([amp] + extra_a)
        keep = pos < n
        pos, amp = pos[keep], amp[keep]
    crack = render_bank(rng, n, pos, amp, click_bank(rng, 16, 0.05, 1.2, 300, 1500, 9000))
    # sizzle: tiny clicks, dense, following the crackle rate
    spos = poisson_times(rng, lam_s / SR * rng.uniform(5, 25))
    sizz = render_bank(rng, n, spos, rng.uniform(0.05, 0.3, len(spos)),
                       click_bank(rng, 6, 0.03, 0.2, 1500, 5000, 12000))
    # rare pops of sap: a click with a low body
    pp = poisson_times(rng, np.full(n, rng.uniform(0.05, 0.8) / SR))
    kern = []
    for _ in range(4):
        fr = rng.uniform(250, 900)
        L = int(SR * rng.uniform(0.01, 0.03))
        t = np.arange(L) / SR
        k = np.sin(2 * np.pi * fr * t) * np.exp(-t / (L / SR / 5))
        k[:32] += 2 * rng.standard_normal(32) * np.exp(-np.arange(32) / 8.0)
        kern.append(k / np.abs(k).max())
    pops = render_bank(rng, n, pp, rng.uniform(0.5, 1.0, len(pp)), kern)
    y = (bed / rms(bed) * db(rng.uniform(-3, 0))
         + crack / rms(crack) * db(rng.uniform(-12, -3))
         + sizz / rms(sizz) * db(rng.uniform(-26, -12)))
    if len(pp):
        y = y + pops / np.abs(pops).max() * np.abs(crack).max() * rng.uniform(0.3, 0.9)
    return y


def stream(rng, n):
    f = bins_hz()
    nfr = frames_for(n)
    fps = SR / HOP
    gurgle = np.exp(rng.uniform(0.3, 0.7) * smooth(rng, nfr, rng.uniform(1, 4), fps)
                    + rng.uniform(0.1, 0.4) * smooth(rng, nfr, 0.15, fps))
    env = upsample_env(gurgle, n, fps)
    rate = np.exp(rng.uniform(np.log(300), np.log(3000)))
    bub = bubbles(rng, n, rate / SR * env, 300, 8000, np.exp(rng.uniform(np.log(1000), np.log(3500))),
                  rng.uniform(0.4, 0.8), rng.uniform(0.0, 0.8))
    flow_shape = (log_bump(f, rng.uniform(600, 3000), rng.uniform(1.2, 2.2)) * highpass_gain(f, 60)
                  * lowpass_gain(f, rng.uniform(5000, 12000), 2))
    splash = highpass_gain(f, rng.uniform(3000, 6000)) * lowpass_gain(f, 16000)
    mag = (gurgle ** 0.5)[:, None] * (flow_shape + db(rng.uniform(-20, -8)) * splash)[None, :]
    bed = shaped_noise(rng, n, mag)
    return bub / rms(bub) * db(rng.uniform(-3, 0)) + bed / rms(bed) * db(rng.uniform(-12, -2))


def main(argv):
    if len(argv) != 5 or argv[1] not in CLASSES:
        sys.stderr.write("usage: synth.py rain|wind|fire|stream SEED SECONDS OUT.f32\n")
        return 2
    cls, seed, seconds, out = argv[1], int(argv[2]), float(argv[3]), argv[4]
    rng = np.random.default_rng([seed, CLASSES.index(cls)])
    n = int(round(seconds * SR))
    y = globals()[cls](rng, n)
    y = y / (np.abs(y).max() + 1e-12) * 0.5  # build_data.sh sets the final level
    y.astype("<f4").tofile(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
