# ruff: noqa: E501, F821
# REFERENCE SOLUTION (tests only; never copied to a learner's folder): the learner's part of
# exams/tf-developer/Category2/fashion_mnist/starter.py, which tests/exams/calibration.py splices into solution_model().
model = tf.keras.models.Sequential([
    tf.keras.Input(shape=(28, 28)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(256, activation="relu"),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(training_images, training_labels, epochs=10, batch_size=64,
          validation_data=(test_images, test_labels), verbose=2)
