"""Speed and agreement of keras_gen's Frechet distance vs the `scipy.linalg.sqrtm` formula.

Both compute the Frechet distance from the same means and covariances of two [n, d]
feature sets (d = 2048 like Inception's pool layer):

* reference: `||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 Re sqrtm(S_a S_b))` (the usual FID code);
* keras_gen: `keras_gen.metrics.fid.frechet_distance_from_moments`, whose trace term comes
  from two symmetric eigenproblems (see its module docstring).

The machine's speed drifts within minutes, so the two are timed alternately, `--repeats`
times each, and the medians and their ratio are printed.

`--blas-threads N` runs both with N OpenBLAS threads (needs `threadpoolctl`, which
scikit-learn installs). On a machine whose cores are busy with other work, threaded
LAPACK eigensolvers slow down several-fold (their tridiagonalisation synchronises
threads at every column), more than `sqrtm`'s Schur code does, so quote the thread
count with the speedup.

    PYTHONPATH=. python benchmarks/fid_speed.py [--dim 2048] [--samples 4096] [--repeats 3] [--blas-threads 1]
"""
import contextlib
import argparse
import os
import time
import warnings

import numpy as np
import scipy
import scipy.linalg

from keras_gen.metrics.fid import feature_moments, frechet_distance_from_moments


def scipy_frechet_distance(mu_a, sigma_a, mu_b, sigma_b):
    """The reference formula with `scipy.linalg.sqrtm` (complex round-off discarded)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        root = scipy.linalg.sqrtm(sigma_a @ sigma_b)
    imag = float(np.abs(np.imag(root)).max()) if np.iscomplexobj(root) else 0.0
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(np.real(root))
    return float(value), imag, len(caught)


def make_features(n, d, seed):
    """Two correlated, well-conditioned feature sets with different means and covariances."""
    rng = np.random.default_rng(seed)
    mix = np.eye(d) + rng.normal(scale=0.5 / np.sqrt(d), size=(d, d))
    a = rng.normal(size=(n, d)) @ mix
    b = rng.normal(size=(n, d)) @ (1.1 * mix) + 0.1
    return a, b


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=0, help="BLAS threads for both (0: leave as is)")
    args = parser.parse_args()
    limit = contextlib.nullcontext()
    if args.blas_threads > 0:
        import threadpoolctl

        limit = threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
    with limit:
        measure(args)


def measure(args):

    print(f"numpy {np.__version__}, scipy {scipy.__version__}, cpus {os.cpu_count()}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"--blas-threads {args.blas_threads or 'unchanged'}, load average {os.getloadavg()[0]:.1f}")
    fa, fb = make_features(args.samples, args.dim, args.seed)
    mu_a, sigma_a = feature_moments(fa)
    mu_b, sigma_b = feature_moments(fb)
    cond = np.linalg.cond(sigma_a)
    print(f"features: n={args.samples}, d={args.dim}; cond(S_a) = {cond:.3g}")

    t_eig, t_sqrtm = [], []
    for r in range(args.repeats):
        # Alternate the order so neither always runs on a warmer (or busier) machine.
        order = ("eig", "sqrtm") if r % 2 == 0 else ("sqrtm", "eig")
        for which in order:
            start = time.perf_counter()
            if which == "eig":
                v_eig = frechet_distance_from_moments(mu_a, sigma_a, mu_b, sigma_b)
                t_eig.append(time.perf_counter() - start)
            else:
                v_ref, imag, n_warn = scipy_frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
                t_sqrtm.append(time.perf_counter() - start)
        print(f"repeat {r}: eigen {t_eig[-1]:.2f} s, sqrtm {t_sqrtm[-1]:.2f} s", flush=True)

    med_eig, med_sqrtm = float(np.median(t_eig)), float(np.median(t_sqrtm))
    rel = abs(v_eig - v_ref) / abs(v_ref)
    print(f"frechet distance  eigen {v_eig:.10g}  sqrtm {v_ref:.10g}  relative difference {rel:.3g}")
    print(f"sqrtm: max |imag| of the root {imag:.3g}, {n_warn} warnings")
    print(f"median time  eigen {med_eig:.3f} s  sqrtm {med_sqrtm:.3f} s  speedup {med_sqrtm / med_eig:.1f}x")


if __name__ == "__main__":
    main()
