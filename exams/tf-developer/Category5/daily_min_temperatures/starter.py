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
# Sequence modelling question
#
# Build and train a neural network to predict Melbourne's daily minimum temperature.
# The series is min-max normalised below; the grader feeds the model every window of
# 64 values (shape (64, 1)) that precedes a time step after split_time and compares
# its forecast (a final Dense(1)) with the value that followed: MAE on the normalised series.
# You get the whole series, as in the real exam; the part after split_time is what is scored.
# ======================================================================================

import csv
import os

import numpy as np
import tensorflow as tf


# DO NOT CHANGE THIS CODE
def windowed_dataset(series, window_size, batch_size, shuffle_buffer):
    series = tf.expand_dims(series, axis=-1)
    ds = tf.data.Dataset.from_tensor_slices(series)
    ds = ds.window(window_size + 1, shift=1, drop_remainder=True)
    ds = ds.flat_map(lambda w: w.batch(window_size + 1))
    ds = ds.shuffle(shuffle_buffer)
    ds = ds.map(lambda w: (w[:-1], w[-1]))
    return ds.batch(batch_size).prefetch(1)
# END OF THE CODE YOU MUST NOT CHANGE


def solution_model():
    # DO NOT CHANGE THIS CODE
    here = os.path.dirname(os.path.abspath(__file__))
    time_step = []
    values = []
    with open(os.path.join(here, "data", "daily-min-temperatures.csv"), newline="", encoding="utf-8") as csvfile:
        reader = csv.reader(csvfile, delimiter=",")
        next(reader)
        for step, row in enumerate(reader):
            values.append(float(row[1]))
            time_step.append(step)

    series = np.array(values, dtype="float32")
    # Normalisation function: the grader scores the series normalised exactly like this.
    min_value = np.min(series)
    series -= min_value
    max_value = np.max(series)
    series /= max_value
    time = np.array(time_step)

    split_time = 2500
    time_train = time[:split_time]
    x_train = series[:split_time]
    time_valid = time[split_time:]
    x_valid = series[split_time:]

    window_size = 64
    batch_size = 32
    shuffle_buffer_size = 1000

    train_set = windowed_dataset(x_train, window_size=window_size, batch_size=batch_size,
                                 shuffle_buffer=shuffle_buffer_size)
    # END OF THE CODE YOU MUST NOT CHANGE

    model = tf.keras.models.Sequential([
        tf.keras.Input(shape=(window_size, 1)),
        # YOUR CODE HERE.
        tf.keras.layers.Flatten(),
        # DO NOT CHANGE THE FINAL LAYER
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mae")
    model.fit(train_set, epochs=1, verbose=2)
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you run this file it saves mymodel.h5 next to it; the service grades it.
if __name__ == "__main__":
    # Save (and read data/) next to this file, wherever it is run from.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    model = solution_model()
    model.save("mymodel.h5")
