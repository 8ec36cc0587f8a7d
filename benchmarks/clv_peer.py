"""The peer for benchmarks/clv_fit.py: lifetimes 0.11.3's BetaGeoFitter, in its own environment.

Usage (called by clv_fit.py): PEER_PYTHON clv_peer.py DATA.npz
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from lifetimes import BetaGeoFitter

data = np.load(sys.argv[1])
results = {}
for label, (x, t_x, big_t, w) in {
    "uncompressed": (data["x"], data["t_x"], data["T"], None),
    "compressed": (data["cx"], data["ct_x"], data["cT"], data["cw"]),
}.items():
    start = time.perf_counter()
    fitter = BetaGeoFitter()
    if w is None:
        fitter.fit(x, t_x, big_t)
    else:
        fitter.fit(x, t_x, big_t, weights=w)
    seconds = time.perf_counter() - start
    params = {k: float(v) for k, v in fitter.params_.items()}
    results[label] = {"seconds": round(seconds, 3), "params": params}
print(json.dumps(results))
