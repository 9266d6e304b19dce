# Databricks notebook source
# MAGIC %md
# MAGIC # Many models from PySpark: `applyInPandas` + scikit-learn, and the manyfold line
# MAGIC
# MAGIC One linear regression per store. The usual PySpark recipe trains each store's model with
# MAGIC scikit-learn inside `groupBy(...).applyInPandas(...)` and predicts with a pandas UDF; with
# MAGIC manyfold, `Grouped(LinearRegression(...)).fit(df)` trains every store natively in Spark's
# MAGIC own tasks (no Python worker) and `transform` predicts. Both are run here on the same data
# MAGIC and their coefficients and predictions compared.
# MAGIC
# MAGIC **Setup.** Databricks: install manyfold's jar as a cluster library (Compute > cluster >
# MAGIC Libraries > Install new > JAR; `manyfold.jar_path()` shows where pip put it) and the
# MAGIC `manyfold` wheel as a PyPI or workspace library. Elsewhere: `pip install manyfold` and
# MAGIC start Spark with `manyfold.configure(SparkSession.builder)`; as a plain script this
# MAGIC notebook does that itself.

# COMMAND ----------

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

import manyfold
from manyfold.ml import Grouped, LinearRegression, LinearRegressionModel

try:
    spark  # noqa: B018 (a Databricks notebook has one)
except NameError:
    spark = manyfold.session("manyfold-many-models")
manyfold.check_jar(spark)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Data: 40 stores, each with its own price and promotion effect

# COMMAND ----------

stores, rows_per_store = 40, 200
g = (F.col("id") / rows_per_store).cast("int")
sales = (
    spark.range(0, stores * rows_per_store, 1, 4)
    .select(
        F.format_string("store-%03d", g).alias("store"),
        (F.rand(1) * 10).alias("price"),
        F.rand(2).alias("promo"),
        (1.0 + (g % 10) * 0.5).alias("slope"),
        (-2.0 + (g % 4)).alias("promo_effect"),
    )
    .withColumn("sales", F.col("slope") * F.col("price") + F.col("promo_effect") * F.col("promo")
                + 5.0 + F.randn(3) * 0.5)
    .select("store", "price", "promo", "sales")
    .cache()
)
features = ["price", "promo"]

# COMMAND ----------

# MAGIC %md
# MAGIC ## Before: `applyInPandas` + scikit-learn per store

# COMMAND ----------


def train_store(pdf: pd.DataFrame) -> pd.DataFrame:
    from sklearn.linear_model import LinearRegression as SkLinearRegression

    model = SkLinearRegression().fit(pdf[features], pdf["sales"])
    return pd.DataFrame({"store": [pdf["store"].iloc[0]], "c_price": [model.coef_[0]],
                         "c_promo": [model.coef_[1]], "intercept": [model.intercept_]})


sklearn_models = (
    sales.groupBy("store")
    .applyInPandas(train_store, "store string, c_price double, c_promo double, intercept double")
    .toPandas()
    .set_index("store")
    .sort_index()
)

# COMMAND ----------

# MAGIC %md
# MAGIC ## After: one manyfold line

# COMMAND ----------

model = Grouped(LinearRegression(inputCols=features, labelCol="sales"),
                groupCols=["store"]).fit(sales)

# COMMAND ----------

model.models.orderBy("store").select("store", "rows", "rmse", "r2", "status").show(5)

# COMMAND ----------

# MAGIC %md
# MAGIC ## The same coefficients
# MAGIC
# MAGIC Each store's model is a `LinearRegressionModel`; its coefficients come as a pyspark
# MAGIC `DenseVector` (`.toArray()` is numpy).

# COMMAND ----------

table = model.models.select("store", "model").toPandas().set_index("store").sort_index()
per_store = [LinearRegressionModel.fromBytes(bytes(b)) for b in table["model"]]
manyfold_models = pd.DataFrame(
    [list(m.coefficients) + [m.intercept] for m in per_store],
    index=table.index,
    columns=["c_price", "c_promo", "intercept"],
)
worst = (manyfold_models - sklearn_models).abs().to_numpy().max()
print("stores: %d, largest coefficient difference from scikit-learn: %.2e"
      % (len(manyfold_models), worst))
assert list(manyfold_models.index) == list(sklearn_models.index)
assert worst < 1e-8
one = model.model("store-007")
print("store-007:", one.coefficients, one.intercept)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Inference. Before: a pandas UDF with the scikit-learn models broadcast

# COMMAND ----------

coefficients = spark.sparkContext.broadcast(sklearn_models.to_dict("index"))


@F.pandas_udf("double")
def predict_udf(store: pd.Series, price: pd.Series, promo: pd.Series) -> pd.Series:
    c = pd.DataFrame([coefficients.value[s] for s in store])
    return (c["c_price"].to_numpy() * price + c["c_promo"].to_numpy() * promo
            + c["intercept"].to_numpy())


before = sales.withColumn("prediction", predict_udf("store", "price", "promo"))

# COMMAND ----------

# MAGIC %md
# MAGIC ## After: `transform`, each row predicted by its store's model

# COMMAND ----------

after = model.transform(sales)

# COMMAND ----------

compared = (
    before.select("store", "price", "promo", F.col("prediction").alias("udf"))
    .join(after.select("store", "price", "promo", F.col("prediction").alias("manyfold")),
          ["store", "price", "promo"])
    .toPandas()
)
difference = np.abs(compared["udf"] - compared["manyfold"]).max()
print("rows compared: %d, largest prediction difference: %.2e" % (len(compared), difference))
assert len(compared) == stores * rows_per_store
assert difference < 1e-8
