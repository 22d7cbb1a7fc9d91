# ruff: noqa
# The real exam's BBC news starter, completed the way its candidates completed it (the course's
# code in the YOUR CODE HERE parts), with no tfexam code at all: its constants, its stop words, the
# label ids of its comment. Its constants block carried sarcasm's training_size = 20000, more than
# the file's articles, so candidates split as the course did, 80 % for training (tfexam's stated
# split). Two changes only, outside the starter's own lines: the file is read where the starter's
# urlretrieve put it (the test puts it there; no network), and the validation accuracy the author
# saw is written to validation.json so that the test can compare the grader's score with it.
import csv
import json
import urllib

import numpy as np
import tensorflow as tf
from tensorflow.keras.preprocessing.sequence import pad_sequences
from tensorflow.keras.preprocessing.text import Tokenizer


def solution_model():
    # url = 'https://storage.googleapis.com/download.tensorflow.org/data/bbc-text.csv'
    # urllib.request.urlretrieve(url, 'bbc-text.csv')

    # DO NOT CHANGE THE VALUES OF THESE CONSTANTS OR THE TESTS MAY FAIL
    vocab_size = 1000
    embedding_dim = 16
    max_length = 120
    trunc_type='post'
    padding_type='post'
    oov_tok = "<OOV>"
    training_size = 20000
    sentences = []
    labels = []
    stopwords = [ "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "he'd", "he'll", "he's", "her", "here", "here's", "hers", "herself", "him", "himself", "his", "how", "how's", "i", "i'd", "i'll", "i'm", "i've", "if", "in", "into", "is", "it", "it's", "its", "itself", "let's", "me", "more", "most", "my", "myself", "nor", "of", "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "she'd", "she'll", "she's", "should", "so", "some", "such", "than", "that", "that's", "the", "their", "theirs", "them", "themselves", "then", "there", "there's", "these", "they", "they'd", "they'll", "they're", "they've", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "we'd", "we'll", "we're", "we've", "were", "what", "what's", "when", "when's", "where", "where's", "which", "while", "who", "who's", "whom", "why", "why's", "with", "would", "you", "you'd", "you'll", "you're", "you've", "your", "yours", "yourself", "yourselves" ]

    with open("bbc-text.csv", 'r') as csvfile:
        # YOUR CODE HERE
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

    training_portion = .8
    train_size = int(len(sentences) * training_portion)
    train_sentences = sentences[:train_size]
    train_labels = labels[:train_size]
    validation_sentences = sentences[train_size:]
    validation_labels = labels[train_size:]

    tokenizer = Tokenizer(num_words=vocab_size, oov_token=oov_tok)
    tokenizer.fit_on_texts(train_sentences)
    train_padded = pad_sequences(tokenizer.texts_to_sequences(train_sentences), padding=padding_type,
                                 maxlen=max_length, truncating=trunc_type)
    validation_padded = pad_sequences(tokenizer.texts_to_sequences(validation_sentences),
                                      padding=padding_type, maxlen=max_length, truncating=trunc_type)

    # the ids the starter's comment fixes: 0 = UNUSED, 1 = SPORT, 2 = BUSINESS, 3 = POLITICS,
    # 4 = TECH, 5 = ENTERTAINMENT
    label_ids = {"sport": 1, "business": 2, "politics": 3, "tech": 4, "entertainment": 5}
    training_label_seq = np.array([label_ids[label] for label in train_labels])
    validation_label_seq = np.array([label_ids[label] for label in validation_labels])

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Embedding(vocab_size, embedding_dim, input_length=max_length),
        tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(24, activation='relu'),
    # YOUR CODE HERE
        tf.keras.layers.Dense(6, activation='softmax')
    ])
    model.compile(loss='sparse_categorical_crossentropy', optimizer=tf.keras.optimizers.Adam(0.01),
                  metrics=['accuracy'])
    history = model.fit(train_padded, training_label_seq, epochs=10,
                        validation_data=(validation_padded, validation_label_seq), verbose=2)
    with open("validation.json", "w") as f:
        json.dump({"val_accuracy": history.history["val_accuracy"][-1], "count": len(validation_labels)}, f)
    return model


# Note that you'll need to save your model as a .h5 like this
if __name__ == '__main__':
    model = solution_model()
    model.save("mymodel.h5")
