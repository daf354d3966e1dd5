"""Offline tensorflow-datasets builder `bach_piano_roll` (S1's data).

Built from the Bach chorales that ship inside music21: nothing is downloaded. Two
configs, one per meaning of the autoencoder's two rows (see `piano_roll`):
`bach_piano_roll/frames` and `bach_piano_roll/staves`. Splits `train` / `validation` /
`test` are by piece (about 80% / 10% / 10% of the chorales, chosen by a hash of the
piece name, so the split never changes; see `piano_roll.piece_split`). Choices made by
looking at results use `validation` (version 1's test pieces); reported numbers come
from `test` (pieces version 1 trained on). Examples: `roll` uint8 [2, 88, 1], `piece` (name) and `frame` (index).
"""
import os

import numpy as np
import tensorflow_datasets as tfds

from keras_gen.data import piano_roll


class BachPianoRoll(tfds.core.GeneratorBasedBuilder):
    """Two-row 88-key piano rolls of the Bach chorales shipped in music21."""

    VERSION = tfds.core.Version("3.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Eighth-note frames, MIDI 21..108, split by piece.",
        "3.0.0": "train / validation / test by piece; validation = version 1's test pieces, test = new.",
    }
    ROLLS_CACHE = "bach_chorale_rolls_v1.0.0"  # the parsed scores; independent of the split
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name="frames", description="rows = two consecutive frames"),
        tfds.core.BuilderConfig(name="staves", description="rows = soprano+alto over tenor+bass"),
    ]

    def __init__(self, *, max_pieces=None, **kwargs):
        # `max_pieces` builds from the first few chorales only (tests); it is part of
        # the data dir's identity, so pass a separate data_dir when you use it.
        self._max_pieces = max_pieces
        super().__init__(**kwargs)

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "roll": tfds.features.Tensor(shape=(2, piano_roll.N_KEYS, 1), dtype=np.uint8),
                    "piece": tfds.features.Text(),
                    "frame": np.int32,
                }
            ),
            supervised_keys=None,
            homepage="https://web.mit.edu/music21/",
        )

    def _piece_rolls(self):
        paths = piano_roll.bach_chorale_paths()
        if self._max_pieces:
            paths = paths[: self._max_pieces]
        cache_dir = os.path.join(self.data_dir_root, "_keras_gen_cache")
        os.makedirs(cache_dir, exist_ok=True)
        suffix = f"_{self._max_pieces}" if self._max_pieces else ""
        cache = os.path.join(cache_dir, f"{self.ROLLS_CACHE}{suffix}.npz")
        # Both configs come from the same parsed scores: parse once, cache the rolls.
        if os.path.exists(cache):
            return piano_roll.load_rolls(cache)
        rolls, failures = piano_roll.parse_files(paths)
        if failures:
            # The shipped corpus parses completely; if a music21 release breaks a file,
            # say which ones instead of silently building a smaller dataset.
            names = ", ".join(os.path.basename(p) for p, _ in failures[:10])
            print(f"bach_piano_roll: {len(failures)} of {len(paths)} chorales failed to parse: {names}")
        piano_roll.save_rolls(cache, rolls)
        return rolls

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        rolls = self._piece_rolls()
        return {
            split: self._generate_examples({n: r for n, r in rolls.items() if piano_roll.piece_split(n) == split})
            for split in piano_roll.SPLITS
        }

    def _generate_examples(self, rolls):
        rows = self.builder_config.name
        for name in sorted(rolls):
            samples = piano_roll.two_row_samples(rolls[name], rows)
            for i, sample in enumerate(samples):
                yield f"{name}/{i}", {"roll": sample[..., None], "piece": name, "frame": i}
