# ruff: noqa
# The real exam's sarcasm starter (2021), completed the way its candidates completed it (the
# course's code in the YOUR CODE HERE parts), with no tfexam code at all. Two changes only, both
# outside the starter's own lines: the file is read where the starter's urlretrieve put it (the
# test puts it there; no network), and the validation accuracy the author saw is written to
# validation.json so that the test can compare the grader's score with it.
import json
import urllib

import numpy as np
import tensorflow as tf
from tensorflow.keras.preprocessing.sequence import pad_sequences
from tensorflow.keras.preprocessing.text import Tokenizer


def solution_model():
    # url = 'https://storage.googleapis.com/download.tensorflow.org/data/sarcasm.json'
    # urllib.request.urlretrieve(url, 'sarcasm.json')

    # DO NOT CHANGE THIS CODE OR THE TESTS MAY NOT WORK
    vocab_size = 1000
    embedding_dim = 16
    max_length = 120
    trunc_type='post'
    padding_type='post'
    oov_tok = "<OOV>"
    training_size = 20000

    sentences = []
    labels = []
    # YOUR CODE HERE
    with open("sarcasm.json", 'r') as f:
        datastore = json.load(f)
    for item in datastore:
        sentences.append(item['headline'])
        labels.append(item['is_sarcastic'])

    training_sentences = sentences[0:training_size]
    testing_sentences = sentences[training_size:]
    training_labels = np.array(labels[0:training_size])
    testing_labels = np.array(labels[training_size:])

    tokenizer = Tokenizer(num_words=vocab_size, oov_token=oov_tok)
    tokenizer.fit_on_texts(training_sentences)
    training_padded = pad_sequences(tokenizer.texts_to_sequences(training_sentences), maxlen=max_length,
                                    padding=padding_type, truncating=trunc_type)
    testing_padded = pad_sequences(tokenizer.texts_to_sequences(testing_sentences), maxlen=max_length,
                                   padding=padding_type, truncating=trunc_type)

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Embedding(vocab_size, embedding_dim, input_length=max_length),
        tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(24, activation='relu'),
    # YOUR CODE HERE. KEEP THIS OUTPUT LAYER INTACT OR TESTS MAY FAIL
        tf.keras.layers.Dense(1, activation='sigmoid')
    ])
    model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
    history = model.fit(training_padded, training_labels, epochs=3,
                        validation_data=(testing_padded, testing_labels), verbose=2)
    with open("validation.json", "w") as f:
        json.dump({"val_accuracy": history.history["val_accuracy"][-1], "count": len(testing_labels)}, f)
    return model


# Note that you'll need to save your model as a .h5 like this.
if __name__ == '__main__':
    model = solution_model()
    model.save("mymodel.h5")
