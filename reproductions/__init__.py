"""Reproductions: one module per experiment or claim of the group's notes.

Each module defines `HParams` (a dataclass: every hyper-parameter, each one a
`keras-gen reproduce NAME --field value` option), `run(hp) -> dict` (trains, evaluates,
writes `metrics.json`, figures and logs to `hp.out`, returns the metrics) and, where the
experiment trains a model worth serving, `export(out, base_dir, version)`.

`REPRODUCTIONS` is the one table the CLI reads: name -> (module, one-line description).
Modules are imported only when used, so `keras-gen list` stays fast.
"""

REPRODUCTIONS = {
    "group-meeting-autoencoder": (
        "reproductions.group_meeting_autoencoder",
        "S1/C1: the exact 23,616-parameter conv autoencoder on Bach piano rolls; MSE and note F1 vs baselines",
    ),
    "vae-mnist": ("reproductions.vae_mnist", "S12: VAE on binarised digits; held-out negative ELBO and IWAE NLL (k=500), samples"),
    "cvae-mnist": ("reproductions.cvae_mnist", "C8/S14: conditional VAE; share of generated digits the digit classifier labels as requested"),
    "beta-vae-disentanglement": ("reproductions.beta_vae_disentanglement", "C7/S13: beta-VAE on procedural sprites; MIG for beta 1, 4, 10 over 3 seeds"),
    "gan-1d-equilibrium": ("reproductions.gan_1d_equilibrium", "C2: vanilla GAN on a 1-D Gaussian; mean D on real and generated samples ends at 1/2 (3 seeds)"),
}
