//! The model format: a fixed header (magic, format version, algorithm, payload encoding,
//! payload length, CRC-32) followed by a JSON payload. Decoding checks every header field
//! against the bytes actually present before it allocates anything, verifies the checksum so
//! that a flipped digit is an error rather than a silently different model, and refuses unknown
//! fields. Nothing in a model is executed. Layout: docs/native-interface.md.

use serde::{Deserialize, Serialize};

use crate::algo::Algorithm;
use crate::error::{Error, Result};
use crate::registry::{self, AnyModel, Trained};

const MAGIC: &[u8; 4] = b"MNFD";
/// The format version this release writes. Older versions must keep decoding.
///
/// - 1: the first release (linear, logistic).
/// - 2: payloads may hold fields version 1 did not know (logistic's `converged`, new
///   algorithms); the header is unchanged. A version-1 reader refuses version 2 by its number.
pub const FORMAT_VERSION: u16 = 2;
const ENCODING_JSON: u8 = 1;
const HEADER_LEN: usize = 16;

/// A model with the names of the features it was trained on: what the bytes hold.
#[derive(Debug)]
pub struct StoredModel {
    pub feature_names: Vec<String>,
    pub model: Box<dyn AnyModel>,
}

impl PartialEq for StoredModel {
    fn eq(&self, other: &Self) -> bool {
        self.feature_names == other.feature_names && self.model.dyn_eq(other.model.as_ref())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Payload<M> {
    feature_names: Vec<String>,
    model: M,
}

/// The JSON payload of a model.
///
/// # Errors
/// `Numerical` if serialization fails.
pub(crate) fn to_payload<M: Serialize>(feature_names: &[String], model: &M) -> Result<Vec<u8>> {
    let payload = Payload { feature_names: feature_names.to_vec(), model };
    serde_json::to_vec(&payload).map_err(|e| Error::numerical(format!("cannot encode model: {e}")))
}

/// Parses a JSON payload, unknown fields refused.
///
/// # Errors
/// `Model` for a payload that does not parse as `M`.
pub(crate) fn from_payload<M: serde::de::DeserializeOwned>(
    payload: &[u8],
) -> Result<(Vec<String>, M)> {
    let p: Payload<M> =
        serde_json::from_slice(payload).map_err(|e| Error::model(format!("bad payload: {e}")))?;
    Ok((p.feature_names, p.model))
}

impl StoredModel {
    /// A stored model of algorithm `A`.
    pub fn new<A: Algorithm>(feature_names: Vec<String>, model: A::Model) -> Self {
        StoredModel { feature_names, model: Box::new(Trained::<A>(model)) }
    }

    /// The typed model, if it is one of algorithm `A`.
    pub fn get<A: Algorithm>(&self) -> Option<&A::Model> {
        self.model.as_any().downcast_ref::<Trained<A>>().map(|t| &t.0)
    }

    /// Encodes the model. Deterministic: the same model gives the same bytes.
    ///
    /// # Errors
    /// `Numerical` if the model holds a non-finite number (JSON cannot carry it, and such a
    /// model would predict garbage).
    pub fn encode(&self) -> Result<Vec<u8>> {
        if !self.model.is_finite() {
            return Err(Error::numerical("the fitted model holds NaN or infinite values"));
        }
        let payload = self.model.payload(&self.feature_names)?;
        let len =
            u32::try_from(payload.len()).map_err(|_| Error::model("payload larger than 4 GiB"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(self.model.code());
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
                "unsupported format version {version} (this release reads 1 to {FORMAT_VERSION}; \
                 a newer manyfold wrote it)"
            )));
        }
        let code = bytes[6];
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
        let algorithm = registry::by_code(code).ok_or_else(|| {
            Error::model(format!("unknown algorithm code {code} (written by a newer manyfold?)"))
        })?;
        let (feature_names, model) = algorithm.decode(payload)?;
        Ok(StoredModel { feature_names, model })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::linear::{Linear, LinearModel, LinearParams};
    use crate::algo::logistic::{Logistic, LogisticModel, LogisticParams};

    fn linear_model() -> LinearModel {
        LinearModel {
            params: LinearParams::default(),
            coefficients: vec![2.5, -0.1],
            intercept: 0.25,
            iterations: 0,
            converged: true,
        }
    }

    fn linear() -> StoredModel {
        StoredModel::new::<Linear>(vec!["x".into(), "z".into()], linear_model())
    }

    fn logistic() -> StoredModel {
        StoredModel::new::<Logistic>(
            vec!["a".into()],
            LogisticModel {
                params: LogisticParams::default(),
                classes: vec![0.0, 1.0, 2.0],
                coefficients: vec![vec![1.0], vec![0.0], vec![-1.0]],
                intercepts: vec![0.1, 0.2, -0.3],
                iterations: 7,
                converged: false,
            },
        )
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
        b[4..6].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let e = StoredModel::decode(&b).unwrap_err();
        assert!(e.to_string().contains(&format!("version {}", FORMAT_VERSION + 1)), "{e}");
    }

    #[test]
    fn non_finite_coefficients_are_not_encoded() {
        let mut l = linear_model();
        l.coefficients[0] = f64::NAN;
        let m = StoredModel::new::<Linear>(vec!["x".into(), "z".into()], l);
        assert!(matches!(m.encode().unwrap_err(), Error::Numerical { .. }));
    }
}
