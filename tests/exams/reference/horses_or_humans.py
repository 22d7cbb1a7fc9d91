# ruff: noqa: E501, F821
# REFERENCE SOLUTION (tests only; never copied to a learner's folder): the learner's part of
# exams/tf-developer/Category3/horses_or_humans/starter.py, which tests/exams/calibration.py splices into solution_model().
layers = tf.keras.layers
model = tf.keras.models.Sequential([
    tf.keras.Input(shape=(150, 150, 3)),
    layers.AveragePooling2D(2),  # 75 x 75 is plenty for these images and 4x cheaper
    layers.RandomFlip("horizontal_and_vertical"),
    layers.RandomRotation(0.1),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Conv2D(64, 3, activation="relu"),
    layers.GlobalMaxPooling2D(),
    layers.Dense(64, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
stop = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=6, restore_best_weights=True)
model.fit(train_ds.cache(), validation_data=validation_ds.cache(), epochs=24, callbacks=[stop],
          verbose=2)
