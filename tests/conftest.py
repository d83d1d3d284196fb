"""Settings for the whole suite.

Tests write nothing into the working tree: hypothesis keeps its examples (to
replay a failure on the next run) and caches in the system's temporary
directory instead of ./.hypothesis, in this process and in the child
processes tests start.
"""
import os
import tempfile

from hypothesis.configuration import set_hypothesis_home_dir

HOME = os.path.join(tempfile.gettempdir(), "tariff-hypothesis")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = HOME
set_hypothesis_home_dir(HOME)
