//! Where the prover gets the venue secret: a file, the environment, or the loudly
//! announced demo default (`docs/SPEC.md` §5.1).

use crate::error::ProverError;
use backstop_circuits::secret::VenueSecret;
use std::path::Path;

/// The environment variable holding the venue secret as 64 hex characters.
pub const SECRET_ENV: &str = "BACKSTOP_VENUE_SECRET";

/// Warning printed to stderr whenever the demo secret is used.
pub const DEMO_WARNING: &str = "WARNING: using the PUBLIC DEMO venue secret. Salts and chain \
blindings derived from it hide nothing: anyone can brute-force account data from the leaves. \
Give a real secret with --secret-file FILE or the BACKSTOP_VENUE_SECRET environment variable.";

/// Loads the secret: `--secret-file` first, then [`SECRET_ENV`], else the demo secret
/// (after printing [`DEMO_WARNING`] to stderr).
pub fn load(file: Option<&Path>) -> Result<VenueSecret, ProverError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| ProverError::io(path, e))?;
        return VenueSecret::from_hex(&text).map_err(|error| ProverError::Secret {
            source_name: path.display().to_string(),
            error,
        });
    }
    if let Ok(text) = std::env::var(SECRET_ENV) {
        return VenueSecret::from_hex(&text).map_err(|error| ProverError::Secret {
            source_name: SECRET_ENV.to_owned(),
            error,
        });
    }
    eprintln!("{DEMO_WARNING}");
    Ok(VenueSecret::demo())
}
