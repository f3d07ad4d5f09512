"""The random stream of a forked service: copied for free, compared by a small key.

An exhaustive search forks the service for every continuation of every state and compares
states by key; most continuations draw nothing. Copying a Mersenne Twister (624 words) for
each fork and hashing it for each key cost about an eighth of the search. A forked stream
is instead the stream it was forked from (its state kept once, never drawn from) and the
number of 32-bit words drawn since: two forks of one origin that drew as many words are
in the same state, and a fork is two numbers. The generator itself is rebuilt from the
origin on the first draw.
"""

from __future__ import annotations

import random


class ForkedRandom(random.Random):
    """Draws exactly what the stream it was forked from would draw next."""

    def __init__(self, origin: tuple, words: int = 0, origin_key: int | None = None) -> None:
        # random.Random's own generator state is never used: every draw goes to `_live`
        self.gauss_next = None
        self._origin = origin
        self._origin_key = hash(origin) if origin_key is None else origin_key
        self._words = words
        self._live: random.Random | None = None

    def fork(self) -> ForkedRandom:
        return ForkedRandom(self._origin, self._words, self._origin_key)

    def key(self) -> tuple[int, int]:
        """Equal for two streams that draw alike from here on."""
        return self._origin_key, self._words

    def _generator(self) -> random.Random:
        live = self._live
        if live is None:
            live = self._live = random.Random()
            live.setstate(self._origin)
            for _ in range(self._words):
                live.getrandbits(32)
        return live

    def random(self) -> float:
        live = self._generator()
        self._words += 2  # a 53-bit float takes two 32-bit words
        return live.random()

    def getrandbits(self, k: int) -> int:
        live = self._generator()
        self._words += -(-k // 32)  # whole 32-bit words; none for k = 0
        return live.getrandbits(k)

    def getstate(self) -> tuple:
        return self._generator().getstate()

    def setstate(self, state: tuple) -> None:
        self._origin, self._origin_key = state, hash(state)
        self._words, self._live = 0, None


def fork_random(rng: random.Random) -> ForkedRandom:
    """A copy of `rng` that draws what it would draw next."""
    if isinstance(rng, ForkedRandom):
        return rng.fork()
    return ForkedRandom(rng.getstate())


def random_key(rng: random.Random) -> tuple[int, int]:
    """A hashable value equal for two streams that draw alike from here on (a stream and
    its fresh fork have the same)."""
    return rng.key() if isinstance(rng, ForkedRandom) else (hash(rng.getstate()), 0)
