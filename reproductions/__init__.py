"""One module per experiment of the notes; each has an `HParams` dataclass and `run`."""
