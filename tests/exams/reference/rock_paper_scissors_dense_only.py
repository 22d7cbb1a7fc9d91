# ruff: noqa: E501, F821
# REFERENCE SOLUTION (tests only; never copied to a learner's folder): the learner's part of
# exams/tf-developer/Category3/rock_paper_scissors/starter.py, which tests/exams/calibration.py splices into solution_model().
# A dense-only network, trained well: the stand-in must keep it at 3/5 or below.
model = tf.keras.models.Sequential([
    tf.keras.Input(shape=(150, 150, 3)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(256, activation="relu"),
    tf.keras.layers.Dropout(0.3),
    tf.keras.layers.Dense(64, activation="relu"),
    tf.keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
stop = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=6, restore_best_weights=True)
model.fit(train_ds.cache(), validation_data=validation_ds.cache(), epochs=30, callbacks=[stop],
          verbose=2)
