package org.apache.spark

/** Test access to Spark's listener bus, which is `private[spark]`. */
object ListenerBusAccess {

  /** Waits until every event posted so far has reached the listeners. */
  def drain(sc: SparkContext): Unit = sc.listenerBus.waitUntilEmpty()
}
