"""Single models from Python against scikit-learn on the same data, against the same Scala stage
driven through py4j, and their coefficients as numpy / pyspark.ml vectors."""

import numpy as np
import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator, RegressionEvaluator
from pyspark.ml.linalg import DenseMatrix, DenseVector, Vectors
from sklearn.cluster import KMeans as SkKMeans
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.linear_model import PoissonRegressor
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC as SkSVC

from conftest import FEATURES
from manyfold.ml import (
    SVC,
    GeneralizedLinearRegression,
    KMeans,
    KMeansModel,
    LinearRegression,
    LinearRegressionModel,
    LogisticRegression,
    NaiveBayes,
    SVCModel,
)


@pytest.fixture(scope="module")
def one_group(linear_pdf):
    return linear_pdf[linear_pdf.g == "b"].reset_index(drop=True)


def test_linear_regression_matches_scikit_learn(spark, one_group):
    df = spark.createDataFrame(one_group)
    model = LinearRegression(inputCols=FEATURES, labelCol="y").fit(df)
    reference = SkLinearRegression().fit(one_group[FEATURES], one_group["y"])
    assert isinstance(model, LinearRegressionModel)
    assert isinstance(model.coefficients, DenseVector)
    assert isinstance(model.coefficients.toArray(), np.ndarray)
    np.testing.assert_allclose(model.coefficients.toArray(), reference.coef_, atol=1e-9)
    assert model.intercept == pytest.approx(reference.intercept_, abs=1e-9)
    assert model.featureNames == FEATURES
    assert model.numFeatures == 3
    out = model.transform(df).toPandas()
    np.testing.assert_allclose(out["prediction"], reference.predict(one_group[FEATURES]),
                               atol=1e-9)
    # One vector through predict, as pyspark's regression models offer it.
    x = one_group.loc[0, FEATURES].to_numpy(dtype=float)
    assert model.predict(Vectors.dense(x)) == pytest.approx(out["prediction"][0], abs=1e-12)
    rmse = RegressionEvaluator(labelCol="y", metricName="rmse").evaluate(out_df(model, df))
    assert rmse < 0.2


def out_df(model, df):
    return model.transform(df)


def test_python_and_scala_fit_the_same_model(spark, one_group):
    df = spark.createDataFrame(one_group)
    py_model = LinearRegression(inputCols=FEATURES, labelCol="y", regParam=0.3,
                                elasticNetParam=0.5).fit(df)
    jvm = spark.sparkContext._jvm
    strings = spark.sparkContext._gateway.new_array(jvm.java.lang.String, len(FEATURES))
    for i, f in enumerate(FEATURES):
        strings[i] = f
    java_model = (jvm.manyfold.ml.regression.LinearRegression().setInputCols(strings)
                  .setLabelCol("y").setRegParam(0.3).setElasticNetParam(0.5).fit(df._jdf))
    assert py_model.modelBytes == bytes(java_model.modelBytes())
    assert list(py_model.coefficients) == list(java_model.coefficients().toArray())


def test_vector_features_and_model_bytes_round_trip(spark, one_group):
    from pyspark.ml.feature import VectorAssembler

    df = VectorAssembler(inputCols=FEATURES, outputCol="features").transform(
        spark.createDataFrame(one_group))
    model = LinearRegression(labelCol="y").fit(df)
    assert model.featureNames == ["features[0]", "features[1]", "features[2]"]
    copy = LinearRegressionModel.fromBytes(model.modelBytes)
    assert list(copy.coefficients) == list(model.coefficients)
    assert copy.getFeaturesCol() == "features"
    a = model.transform(df).select("prediction").toPandas()
    b = copy.transform(df).select("prediction").toPandas()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(Exception, match="not a linear model|logistic"):
        from manyfold.ml import LogisticRegressionModel

        LinearRegressionModel.fromBytes(
            LogisticRegressionModel.fromBytes(
                LogisticRegression(labelCol="y").fit(
                    df.withColumn("y", (df.y > 0).cast("double"))).modelBytes
            ).modelBytes
        )
    with pytest.raises(TypeError):
        LinearRegressionModel.fromBytes("not bytes")


def test_logistic_regression_matches_scikit_learn(spark, binary_pdf, binary_df):
    model = LogisticRegression(inputCols=["x0", "x1"], labelCol="y", tol=1e-10).fit(binary_df)
    reference = SkLogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(
        binary_pdf[["x0", "x1"]], binary_pdf["y"])
    np.testing.assert_allclose(model.coefficients.toArray(), reference.coef_[0], atol=1e-4)
    assert model.intercept == pytest.approx(reference.intercept_[0], abs=1e-4)
    assert isinstance(model.coefficientMatrix, DenseMatrix)
    assert model.classes == [0.0, 1.0]
    assert model.numClasses == 2 and not model.isMultinomial and model.converged
    out = model.transform(binary_df)
    probability = np.array([r.probability[1] for r in out.select("probability").collect()])
    np.testing.assert_allclose(probability,
                               reference.predict_proba(binary_pdf[["x0", "x1"]])[:, 1], atol=1e-5)
    auc = BinaryClassificationEvaluator(labelCol="y").evaluate(out)
    assert 0.7 < auc <= 1.0
    one = model.predictProbability(Vectors.dense(binary_pdf.loc[0, ["x0", "x1"]].to_numpy()))
    assert one[1] == pytest.approx(probability[0], abs=1e-12)


def test_naive_bayes_matches_scikit_learn(spark, binary_pdf, binary_df):
    model = NaiveBayes(inputCols=["x0", "x1"], labelCol="y").fit(binary_df)
    reference = GaussianNB().fit(binary_pdf[["x0", "x1"]], binary_pdf["y"])
    np.testing.assert_allclose(model.theta.toArray(), reference.theta_, atol=1e-10)
    np.testing.assert_allclose(model.sigma.toArray(), reference.var_, rtol=1e-8)
    np.testing.assert_allclose(np.exp(model.pi.toArray()), reference.class_prior_, atol=1e-12)


def test_svc_matches_scikit_learn(spark, binary_pdf, binary_df):
    model = SVC(inputCols=["x0", "x1"], labelCol="y", kernel="linear", cost=0.5).fit(binary_df)
    reference = SkSVC(kernel="linear", C=0.5).fit(binary_pdf[["x0", "x1"]], binary_pdf["y"])
    assert isinstance(model, SVCModel)
    assert model.supportCounts == list(reference.n_support_)
    predicted = model.transform(binary_df).select("prediction").toPandas()["prediction"]
    np.testing.assert_array_equal(predicted, reference.predict(binary_pdf[["x0", "x1"]]))
    assert "probability" not in model.transform(binary_df).columns
    assert model.getKernel() == "linear" and model.getCost() == 0.5


def test_glm_poisson_matches_scikit_learn(spark):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 2))
    y = rng.poisson(np.exp(0.3 * x[:, 0] - 0.2 * x[:, 1] + 0.5)).astype(float)
    import pandas as pd

    pdf = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y})
    model = GeneralizedLinearRegression(inputCols=["a", "b"], labelCol="y", family="poisson",
                                        tol=1e-10).fit(spark.createDataFrame(pdf))
    reference = PoissonRegressor(alpha=0.0, tol=1e-10, max_iter=1000).fit(pdf[["a", "b"]], y)
    np.testing.assert_allclose(model.coefficients.toArray(), reference.coef_, atol=1e-6)
    assert model.intercept == pytest.approx(reference.intercept_, abs=1e-6)
    assert model.getLink() == "log" and model.converged


def test_kmeans_centers_and_inertia(spark, binary_pdf, binary_df):
    model = KMeans(inputCols=["x0", "x1"], k=3, seed=11).fit(binary_df)
    assert isinstance(model, KMeansModel)
    centers = model.clusterCenters()
    assert len(centers) == 3 and all(isinstance(c, np.ndarray) for c in centers)
    out = model.transform(binary_df).toPandas()
    assert str(out["prediction"].dtype).startswith("int")
    x = binary_pdf[["x0", "x1"]].to_numpy()
    dist = ((x[:, None, :] - np.array(centers)[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(out["prediction"], dist.argmin(axis=1))
    assert model.trainingCost == pytest.approx(dist.min(axis=1).sum(), rel=1e-10)
    # Lloyd's fixed point: scikit-learn started from these centers stays there.
    reference = SkKMeans(n_clusters=3, init=np.array(centers), n_init=1).fit(x)
    np.testing.assert_allclose(reference.cluster_centers_, np.array(centers), atol=1e-6)


def test_save_and_load_estimators_and_models(spark, tmp_path, one_group):
    df = spark.createDataFrame(one_group)
    lr = LinearRegression(inputCols=FEATURES, labelCol="y", regParam=0.2, weightCol="x0")
    lr.write().overwrite().save(str(tmp_path / "est"))
    loaded = LinearRegression.load(str(tmp_path / "est"))
    assert isinstance(loaded, LinearRegression) and loaded.uid == lr.uid
    assert loaded.getRegParam() == 0.2 and loaded.getInputCols() == FEATURES
    assert loaded.getWeightCol() == "x0"
    model = LinearRegression(inputCols=FEATURES, labelCol="y").fit(df)
    model.write().overwrite().save(str(tmp_path / "model"))
    again = LinearRegressionModel.load(str(tmp_path / "model"))
    assert again.modelBytes == model.modelBytes and again.getInputCols() == FEATURES
    # Saved from Python, loaded by Scala: the same format.
    jvm = spark.sparkContext._jvm
    java_model = jvm.manyfold.ml.regression.LinearRegressionModel.load(str(tmp_path / "model"))
    assert bytes(java_model.modelBytes()) == model.modelBytes
    svc = SVC(inputCols=["x0"], gamma=0.25, seed=-3)
    svc.save(str(tmp_path / "svc"))
    assert SVC.load(str(tmp_path / "svc")).getGamma() == "0.25"
    assert SVC.load(str(tmp_path / "svc")).getSeed() == -3
