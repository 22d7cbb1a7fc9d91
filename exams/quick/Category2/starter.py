# ======================================================================================
# The quick exam: 2 questions, 20 minutes, for a first try of the tool.
#
# You must save a model (run this file) at least once in this category before the
# exam ends, otherwise you will score zero for this category. Read question.md for
# the task, the input and output shapes, and the score bands.
#
# Lambda layers are not supported by the grader. Keep the final layer as shown.
# ======================================================================================
#
# Basic Datasets Question
#
# Create a classifier for the Fashion-MNIST dataset. The input is a 28 x 28 greyscale image
# (input shape (28, 28)); the output layer is Dense(10, activation="softmax").
# The grader scores accuracy on the 10,000 test images, scaled to [0, 1] as below.
# ======================================================================================

import os

import tensorflow as tf


def solution_model():
    # DO NOT CHANGE THIS CODE
    fashion_mnist = tf.keras.datasets.fashion_mnist
    (training_images, training_labels), (test_images, test_labels) = fashion_mnist.load_data()
    # The grader feeds pixels scaled to [0, 1]: keep this scaling.
    training_images = training_images / 255.0
    test_images = test_images / 255.0
    # END OF THE CODE YOU MUST NOT CHANGE

    model = tf.keras.models.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        # YOUR CODE HERE
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(training_images, training_labels, epochs=1, verbose=2)
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you run this file it saves mymodel.h5 next to it; the service grades it.
if __name__ == "__main__":
    # Save (and read data/) next to this file, wherever it is run from.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    model = solution_model()
    model.save("mymodel.h5")
