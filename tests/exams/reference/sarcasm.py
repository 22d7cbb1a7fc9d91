# ruff: noqa: E501, F821
# REFERENCE SOLUTION (tests only; never copied to a learner's folder): the learner's part of
# exams/tf-developer/Category4/sarcasm/starter.py, which tests/exams/calibration.py splices into solution_model().
tf.keras.utils.set_random_seed(0)
validation = dict(validation_data=(testing_padded, testing_labels)) if len(testing_labels) \
    else dict(validation_split=0.1)
model = tf.keras.Sequential([
    tf.keras.Input(shape=(max_length,)),
    tf.keras.layers.Embedding(vocab_size, embedding_dim),
    tf.keras.layers.GlobalAveragePooling1D(),
    tf.keras.layers.Dense(24, activation="relu"),
    tf.keras.layers.Dropout(0.3),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
stop = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=4,
                                        restore_best_weights=True)
model.fit(training_padded, training_labels, epochs=30, callbacks=[stop], verbose=2, **validation)
