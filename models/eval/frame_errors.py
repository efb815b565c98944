#!/usr/bin/env python3
"""Where in time denoisers leave their error, on one mixture of a dev set (a diagnostic).

Usage: python3 models/eval/frame_errors.py DEVSET FILE NAME=DIR [NAME=DIR ...]

DEVSET is a folder of models/eval/make_dev_set.sh (clean/, noisy/); FILE a mixture's path
under DEVSET/noisy (as in DEVSET/mixtures.tsv, e.g. speech/NAME-0dB.wav); each DIR holds one
system's outputs under the same relative paths (as `limpid denoise -r --outdir DIR
DEVSET/noisy` or bench/quality/run.sh's enh/SYSTEM write them, sample-aligned). Per 0.1 s:
the energy of the clean signal, of the noise (noisy - clean) and of each system's error
(output - clean), in dB. Where the clean signal is silent, an error equal to the noise means
the system passed the noise untouched, an error equal to the clean signal that it output
silence. Needs python3-numpy and python3-scipy.
"""
import os
import sys

import numpy as np
from scipy.io import wavfile

from bin_gains import read as read_samples  # this folder's reader (int16/int32/float, mono)


def read(path):
    return wavfile.read(path, mmap=True)[0], read_samples(path)


def db(v):
    return 10.0 * np.log10(v + 1e-12)


def main(argv):
    if len(argv) < 4 or any('=' not in a for a in argv[3:]):
        sys.stderr.write(__doc__)
        return 2
    dev, rel = argv[1], argv[2]
    rate, clean = read(os.path.join(dev, 'clean', rel))
    _, noisy = read(os.path.join(dev, 'noisy', rel))
    systems = []
    for arg in argv[3:]:
        name, d = arg.split('=', 1)
        systems.append((name, read(os.path.join(d, rel))[1]))
    n = min([len(clean), len(noisy)] + [len(o) for _, o in systems])
    hop = min(rate // 10, n)
    print('%6s %7s %7s' % ('t (s)', 'clean', 'noise') + ''.join(' %9s' % s for s, _ in systems))
    for i in range(0, n - hop + 1, hop):
        s = slice(i, i + hop)
        row = '%6.1f %7.1f %7.1f' % (i / rate, db(np.mean(clean[s] ** 2)),
                                    db(np.mean((noisy[s] - clean[s]) ** 2)))
        row += ''.join(' %9.1f' % db(np.mean((o[s] - clean[s]) ** 2)) for _, o in systems)
        print(row)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
