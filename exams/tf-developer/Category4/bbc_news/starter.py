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
# For this task you will train a classifier on the BBC news text archive. Your
# classifier should be trained on the categories of the file, and your final layer
# should be as shown: a Dense layer with 6 neurons and softmax activation. Your model
# will be tested against unseen articles and scored on whether they are correctly
# classified. The grader encodes those articles with the tokenizer this starter fits;
# data/encoding.json holds its word index and the label numbers. Input: 120 word indices.
# ======================================================================================

import csv
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
    training_portion = .8

    sentences = []
    labels = []
    stopwords = ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and",
                 "any", "are", "as", "at", "be", "because", "been", "before", "being", "below",
                 "between", "both", "but", "by", "could", "did", "do", "does", "doing", "down",
                 "during", "each", "few", "for", "from", "further", "had", "has", "have",
                 "having", "he", "he'd", "he'll", "he's", "her", "here", "here's", "hers",
                 "herself", "him", "himself", "his", "how", "how's", "i", "i'd", "i'll", "i'm",
                 "i've", "if", "in", "into", "is", "it", "it's", "its", "itself", "let's",
                 "me", "more", "most", "my", "myself", "nor", "of", "on", "once", "only", "or",
                 "other", "ought", "our", "ours", "ourselves", "out", "over", "own", "same",
                 "she", "she'd", "she'll", "she's", "should", "so", "some", "such", "than",
                 "that", "that's", "the", "their", "theirs", "them", "themselves", "then",
                 "there", "there's", "these", "they", "they'd", "they'll", "they're",
                 "they've", "this", "those", "through", "to", "too", "under", "until", "up",
                 "very", "was", "we", "we'd", "we'll", "we're", "we've", "were", "what",
                 "what's", "when", "when's", "where", "where's", "which", "while", "who",
                 "who's", "whom", "why", "why's", "with", "would", "you", "you'd", "you'll",
                 "you're", "you've", "your", "yours", "yourself", "yourselves"]

    with open(os.path.join(here, "data", "bbc-text.csv"), 'r', newline="", encoding="utf-8") as csvfile:
        reader = csv.reader(csvfile, delimiter=',')
        next(reader)
        for row in reader:
            labels.append(row[0])
            sentence = row[1]
            for word in stopwords:
                token = " " + word + " "
                sentence = sentence.replace(token, " ")
                sentence = sentence.replace("  ", " ")
            sentences.append(sentence)

    train_size = int(len(sentences) * training_portion)
    train_sentences = sentences[:train_size]
    train_labels = labels[:train_size]
    validation_sentences = sentences[train_size:]
    validation_labels = labels[train_size:]

    tokenizer = Tokenizer(num_words=vocab_size, oov_token=oov_tok)
    tokenizer.fit_on_texts(train_sentences)
    train_padded = pad_sequences(tokenizer.texts_to_sequences(train_sentences),
                                 maxlen=max_length, padding=padding_type, truncating=trunc_type)
    validation_padded = pad_sequences(tokenizer.texts_to_sequences(validation_sentences),
                                      maxlen=max_length, padding=padding_type, truncating=trunc_type)

    # The five categories are numbered 1 to 5 as the real exam's starter fixed them in a comment
    # its tests relied on; 0 is unused, so the output layer has 6 neurons. Encode your labels
    # this way, whatever order the file lists them in, or the tests will fail:
    # 0 = UNUSED, 1 = SPORT, 2 = BUSINESS, 3 = POLITICS, 4 = TECH, 5 = ENTERTAINMENT
    label_ids = {"sport": 1, "business": 2, "politics": 3, "tech": 4, "entertainment": 5}
    training_label_seq = np.array([label_ids[label] for label in train_labels])
    validation_label_seq = np.array([label_ids[label] for label in validation_labels])
    # END OF THE CODE YOU MUST NOT CHANGE

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(max_length,)),
        tf.keras.layers.Embedding(vocab_size, embedding_dim),
        # YOUR CODE HERE. KEEP THIS OUTPUT LAYER INTACT OR TESTS MAY FAIL
        tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(6, activation='softmax'),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_padded, training_label_seq, epochs=1,
              validation_data=(validation_padded, validation_label_seq), verbose=2)
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you run this file it saves mymodel.h5 next to it; the service grades it.
if __name__ == "__main__":
    # Save (and read data/) next to this file, wherever it is run from.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    model = solution_model()
    model.save("mymodel.h5")
