# ======================================================================================
# There are 5 questions in this exam with increasing difficulty from 1-5.
# Please note that the weight of the grade for the question is relative to its
# difficulty. So your Category 1 question will score significantly less than
# your Category 5 question.
#
# You must save a model (run this file) at least once in this category before the
# exam ends, otherwise you will score zero for this category. Read question.md for
# the task, the input and output shapes, and the score bands.
#
# Lambda layers are not supported by the grader. Keep the final layer as shown.
# ======================================================================================
#
# NLP QUESTION
#
# Build and train a classifier for the sarcasm dataset. The classifier should have a
# final layer with 1 neuron activated by sigmoid as shown. It will be tested against
# a number of sentences that the network hasn't previously seen and you will be
# scored on whether sarcasm was correctly detected in those sentences.
# The grader encodes those sentences with the tokenizer this starter fits (the first
# training_size headlines of data/sarcasm.json); data/encoding.json holds its word index.
# Input: 120 word indices per headline.
# ======================================================================================

import json
import os

import numpy as np
import tensorflow as tf
from tensorflow.keras.preprocessing.sequence import pad_sequences
from tensorflow.keras.preprocessing.text import Tokenizer


def solution_model():
    # DO NOT CHANGE THIS CODE OR THE TESTS MAY NOT WORK
    here = os.path.dirname(os.path.abspath(__file__))
    vocab_size = 1000
    embedding_dim = 16
    max_length = 120
    trunc_type = 'post'
    padding_type = 'post'
    oov_tok = "<OOV>"
    training_size = 20000

    sentences = []
    labels = []
    with open(os.path.join(here, "data", "sarcasm.json"), 'r', encoding="utf-8") as f:
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
    training_padded = pad_sequences(tokenizer.texts_to_sequences(training_sentences),
                                    maxlen=max_length, padding=padding_type, truncating=trunc_type)
    testing_padded = pad_sequences(tokenizer.texts_to_sequences(testing_sentences),
                                   maxlen=max_length, padding=padding_type, truncating=trunc_type)
    # END OF THE CODE YOU MUST NOT CHANGE

    # A partial data file (fewer than 20000 headlines) leaves no testing part: then hold out
    # the last 10 % of the training part for validation instead.
    validation = dict(validation_data=(testing_padded, testing_labels)) if len(testing_labels) \
        else dict(validation_split=0.1)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(max_length,)),
        tf.keras.layers.Embedding(vocab_size, embedding_dim),
        # YOUR CODE HERE. KEEP THIS OUTPUT LAYER INTACT OR TESTS MAY FAIL
        tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(1, activation='sigmoid'),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(training_padded, training_labels, epochs=1, verbose=2, **validation)
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you run this file it saves mymodel.h5 next to it; the service grades it.
if __name__ == "__main__":
    # Save (and read data/) next to this file, wherever it is run from.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    model = solution_model()
    model.save("mymodel.h5")
