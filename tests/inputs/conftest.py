"""The bad-input corpus shares one data folder per module (see corpus.py)."""

from tests.inputs.corpus import module_data_dir  # noqa: F401
