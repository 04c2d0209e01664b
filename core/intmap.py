"""`IntMap`: 64-bit keys to 64-bit values in two arrays, for imports that remember every row.

A dict of 200,000 int keys costs about 25 MB and twice that while it grows; this costs 16
bytes a slot (at most half full), 8 MB for the same 200,000, because keys and values are
machine integers in `array`s, not Python objects. Open addressing with linear probing; keys
are hashes, so they are spread already. Key 0 marks an empty slot, so a key of 0 is stored
as 1: the callers key by 64-bit hashes, where that merges two keys once in 2^64.
"""

from __future__ import annotations

from array import array


class IntMap:
    def __init__(self, capacity: int = 1024) -> None:
        size = 1
        while size < capacity * 2:
            size *= 2
        self._keys = array("q", [0]) * size
        self._values = array("q", [0]) * size
        self._mask = size - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _slot(self, key: int) -> int:
        keys, mask = self._keys, self._mask
        index = key & mask
        while keys[index] and keys[index] != key:
            index = (index + 1) & mask
        return index

    @staticmethod
    def _key(key: int) -> int:
        key = ((key + 2**63) % 2**64) - 2**63  # any int into a signed 64-bit slot
        return key or 1

    def get(self, key: int, default: int | None = None) -> int | None:
        key = self._key(key)
        index = self._slot(key)
        return self._values[index] if self._keys[index] else default

    def __contains__(self, key: int) -> bool:
        return bool(self._keys[self._slot(self._key(key))])

    def __getitem__(self, key: int) -> int:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: int, value: int) -> None:
        key = self._key(key)
        index = self._slot(key)
        if not self._keys[index]:
            self._count += 1
            self._keys[index] = key
        self._values[index] = value
        if self._count * 2 > len(self._keys):
            self._grow()

    def _grow(self) -> None:
        old_keys, old_values = self._keys, self._values
        size = len(old_keys) * 2
        self._keys = array("q", [0]) * size
        self._values = array("q", [0]) * size
        self._mask = size - 1
        for key, value in zip(old_keys, old_values, strict=True):
            if key:
                index = self._slot(key)
                self._keys[index] = key
                self._values[index] = value
