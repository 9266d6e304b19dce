package manyfold.ml

/**
 * A map from `Long` keys to non-negative `Int` values held in two primitive arrays (open
 * addressing, linear probing, at most half full): no boxed value and no entry object, so a lookup
 * reads two arrays. The map side looks up a group id per input row by its integral key, and
 * prediction a model per row; Scala's `LongMap[Int]` boxes its values, and its lookups took the
 * larger part of a map task's time on rows of many interleaved groups.
 */
private[manyfold] final class LongIntMap {
  private var keys = new Array[Long](LongIntMap.InitialCapacity)
  private var values = Array.fill(LongIntMap.InitialCapacity)(LongIntMap.Empty)
  private var count = 0

  /** The number of keys. */
  def size: Int = count

  /** The value of `key`, or `missing` if it has none. */
  def getOrElse(key: Long, missing: Int): Int = {
    val mask = keys.length - 1
    var slot = LongIntMap.slot(key, mask)
    while (values(slot) != LongIntMap.Empty) {
      if (keys(slot) == key) return values(slot)
      slot = (slot + 1) & mask
    }
    missing
  }

  /** Sets `key`'s value to `value` (>= 0). */
  def update(key: Long, value: Int): Unit = {
    require(value >= 0, s"a LongIntMap value must be >= 0, got $value")
    val mask = keys.length - 1
    var slot = LongIntMap.slot(key, mask)
    while (values(slot) != LongIntMap.Empty && keys(slot) != key) slot = (slot + 1) & mask
    if (values(slot) == LongIntMap.Empty) {
      keys(slot) = key
      count += 1
    }
    values(slot) = value
    if (2 * count > keys.length) grow()
  }

  /** Removes every key, keeping the arrays. */
  def clear(): Unit = {
    java.util.Arrays.fill(values, LongIntMap.Empty)
    count = 0
  }

  private def grow(): Unit = {
    val (oldKeys, oldValues) = (keys, values)
    keys = new Array[Long](2 * oldKeys.length)
    values = Array.fill(2 * oldKeys.length)(LongIntMap.Empty)
    val mask = keys.length - 1
    var i = 0
    while (i < oldKeys.length) {
      if (oldValues(i) != LongIntMap.Empty) {
        var slot = LongIntMap.slot(oldKeys(i), mask)
        while (values(slot) != LongIntMap.Empty) slot = (slot + 1) & mask
        keys(slot) = oldKeys(i)
        values(slot) = oldValues(i)
      }
      i += 1
    }
  }
}

private[manyfold] object LongIntMap {
  private val InitialCapacity = 64
  private val Empty = -1

  /**
   * The first slot of `key`: MurmurHash3's 64-bit finalizer, so that keys in a run (0, 1, 2, ...)
   * or of a common stride spread over the table.
   */
  private def slot(key: Long, mask: Int): Int = {
    var h = key
    h ^= h >>> 33
    h *= 0xff51afd7ed558ccdL
    h ^= h >>> 33
    h *= 0xc4ceb9fe1a85ec53L
    h ^= h >>> 33
    h.toInt & mask
  }
}
