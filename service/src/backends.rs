//! The service's two proving backends: Groth16 over BN254 (the keys directory,
//! loaded at startup) and halo2 with IPA over Pasta (no trusted setup: its keys are
//! derived from the circuit shape, once per process, when first needed).
//!
//! A job records its backend in its shape column ([`job_shape`]): a Groth16 job
//! keeps the plain shape id (as before halo2 jobs existed), a halo2 job has it
//! prefixed with `halo2-pasta:`. Since every claim is fenced by the shape string
//! ([`crate::store::Fence`]), a process claims only the tasks of a backend it
//! proves, and a binary that knows no halo2 never claims a halo2 task (its fence
//! has the plain shape). A halo2 job's `key_id` is the halo2 verifying key's hash,
//! so processes whose circuits differ (another release) take no part in it either.

use crate::ServiceError;
use crate::store::Fence;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::Backend;
use backstop_prover::halo2::Halo2Keys;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::OnceCell;

/// The prefix of a halo2 job's shape column.
const HALO2_SHAPE_PREFIX: &str = "halo2-pasta:";

/// The backend a submission names in `?backend=`: `groth16` (the default) or
/// `halo2` (their statement names, `groth16-bn254` and `halo2-pasta`, too).
pub fn parse_backend(value: &str) -> Result<Backend, String> {
    match value {
        "groth16" | "groth16-bn254" => Ok(Backend::Groth16Bn254),
        "halo2" | "halo2-pasta" => Ok(Backend::Halo2Pasta),
        other => Err(format!(
            "unknown backend {other:?}: expected groth16 or halo2"
        )),
    }
}

/// The shape column of a job of `backend` for `shape`.
pub fn job_shape(backend: Backend, shape: CircuitShape) -> String {
    match backend {
        Backend::Groth16Bn254 => shape.id(),
        Backend::Halo2Pasta => format!("{HALO2_SHAPE_PREFIX}{}", shape.id()),
    }
}

/// The backend and the plain shape id recorded in a job's shape column.
pub fn split_job_shape(stored: &str) -> (Backend, &str) {
    match stored.strip_prefix(HALO2_SHAPE_PREFIX) {
        Some(shape) => (Backend::Halo2Pasta, shape),
        None => (Backend::Groth16Bn254, stored),
    }
}

/// The halo2 keys of the service's shape, derived at most once per process.
#[derive(Debug)]
pub struct Halo2Slot {
    params_dir: PathBuf,
    shape: CircuitShape,
    keys: OnceCell<Arc<Halo2Keys>>,
}

impl Halo2Slot {
    /// Nothing derived yet; the IPA parameters are cached in `params_dir`.
    pub fn new(params_dir: PathBuf, shape: CircuitShape) -> Self {
        Self {
            params_dir,
            shape,
            keys: OnceCell::new(),
        }
    }

    /// The keys, if derived.
    pub fn get(&self) -> Option<&Arc<Halo2Keys>> {
        self.keys.get()
    }

    /// The keys, derived now if they were not (seconds: the IPA parameters are
    /// loaded from the cache, or generated and cached, then the keys derived).
    /// Concurrent callers wait for one derivation; a failed one is tried again by
    /// the next caller.
    pub async fn keys(&self) -> Result<&Arc<Halo2Keys>, ServiceError> {
        self.keys
            .get_or_try_init(|| async {
                let (dir, shape) = (self.params_dir.clone(), self.shape);
                tracing::info!(shape = %shape.id(), params = %dir.display(), "deriving the halo2 keys (transparent: no trusted setup)");
                let started = Instant::now();
                let keys = tokio::task::spawn_blocking(move || Halo2Keys::load(&dir, shape))
                    .await
                    .map_err(|e| ServiceError::Task(e.to_string()))??;
                tracing::info!(
                    shape = %shape.id(),
                    k = keys.k(),
                    verifying_key_hash = keys.verifying_key_hash(),
                    seconds = started.elapsed().as_secs_f64(),
                    "halo2 keys derived"
                );
                Ok(Arc::new(keys))
            })
            .await
    }

    /// The shape column of this process's halo2 jobs.
    pub fn job_shape(&self) -> String {
        job_shape(Backend::Halo2Pasta, self.shape)
    }

    /// The fence of this process's halo2 jobs, once the keys are derived.
    pub fn fence(&self, secret_id: &str) -> Option<Fence> {
        self.get().map(|keys| Fence {
            shape: self.job_shape(),
            secret_id: secret_id.to_owned(),
            key_id: keys.verifying_key_hash().to_owned(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn job_shapes_name_their_backend() {
        let shape = CircuitShape::new(8, 2).unwrap();
        let g = job_shape(Backend::Groth16Bn254, shape);
        let h = job_shape(Backend::Halo2Pasta, shape);
        assert_eq!(g, shape.id());
        assert_ne!(g, h);
        assert_eq!(split_job_shape(&g), (Backend::Groth16Bn254, g.as_str()));
        assert_eq!(
            split_job_shape(&h),
            (Backend::Halo2Pasta, shape.id().as_str())
        );
    }

    #[test]
    fn backends_are_parsed_and_unknown_ones_named() {
        assert_eq!(parse_backend("groth16"), Ok(Backend::Groth16Bn254));
        assert_eq!(parse_backend("halo2"), Ok(Backend::Halo2Pasta));
        assert_eq!(parse_backend("halo2-pasta"), Ok(Backend::Halo2Pasta));
        let e = parse_backend("plonk").unwrap_err();
        assert!(e.contains("\"plonk\""), "{e}");
    }
}
