package manyfold;

import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.SparkSessionExtensionsProvider;
import scala.runtime.BoxedUnit;

/**
 * Runs {@link Compat#check()} when Spark creates a session with the jar on its classpath (Spark
 * loads session extension providers from META-INF/services): a jar for the wrong Scala version
 * then shows in the driver's log at startup, as Spark's "Failed to load session extension"
 * warning with manyfold's message, before any stage is created (a stage of the wrong jar fails
 * when the JVM links its class, before any of its code can run). Written in Java, so that it
 * loads whichever Scala version is running.
 */
public final class CompatCheckProvider implements SparkSessionExtensionsProvider {
  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    Compat.check();
    return BoxedUnit.UNIT;
  }
}
