"""The exam's tokenisation without Keras behaves as Keras 2's Tokenizer and pad_sequences did."""

from __future__ import annotations

import numpy as np
import pytest

from server.datasets.text_encoding import Tokenizer, pad_sequences, text_to_word_sequence

TEXTS = [
    "The cat sat on the mat!",
    "the dog, the CAT and the bird...",
    "A bird-watcher's day: birds, birds; birds?",
    "zebra yak xylophone wolf vole",
    "",
]


def test_words_are_lowercased_and_split_at_punctuation() -> None:
    assert text_to_word_sequence("Hello, World!\tIt's   me.") == ["hello", "world", "it's", "me"]


def test_word_index_by_frequency_ties_by_first_appearance_oov_first() -> None:
    tokenizer = Tokenizer(oov_token="<OOV>")
    tokenizer.fit_on_texts(TEXTS)
    words = list(tokenizer.word_index)
    assert words[:4] == ["<OOV>", "the", "birds", "cat"]
    # "bird" and "a" both appear twice/once: ties keep the order of first appearance
    assert words.index("sat") < words.index("on") < words.index("mat")
    assert tokenizer.word_index["<OOV>"] == 1


def test_num_words_limits_sequences_not_the_index() -> None:
    tokenizer = Tokenizer(num_words=4, oov_token="<OOV>")
    tokenizer.fit_on_texts(TEXTS)
    assert len(tokenizer.word_index) > 4
    assert tokenizer.texts_to_sequences(["the cat sat", "unseen"]) == [[2, 1, 1], [1]]
    plain = Tokenizer(num_words=4)
    plain.fit_on_texts(TEXTS)
    assert plain.texts_to_sequences(["the cat sat", "unseen"]) == [[1, 3], []]


def test_pad_sequences_post_and_pre() -> None:
    sequences = [[1, 2, 3, 4], [5], []]
    post = pad_sequences(sequences, maxlen=3, padding="post", truncating="post")
    assert post.tolist() == [[1, 2, 3], [5, 0, 0], [0, 0, 0]]
    pre = pad_sequences(sequences, maxlen=3)
    assert pre.tolist() == [[2, 3, 4], [0, 0, 5], [0, 0, 0]]
    assert post.dtype == np.int32


@pytest.mark.slow
def test_same_as_tf_keras_tokenizer() -> None:
    """tf_keras still ships Keras 2's Tokenizer: the reference behaviour, checked on real text."""
    text = pytest.importorskip("tf_keras.preprocessing.text")
    sequence = pytest.importorskip("tf_keras.preprocessing.sequence")
    corpus = [*TEXTS, *(" ".join(f"w{(i * j) % 37}" for j in range(i % 150)) for i in range(300))]
    ours, theirs = Tokenizer(num_words=20, oov_token="<OOV>"), text.Tokenizer(num_words=20, oov_token="<OOV>")
    ours.fit_on_texts(corpus)
    theirs.fit_on_texts(corpus)
    assert ours.word_index == theirs.word_index
    assert ours.texts_to_sequences(corpus) == theirs.texts_to_sequences(corpus)
    mine = pad_sequences(ours.texts_to_sequences(corpus), maxlen=120, padding="post", truncating="post")
    keras2 = sequence.pad_sequences(theirs.texts_to_sequences(corpus), maxlen=120, padding="post",
                                    truncating="post")
    assert np.array_equal(mine, keras2)
