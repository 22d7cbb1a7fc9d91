# ruff: noqa
# Exam-era idioms: ModelCheckpoint to a .ckpt and to a .h5 file, EarlyStopping, metrics=['acc'].
import tensorflow as tf

(x, y), _ = tf.keras.datasets.fashion_mnist.load_data()
x, y = x[:3000] / 255.0, y[:3000]
model = tf.keras.models.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),
                                    tf.keras.layers.Dense(64, activation='relu'),
                                    tf.keras.layers.Dense(10, activation='softmax')])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['acc'])
callbacks = [tf.keras.callbacks.ModelCheckpoint('weights.ckpt', save_weights_only=True),
             tf.keras.callbacks.ModelCheckpoint('best.h5', monitor='val_acc', save_best_only=True),
             tf.keras.callbacks.EarlyStopping(monitor='val_acc', patience=2)]
model.fit(x, y, epochs=3, validation_split=0.2, callbacks=callbacks, verbose=2)
model.load_weights('weights.ckpt')
model.save("mymodel.h5")
