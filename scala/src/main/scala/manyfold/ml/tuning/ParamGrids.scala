package manyfold.ml.tuning

import org.apache.spark.ml.param.{DoubleParam, Param, ParamMap, Params}
import org.json4s.{JArray, JDouble, JInt, JObject}
import org.json4s.jackson.JsonMethods.{compact, parse, render}

/**
 * Parameter grids from JSON, for callers without Scala's `ParamGridBuilder` at hand (py4j, a
 * notebook's widgets): `ParamGrids.build(svc, """{"cost": [0.1, 1], "kernel": ["rbf"]}""")` gives
 * every combination, in the order of Spark's `ParamGridBuilder` with the params added in the JSON's
 * order.
 */
object ParamGrids {

  /**
   * @throws IllegalArgumentException
   *   for JSON that is not an object of non-empty arrays, a param the stage lacks, or a value the
   *   param refuses
   */
  def build(stage: Params, json: String): Array[ParamMap] = {
    val grid = parse(json) match {
      case JObject(fields) => fields
      case _ => throw new IllegalArgumentException(s"a grid is a JSON object of arrays: $json")
    }
    val axes = grid.map { case (name, values) =>
      require(
        stage.hasParam(name),
        s"the grid names '$name', which ${stage.getClass.getSimpleName} does not have"
      )
      val param = stage.getParam(name)
      val list = values match {
        case JArray(vs) if vs.nonEmpty => vs
        case _ =>
          throw new IllegalArgumentException(s"the grid's '$name' must be a non-empty array")
      }
      list.map { v =>
        val value =
          try {
            val number = (param: Param[_], v) match {
              case (_: DoubleParam, JInt(i)) => JDouble(i.toDouble)
              case _ => v
            }
            param.jsonDecode(compact(render(number)))
          } catch {
            case e: Exception =>
              throw new IllegalArgumentException(
                s"the grid's '$name' has a value ${compact(render(v))} it cannot take: " +
                  e.getMessage,
                e
              )
          }
        require(param.isValid(value), s"the grid's '$name' has an invalid value $value")
        (param, value)
      }
    }
    axes
      .foldLeft(Seq(ParamMap.empty)) { (maps, axis) =>
        // As Spark's ParamGridBuilder: the params added later vary slowest.
        for ((p, v) <- axis; m <- maps) yield m.copy.put(p, v)
      }
      .toArray
  }
}
