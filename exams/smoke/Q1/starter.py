# ======================================================================
# Q1: a line through six points. Save the model as mymodel.h5 in this folder.
# ======================================================================
import os

import numpy as np
import tensorflow as tf


def solution_model():
    # DO NOT CHANGE THIS CODE
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype=float)
    ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], dtype=float)
    # END OF THE CODE YOU MUST NOT CHANGE

    model = tf.keras.Sequential([tf.keras.Input(shape=[1]), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    model.fit(xs, ys, epochs=5, verbose=0)
    return model


if __name__ == "__main__":
    # Save (and read data/) next to this file, wherever it is run from.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    model = solution_model()
    model.save("mymodel.h5")
