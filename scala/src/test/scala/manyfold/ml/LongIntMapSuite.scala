package manyfold.ml

import scala.util.Random

import org.scalatest.funsuite.AnyFunSuite

class LongIntMapSuite extends AnyFunSuite {

  test("gives what a HashMap gives, for keys in runs, strides, extremes and at random") {
    val random = new Random(7)
    val keys = (0L until 3000L) ++ (0L until 3000L).map(_ * 1024) ++
      Seq(Long.MinValue, Long.MaxValue, -1L, 0L) ++ Seq.fill(3000)(random.nextLong())
    val map = new LongIntMap
    val reference = scala.collection.mutable.HashMap.empty[Long, Int]
    keys.zipWithIndex.foreach { case (k, i) =>
      map.update(k, i)
      reference(k) = i // a repeated key takes its latest value
    }
    assert(map.size == reference.size)
    reference.foreach { case (k, v) => assert(map.getOrElse(k, -1) == v, s"key $k") }
    val absent = Seq.fill(3000)(random.nextLong()).filterNot(reference.contains) ++
      Seq(3000L, -2L, 3000L * 1024)
    absent.foreach(k => assert(map.getOrElse(k, -7) == -7, s"key $k"))
  }

  test("clear forgets every key and the map fills again") {
    val map = new LongIntMap
    (0L until 500L).foreach(k => map.update(k, k.toInt))
    map.clear()
    assert(map.size == 0)
    assert((0L until 500L).forall(k => map.getOrElse(k, -1) == -1))
    map.update(42L, 1)
    map.update(-42L, 0)
    assert(map.size == 2 && map.getOrElse(42L, -1) == 1 && map.getOrElse(-42L, -1) == 0)
  }

  test("a negative value is refused: -1 marks an empty slot") {
    val e = intercept[IllegalArgumentException](new LongIntMap().update(1L, -1))
    assert(e.getMessage.contains("must be >= 0"))
  }
}
