"""A blocked Bloom filter over well-mixed 64-bit keys in a numpy bit array: 12 bits per
key, 7 probes within one 512-bit block, about 0.4% false positives; never a false negative.

The block is chosen by the key's top bits, so keys inserted in sorted order touch the bit
array left to right and a slice of them can be set through a small byte buffer."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BITS_PER_KEY = 12
PROBES = 7  # 7 offsets of 9 bits, from one 64-bit product
_BLOCK_BITS = 512
_SLICE = 8192  # keys set per step of ``add``
_MUL = np.uint64(0xC2B2AE3D27D4EB4F)
_S32 = np.uint64(32)
_S6 = np.uint64(6)
_S9 = np.uint64(9)
_LOW6 = np.uint64(63)
_LOW9 = np.uint64(511)
_ONE = np.uint64(1)

Keys = npt.NDArray[np.uint64]


def scramble(keys: Keys) -> Keys:
    """SplitMix64's finaliser, a bijection: keys of any distribution become well mixed."""
    with np.errstate(over="ignore"):
        x = (keys ^ (keys >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


class Bloom:
    """Set membership with false positives, sized for ``capacity`` well-mixed keys."""

    def __init__(self, capacity: int) -> None:
        self.blocks = max(1, -(-capacity * BITS_PER_KEY // _BLOCK_BITS))
        self.words = np.zeros(self.blocks * (_BLOCK_BITS // 64), dtype=np.uint64)

    @classmethod
    def from_words(cls, words: Keys) -> Bloom:
        """A filter from the ``words`` of one made before (stored)."""
        bloom = cls(0)
        bloom.blocks = max(1, len(words) // (_BLOCK_BITS // 64))
        bloom.words = words
        return bloom

    def _block(self, keys: Keys) -> Keys:
        return ((keys >> _S32) * np.uint64(self.blocks)) >> _S32  # monotonic in the key

    def _offsets(self, keys: Keys) -> Keys:
        with np.errstate(over="ignore"):
            return keys * _MUL

    def add(self, keys: Keys) -> None:
        """Insert keys, given in ascending order."""
        for start in range(0, len(keys), _SLICE):
            part = keys[start : start + _SLICE]
            block = self._block(part)
            lo, hi = int(block[0]), int(block[-1])
            base = (block - np.uint64(lo)) * np.uint64(_BLOCK_BITS)
            h = self._offsets(part)
            buf = np.zeros((hi - lo + 1) * _BLOCK_BITS, dtype=np.uint8)
            for i in range(PROBES):
                buf[(base + ((h >> np.uint64(64 - 9 * (i + 1))) & _LOW9)).astype(np.intp)] = 1
            packed = np.packbits(buf, bitorder="little").view(np.uint64)
            self.words[lo * 8 : (hi + 1) * 8] |= packed

    def test(self, keys: Keys) -> npt.NDArray[np.bool_]:
        """True where a key may have been inserted, False where it certainly was not."""
        out = np.zeros(len(keys), dtype=bool)
        if not len(keys):
            return out
        idx = np.arange(len(keys))
        base = self._block(keys) * np.uint64(_BLOCK_BITS)
        h = self._offsets(keys)
        for i in range(PROBES):
            # Most absent keys fail the first probes: test only the survivors each time.
            pos = base + ((h >> np.uint64(64 - 9 * (i + 1))) & _LOW9)
            keep = ((self.words[pos >> _S6] >> (pos & _LOW6)) & _ONE).astype(bool)
            if not keep.all():
                idx, base, h = idx[keep], base[keep], h[keep]
                if not len(idx):
                    return out
        out[idx] = True
        return out
