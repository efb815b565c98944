#!/usr/bin/env python3
"""How far ideal gains take a dev set: the ceiling of a gain-per-bin or gain-per-band head.

Usage: python3 models/eval/oracle_gains.py DEVSET [BANDS ...]

DEVSET is a folder of models/eval/make_dev_set.sh (clean/, noisy/). Each speech mixture's STFT
(1024 / 256, sqrt-Hann, 48 kHz) is scaled by ideal gains computed from its clean file and
resynthesised; the mean SI-SDR improvement over the clips is printed for:
  bin LS              each bin's least-squares gain Re(S Y*) / |Y|^2 clipped to 0..1
  band B sqrt(Es/Ey)  one gain per band and frame, sqrt(clean energy / noisy energy) clipped
                      to 1 (RNNoise's target), constant over the band's bins; B bands equally
                      spaced on the ERB scale from 20 Hz to 24 kHz
  band B LS           the band's least-squares gain clipped to 0..1
for each B given (default 32). Needs python3-numpy and python3-scipy.
"""
import glob
import os
import sys

import numpy as np

from bin_gains import read  # this folder's reader (int16/int32/float, first channel)

N, H = 1024, 256
WIN = np.sqrt(np.hanning(N + 1)[:N])


def stft(x):
    x = np.concatenate([np.zeros(N), x, np.zeros(N)])
    n = 1 + (len(x) - N) // H
    idx = np.arange(N)[None, :] + H * np.arange(n)[:, None]
    return np.fft.rfft(x[idx] * WIN, axis=1)


def istft(X, length):
    frames = np.fft.irfft(X, n=N, axis=1) * WIN
    y = np.zeros(H * (len(X) - 1) + N)
    wsum = np.zeros_like(y)
    for i, fr in enumerate(frames):
        y[i * H:i * H + N] += fr
        wsum[i * H:i * H + N] += WIN ** 2
    return (y / np.maximum(wsum, 1e-8))[N:N + length]


def si_sdr(ref, est):
    e = np.dot(est, ref) / np.dot(ref, ref) * ref
    return 10 * np.log10(np.sum(e ** 2) / np.sum((est - e) ** 2))


def band_of_bin(nb):
    erb = lambda f: 21.4 * np.log10(1 + 0.00437 * f)
    f = np.maximum(np.arange(N // 2 + 1) * 48000.0 / N, 20.0)
    edges = np.linspace(erb(20.0), erb(24000.0), nb + 1)
    return np.clip(np.searchsorted(edges, erb(f), side='right') - 1, 0, nb - 1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2])
    dev = sys.argv[1]
    nbs = [int(a) for a in sys.argv[2:]] or [32]
    res = {}
    for f in sorted(glob.glob(os.path.join(dev, 'clean', 'speech', '*.wav'))):
        rel = os.path.relpath(f, os.path.join(dev, 'clean'))
        s = read(f)
        y = read(os.path.join(dev, 'noisy', rel))[:len(s)]
        S, Y = stft(s), stft(y)
        P = np.abs(Y) ** 2 + 1e-20
        base = si_sdr(s, y)
        g = np.clip(np.real(S * np.conj(Y)) / P, 0, 1)
        res.setdefault('bin LS', []).append(si_sdr(s, istft(g * Y, len(s))) - base)
        for nb in nbs:
            b = band_of_bin(nb)
            sums = lambda A: np.stack([A[:, b == k].sum(1) for k in range(nb)], 1)
            ES, EY, XY = sums(np.abs(S) ** 2), sums(P), sums(np.real(S * np.conj(Y)))
            for name, gb in (('band %d sqrt(Es/Ey)' % nb, np.minimum(1, np.sqrt(ES / (EY + 1e-20)))),
                             ('band %d LS' % nb, np.clip(XY / (EY + 1e-20), 0, 1))):
                res.setdefault(name, []).append(si_sdr(s, istft(gb[:, b] * Y, len(s))) - base)
    for name, v in res.items():
        print('%-24s SI-SDRi mean %+.2f dB (%d clips)' % (name, np.mean(v), len(v)))


if __name__ == '__main__':
    main()
