"""Adam with each weight's update done by one TensorFlow op: the same arithmetic, less overhead.

Keras' :class:`keras.optimizers.Adam` writes its update with about twenty small ops per weight
tensor (casts, powers, the two moment updates, the step), and on the TensorFlow backend each op
pays its own dispatch cost at every step and its own tracing cost once per new model. The series'
models are small, so on a CPU that overhead counts: for the dense VAE of notebook 05 at batch 64,
about 0.7 s of every model's first epoch and up to a sixth of each later one
(``benchmarks/fused_adam.py``). :class:`FusedAdam` hands each weight to TensorFlow's
``ResourceApplyAdam`` kernel instead, which does the same update (Kingma and Ba 2015, with the bias
correction folded into the step size and epsilon added to the square root of the second moment,
as Keras does) in one op.

Results agree with Keras' Adam to floating-point rounding, not bit for bit: the kernel orders the
arithmetic differently, and training amplifies such differences as it does any change of seed.
Where the fused kernel does not apply, :class:`FusedAdam` runs Keras' own update: another Keras
backend, ``amsgrad=True``, a ``tf.distribute`` strategy other than the default one.
"""

from __future__ import annotations

import keras

__all__ = ["FusedAdam"]


def _fusable(optimizer) -> bool:
    if keras.backend.backend() != "tensorflow" or optimizer.amsgrad:
        return False
    import tensorflow as tf

    return not tf.distribute.has_strategy()


@keras.saving.register_keras_serializable(package="aelib")
class FusedAdam(keras.optimizers.Adam):
    """:class:`keras.optimizers.Adam`, same arguments and same update, one op per weight tensor.

    Use it wherever ``keras.optimizers.Adam`` would go: ``model.compile(FusedAdam(1e-3), ...)``.
    Learning-rate schedules, weight decay, gradient clipping and EMA work as in Keras' Adam (they
    happen outside the update this class replaces).
    """

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if not _fusable(self):
            return super()._backend_update_step(grads, trainable_variables, learning_rate)
        import tensorflow as tf

        step = tf.cast(self.iterations + 1, "float32")
        scalars = {}  # per dtype: the scalars of this step, cast once

        def scalars_for(dtype):
            if dtype not in scalars:
                b1, b2 = tf.constant(self.beta_1, dtype), tf.constant(self.beta_2, dtype)
                scalars[dtype] = {
                    "beta1_power": tf.pow(b1, tf.cast(step, dtype)),
                    "beta2_power": tf.pow(b2, tf.cast(step, dtype)),
                    "lr": tf.cast(learning_rate, dtype),
                    "beta1": b1,
                    "beta2": b2,
                    "epsilon": tf.constant(self.epsilon, dtype),
                }
            return scalars[dtype]

        for grad, variable in zip(grads, trainable_variables, strict=True):
            index = self._get_variable_index(variable)
            var = variable.value if isinstance(variable, keras.Variable) else variable
            dtype = var.dtype.base_dtype
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle,
                m=self._momentums[index].value.handle,
                v=self._velocities[index].value.handle,
                grad=tf.cast(tf.convert_to_tensor(grad), dtype),
                **scalars_for(dtype),
            )
