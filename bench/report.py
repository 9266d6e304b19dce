"""Turns the measurements (results.json) into the markdown table, the targets and the chart."""

import statistics

METHODS = [
    ("manyfold", "manyfold"),
    ("apply_in_pandas", "applyInPandas + sklearn"),
    ("jvm_floor", "JVM groupBy floor"),
    ("native_floor", "native floor (Rust)"),
]

MB = 1e6


def summarize(times):
    """Median and spread of the timed repeats."""
    ts = sorted(times)
    q = statistics.quantiles(ts, n=4, method="inclusive") if len(ts) > 1 else [ts[0]] * 3
    return {"times_s": times, "median_s": statistics.median(ts), "min_s": ts[0],
            "max_s": ts[-1], "iqr_s": q[2] - q[0]}


def ratios(case):
    m = case["methods"]
    med = {k: v["median_s"] for k, v in m.items() if v.get("median_s")}
    out = {}
    if "manyfold" in med:
        if "apply_in_pandas" in med:
            out["speedup_vs_apply_in_pandas"] = med["apply_in_pandas"] / med["manyfold"]
        if "jvm_floor" in med:
            out["manyfold_over_jvm_floor"] = med["manyfold"] / med["jvm_floor"]
        if "native_floor" in med:
            out["manyfold_over_native_floor"] = med["manyfold"] / med["native_floor"]
    return out


def targets(cases, svc=None):
    """The grouped-training targets (issues 3, 6 and 8): (description, measured, met)."""
    by = {c["name"]: c for c in cases}
    out = []

    def add(name, text, key, limit, at_least):
        """A target; `limit` None: a figure to report, with nothing to meet."""
        value = by.get(name, {}).get("ratios", {}).get(key)
        met = None if value is None or limit is None else (
            value >= limit if at_least else value <= limit)
        out.append({"target": text, "value": value, "met": met, "reported": limit is None})

    # Issue 8's grouped-training targets (they replace issue 3's 20x and 2x-the-floor ones).
    add("linear_10k", "many models linear, 10,000 x 100 x 5: >= 40x faster than applyInPandas",
        "speedup_vs_apply_in_pandas", 40, True)
    add("linear_10k", "many models linear, 10,000 x 100 x 5: faster than the JVM groupBy floor "
        "(manyfold / floor < 1)", "manyfold_over_jvm_floor", 1, False)
    add("linear_1k", "many models linear, 1,000 x 1,000 x 5: >= 10x faster than applyInPandas",
        "speedup_vs_apply_in_pandas", 10, True)
    add("logistic_1k", "many models logistic, 1,000 x 1,000 x 10: >= 5x faster than "
        "applyInPandas", "speedup_vs_apply_in_pandas", 5, True)
    add("svc_1k", "SVC rbf with probability, 1,000 groups x 200 x 10: >= 10x faster than "
        "applyInPandas", "speedup_vs_apply_in_pandas", 10, True)
    add("enet_1k", "elastic net, 1,000 groups x 1,000 x 20: >= 5x faster than applyInPandas",
        "speedup_vs_apply_in_pandas", 5, True)
    add("enet_1k", "elastic net, 1,000 groups: ratio to the JVM groupBy floor (reported)",
        "manyfold_over_jvm_floor", None, False)
    if svc:
        value = svc["single"]["manyfold_over_sklearn"]
        out.append({"target": "one SVC fit (rbf, 2,000 x 20, C = 1): at most 1.0x scikit-learn's "
                              "SVC.fit time, same decision values",
                    "value": value, "met": value <= 1.0 and svc["decision_max_gap"] <= 1e-3})
    mem = by.get("memory_1m", {}).get("memory", {})
    raw = mem.get("raw_bytes")
    worst = mem.get("peak_above_idle_over_raw")
    first = mem.get("first_fit_above_idle_bytes")
    for text, value in [
        ("one group of 1,000,000 rows x 10 features: peak RSS above idle <= 2x the raw data "
         "(80 MB) on the first fit", None if first is None or not raw else first / raw),
        ("one group of 1,000,000 rows x 10 features: peak RSS above idle <= 2x the raw data "
         "(80 MB) on every fit", worst),
    ]:
        out.append({"target": text, "value": value, "met": None if value is None else value <= 2.0})
    return out


# (case, peer, least ratio of the peer's time to manyfold's, strictly above it when True)
TUNING_TARGETS = [
    ("logistic_cv", "spark_cv", "Spark ML CrossValidator(parallelism=2)", 20, False),
    ("logistic_cv", "joblib_spark", "joblib-spark + GridSearchCV", 5, False),
    ("logistic_cv", "sklearn_local", "GridSearchCV(n_jobs=2) locally", 1, True),
    ("svc_grid", "sklearn_local", "GridSearchCV(n_jobs=2) locally", 1, True),
    ("svc_grid", "joblib_spark", "joblib-spark + GridSearchCV", 5, False),
    ("ts_cv_groups", "apply_in_pandas_ts", "applyInPandas + GridSearchCV(TimeSeriesSplit)", 10,
     False),
]


def tuning_targets(searches):
    """The search targets: (description, measured, met)."""
    by = {c["name"]: c for c in searches}
    out = []
    for name, peer, text, limit, strict in TUNING_TARGETS:
        if name not in by:
            continue
        value = by[name]["ratios"].get(f"{peer}_over_manyfold")
        met = None if value is None else (value > limit if strict else value >= limit)
        out.append({"target": f"{name}: {'more than' if strict else 'at least'} {limit}x "
                              f"faster than {text}", "value": value, "met": met})
    return out


def tuning_markdown(searches):
    """The searches' times, ratios and results, as markdown lines."""
    if not searches:
        return []
    lines = ["", "## Hyperparameter searches", "",
             "Times are medians (min–max) of at most 3 warm repeats; ratios are the peer's time "
             "÷ manyfold's. Every method uses the same folds and refits the best set.", "",
             "| case | shape | method | time | peer ÷ manyfold | best mean metric | best set |",
             "|---|---|---|---|---|---|---|"]
    for c in searches:
        q = c["quality"]
        for k, method in enumerate(["manyfold"] + c["peers"]):
            ratio = c["ratios"].get(f"{method}_over_manyfold")
            if "best_mean" in q:
                best = f"{q['best_mean'][method]:.4f}"
                params = ", ".join(f"{k2}={v}" for k2, v in q["best_params"][method].items())
            else:
                best = params = "(per store)"
            lines.append(f"| {c['name'] if k == 0 else ''} | {c['shape'] if k == 0 else ''} | "
                         f"{method} | {_cell(c['methods'].get(method))} | {_x(ratio)} | "
                         f"{best} | {params} |")
    lines += [""]
    for c in searches:
        q = c["quality"]
        if "agreement" in q:
            gap = q["best_rmse_max_rel_diff"]
            lines.append(f"- {c['name']}: {q['agreement']:.1%} of {q['stores']} stores pick the "
                         f"same regParam as scikit-learn ({q['disagreements_not_ties']} "
                         f"disagreements that are not ties); where they agree, the best mean "
                         f"RMSE is within {'–' if gap is None else f'{gap:.2g}'} (relative).")
        else:
            lines.append(f"- {c['name']}: manyfold's best mean {c['metric']} is "
                         f"{q['best_gap_vs_sklearn_local']:.2g} from scikit-learn's; the largest "
                         f"gap over all sets is {q['max_set_gap_vs_sklearn_local']:.2g}.")
    return lines


def _inference_markdown(results):
    import inference

    return inference.markdown(results)


def _scale_markdown(res):
    import scale

    return scale.markdown(res)


def scale_targets(res):
    """The scale case (issue 8): it passes its checks on a 2 GB driver; its peak heap reported."""
    if not res:
        return []
    return [{"target": f"{res['groups']:,} groups trained, saved, loaded and scoring "
                       f"{res['score_rows']:,} rows on a {res['driver_memory']} driver",
             "value": None, "met": res["passed"], "reported": False},
            {"target": "peak heap over its manyfold phases (MB)",
             "value": res["peak_heap_mb"], "met": None, "reported": True}]


def _cell(m):
    if not m or m.get("median_s") is None:
        return "–"
    return f"{m['median_s']:.3g} s ({m['min_s']:.3g}–{m['max_s']:.3g})"


def _x(v, digits=3):
    return "–" if v is None else f"{v:.{digits}g}×"


def _mb(b):
    return "–" if b is None else f"{b / MB:,.0f} MB"


def markdown(res):
    lines = []
    env = res["environment"]
    lines += [
        f"# manyfold benchmark ({'smoke shapes, ' if res['smoke'] else ''}{res['date']})",
        "",
        f"Machine: {env['machine']}. Spark {env['spark']} `{env['master']}`, driver memory "
        f"{env['driver_memory']}, Java {env['java']}, Python {env['python']}, scikit-learn "
        f"{env['sklearn']}, pandas {env['pandas']}, pyarrow {env['pyarrow']}; Spark settings "
        + ", ".join(f"`{k}={v}`" for k, v in env["spark_conf"].items())
        + f". Load average (1 min) {res['load_average_start'][0]:.1f} at the start, "
        f"{res['load_average_end'][0]:.1f} at the end.",
        f"Command: `{res['command']}`. Each time is the median of {res['repeats']} warm repeats "
        "(after one untimed run), with min–max; the methods of a case take turns in each round. "
        "The machine is shared and noisy: read the ratios rather than the seconds.",
        "",
        "## Times",
        "",
        "| case | groups × rows × features | " + " | ".join(t for _, t in METHODS) + " |",
        "|---|---|" + "---|" * len(METHODS),
    ]
    for c in res["cases"]:
        shape = f"{c['groups']:,} × {c['rows']:,} × {c['features']}"
        cells = [_cell(c["methods"].get(k)) for k, _ in METHODS]
        lines.append(f"| {c['name']} ({c['algorithm']}) | {shape} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Ratios, quality, memory",
        "",
        "| case | speed-up vs applyInPandas | manyfold ÷ JVM floor | manyfold ÷ native floor | "
        "max abs Δ r2/accuracy vs sklearn | max rel Δ coefficients | peak RSS, manyfold (above idle) "
        "| peak RSS, applyInPandas JVM + Python workers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in res["cases"]:
        r, q = c["ratios"], c.get("quality") or {}
        mf, aip = c["methods"].get("manyfold", {}), c["methods"].get("apply_in_pandas", {})
        metric = "–" if not q else f"{q['metric_max_abs_diff']:.2g}"
        coef = "–" if "coef_max_rel_diff" not in q else f"{q['coef_max_rel_diff']:.2g}"
        mf_mem = f"{_mb(mf.get('jvm_peak_bytes'))} ({_mb(mf.get('jvm_peak_above_idle_bytes'))})"
        aip_mem = (f"{_mb(aip.get('jvm_peak_bytes'))} + {_mb(aip.get('workers_peak_bytes'))}"
                   if aip else "–")
        lines.append(
            f"| {c['name']} | {_x(r.get('speedup_vs_apply_in_pandas'))} | "
            f"{_x(r.get('manyfold_over_jvm_floor'))} | {_x(r.get('manyfold_over_native_floor'))} | "
            f"{metric} | {coef} | {mf_mem} | {aip_mem} |"
        )
    mem = next((c["memory"] for c in res["cases"] if c.get("memory")), None)
    if mem:
        lines += [
            "",
            f"Memory case: one group of {mem['raw_bytes'] / MB:,.0f} MB of raw features; idle "
            f"JVM {_mb(mem['idle_bytes'])}; peak above idle {_mb(mem['peak_above_idle_bytes'])} "
            f"= {mem['peak_above_idle_over_raw']:.2f}× the raw data (worst of "
            f"{len(mem['runs'])} fits, each after a full GC; first fit "
            f"{_mb(mem['first_fit_above_idle_bytes'])}, later fits up to "
            f"{_mb(mem['warm_fits_max_above_idle_bytes'])}; manyfold-core alone on the same "
            f"shape: {_mb(mem.get('native_peak_above_idle_bytes'))}).",
        ]
    svc = res.get("svc_single")
    if svc:
        lines += [
            "",
            "## One SVC fit and the recipe's grid, manyfold-core against scikit-learn's SVC",
            "",
            "| | manyfold | scikit-learn | ratio |",
            "|---|---|---|---|",
        ]
        for part, text in (("single", "one fit, rbf, 2,000 × 20, C = 1"),
                           ("grid", "48 fits (C × kernel × shrinking), 1,000 × 20, probability on")):
            t = svc[part]
            lines.append(f"| {text} | {t['manyfold_median_s']:.3g} s | "
                         f"{t['sklearn_median_s']:.3g} s | {t['manyfold_over_sklearn']:.2f}× |")
        lines += ["", f"Decision values of the single fit within {svc['decision_max_gap']:.2g} "
                      f"(relative) of scikit-learn {svc['sklearn_version']}'s; one thread each."]
    lines += _inference_markdown(res.get("inference", []))
    lines += tuning_markdown(res.get("tuning", []))
    lines += _scale_markdown(res.get("scale"))
    lines += ["", "## Targets", ""]
    if res["smoke"]:
        lines.append("(smoke shapes: the targets are about the full shapes and do not apply)")
        lines.append("")
    for t in res["targets"]:
        status = "not measured" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        if t.get("reported") and t["value"] is not None:
            status = "reported"
        if res["smoke"]:
            status = "n/a"
        value = "" if t["value"] is None else f" (measured {t['value']:.3g})"
        lines.append(f"- {t['target']}: **{status}**{value}")
    return "\n".join(lines) + "\n"


def chart(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = res["cases"]
    fig, (left, right, mem_ax) = plt.subplots(
        1, 3, figsize=(15, 5.2), gridspec_kw={"width_ratios": [3, 2, 1.2]})
    colors = ["#1b9e77", "#d95f02", "#7570b3", "#666666", "#e7298a"]
    width = 0.2
    for i, (key, title) in enumerate(METHODS):
        xs, meds, lo, hi = [], [], [], []
        for j, c in enumerate(cases):
            m = c["methods"].get(key)
            if m and m.get("median_s"):
                xs.append(j + (i - 1.5) * width)
                meds.append(m["median_s"])
                lo.append(m["median_s"] - m["min_s"])
                hi.append(m["max_s"] - m["median_s"])
        left.bar(xs, meds, width, yerr=[lo, hi], capsize=2, label=title, color=colors[i])
    left.set_yscale("log")
    left.set_xticks(range(len(cases)))
    left.set_xticklabels([f"{c['name']}\n{c['groups']:,}×{c['rows']:,}×{c['features']}"
                          for c in cases], fontsize=8)
    left.set_ylabel("seconds (median, min–max), log scale")
    left.set_title("time to train one model per group")
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4)
    left.grid(axis="y", alpha=0.3, which="both")

    named = [(c["name"], c["ratios"].get("speedup_vs_apply_in_pandas")) for c in cases]
    named = [(n, v) for n, v in named if v]
    goal = {"linear_10k": 40, "linear_1k": 10, "logistic_1k": 5, "svc_1k": 10, "enet_1k": 5}
    right.bar(range(len(named)), [v for _, v in named], color=colors[0])
    for k, (n, v) in enumerate(named):
        right.annotate(f"{v:.1f}×", (k, v), ha="center", va="bottom", fontsize=9)
        if n in goal:
            right.hlines(goal[n], k - 0.4, k + 0.4, colors="red", linestyles="--")
    right.set_xticks(range(len(named)))
    right.set_xticklabels([n for n, _ in named], fontsize=8)
    right.set_ylabel("applyInPandas time ÷ manyfold time")
    right.set_title("speed-up vs applyInPandas (red: target)")
    right.grid(axis="y", alpha=0.3)

    mem = next((c["memory"] for c in cases if c.get("memory")), None)
    if mem:
        bars = [("manyfold\n(Spark)", mem["peak_above_idle_bytes"]),
                ("manyfold-core\nalone", mem.get("native_peak_above_idle_bytes"))]
        bars = [(n, v / mem["raw_bytes"]) for n, v in bars if v is not None]
        mem_ax.bar(range(len(bars)), [v for _, v in bars], color=[colors[0], colors[3]])
        for k, (_, v) in enumerate(bars):
            mem_ax.annotate(f"{v:.1f}×", (k, v), ha="center", va="bottom", fontsize=9)
        mem_ax.axhline(2, color="red", linestyle="--")
        mem_ax.set_xticks(range(len(bars)))
        mem_ax.set_xticklabels([n for n, _ in bars], fontsize=8)
        mem_ax.set_ylabel("peak RSS above idle ÷ raw features")
        mem_ax.set_title(f"one group, {mem['raw_bytes'] / MB:,.0f} MB raw\n(red: target 2×)",
                         fontsize=10)
        mem_ax.grid(axis="y", alpha=0.3)
    else:
        mem_ax.set_visible(False)
    title = f"manyfold benchmark, {res['date']}, {res['environment']['machine']}"
    fig.suptitle(title + (" (smoke shapes)" if res["smoke"] else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
