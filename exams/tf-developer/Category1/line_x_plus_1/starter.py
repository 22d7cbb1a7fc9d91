# ======================================================================================
# There are 5 questions in this exam with increasing difficulty from 1-5.
# Please note that the weight of the grade for the question is relative to its
# difficulty. So your Category 1 question will score significantly less than
# your Category 5 question.
#
# You must save a model (run this file) at least once in this category before the
# exam ends, otherwise you will score zero for this category. Read question.md for
# the task, the input and output shapes, and the score bands.
#
# Lambda layers are not supported by the grader. Keep the final layer as shown.
# ======================================================================================
#
# Getting Started Question
#
# The data below is the real 2021 exam's. Given it, train a neural network to match the
# xs to the ys, so that a prediction for a new value of x is a float very close to the
# right answer: print(model.predict(np.array([[10.0]]))) should be satisfactory. The
# grader expects a trained model with an input shape of [1] and one output (a Dense
# layer of 1 unit); it asks the model for y at values of x it has never seen.
# ======================================================================================

import os

import numpy as np
import tensorflow as tf


def solution_model():
    # DO NOT CHANGE THIS CODE
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype=float)
    ys = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], dtype=float)
    # END OF THE CODE YOU MUST NOT CHANGE

    model = tf.keras.Sequential([
        tf.keras.Input(shape=[1]),
        # YOUR CODE HERE
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    model.fit(xs, ys, epochs=5, verbose=0)
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you run this file it saves mymodel.h5 next to it; the service grades it.
if __name__ == "__main__":
    # Save (and read data/) next to this file, wherever it is run from.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    model = solution_model()
    model.save("mymodel.h5")
