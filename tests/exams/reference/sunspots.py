# ruff: noqa: E501, F821
# REFERENCE SOLUTION (tests only; never copied to a learner's folder): the learner's part of
# exams/tf-developer/Category5/sunspots/starter.py, which tests/exams/calibration.py splices into solution_model().
model = tf.keras.models.Sequential([
    tf.keras.Input(shape=(window_size, 1)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(32, activation="relu"),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(1),
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3), loss=tf.keras.losses.Huber(),
              metrics=["mae"])
model.fit(train_set, epochs=40, verbose=2)
