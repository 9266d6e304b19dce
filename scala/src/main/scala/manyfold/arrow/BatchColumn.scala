package manyfold.arrow

/**
 * A column of an input batch and its role, which the native side finds it by (the field metadata
 * key [[BatchColumn.RoleKey]]; docs/native-interface.md). The name is the user's column name, so
 * that native errors can name it.
 */
final case class BatchColumn(name: String, role: String)

object BatchColumn {

  /** The Arrow field metadata key holding the role. */
  val RoleKey = "manyfold.role"

  /** Int32, not null: the group index within a training call. */
  val Group = "group"

  /** Int32, nullable: the index into the model set of a prediction call. */
  val Model = "model"
  val Label = "label"
  val Weight = "weight"

  /** A feature; features keep their order. */
  val Feature = "feature"

  /** A time value; the native canonical row order sorts by it first. */
  val Time = "time"
  val Fold = "fold"

  def label(name: String): BatchColumn = BatchColumn(name, Label)
  def weight(name: String): BatchColumn = BatchColumn(name, Weight)
  def time(name: String): BatchColumn = BatchColumn(name, Time)
  def features(names: Seq[String]): Seq[BatchColumn] = names.map(BatchColumn(_, Feature))
}
