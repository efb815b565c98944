#!/usr/bin/env python3
"""What denoisers do to noise bins and to speech bins of a dev set (a diagnostic).

Usage: python3 models/eval/bin_gains.py DEVSET NAME=DIR [NAME=DIR ...]

DEVSET is a folder of models/eval/make_dev_set.sh (clean/, noisy/); each DIR holds one
system's outputs of DEVSET/noisy/speech under the same relative paths (as `limpid denoise -r
--outdir DIR DEVSET/noisy` or bench/quality/run.sh's enh/SYSTEM write them, sample-aligned).
STFT 1024 / 256 with a Hann window. A bin of a mixture is a noise bin where its least-squares
gain Re(S Y*) / |Y|^2 is at most 0.1 (nearly all noise) and a speech bin where it is at least
0.9. For each system: the mean of |out|^2 / |noisy|^2 over each kind of bin, weighted by the
noisy power, in dB (0: passed unchanged). Needs python3-numpy and python3-scipy.
"""
import glob
import os
import sys

import numpy as np
from scipy.io import wavfile


def read(path):
    _, x = wavfile.read(path)
    if x.dtype == np.int16:
        x = x / 32768.0
    elif x.dtype == np.int32:
        x = x / 2147483648.0
    x = np.asarray(x, dtype=np.float64)
    return x if x.ndim == 1 else x[:, 0]


def stft(x):
    w = np.hanning(1024)
    n = 1 + (len(x) - 1024) // 256
    idx = np.arange(1024)[None, :] + 256 * np.arange(n)[:, None]
    return np.fft.rfft(x[idx] * w, axis=1)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    dev = sys.argv[1]
    systems = [a.split('=', 1) for a in sys.argv[2:]]
    acc = {name: np.zeros(4) for name, _ in systems}
    for f in sorted(glob.glob(os.path.join(dev, 'clean', 'speech', '*.wav'))):
        rel = os.path.relpath(f, os.path.join(dev, 'clean'))
        s = read(f)
        S, Y = stft(s), stft(read(os.path.join(dev, 'noisy', rel)))
        p = np.abs(Y) ** 2 + 1e-20
        g = np.real(S * np.conj(Y)) / p
        noise, speech = g <= 0.1, g >= 0.9
        for name, d in systems:
            O = stft(read(os.path.join(d, rel))[:len(s)])
            m = min(len(O), len(Y))
            r = np.abs(O[:m]) ** 2 / p[:m]
            pm = p[:m]
            acc[name] += [(pm * r)[noise[:m]].sum(), pm[noise[:m]].sum(),
                          (pm * r)[speech[:m]].sum(), pm[speech[:m]].sum()]
    for name, _ in systems:
        a = acc[name]
        print('%-24s noise bins %6.1f dB   speech bins %6.1f dB' %
              (name, 10 * np.log10(a[0] / a[1]), 10 * np.log10(a[2] / a[3])))


if __name__ == '__main__':
    main()
