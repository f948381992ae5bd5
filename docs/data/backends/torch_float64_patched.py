"""The battery on the torch backend with three float32 steps of Keras 3.15.1 patched to keep float64.

What still fails with the patches is not caused by them; what passes (an XPASS where a torch finding is
declared) is attributed to them.  The patches (``PATCH``, a comma list; default all three):

* ``maximum``: keras.ops.maximum / minimum of a float64 tensor computed in float64 (torch-float64-maximum);
* ``wd``: TorchOptimizer._apply_weight_decay multiplies by 1 - wd * lr in the variable's dtype
  (torch-weight-decay-float32);
* ``mean``: keras.ops.mean of a float64 tensor computed in float64 (torch-float64-mean);
* ``pyfloat``: keras.ops.add / subtract / multiply / power give a Python float the dtype of a float64 tensor
  operand instead of float32 (torch-python-float-float32).

Run (2026-12-04, keras 3.15.1, torch 2.13.0): with all three, ``KERAS_BACKEND=torch python
torch_float64_patched.py check -j 1 --select 'keras>SGD,keras>AdamW,keras>Adam,keras>Adamax,keras>RMSprop,keras>Adadelta,keras>Adafactor'
--check check_weight_decay --check check_clipping --check check_accumulation_matches_mean_step``: 9 passed,
12 xpassed, 0 failed (unpatched: 9 failed before the declarations, 12 xfailed).  Without ``mean``:
Adafactor's check_clipping still fails.  Arguments are initcheck's (this harness calls its CLI in-process).
"""
import os
import sys

import torch
from keras.src.backend.torch import numpy as tnp
from keras.src.backend.torch.optimizers.torch_optimizer import TorchOptimizer

def keep64(orig, fn):
    def patched(x1, x2):
        if any(getattr(x, "dtype", None) == torch.float64 for x in (x1, x2)):
            a, b = (torch.as_tensor(x if isinstance(x, (int, float)) else tnp.convert_to_tensor(x), dtype=torch.float64)
                    for x in (x1, x2))
            return fn(a, b)
        return orig(x1, x2)
    return patched

PATCHES = os.environ.get("PATCH", "maximum,wd,mean,pyfloat").split(",")

if "maximum" in PATCHES:
    tnp.maximum = keep64(tnp.maximum, torch.maximum)
    tnp.minimum = keep64(tnp.minimum, torch.minimum)

@torch.no_grad()
def wd_in_variable_dtype(self, variables):
    if self.weight_decay is None:
        return
    lr = self._get_current_learning_rate()
    lr = getattr(lr, "value", lr)
    for v in variables:
        if self._use_weight_decay(v):
            t = v.value
            factor = 1 - torch.as_tensor(self.weight_decay, dtype=t.dtype) * torch.as_tensor(lr).to(t.dtype)
            t.mul_(factor)

if "wd" in PATCHES:
    TorchOptimizer._apply_weight_decay = wd_in_variable_dtype

if "mean" in PATCHES:
    _mean = tnp.mean

    def mean64(x, axis=None, keepdims=False):
        x = tnp.convert_to_tensor(x)
        if x.dtype == torch.float64:
            if axis is None:
                return torch.mean(x)
            return torch.mean(x, dim=axis if isinstance(axis, int) else tuple(axis), keepdim=keepdims)
        return _mean(x, axis=axis, keepdims=keepdims)
    tnp.mean = mean64

if "pyfloat" in PATCHES:
    def float_as_float64(orig):
        def patched(x1, x2):
            t1, t2 = (getattr(x, "dtype", None) for x in (x1, x2))
            if isinstance(x1, float) and t2 == torch.float64:
                x1 = torch.tensor(x1, dtype=torch.float64)
            if isinstance(x2, float) and t1 == torch.float64:
                x2 = torch.tensor(x2, dtype=torch.float64)
            return orig(x1, x2)
        return patched

    for name in ("add", "subtract", "multiply", "power"):
        setattr(tnp, name, float_as_float64(getattr(tnp, name)))

from initcheck.cli import main
sys.exit(main(sys.argv[1:]))
