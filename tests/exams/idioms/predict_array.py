# ruff: noqa
# The check the Category1 hint gives, in the form that works in Keras 2 and Keras 3 alike.
import numpy as np
import tensorflow as tf

xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype=float)
ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], dtype=float)
model = tf.keras.Sequential([tf.keras.Input(shape=[1]), tf.keras.layers.Dense(units=1)])
model.compile(optimizer='sgd', loss='mean_squared_error')
model.fit(xs, ys, epochs=300, verbose=0)
print(model.predict(np.array([[10.0]])))
model.save("mymodel.h5")
