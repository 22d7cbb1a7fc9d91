# ruff: noqa
# Exam-era idiom: ImageDataGenerator with augmentation (needs scipy) and flow_from_directory.
import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator

train_datagen = ImageDataGenerator(rescale=1. / 255, rotation_range=40, width_shift_range=0.2,
                                   height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                                   horizontal_flip=True, fill_mode='nearest')
validation_datagen = ImageDataGenerator(rescale=1. / 255)
train_generator = train_datagen.flow_from_directory('data/train', target_size=(150, 150),
                                                    batch_size=32, class_mode='binary')
validation_generator = validation_datagen.flow_from_directory('data/validation', target_size=(150, 150),
                                                              batch_size=32, class_mode='binary')
model = tf.keras.models.Sequential([
    tf.keras.layers.Conv2D(8, (3, 3), activation='relu', input_shape=(150, 150, 3)),
    tf.keras.layers.MaxPooling2D(4, 4),
    tf.keras.layers.Conv2D(16, (3, 3), activation='relu'),
    tf.keras.layers.MaxPooling2D(4, 4),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(32, activation='relu'),
    tf.keras.layers.Dense(1, activation='sigmoid')
])
model.compile(loss='binary_crossentropy', optimizer=tf.keras.optimizers.RMSprop(learning_rate=0.001),
              metrics=['accuracy'])
model.fit(train_generator, epochs=1, steps_per_epoch=4, validation_data=validation_generator, verbose=2)
model.save("mymodel.h5")
