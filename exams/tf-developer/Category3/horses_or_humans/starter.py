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
# Computer Vision with CNNs
#
# Create a classifier that tells horses from humans (binary: Dense(1, sigmoid)).
# The images are in data/train/<class>/ and data/validation/<class>/ (one folder per class;
# if data/STANDIN.md exists, this machine could not get the official photos and the
# folders hold an offline stand-in with the same layout). Input shape (150, 150, 3),
# pixels scaled to [0, 1] as below; the grader scores accuracy on images you never see.
# ======================================================================================

import os

import tensorflow as tf


def solution_model():
    # DO NOT CHANGE THIS CODE
    here = os.path.dirname(os.path.abspath(__file__))
    IMAGE_SIZE = (150, 150)
    BATCH_SIZE = 32
    train_ds = tf.keras.utils.image_dataset_from_directory(
        os.path.join(here, "data", "train"), label_mode="binary", image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE, shuffle=True, seed=42)
    validation_ds = tf.keras.utils.image_dataset_from_directory(
        os.path.join(here, "data", "validation"), label_mode="binary", image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE, shuffle=False)
    class_names = train_ds.class_names  # labels follow the sorted folder names
    # The grader feeds pixels scaled to [0, 1]: keep this scaling.
    train_ds = train_ds.map(lambda images, labels: (images / 255.0, labels))
    validation_ds = validation_ds.map(lambda images, labels: (images / 255.0, labels))
    # END OF THE CODE YOU MUST NOT CHANGE

    print("classes:", class_names)
    model = tf.keras.models.Sequential([
        tf.keras.Input(shape=(150, 150, 3)),
        # YOUR CODE HERE
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(train_ds, validation_data=validation_ds, epochs=1, verbose=2)
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you run this file it saves mymodel.h5 next to it; the service grades it.
if __name__ == "__main__":
    # Save (and read data/) next to this file, wherever it is run from.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    model = solution_model()
    model.save("mymodel.h5")
