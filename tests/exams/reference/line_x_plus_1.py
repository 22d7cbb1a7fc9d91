# ruff: noqa: E501, F821
# REFERENCE SOLUTION (tests only; never copied to a learner's folder): the learner's part of
# exams/tf-developer/Category1/line_x_plus_1/starter.py, which tests/exams/calibration.py splices into solution_model().
model = tf.keras.Sequential([tf.keras.Input(shape=[1]), tf.keras.layers.Dense(1)])
model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1), loss="mean_squared_error")
model.fit(xs, ys, epochs=150, verbose=0)
