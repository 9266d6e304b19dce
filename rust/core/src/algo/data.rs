//! One group's training data as an algorithm sees it: column slices of the whole batch read
//! through the group's rows in canonical order. Nothing is copied until an algorithm asks for a
//! matrix; a cross-validation fit is the same view with the training rows of one fold.

use ndarray::{Array1, Array2};

use super::linalg::Columns;
use crate::error::{Error, Result};

/// The rows of one group (or one fold of it), in the order the fit must see them.
#[derive(Debug, Clone, Copy)]
pub struct GroupData<'a> {
    /// One slice per feature, indexed by batch row.
    pub features: &'a [&'a [f64]],
    pub feature_names: &'a [String],
    /// The label by batch row; `None` for unsupervised training.
    pub label: Option<&'a [f64]>,
    /// Sample weights by batch row (finite, >= 0, positive sum); `None` means all 1.
    pub weight: Option<&'a [f64]>,
    /// The batch rows of this group, in canonical order.
    pub rows: &'a [u32],
}

impl<'a> GroupData<'a> {
    /// Number of rows.
    pub fn n(&self) -> usize {
        self.rows.len()
    }

    /// Number of features.
    pub fn p(&self) -> usize {
        self.features.len()
    }

    /// The features gathered into an `n x p` row-major matrix (for algorithms that iterate many
    /// times over the rows; one-pass algorithms read [`GroupData::features`] in place).
    pub fn x(&self) -> Array2<f64> {
        let (rows, features) = (self.rows, self.features);
        Array2::from_shape_fn((rows.len(), features.len()), |(i, j)| features[j][rows[i] as usize])
    }

    /// The label slice.
    ///
    /// # Errors
    /// `Schema` when the batch has no label (a supervised algorithm fed an unsupervised batch).
    pub fn label(&self) -> Result<&'a [f64]> {
        self.label.ok_or_else(|| Error::schema("this algorithm needs a label column"))
    }

    /// The labels of the rows, in order.
    ///
    /// # Errors
    /// As [`GroupData::label`].
    pub fn y(&self) -> Result<Array1<f64>> {
        let label = self.label()?;
        Ok(self.rows.iter().map(|&r| label[r as usize]).collect())
    }

    /// The weights of the rows, in order, or `None` when unweighted.
    pub fn w(&self) -> Option<Array1<f64>> {
        self.weight.map(|w| self.rows.iter().map(|&r| w[r as usize]).collect())
    }

    /// Row access for the one-pass linear algebra of [`super::linalg`].
    pub(crate) fn columns(&self) -> Result<Columns<'a>> {
        Ok(Columns {
            features: self.features,
            label: self.label()?,
            weight: self.weight,
            order: self.rows,
        })
    }
}
