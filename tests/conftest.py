import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import matplotlib  # noqa: E402

# Draw off-screen in this process only; notebook kernels keep their inline backend (see
# notebooks/conftest.py), or nbval would find no figures to compare.
matplotlib.use("Agg")
