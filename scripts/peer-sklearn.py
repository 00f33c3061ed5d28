#!/usr/bin/env python3
"""Peer measurement for BENCHMARKS.md: scikit-learn on the same records as `ward bench net --input`.

Trains scikit-learn's HistGradientBoostingClassifier with the shape of ward's default attack
model (300 rounds, 31 leaves, depth 6, learning rate 0.1) on the UNSW-NB15 dev file and times
predict_proba over the records repeated to 1,000,000 rows, on one thread. Run it in the same
session as `ward bench net --input` so the two figures form a ratio on one machine:

    OMP_NUM_THREADS=1 python3 scripts/peer-sklearn.py ../shared/datasets/network/unsw-nb15/unsw-nb15-dev.csv

Needs scikit-learn and numpy (pip install scikit-learn). Not part of the test suite.
"""
import csv
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

path = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
with open(path, newline="") as f:
    r = csv.reader(f)
    header = next(r)
    data = list(r)
cat_cols = {"proto", "service", "state"}
skip = {"id", "attack_cat", "label"}
vocab = {c: {} for c in cat_cols}
X, y = [], []
for row in data:
    feats = []
    for name, v in zip(header, row):
        if name in skip:
            continue
        if name in cat_cols:
            feats.append(vocab[name].setdefault(v, len(vocab[name])))
        else:
            feats.append(float(v))
    X.append(feats)
    y.append(int(row[header.index("label")]))
X = np.asarray(X, dtype=np.float32)
y = np.asarray(y)
model = HistGradientBoostingClassifier(
    max_iter=300, max_leaf_nodes=31, max_depth=6, learning_rate=0.1, early_stopping=False, random_state=0
)
t = time.process_time()
model.fit(X, y)
fit_s = time.process_time() - t
reps = -(-rows // len(X))
big = np.tile(X, (reps, 1))[:rows]
t_wall, t_cpu = time.perf_counter(), time.process_time()
p = model.predict_proba(big)
wall = time.perf_counter() - t_wall
cpu = time.process_time() - t_cpu
print(
    f"sklearn {__import__('sklearn').__version__} HistGradientBoosting: {rows} rows, "
    f"{rows / cpu:.0f} rows/s CPU ({rows / wall:.0f} wall), fit {fit_s:.1f} s CPU"
)
