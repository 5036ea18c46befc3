// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

import {IBackstopEpochs} from "../IBackstopEpochs.sol";

/// @title An example consumer of Backstop epochs (not a lending market to deploy)
/// @notice Lets anyone liquidate an account that the venue's latest accepted epoch
/// lists as liquidatable, provided that epoch is recent enough. It reads nothing but
/// IBackstopEpochs: the epoch's proofs were checked when it was accepted, so the
/// market trusts the recorded result, not the caller.
///
/// The liquidation list is not stored on chain (only its hash): the caller passes it,
/// taken from the epoch's `EpochAccepted` event (its `liquidations`) or from the
/// epoch's `statement.json`, and `isLiquidatable` refuses any other list
/// (`LiquidationsMismatch`).
///
/// A real market would also:
/// - move value: seize the account's collateral, repay its debt, pay the liquidator
///   an incentive, with reentrancy protection around any token transfer;
/// - map Backstop account ids (the venue's ids, as proven) to its own positions,
///   through a mapping it authenticates, and refuse liquidating the same position
///   twice for one epoch;
/// - decide what to do with the epoch's other outputs (`epochs(id).solvent`,
///   `insuranceCovered`; `badDebt` from the EpochAccepted event's result, checked
///   with `isRecorded`): e.g. pause borrowing against an insolvent venue;
/// - check at deployment that `VERIFYING_KEY_HASH()` is the ceremony's key and
///   `venue()` the venue it expects, and bound staleness in time (or by epoch id if
///   the venue maps ids to times) rather than only in blocks;
/// - if it must agree with its own oracle, check the statement's prices
///   (`hashStatement(s) == result.statementHash` for a result `isRecorded` accepts,
///   then `s.markets[i].price`).
contract ExampleLendingMarket {
    /// The epoch contract the market trusts.
    IBackstopEpochs public immutable BACKSTOP;
    /// How many blocks after its acceptance an epoch may still be acted on.
    uint64 public immutable MAX_AGE_BLOCKS;

    /// No epoch was accepted yet.
    error NoEpoch();
    /// The latest epoch was accepted at `acceptedAtBlock`, more than MAX_AGE_BLOCKS ago.
    error StaleEpoch(uint64 epoch, uint64 acceptedAtBlock);
    /// The latest epoch does not list `account`.
    error NotLiquidatable(uint64 epoch, uint64 account);

    /// @notice `liquidator` liquidated `account` on the strength of epoch `epoch`.
    event Liquidated(uint64 indexed epoch, uint64 indexed account, address indexed liquidator);

    /// @param backstop the BackstopEpochs deployment of the venue
    /// @param maxAgeBlocks the staleness bound, in blocks
    constructor(IBackstopEpochs backstop, uint64 maxAgeBlocks) {
        BACKSTOP = backstop;
        MAX_AGE_BLOCKS = maxAgeBlocks;
    }

    /// @notice Liquidates `account` if the latest accepted epoch lists it and is at
    /// most MAX_AGE_BLOCKS old.
    /// @param account the venue's account id (as in statement.json)
    /// @param liquidations the latest epoch's liquidation set, ascending (its
    /// EpochAccepted event or statement.json); reverts with the epoch contract's
    /// LiquidationsMismatch for any other list
    /// @return epoch the epoch the liquidation relied on
    function liquidate(uint64 account, uint64[] calldata liquidations) external returns (uint64 epoch) {
        epoch = BACKSTOP.latestEpoch();
        IBackstopEpochs.EpochRecord memory r = BACKSTOP.epochs(epoch);
        if (!r.accepted) revert NoEpoch();
        if (block.number > uint256(r.acceptedAtBlock) + MAX_AGE_BLOCKS) {
            revert StaleEpoch(epoch, r.acceptedAtBlock);
        }
        if (!BACKSTOP.isLiquidatable(epoch, liquidations, account)) revert NotLiquidatable(epoch, account);
        emit Liquidated(epoch, account, msg.sender);
    }
}
