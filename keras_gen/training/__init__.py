"""Training helpers: distribution strategies and callbacks."""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.training.strategy import (  # noqa: F401
    STRATEGIES, get_strategy, global_mean, jit_compile_for, steps_per_execution_for, xla_enabled)
from keras_gen.training.callbacks import SampleGrid  # noqa: F401
from keras_gen.training.schedules import HoldThenCosine  # noqa: F401
from keras_gen.training.warmup import DECAYS, WarmupDecay  # noqa: F401
from keras_gen.training import multiworker  # noqa: F401 - installs the Keras multi-worker workarounds
from keras_gen.training.cluster import PRECISIONS, agree, backup_epoch, configure, is_chief, task, write_dir  # noqa: F401
