//! SVC as a registered algorithm: the adapter between the generic machinery and [`super::fit`].

use serde_json::json;

use super::{fit, SvcModel, SvcParams};
use crate::algo::{Algorithm, Convergence, FittedModel, GroupData, Prediction, Task};
use crate::error::Result;

/// The plug-in: `"svc"`, model code 3.
pub struct Svc;

impl Algorithm for Svc {
    const NAME: &'static str = "svc";
    const CODE: u8 = 3;
    const TASK: Task = Task::Classification;
    const WEIGHTS: bool = true;
    const ITERATIVE: bool = true;
    type Params = SvcParams;
    type Model = SvcModel;

    fn check(params: &SvcParams) -> Result<()> {
        params.validate()
    }

    fn fit(params: &SvcParams, data: &GroupData<'_>) -> Result<SvcModel> {
        let w = data.w();
        fit(data.x().view(), data.y()?.view(), w.as_ref().map(|w| w.view()), params)
    }
}

impl FittedModel for SvcModel {
    fn num_features(&self) -> usize {
        SvcModel::num_features(self)
    }
    fn is_finite(&self) -> bool {
        SvcModel::is_finite(self)
    }
    fn shapes_ok(&self, p: usize) -> bool {
        SvcModel::shapes_ok(self, p)
    }
    fn predict(&self, x: &[f64]) -> Prediction {
        let (label, raw, probability) = self.predict_row(x);
        Prediction::Class { label, raw, probability }
    }
    fn classes(&self) -> Option<&[f64]> {
        Some(&self.classes)
    }
    fn convergence(&self) -> Option<Convergence> {
        let iterations = u32::try_from(self.iterations).unwrap_or(u32::MAX);
        Some(Convergence { converged: self.converged, iterations })
    }
    /// The support vectors stay out of the description (they can be many); their count per
    /// class is there.
    fn describe(&self) -> Result<serde_json::Value> {
        Ok(json!({
            "classes": self.classes,
            "gamma": self.gamma,
            "supportCounts": self.support_counts,
            "intercepts": self.rho.iter().map(|r| -r).collect::<Vec<_>>(),
            "probability": !self.prob_a.is_empty(),
            "params": self.params,
        }))
    }
}
