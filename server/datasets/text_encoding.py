"""The exam's text encoding, with the API and the exact behaviour of Keras 2's `Tokenizer` and
`pad_sequences` (filters, lower-casing, splitting, word ids by frequency with ties in order of
first appearance, the OOV id, `num_words` applied only when encoding).

The learner's starter fits the real Keras tokenizer (tf_keras, or the legacy copy Keras 3 keeps);
the grader runs in a process that must not import TensorFlow, so it uses this re-implementation,
which tests compare with the real Keras tokenizer on the exam's data in both Keras modes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

# Keras' default `filters`: every character here becomes a word boundary.
DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text: str, filters: str = DEFAULT_FILTERS, lower: bool = True,
                          split: str = " ") -> list[str]:
    """Lower-case, turn filtered characters into separators, split, drop empty words."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in text.split(split) if word]


class Tokenizer:
    """Word index by frequency (ties by first appearance), the OOV token at index 1.

    As in Keras, `num_words` limits only `texts_to_sequences`: words of index >= num_words
    become the OOV index (or are dropped when there is no OOV token); `word_index` keeps all.
    """

    def __init__(self, num_words: int | None = None, filters: str = DEFAULT_FILTERS,
                 lower: bool = True, split: str = " ", oov_token: str | None = None) -> None:
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.oov_token = oov_token
        self.word_counts: dict[str, int] = {}
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.document_count = 0

    def _words(self, text: str) -> list[str]:
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.document_count += 1
            for word in self._words(text):
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
        # dicts keep insertion order and sorted() is stable: equal counts stay in order of
        # first appearance, as in Keras.
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = [word for word, _ in by_count]
        if self.oov_token is not None:
            vocabulary = [self.oov_token, *vocabulary]
        self.word_index = {word: i for i, word in enumerate(vocabulary, start=1)}
        self.index_word = {i: word for word, i in self.word_index.items()}

    def texts_to_sequences(self, texts: Iterable[str]) -> list[list[int]]:
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        sequences = []
        for text in texts:
            sequence = []
            for word in self._words(text):
                index = self.word_index.get(word)
                if index is not None and not (self.num_words and index >= self.num_words):
                    sequence.append(index)
                elif oov_index is not None:
                    sequence.append(oov_index)
            sequences.append(sequence)
        return sequences


def pad_sequences(sequences: Sequence[Sequence[int]], maxlen: int | None = None, dtype: str = "int32",
                  padding: str = "pre", truncating: str = "pre", value: int = 0) -> np.ndarray:
    """Keras' defaults ('pre'); the exam passes padding='post' and truncating='post'."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError("padding and truncating must be 'pre' or 'post'")
    length = maxlen if maxlen is not None else max((len(s) for s in sequences), default=0)
    out = np.full((len(sequences), length), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        if not len(sequence) or length == 0:
            continue
        kept = list(sequence[:length]) if truncating == "post" else list(sequence[-length:])
        if padding == "post":
            out[row, :len(kept)] = kept
        else:
            out[row, length - len(kept):] = kept
    return out
