# ruff: noqa: E501, F841
# REFERENCE SOLUTION (tests only; never copied to a learner's folder)
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
# Build and train a classifier for the BBC news dataset: which of five categories an
# article belongs to. The final layer is Dense(5, activation="softmax"); the grader
# scores accuracy on articles it never showed you. The text is encoded by the exam's
# fixed tokenisation below (exam_text.py is the same encoding the grader uses, because
# Keras 3 has no Tokenizer). Input: 120 word indices per article.
# ======================================================================================

import csv
import os
import sys

import numpy as np
import tensorflow as tf


def solution_model():
    # DO NOT CHANGE THIS CODE OR THE TESTS MAY NOT WORK
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    from exam_text import Tokenizer, pad_sequences

    vocab_size = 1000
    embedding_dim = 16
    max_length = 120
    trunc_type = "post"
    padding_type = "post"
    oov_tok = "<OOV>"
    class_names = ["business", "entertainment", "politics", "sport", "tech"]
    with open(os.path.join(here, "data", "bbc-text.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    sentences = [row[1] for row in rows]
    labels = [class_names.index(row[0]) for row in rows]
    # 80 % for training, no shuffle, as in the course; capped at the exam's 20000.
    training_size = min(20000, int(0.8 * len(sentences)))

    training_sentences = sentences[:training_size]
    testing_sentences = sentences[training_size:]
    training_labels = np.array(labels[:training_size])
    testing_labels = np.array(labels[training_size:])

    tokenizer = Tokenizer(num_words=vocab_size, oov_token=oov_tok)
    tokenizer.fit_on_texts(training_sentences)
    training_padded = pad_sequences(tokenizer.texts_to_sequences(training_sentences),
                                    maxlen=max_length, padding=padding_type, truncating=trunc_type)
    testing_padded = pad_sequences(tokenizer.texts_to_sequences(testing_sentences),
                                   maxlen=max_length, padding=padding_type, truncating=trunc_type)
    # END OF THE CODE YOU MUST NOT CHANGE
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(max_length,)),
        tf.keras.layers.Embedding(vocab_size, embedding_dim),
        tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(24, activation="relu"),
        tf.keras.layers.Dense(5, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=8,
                                            restore_best_weights=True)
    model.fit(training_padded, training_labels, epochs=60, callbacks=[stop],
              validation_data=(testing_padded, testing_labels), verbose=2)
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you run this file it saves mymodel.h5 next to it; the service grades it.
if __name__ == "__main__":
    model = solution_model()
    model.save("mymodel.h5")
