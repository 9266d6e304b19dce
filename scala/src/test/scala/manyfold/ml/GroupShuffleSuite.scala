package manyfold.ml

import manyfold.arrow.ArrowBatches
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{GenericInternalRow, UnsafeRow}
import org.apache.spark.sql.types.{BinaryType, DoubleType, LongType, StringType}
import org.apache.spark.unsafe.types.UTF8String
import org.scalatest.funsuite.AnyFunSuite

class GroupShuffleSuite extends AnyFunSuite {

  private val plan = GroupedSuite.linearPlan(maxRowsPerGroup = 100, batchRows = 64)

  test("a record is the UnsafeRow Spark's projection makes of its columns, nulls included") {
    val batch = plan.newBatch()
    try {
      // 3 rows: an IPC batch whose size is not a multiple of 8 bytes is padded like any binary.
      (0 until 3).foreach { i =>
        val at = batch.addRow(i % 2)
        batch.setDouble(0, at, i + 0.5)
        batch.setDouble(1, at, -i.toDouble)
      }
      val ipc = batch.writeIpc()
      val ipcBytes = ipc.toArray
      val keys = Array[Byte](1, 2, 3, 4, 5)
      val partial = Array.tabulate[Byte](17)(_.toByte)
      val project = Schemas.projection(Seq.fill(GroupShuffle.Fields)(BinaryType))
      def spark(values: Any*) = project(new GenericInternalRow(values.toArray)).copy()
      try {
        val rows = GroupShuffle.record(keys, ipc, null)
        assert(rows == spark(keys, ipcBytes, null))
        // The map side writes the IPC stream straight into the record: the same bytes.
        assert(GroupShuffle.packedRecord(keys, batch) == rows)
        assert(!GroupShuffle.isPartial(rows) && rows.getBinary(1).sameElements(ipcBytes))
        val stats = GroupShuffle.record(keys, null, partial)
        assert(stats == spark(keys, null, partial))
        assert(GroupShuffle.isPartial(stats) && GroupShuffle.partial(stats).sameElements(partial))
        // Read back through the direct copy a reduce task hands to native code.
        val direct = new GroupShuffle.DirectRows
        try {
          val buffer = direct.of(rows)
          val copied = new Array[Byte](buffer.remaining)
          buffer.get(copied)
          assert(copied.sameElements(ipcBytes))
        } finally direct.close()
      } finally ipc.close()
    } finally batch.close()
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test("records carry each group's key and row count; a null key is a key") {
    val keyed = GroupedSuite
      .linearPlan(maxRowsPerGroup = 100, batchRows = 4)
      .copy(keyTypes = Seq(LongType))
    // Keys 7 (5 rows), null (3 rows) and 9 (1 row), interleaved; records of at most 4 rows.
    val keys = Seq[java.lang.Long](7L, null, 7L, 9L, 7L, null, 7L, null, 7L)
    val input = keys.zipWithIndex.map { case (k, i) => InternalRow(k, i.toDouble, 2.0 * i) }
    val types = Seq(LongType, DoubleType, DoubleType)
    for (parts <- Seq(1, 3)) {
      val records = GroupShuffle.mapSide(keyed, types, Left(input.iterator), parts).toList
      assert(records.map(_._2.getBinary(1)).forall(_ != null))
      val counts = scala.collection.mutable.Map.empty[Option[Long], Long].withDefaultValue(0L)
      val view = new UnsafeRow(1)
      for ((part, record) <- records) {
        GroupShuffle.forEachGroup(record, view) { (key, rows) =>
          val k = if (key.isNullAt(0)) None else Some(key.getLong(0))
          // Every record of a group goes to the partition of the key's hash.
          assert(part == Math.floorMod(key.hashCode, parts))
          counts(k) += rows
        }
      }
      assert(counts == Map(Some(7L) -> 5L, None -> 3L, Some(9L) -> 1L), s"$parts partitions")
      if (parts == 1) assert(records.length == 3) // 9 rows, at most 4 a record
    }
    // Strings keys work the same; an empty input gives no records.
    val named = GroupShuffle.mapSide(
      plan,
      Seq(StringType, DoubleType, DoubleType),
      Left(Iterator(InternalRow(UTF8String.fromString("a"), 1.0, 2.0))),
      2
    )
    assert(named.length == 1)
    assert(GroupShuffle.mapSide(plan, Seq(StringType), Left(Iterator.empty), 2).isEmpty)
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }
}
