package manyfold.ml

import manyfold.ml.GroupedTraining.GroupIds
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{GenericInternalRow, UnsafeRow}
import org.apache.spark.sql.types.{DataType, DoubleType, IntegerType, LongType, StringType}
import org.apache.spark.unsafe.types.UTF8String
import org.scalatest.funsuite.AnyFunSuite

/**
 * A task's group ids: the map of primitives for one integral key against the general map of key
 * rows, on the same keys.
 */
class GroupIdsSuite extends AnyFunSuite {

  /** Rows of (key, a double), as UnsafeRows, the key null where `key` is None. */
  private def rows(keyType: DataType, keys: Seq[Option[Any]]): Seq[UnsafeRow] = {
    val toUnsafe = Schemas.projection(Seq(keyType, DoubleType))
    keys.zipWithIndex.map { case (k, i) =>
      toUnsafe(new GenericInternalRow(Array[Any](k.orNull, i.toDouble))).copy()
    }
  }

  /** Ids by ofRow, and by apply on the projected key rows (the general map). */
  private def both(keyType: DataType, input: Seq[UnsafeRow]): (Seq[Int], Seq[Int], GroupIds) = {
    val fast = new GroupIds(Seq(keyType))
    val general = new GroupIds
    val keyOf = Schemas.projection(Seq(keyType))
    (input.map(fast.ofRow), input.map(r => general(keyOf(r))), fast)
  }

  // Many keys (past several growths of the table), negative, extreme and colliding-prone
  // values (multiples of a large power of two), a null key, each seen several times, shuffled.
  private val longKeys: Seq[Option[Any]] = {
    val distinct =
      ((0L until 3000L).map(i => (i - 1500L) << 40) ++ Seq(Long.MinValue, Long.MaxValue, 1L, -1L))
    val all = (distinct.map(Some(_)) :+ None).flatMap(k => Seq(k, k, k))
    new scala.util.Random(5).shuffle(all)
  }

  test("one long key: ids in order of first appearance, as the general map gives them") {
    val input = rows(LongType, longKeys)
    val (fast, general, ids) = both(LongType, input)
    assert(fast == general)
    val firstSeen = longKeys.distinct
    assert(ids.size == firstSeen.size)
    assert(fast.distinct == firstSeen.indices)
    firstSeen.zipWithIndex.foreach { case (k, id) =>
      val key = ids.key(id)
      k match {
        case None => assert(key.isNullAt(0))
        case Some(v) => assert(!key.isNullAt(0) && key.getLong(0) == v, s"id $id")
      }
    }
    // A key row (as a reduce task's statistics partials have) finds the same ids.
    val keyOf = Schemas.projection(Seq(LongType))
    assert(input.map(r => ids(keyOf(r))) == fast)
    assert(ids.size == firstSeen.size)
  }

  test("one int key and a string key: the same ids as the general map; clear starts over") {
    val intKeys = longKeys.map(_.map(v => (v.asInstanceOf[Long] >> 40).toInt))
    val (fastInt, generalInt, ids) = both(IntegerType, rows(IntegerType, intKeys))
    assert(fastInt == generalInt)
    val stringKeys = intKeys.map(_.map(v => UTF8String.fromString(s"k$v")))
    val (fastString, generalString, _) = both(StringType, rows(StringType, stringKeys))
    assert(fastString == generalString && fastString == fastInt)

    ids.clear()
    assert(ids.size == 0)
    val again = rows(IntegerType, Seq(Some(7), None, Some(7), Some(-3)))
    assert(again.map(ids.ofRow) == Seq(0, 1, 0, 2))
    assert(ids.key(2).getInt(0) == -3 && ids.key(1).isNullAt(0))
    // The last key looked up before a clear (-3) is a new key after it; runs keep their id.
    ids.clear()
    val runs = rows(IntegerType, Seq(Some(-3), Some(-3), Some(5), Some(5), Some(-3), None, None))
    assert(runs.map(ids.ofRow) == Seq(0, 0, 1, 1, 0, 2, 2))
  }

  test("no key column: every row in group 0") {
    val ids = new GroupIds(Nil)
    val input: Seq[InternalRow] = rows(LongType, Seq(Some(1L), Some(2L), None))
    assert(input.map(ids.ofRow) == Seq(0, 0, 0) && ids.size == 1)
  }
}
