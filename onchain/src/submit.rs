//! Submitting an epoch directory to a deployed `BackstopEpochs`.

use crate::client::{Client, Sent};
use crate::error::OnchainError;
use backstop_prover::export::onchain::abi::{Token, encode_call};
use backstop_prover::export::onchain::{
    finalize_calldata, submit_batches_calldata, submit_calldata,
};
use backstop_verifier::{read_groth16_epoch, verify_epoch_dir};
use std::path::Path;

/// How to submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `submitEpoch` in one transaction.
    Whole,
    /// `submitBatches` of at most this many batches each, then `finalizeEpoch`;
    /// resumes after the chunks the contract already verified (`nextBatch`).
    Chunks(usize),
}

/// Verifies the epoch directory off chain (so that nothing is paid for an epoch the
/// contract would refuse at its proofs), then submits it to `epochs`.
pub fn submit(
    client: &Client,
    epochs: [u8; 20],
    epoch_dir: &Path,
    mode: Mode,
) -> Result<Vec<Sent>, OnchainError> {
    verify_epoch_dir(epoch_dir, None)?;
    let epoch = read_groth16_epoch(epoch_dir)?;
    let id = epoch.statement.file().epoch;
    let k = epoch.proofs.len();
    match mode {
        Mode::Whole => {
            let data = submit_calldata(&epoch.statement, &epoch.proofs)?;
            Ok(vec![client.send(
                &format!("submitEpoch {id} ({k} batches)"),
                Some(epochs),
                data,
            )?])
        }
        Mode::Chunks(0) => Err(OnchainError::Refused(
            "a chunk holds at least one batch".into(),
        )),
        Mode::Chunks(size) => {
            // What the contract keys progress by: SPEC §7.5's statement hash.
            let hash = backstop_verifier::venue::statement_hash(&epoch.statement)?;
            let call = encode_call("nextBatch(bytes32)", &[Token::Word(hash)]);
            let answer = client.call(epochs, &call)?;
            let next = answer
                .get(24..32)
                .filter(|_| answer.len() == 32 && answer[..24].iter().all(|&b| b == 0))
                .map(|b| u64::from_be_bytes(b.try_into().unwrap_or_default()) as usize)
                .filter(|&n| n <= k)
                .ok_or_else(|| {
                    OnchainError::Refused(format!(
                        "nextBatch answered 0x{}: is the address a BackstopEpochs?",
                        hex::encode(&answer)
                    ))
                })?;
            let mut sent = Vec::new();
            let mut first = next;
            while first < k {
                let end = (first + size).min(k);
                let data = submit_batches_calldata(&epoch.statement, &epoch.proofs, first..end)?;
                let what = format!("submitBatches {id}: batches {first}..{end} of {k}");
                sent.push(client.send(&what, Some(epochs), data)?);
                first = end;
            }
            let data = finalize_calldata(&epoch.statement)?;
            sent.push(client.send(&format!("finalizeEpoch {id}"), Some(epochs), data)?);
            Ok(sent)
        }
    }
}
