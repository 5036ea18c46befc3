// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

/// @title Backstop epochs: the interface integrators and relayers use
/// @notice What a BackstopEpochs contract (`backstop export solidity`, docs/ONCHAIN.md)
/// exposes, for every circuit shape: the published statement, the recorded result of
/// an accepted epoch, submission (whole or in chunks), the venue's rules, and its
/// errors and events. A lending market, liquidation module or dashboard imports only
/// this file (it is the same for every shape and key); the deployed contract is
/// generated for one shape and one verifying key and bound to one venue at deployment.
/// @dev The ABI is fixed: changing a struct field, its order or its type changes the
/// selectors of every function taking a Statement and the EpochAccepted topic.
interface IBackstopEpochs {
    /// One market's published parameters. The symbol is bound like the other
    /// fields: it enters the descriptor d (SPEC §5.5), so a relabelled market fails
    /// the proofs.
    struct Market {
        bytes32 symbol; // ASCII, right-padded with zero bytes
        uint64 price; // oracle price in minimal price units (< 2^64)
        uint8 priceDecimals; // ≤ 18
        uint8 sizeDecimals; // ≤ 18
        uint16 maintenanceMarginBps; // ≤ 10000
    }

    /// An epoch's published statement (statement.json), with amounts as integers.
    struct Statement {
        address venue; // the venue's address, bound by the descriptor (SPEC §5.5)
        uint64 epoch;
        uint8 quoteDecimals; // ≤ 18
        uint128 reserves; // minimal quote units
        uint128 insuranceFund; // minimal quote units
        Market[] markets; // exactly MARKETS, in the statement's order
        uint256 accountsCommitment; // a_K, below r
        uint256[] stateCommitments; // C_0 … C_{K−1}, below r: K = its length
        uint64[] liquidations; // the liquidation set, strictly ascending
        uint256 badDebt; // D in common units of 10^−E quote (< 2^226)
        bool solvent;
        bool insuranceCovered;
        bytes32 verifyingKeyHash; // statement.json `verifying_key_hash`
        uint8 ownerBinding; // 0 none, 1 partial, 2 all: the venue's declaration (SPEC §5.2)
        bool liabilitiesDisclosed; // statement.json has `liabilities`
        uint256 liabilities; // L in common units if disclosed (< 2^226), else 0
    }

    /// What is stored for an accepted epoch (three storage slots): the fields contracts
    /// read most, and the hash of the whole EpochResult, which EpochAccepted carries
    /// (`isRecorded` checks one against it).
    struct EpochRecord {
        bool accepted;
        bool solvent; // L ≤ reserves
        bool insuranceCovered; // D ≤ insurance fund
        bool liabilitiesDisclosed; // whether the venue disclosed L
        uint8 exponent; // E: amounts in the result are in units of 10^−E quote
        uint8 quoteDecimals;
        uint32 batchCount; // K
        uint32 liquidationCount;
        uint64 acceptedAtBlock;
        bytes32 liquidationsHash; // keccak256(abi.encodePacked(uint64[] liquidations)) (SPEC §5.6)
        bytes32 resultHash; // keccak256(abi.encode(EpochResult)) of the EpochAccepted event's result
    }

    /// An accepted epoch's whole result, as EpochAccepted emits it; the contract
    /// stores its hash (EpochRecord.resultHash).
    struct EpochResult {
        bool accepted;
        bool solvent; // L ≤ reserves
        bool insuranceCovered; // D ≤ insurance fund
        uint8 exponent; // E: badDebt is in units of 10^−E quote
        uint8 quoteDecimals;
        uint32 batchCount; // K
        uint32 liquidationCount;
        uint64 acceptedAtBlock;
        uint256 badDebt; // D in common units
        uint256 accountsCommitment; // a_K (SPEC §5.4)
        bytes32 liquidationsHash; // keccak256(abi.encodePacked(uint64[] liquidations)) (SPEC §5.6)
        bytes32 statementHash; // SPEC §7.5's statement hash: what the venue signs (hashStatement)
        bool liabilitiesDisclosed; // whether the venue disclosed L
        uint256 liabilities; // L in common units if disclosed, else 0
        address venue; // the venue key that published the epoch
    }

    // ---- errors ----------------------------------------------------------------

    /// The verifier was made for another circuit shape.
    error VerifierShapeMismatch();
    /// The epoch id is not above the latest accepted one.
    error EpochNotIncreasing(uint64 latest, uint64 epoch);
    /// The statement names another venue than the contract's.
    error VenueMismatch(address expected, address got);
    /// No signature, and the sender is neither the venue nor a registered submitter.
    error NotAuthorized(address sender);
    /// The signature is malformed (not 65 bytes, v not 27 or 28, s above n/2) or does
    /// not recover to the venue.
    error InvalidSignature();
    /// The zero address cannot be a venue.
    error ZeroVenue();
    /// The statement names another verifying key.
    error VerifyingKeyMismatch(bytes32 expected, bytes32 got);
    /// Not exactly MARKETS markets.
    error MarketCount(uint256 got);
    /// A decimals count above 18 (market index, or type(uint256).max for the quote).
    error DecimalsOutOfBounds(uint256 market);
    /// A maintenance margin rate above 10000 bps.
    error MarginRateOutOfBounds(uint256 market);
    /// A scale exponent above 18 (market index, or type(uint256).max for the quote).
    error ScaleOutOfBounds(uint256 market);
    /// K = 0 or K·B > 2^32.
    error BatchCount(uint256 batches);
    /// Not one proof per batch.
    error ProofCount(uint256 batches, uint256 proofs);
    /// A commitment not below r.
    error CommitmentNotInField();
    /// Liquidated ids not strictly ascending at `index`.
    error LiquidationsNotAscending(uint256 index);
    /// The liquidated id at `index` is above 2^64 − 1 (only raw calldata can say so).
    error LiquidationIdOutOfRange(uint256 index);
    /// D ≥ 2^226.
    error BadDebtOutOfBounds();
    /// A disclosed L is not below 2^226, or an undisclosed one is not 0.
    error LiabilitiesOutOfBounds();
    /// The batch proofs do not verify against the statement's public inputs.
    error InvalidProofs();
    /// No accepted epoch with this id.
    error UnknownEpoch(uint64 epoch);
    /// The liquidation list does not match the recorded one.
    error LiquidationsMismatch();
    /// A chunk does not start where the statement's verified batches end.
    error ChunkOutOfOrder(uint256 expected, uint256 first);
    /// `finalizeEpoch` before all K batches were verified.
    error EpochIncomplete(uint256 verified, uint256 batches);

    // ---- events ----------------------------------------------------------------

    /// @notice An epoch was accepted.
    event EpochAccepted(uint64 indexed epoch, EpochResult result, uint64[] liquidations);
    /// @notice `submitBatches` verified batches first … first + count − 1 of the K of
    /// the statement with hash `statementHash`.
    event BatchesVerified(
        uint64 indexed epoch, bytes32 indexed statementHash, uint256 first, uint256 count, uint256 batches
    );
    /// @notice The venue key changed (at deployment, `previous` is the zero address).
    event VenueKeyRotated(address indexed previous, address indexed next, uint64 latestEpoch);
    /// @notice The venue registered or removed a submitter.
    event SubmitterSet(address indexed venue, address indexed submitter, bool allowed);

    // ---- the deployment ----------------------------------------------------------

    /// @notice The batch size B of the circuit shape.
    function BATCH_SIZE() external view returns (uint256);

    /// @notice The number of markets M of the circuit shape.
    function MARKETS() external view returns (uint256);

    /// @notice The public inputs every batch of an epoch shares (SPEC §6.4): 7 + ⌈M/3⌉.
    function SHARED_INPUTS() external view returns (uint256);

    /// @notice The verifier's VERIFYING_KEY_HASH, recorded at deployment: every
    /// statement must name it. Check it is the hash of the key you trust (the
    /// ceremony's) before relying on a deployment.
    function VERIFYING_KEY_HASH() external view returns (bytes32);

    // ---- submission ------------------------------------------------------------

    /// @notice Accepts an epoch of the venue: checks who publishes it, validates the
    /// statement, derives each batch's public inputs from it, verifies all proofs
    /// against them in one batched check, and records the outputs. Reverts on
    /// anything else, and for an epoch id not above the latest accepted one.
    /// @param s the published statement; it must name `venue`
    /// @param proofs one proof per batch, in batch order, each
    /// [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]
    /// @param signature the venue's signature of the statement (statement.json
    /// `signature`, r ‖ s ‖ v), or empty when the venue or a registered submitter sends
    function submitEpoch(Statement calldata s, uint256[8][] calldata proofs, bytes calldata signature) external;

    /// @notice Verifies one chunk of an epoch too large for one transaction: the
    /// proofs of batches `first` … `first + n − 1`, under the same checks as
    /// `submitEpoch` (who publishes, the statement, the epoch id). Chunks of a
    /// statement must come in batch order, each starting where the previous one ended
    /// (`nextBatch`), so none can be dropped, repeated or reordered; progress is kept
    /// per statement hash, so chunks of different statements never mix.
    /// `finalizeEpoch` records the epoch once all K batches are verified.
    /// @param s the published statement, the same in every chunk
    /// @param first the first batch of this chunk: `nextBatch(hashStatement(s))`
    /// @param proofs the proofs of batches first … first + n − 1, n ≥ 1
    /// @param signature as for `submitEpoch`
    function submitBatches(Statement calldata s, uint256 first, uint256[8][] calldata proofs, bytes calldata signature)
        external;

    /// @notice Records an epoch whose K batches `submitBatches` has all verified. Anyone
    /// may call it (every chunk was already authorized); it fails if the venue key
    /// rotated since, or an epoch with an id not below this one was accepted meanwhile.
    /// @param s the statement the chunks were submitted with
    function finalizeEpoch(Statement calldata s) external;

    /// @notice The first batch the next chunk of the statement with hash `statementHash`
    /// (`hashStatement`) must start at: how many of its batches `submitBatches` has
    /// verified (0 before its first chunk and after it is finalized).
    function nextBatch(bytes32 statementHash) external view returns (uint256);

    // ---- reading results -------------------------------------------------------

    /// @notice The record of an epoch (`accepted` is false if there is none).
    function epochs(uint64 epoch) external view returns (EpochRecord memory);

    /// @notice Whether `result` is the whole result recorded for an accepted epoch (the
    /// one its EpochAccepted event carries): how a contract that needs `badDebt`,
    /// `liabilities`, `accountsCommitment`, `statementHash` or `venue` reads them,
    /// from calldata checked against the stored hash.
    function isRecorded(uint64 epoch, EpochResult calldata result) external view returns (bool);

    /// @notice The latest accepted epoch id, the highest (check
    /// `epochs(latestEpoch()).accepted`: false while no epoch was accepted).
    function latestEpoch() external view returns (uint64);

    /// @notice Whether `account` is in an accepted epoch's liquidation set, given the
    /// set itself (from the EpochAccepted event or statement.json), which must be
    /// the recorded one. Reverts for an unknown epoch (UnknownEpoch) or another list
    /// (LiquidationsMismatch).
    function isLiquidatable(uint64 epoch, uint64[] calldata liquidations, uint64 account) external view returns (bool);

    /// @notice The statement hash of SPEC §7.5, what the venue signs and what the
    /// result's `statementHash` holds: keccak256("backstop.statement.v2" ‖ 1 ‖ verifying key
    /// hash ‖ the shared public inputs ‖ K ‖ C_0 ‖ … ‖ C_{K−1}). The shared inputs
    /// bind every other field (the descriptor binds the parameters, the challenge the
    /// liquidation list), so any contract can check a statement's fields (prices,
    /// reserves, …) against an accepted epoch. Reverts for a statement the contract
    /// would refuse (SPEC §3, §7.1).
    function hashStatement(Statement calldata s) external pure returns (bytes32);

    // ---- the venue ---------------------------------------------------------------

    /// @notice The venue's current signing-key address (SPEC §7.5): every statement must
    /// name it, and only it signs epochs, registers submitters and rotates itself.
    function venue() external view returns (address);

    /// @notice Venue actions (rotation, submitter changes) authorized by signature so
    /// far: the next one must sign this nonce.
    function venueNonce() external view returns (uint256);

    /// @notice Whether `who` may submit without a signature (the venue or a submitter
    /// the current venue key registered).
    function isSubmitter(address who) external view returns (bool);

    /// @notice The hash the venue signs (EIP-191) to authorize `action` as the next
    /// venue action: keccak256("backstop.venue-action.v1" ‖ chain id ‖ this contract
    /// ‖ venueNonce ‖ action), so that a signature is good once, here.
    function venueActionHash(bytes32 action) external view returns (bytes32);

    /// @notice Registers (`allowed`) or removes a submitter: an address that may
    /// submit the venue's epochs without a signature.
    /// @param signature empty when the venue key sends this, else its signature of
    /// `venueActionHash(keccak256(abi.encode("submitter", submitter, allowed)))`
    function setSubmitter(address submitter, bool allowed, bytes calldata signature) external;

    /// @notice Rotates the venue key: from now on statements must name `next` and be
    /// signed by it, and every submitter the previous key registered is revoked.
    /// Accepted epochs stay as they are.
    /// @param signature empty when the venue key sends this, else its signature of
    /// `venueActionHash(keccak256(abi.encode("rotate", next)))`
    function rotateVenueKey(address next, bytes calldata signature) external;
}
