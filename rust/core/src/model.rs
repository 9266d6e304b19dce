//! The model format: a fixed header (magic, format version, algorithm, payload encoding,
//! payload length, CRC-32) followed by a JSON payload. Decoding checks every header field
//! against the bytes actually present before it allocates anything, verifies the checksum so
//! that a flipped digit is an error rather than a silently different model, and refuses unknown
//! fields. Nothing in a model is executed. Layout: docs/native-interface.md.

use serde::{Deserialize, Serialize};

use crate::algo::{LinearModel, LogisticModel};
use crate::error::{Error, Result};
use crate::params::Algorithm;

const MAGIC: &[u8; 4] = b"MNFD";
/// The format version this release writes. Older versions must keep decoding.
pub const FORMAT_VERSION: u16 = 1;
const ENCODING_JSON: u8 = 1;
const HEADER_LEN: usize = 16;

/// A fitted model of any algorithm.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    Linear(LinearModel),
    Logistic(LogisticModel),
}

impl Model {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Model::Linear(_) => Algorithm::Linear,
            Model::Logistic(_) => Algorithm::Logistic,
        }
    }

    /// Whether every fitted number is finite (serde_json would write NaN as null).
    pub fn is_finite(&self) -> bool {
        match self {
            Model::Linear(m) => {
                m.intercept.is_finite() && m.coefficients.iter().all(|v| v.is_finite())
            }
            Model::Logistic(m) => {
                m.intercepts.iter().chain(m.coefficients.iter().flatten()).all(|v| v.is_finite())
            }
        }
    }

    /// Number of features the model expects.
    pub fn num_features(&self) -> usize {
        match self {
            Model::Linear(m) => m.coefficients.len(),
            Model::Logistic(m) => m.coefficients.first().map_or(0, Vec::len),
        }
    }
}

/// A model with the names of the features it was trained on: what the bytes hold.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredModel {
    pub feature_names: Vec<String>,
    pub model: Model,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Payload<M> {
    feature_names: Vec<String>,
    model: M,
}

fn algorithm_code(a: Algorithm) -> u8 {
    match a {
        Algorithm::Linear => 1,
        Algorithm::Logistic => 2,
    }
}

impl StoredModel {
    /// Encodes the model. Deterministic: the same model gives the same bytes.
    ///
    /// # Errors
    /// `Numerical` if the model holds a non-finite number (JSON cannot carry it, and such a
    /// model would predict garbage).
    pub fn encode(&self) -> Result<Vec<u8>> {
        if !self.model.is_finite() {
            return Err(Error::numerical("the fitted model holds NaN or infinite values"));
        }
        let payload = match &self.model {
            Model::Linear(m) => to_json(&self.feature_names, m)?,
            Model::Logistic(m) => to_json(&self.feature_names, m)?,
        };
        let len =
            u32::try_from(payload.len()).map_err(|_| Error::model("payload larger than 4 GiB"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(algorithm_code(self.model.algorithm()));
        out.push(ENCODING_JSON);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Decodes model bytes written by this or an older release.
    ///
    /// # Errors
    /// `Model` for anything but a well-formed model: foreign bytes, truncation, trailing
    /// bytes, an unknown version, algorithm or encoding, a checksum mismatch, a bad payload.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::model(format!(
                "{} bytes is shorter than the {HEADER_LEN}-byte header (truncated?)",
                bytes.len()
            )));
        }
        if &bytes[0..4] != MAGIC {
            return Err(Error::model("not a manyfold model (bad magic bytes)"));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version == 0 || version > FORMAT_VERSION {
            return Err(Error::model(format!(
                "unsupported format version {version} (this release reads 1 to {FORMAT_VERSION})"
            )));
        }
        let algorithm = bytes[6];
        if bytes[7] != ENCODING_JSON {
            return Err(Error::model(format!("unknown payload encoding {}", bytes[7])));
        }
        let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        let crc = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let payload = &bytes[HEADER_LEN..];
        if payload.len() != len {
            return Err(Error::model(format!(
                "payload is {} bytes but the header says {len} (truncated or padded)",
                payload.len()
            )));
        }
        if crc32fast::hash(payload) != crc {
            return Err(Error::model("checksum mismatch (corrupt bytes)"));
        }
        match algorithm {
            1 => {
                let p: Payload<LinearModel> = from_json(payload)?;
                let model = Model::Linear(p.model);
                Self::checked(p.feature_names, model)
            }
            2 => {
                let p: Payload<LogisticModel> = from_json(payload)?;
                let model = Model::Logistic(p.model);
                Self::checked(p.feature_names, model)
            }
            other => Err(Error::model(format!("unknown algorithm code {other}"))),
        }
    }

    /// Shape checks a parsed payload must pass so that prediction can index without fear.
    fn checked(feature_names: Vec<String>, model: Model) -> Result<Self> {
        let p = feature_names.len();
        let ok = match &model {
            Model::Linear(m) => m.coefficients.len() == p,
            Model::Logistic(m) => {
                let rows = m.coefficients.len();
                let expected_rows = if m.classes.len() == 2 { 1 } else { m.classes.len() };
                m.classes.len() >= 2
                    && rows == expected_rows
                    && m.intercepts.len() == rows
                    && m.coefficients.iter().all(|r| r.len() == p)
            }
        };
        if !ok {
            return Err(Error::model("inconsistent shapes in the model payload"));
        }
        Ok(StoredModel { feature_names, model })
    }
}

fn to_json<M: Serialize>(feature_names: &[String], model: &M) -> Result<Vec<u8>> {
    let payload = Payload { feature_names: feature_names.to_vec(), model };
    serde_json::to_vec(&payload).map_err(|e| Error::numerical(format!("cannot encode model: {e}")))
}

fn from_json<M: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<Payload<M>> {
    serde_json::from_slice(payload).map_err(|e| Error::model(format!("bad payload: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{LinearParams, LogisticParams};

    fn linear() -> StoredModel {
        StoredModel {
            feature_names: vec!["x".into(), "z".into()],
            model: Model::Linear(LinearModel {
                params: LinearParams::default(),
                coefficients: vec![2.5, -0.1],
                intercept: 0.25,
            }),
        }
    }

    fn logistic() -> StoredModel {
        StoredModel {
            feature_names: vec!["a".into()],
            model: Model::Logistic(LogisticModel {
                params: LogisticParams::default(),
                classes: vec![0.0, 1.0, 2.0],
                coefficients: vec![vec![1.0], vec![0.0], vec![-1.0]],
                intercepts: vec![0.1, 0.2, -0.3],
                iterations: 7,
            }),
        }
    }

    #[test]
    fn round_trip_is_exact_and_deterministic() {
        for m in [linear(), logistic()] {
            let bytes = m.encode().unwrap();
            assert_eq!(bytes, m.encode().unwrap());
            assert_eq!(StoredModel::decode(&bytes).unwrap(), m);
        }
    }

    #[test]
    fn every_truncation_is_a_clean_error() {
        let bytes = logistic().encode().unwrap();
        for n in 0..bytes.len() {
            let e = StoredModel::decode(&bytes[..n]).unwrap_err();
            assert!(matches!(e, Error::Model { .. }), "{n}: {e:?}");
        }
    }

    #[test]
    fn every_flipped_byte_is_a_clean_error() {
        let bytes = linear().encode().unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            let e = StoredModel::decode(&b).unwrap_err();
            assert!(matches!(e, Error::Model { .. }), "{i}: {e:?}");
        }
    }

    #[test]
    fn huge_declared_length_does_not_allocate() {
        let mut b = linear().encode().unwrap();
        b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = StoredModel::decode(&b).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    #[test]
    fn foreign_bytes_and_future_versions_are_refused() {
        let e = StoredModel::decode(b"\x80\x04\x95 pickle, not a model").unwrap_err();
        assert!(e.to_string().contains("magic"), "{e}");
        let mut b = linear().encode().unwrap();
        b[4..6].copy_from_slice(&2u16.to_le_bytes());
        let e = StoredModel::decode(&b).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
    }

    #[test]
    fn non_finite_coefficients_are_not_encoded() {
        let mut m = linear();
        if let Model::Linear(l) = &mut m.model {
            l.coefficients[0] = f64::NAN;
        }
        assert!(matches!(m.encode().unwrap_err(), Error::Numerical { .. }));
    }
}
