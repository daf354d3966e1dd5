"""The reversed-digits addition task: "345+12" -> "357", generated, with fixed splits.

The classic sequence-to-sequence toy (Zaremba & Sutskever 2014, "Learning to Execute";
the keras.io example "Sequence to sequence learning for performing number addition"),
set up the way keras.io does it:

* each operand has 1 to `digits` digits (the count uniform), each digit uniform in
  0-9, so "007" is the number 7;
* the question "a+b" is padded with spaces to 2 * digits + 1 characters and then
  reversed ("12+345 " is fed as " 543+21"; reversing the source shortens the paths
  between the digits that are added, Sutskever et al. 2014);
* the answer str(a + b) is padded with spaces to digits + 1 characters ("357 ").

Questions are unique up to the order of the operands (a+b and b+a are one question),
and `addition_splits` draws them once from a fixed seed and cuts them into train,
validation and test, so no question (nor its mirror image) is in two splits and every
training seed sees the same data.

Tokens: `VOCAB` = " 0123456789+=", ids 0-12. " " (id 0) pads; "=" (`START`, id 12) is
the decoder's start token: with teacher forcing the decoder reads
"=" + answer[:-1] and predicts the answer (`decoder_inputs`).
"""
import numpy as np

from keras_gen.errors import KerasGenError

VOCAB = " 0123456789+="
PAD = 0
START = VOCAB.index("=")
_CHAR_TO_ID = {c: i for i, c in enumerate(VOCAB)}
# The data of every split comes from this stream: one fixed set of questions.
DATA_SEED = 1234


def question_length(digits):
    """Characters of a padded question: 2 * digits + 1."""
    return 2 * int(digits) + 1


def answer_length(digits):
    """Characters of a padded answer: digits + 1 (the sum of two d-digit numbers has <= d + 1)."""
    return int(digits) + 1


def encode(text):
    """A string over `VOCAB` -> int32 ids."""
    try:
        return np.array([_CHAR_TO_ID[c] for c in text], dtype=np.int32)
    except KeyError as err:
        raise KerasGenError(f"character {err.args[0]!r} is not in the addition vocabulary {VOCAB!r}") from None


def decode(ids):
    """ids `[L]` -> a string; ids `[n, L]` -> a list of strings."""
    ids = np.asarray(ids)
    if ids.ndim == 1:
        if ids.size and (ids.min() < 0 or ids.max() >= len(VOCAB)):
            raise KerasGenError(f"token ids must be in [0, {len(VOCAB) - 1}], got {ids.min()}..{ids.max()}")
        return "".join(VOCAB[int(i)] for i in ids)
    return [decode(row) for row in ids]


def question_text(a, b, digits, reverse=True):
    """The padded (and by default reversed) question for a + b."""
    q = f"{int(a)}+{int(b)}"
    q = q + " " * (question_length(digits) - len(q))
    return q[::-1] if reverse else q


def answer_text(a, b, digits):
    """The padded answer str(a + b)."""
    s = str(int(a) + int(b))
    return s + " " * (answer_length(digits) - len(s))


def max_questions(digits):
    """How many distinct questions exist: unordered pairs of numbers below 10^digits."""
    n = 10 ** int(digits)
    return n * (n + 1) // 2


def sample_pairs(n, digits, seed):
    """`n` operand pairs `[n, 2]`, distinct also up to order, drawn the keras.io way (in drawn order).

    Raises:
        KerasGenError: more questions asked for than `digits` allows.
    """
    digits, n = int(digits), int(n)
    if digits < 1:
        raise KerasGenError(f"digits must be >= 1, got {digits}")
    # Sampling by digit count reaches the short numbers more often, so ask for at most
    # half of all pairs: the rejection loop then ends quickly.
    if n > max_questions(digits) // 2:
        raise KerasGenError(f"{n} distinct questions requested, but {digits}-digit operands give "
                            f"{max_questions(digits)}; ask for at most {max_questions(digits) // 2}")
    rng = np.random.default_rng(seed)
    seen, pairs = set(), []
    while len(pairs) < n:
        m = 2 * (n - len(pairs)) + 16
        lengths = rng.integers(1, digits + 1, size=(m, 2, 1))
        values = rng.integers(0, 10, size=(m, 2, digits))
        # A number of length L is its first L digits read in base 10.
        j = np.arange(digits)
        powers = np.where(j < lengths, 10 ** np.maximum(lengths - 1 - j, 0), 0)
        numbers = (values * powers).sum(axis=-1)
        for a, b in numbers.tolist():
            key = (min(a, b), max(a, b))
            if key not in seen:
                seen.add(key)
                pairs.append((a, b))
                if len(pairs) == n:
                    break
    return np.array(pairs, dtype=np.int64)


def _encode_rows(texts, length):
    """Equal-length strings -> int32 ids `[n, length]` through a byte lookup table."""
    table = np.full(256, -1, dtype=np.int32)
    for i, c in enumerate(VOCAB):
        table[ord(c)] = i
    flat = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
    return table[flat].reshape(len(texts), length)


def encode_pairs(pairs, digits, reverse=True):
    """Operand pairs `[n, 2]` -> `(questions [n, 2d+1], answers [n, d+1])` int32 ids."""
    pairs = np.asarray(pairs).tolist()
    questions = [question_text(a, b, digits, reverse) for a, b in pairs]
    answers = [answer_text(a, b, digits) for a, b in pairs]
    return _encode_rows(questions, question_length(digits)), _encode_rows(answers, answer_length(digits))


def decoder_inputs(answers):
    """Teacher forcing: "=" followed by the answer without its last token, `[n, d+1]`."""
    answers = np.asarray(answers)
    return np.concatenate([np.full((len(answers), 1), START, dtype=answers.dtype), answers[:, :-1]], axis=1)


def addition_splits(digits=3, train=20_000, validation=2_000, test=2_000, reverse=True, seed=DATA_SEED):
    """The fixed splits: `{split: {"questions", "answers", "pairs"}}` for train, validation, test.

    One draw of train + validation + test distinct questions from `seed`, cut in that
    order, so the splits are disjoint (also up to the operands' order) and the same in
    every run.
    """
    for name, n in (("train", train), ("validation", validation), ("test", test)):
        if int(n) < 1:
            raise KerasGenError(f"the {name} split needs at least 1 question, got {n}")
    pairs = sample_pairs(int(train) + int(validation) + int(test), digits, seed)
    bounds = {"train": (0, train), "validation": (train, train + validation),
              "test": (train + validation, train + validation + test)}
    splits = {}
    for name, (lo, hi) in bounds.items():
        q, a = encode_pairs(pairs[lo:hi], digits, reverse)
        splits[name] = {"questions": q, "answers": a, "pairs": pairs[lo:hi]}
    return splits


def addition_dataset(questions, answers, batch_size, shuffle_seed=None):
    """tf.data of `((question, decoder_input), answer)` batches for teacher-forced `fit`.

    With `shuffle_seed` the examples are reshuffled every epoch from that seed.
    """
    import tensorflow as tf

    from keras_gen.data.batching import steady_prefetch

    questions = np.asarray(questions, dtype=np.int32)
    answers = np.asarray(answers, dtype=np.int32)
    ds = tf.data.Dataset.from_tensor_slices(((questions, decoder_inputs(answers)), answers))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(questions), seed=int(shuffle_seed), reshuffle_each_iteration=True)
    return ds.batch(int(batch_size)).apply(steady_prefetch)
