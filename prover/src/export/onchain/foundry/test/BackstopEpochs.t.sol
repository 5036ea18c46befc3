// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

import {BackstopTest, Vm} from "./BackstopTest.sol";
import {EpochFixture} from "./EpochFixture.sol";
import {IBackstopEpochs} from "../src/IBackstopEpochs.sol";
import {BackstopEpochs, IBackstopVerifier} from "../src/BackstopEpochs.sol";
import {BackstopVerifier} from "../src/BackstopVerifier.sol";
import {DeployBackstop} from "../script/DeployBackstop.s.sol";

/// A verifier of another shape, for the constructor's check.
contract OtherShapeVerifier {
    function BATCH_SIZE() external pure returns (uint256) {
        return 3;
    }

    function MARKETS() external pure returns (uint256) {
        return 1;
    }

    function VERIFYING_KEY_HASH() external pure returns (bytes32) {
        return bytes32(0);
    }
}

/// BackstopEpochs against the proven epoch of EpochFixture (K ≥ 2 batches, at least
/// one liquidated id, signed by its venue): acceptance and its record, every
/// tampering refused with its own error, flipped bytes, chunked submission and the
/// venue's rules.
contract BackstopEpochsTest is BackstopTest {
    /// The BN254 scalar field order r.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// The secp256k1 group order n.
    uint256 internal constant N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
    address internal constant RELAYER = address(0xBEEF);
    address internal constant STRANGER = address(0x5747);
    uint256 internal constant OTHER_KEY = 0xB0B;

    BackstopVerifier internal verifier;
    BackstopEpochs internal epochs;
    address internal venue;

    function setUp() public {
        verifier = new BackstopVerifier();
        epochs = new BackstopEpochs(IBackstopVerifier(address(verifier)), EpochFixture.VENUE);
        venue = EpochFixture.VENUE;
        IBackstopEpochs.Statement memory s = EpochFixture.statement();
        uint256[8][] memory proofs = EpochFixture.proofs();
        assertTrue(s.stateCommitments.length >= 2, "the fixture has at least two batches");
        assertEq(proofs.length, s.stateCommitments.length, "the fixture has one proof per batch");
        assertTrue(s.liquidations.length >= 1, "the fixture liquidates at least one account");
        assertEq(s.venue, venue, "the fixture's venue");
        assertEq(EpochFixture.signature().length, 65, "the fixture is signed");
    }

    // ---- helpers -----------------------------------------------------------------

    function _statement() internal pure returns (IBackstopEpochs.Statement memory) {
        return EpochFixture.statement();
    }

    function _proofs() internal pure returns (uint256[8][] memory) {
        return EpochFixture.proofs();
    }

    function _signature() internal pure returns (bytes memory) {
        return EpochFixture.signature();
    }

    /// Sent by the venue itself without a signature, so that the statement's checks
    /// and the proofs, not the signature, must catch the change.
    function _refusedFromVenue(IBackstopEpochs.Statement memory t, bytes memory err) internal {
        _refusedFromVenue(t, _proofs(), err);
    }

    function _refusedFromVenue(IBackstopEpochs.Statement memory t, uint256[8][] memory proofs, bytes memory err)
        internal
    {
        vm.prank(venue);
        vm.expectRevert(err);
        epochs.submitEpoch(t, proofs, "");
        assertFalse(epochs.epochs(t.epoch).accepted, "nothing recorded");
    }

    /// Relayed by a third party with the venue's signature of the original statement.
    function _refusedRelayed(IBackstopEpochs.Statement memory t, bytes memory signature, bytes memory err) internal {
        uint256[8][] memory proofs = _proofs();
        vm.prank(RELAYER);
        vm.expectRevert(err);
        epochs.submitEpoch(t, proofs, signature);
    }

    /// Whether the deployment is a risk model v2 shape's (its contract has ASSETS();
    /// BackstopEpochsV2.t.sol tests what only it has): its Statement-taking
    /// selectors and shared inputs differ, and it emits AssetSolvency after
    /// EpochAccepted.
    function _riskModelV2() internal view returns (bool) {
        (bool ok,) = address(epochs).staticcall(abi.encodeWithSignature("ASSETS()"));
        return ok;
    }

    /// Whether the deployed shape proves the waterfall (its verifier has WATERFALL()).
    function _waterfall() internal view returns (bool) {
        (bool ok,) = address(verifier).staticcall(abi.encodeWithSignature("WATERFALL()"));
        return ok;
    }

    /// The events an accepted epoch emits: EpochAccepted, then AssetSolvency under
    /// risk model v2, then WaterfallRecorded for a waterfall shape.
    function _acceptanceEvents() internal view returns (uint256) {
        return 1 + (_riskModelV2() ? 1 : 0) + (_waterfall() ? 1 : 0);
    }

    function _invalidProofs() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IBackstopEpochs.InvalidProofs.selector);
    }

    function _invalidSignature() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IBackstopEpochs.InvalidSignature.selector);
    }

    uint256 internal constant QUOTE = type(uint256).max;
    bool internal constant PRICE = true;
    bool internal constant SIZE = false;

    /// The statement with one decimals count moved by one within 0 … 18 (the quote's
    /// if `m` is QUOTE, else market m's price or size decimals), in the direction
    /// that keeps every scale exponent within bounds, so that only the proofs (or the
    /// signature) can refuse it.
    function _otherDecimals(uint256 m, bool price) internal view returns (IBackstopEpochs.Statement memory t) {
        for (uint256 up = 1; up < 3; ++up) {
            t = _statement();
            uint8 d = m == QUOTE ? t.quoteDecimals : price ? t.markets[m].priceDecimals : t.markets[m].sizeDecimals;
            if (up == 1 ? d == 18 : d == 0) continue;
            d = up == 1 ? d + 1 : d - 1;
            if (m == QUOTE) t.quoteDecimals = d;
            else if (price) t.markets[m].priceDecimals = d;
            else t.markets[m].sizeDecimals = d;
            try epochs.publicInputs(t) returns (uint256[][] memory) {
                return t;
            } catch {}
        }
        fail("no decimals change within bounds");
    }

    function _withIds(IBackstopEpochs.Statement memory t, uint64[] memory ids)
        internal
        pure
        returns (IBackstopEpochs.Statement memory)
    {
        t.liquidations = ids;
        return t;
    }

    function _contains(uint64[] memory ids, uint64 id) internal pure returns (bool) {
        for (uint256 i = 0; i < ids.length; ++i) {
            if (ids[i] == id) return true;
        }
        return false;
    }

    /// An id the statement does not list.
    function _unlisted(IBackstopEpochs.Statement memory s) internal pure returns (uint64 id) {
        id = s.liquidations[0] + 1;
        while (_contains(s.liquidations, id)) ++id;
    }

    /// E = max(quote decimals, price + size decimals of each market).
    function _exponent(IBackstopEpochs.Statement memory s) internal pure returns (uint8 e) {
        e = s.quoteDecimals;
        for (uint256 m = 0; m < s.markets.length; ++m) {
            uint8 notional = s.markets[m].priceDecimals + s.markets[m].sizeDecimals;
            if (notional > e) e = notional;
        }
    }

    /// The whole result an accepted statement records, published by `publisher` in
    /// this block.
    function _result(IBackstopEpochs.Statement memory s, address publisher)
        internal
        view
        returns (IBackstopEpochs.EpochResult memory r)
    {
        r.accepted = true;
        r.solvent = s.solvent;
        r.insuranceCovered = s.insuranceCovered;
        r.exponent = uint8(_exponent(s));
        r.quoteDecimals = s.quoteDecimals;
        r.batchCount = uint32(s.stateCommitments.length);
        r.liquidationCount = uint32(s.liquidations.length);
        r.acceptedAtBlock = uint64(block.number);
        r.badDebt = s.badDebt;
        r.accountsCommitment = s.accountsCommitment;
        r.liquidationsHash = keccak256(abi.encodePacked(s.liquidations));
        r.statementHash = epochs.hashStatement(s);
        r.liabilitiesDisclosed = s.liabilitiesDisclosed;
        r.liabilities = s.liabilities;
        r.venue = publisher;
    }

    /// The hash the venue signs (SPEC §7.5), formed from the contract's own inputs.
    function _statementHash(IBackstopEpochs.Statement memory s) internal view returns (bytes32) {
        uint256[][] memory inputs = epochs.publicInputs(s);
        uint256[] memory shared = new uint256[](epochs.SHARED_INPUTS());
        for (uint256 j = 0; j < shared.length; ++j) {
            shared[j] = inputs[0][j];
        }
        return keccak256(
            abi.encodePacked(
                bytes21("backstop.statement.v2"),
                uint8(1),
                epochs.VERIFYING_KEY_HASH(),
                shared,
                s.stateCommitments.length,
                s.stateCommitments
            )
        );
    }

    function _sign(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", hash)));
        return abi.encodePacked(r, s, v);
    }

    function _slice(uint256[8][] memory proofs, uint256 from, uint256 to)
        internal
        pure
        returns (uint256[8][] memory out)
    {
        out = new uint256[8][](to - from);
        for (uint256 i = from; i < to; ++i) {
            out[i - from] = proofs[i];
        }
    }

    function _submitted() internal returns (IBackstopEpochs.Statement memory s) {
        s = _statement();
        vm.prank(RELAYER);
        epochs.submitEpoch(s, _proofs(), _signature());
    }

    // ---- the ABI -----------------------------------------------------------------

    /// The selectors and the EpochAccepted topic relayers and indexers rely on (the
    /// functions taking a risk model v2 Statement: BackstopEpochsV2.t.sol; a
    /// waterfall Statement: BackstopEpochsWaterfall.t.sol).
    function test_abiIsPinned() public view {
        if (!_riskModelV2() && !_waterfall()) {
            assertEq(uint256(uint32(IBackstopEpochs.submitEpoch.selector)), 0xac7aab6e, "submitEpoch");
            assertEq(uint256(uint32(IBackstopEpochs.submitBatches.selector)), 0xd3661c88, "submitBatches");
            assertEq(uint256(uint32(IBackstopEpochs.finalizeEpoch.selector)), 0xac189007, "finalizeEpoch");
            assertEq(uint256(uint32(IBackstopEpochs.hashStatement.selector)), 0xc32c5448, "hashStatement");
        }
        assertEq(uint256(uint32(IBackstopEpochs.epochs.selector)), 0x4bd2d7f9, "epochs");
        assertEq(uint256(uint32(IBackstopEpochs.isLiquidatable.selector)), 0x8421d465, "isLiquidatable");
        assertEq(uint256(uint32(IBackstopEpochs.nextBatch.selector)), 0xac189169, "nextBatch");
        assertEq(uint256(uint32(IBackstopEpochs.setSubmitter.selector)), 0xfaee628e, "setSubmitter");
        assertEq(uint256(uint32(IBackstopEpochs.rotateVenueKey.selector)), 0xa6d2a51b, "rotateVenueKey");
        assertEq(uint256(uint32(IBackstopEpochs.venueActionHash.selector)), 0xe5fb6905, "venueActionHash");
        assertEq(
            IBackstopEpochs.EpochAccepted.selector,
            keccak256(
                "EpochAccepted(uint64,(bool,bool,bool,uint8,uint8,uint32,uint32,uint64,uint256,uint256,bytes32,bytes32,bool,uint256,address),uint64[])"
            ),
            "EpochAccepted topic"
        );
        assertEq(
            IBackstopEpochs.EpochAccepted.selector,
            0x4c432af253bec929739bcd1351a3605c7fdadaad60e53186d3162389d25bdda5,
            "EpochAccepted topic value"
        );
    }

    // ---- deployment --------------------------------------------------------------

    function test_deployment() public view {
        assertEq(epochs.venue(), venue, "venue");
        assertEq(address(epochs.VERIFIER()), address(verifier), "verifier");
        assertEq(epochs.VERIFYING_KEY_HASH(), verifier.VERIFYING_KEY_HASH(), "verifying key hash");
        assertEq(epochs.VERIFYING_KEY_HASH(), _statement().verifyingKeyHash, "the fixture's key");
        assertEq(epochs.BATCH_SIZE(), verifier.BATCH_SIZE(), "B");
        assertEq(epochs.MARKETS(), verifier.MARKETS(), "M");
        assertEq(epochs.SHARED_INPUTS() + 2, verifier.INPUTS(), "shared inputs and the chain pair");
        if (!_riskModelV2() && !_waterfall()) {
            // Risk model v2 and the waterfall add their words: BackstopEpochsV2.t.sol,
            // BackstopEpochsWaterfall.t.sol.
            assertEq(epochs.SHARED_INPUTS(), 7 + (epochs.MARKETS() + 2) / 3, "shared inputs");
        }
        assertEq(uint256(epochs.latestEpoch()), 0, "no epoch yet");
        assertFalse(epochs.epochs(0).accepted, "no epoch 0");
        assertTrue(epochs.isSubmitter(venue), "the venue submits");
        assertFalse(epochs.isSubmitter(RELAYER), "a relayer does not");
    }

    function test_constructorRefusals() public {
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ZeroVenue.selector));
        new BackstopEpochs(IBackstopVerifier(address(verifier)), address(0));
        OtherShapeVerifier other = new OtherShapeVerifier();
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.VerifierShapeMismatch.selector));
        new BackstopEpochs(IBackstopVerifier(address(other)), venue);
    }

    function test_deployScript() public {
        vm.setEnv("BACKSTOP_VENUE", vm.toString(venue));
        DeployBackstop script = new DeployBackstop();
        (address v, address e) = script.run();
        BackstopEpochs deployed = BackstopEpochs(e);
        assertEq(address(deployed.VERIFIER()), v, "the script's verifier");
        assertEq(deployed.venue(), venue, "the script's venue");
        assertEq(deployed.VERIFYING_KEY_HASH(), verifier.VERIFYING_KEY_HASH(), "the script's key");
        vm.prank(RELAYER);
        deployed.submitEpoch(_statement(), _proofs(), _signature());
        assertTrue(deployed.epochs(_statement().epoch).accepted, "the script's deployment accepts the epoch");
    }

    // ---- acceptance ----------------------------------------------------------------

    function test_acceptsSignedEpochRelayedByAnyone() public {
        IBackstopEpochs.Statement memory s = _statement();
        vm.recordLogs();
        vm.prank(RELAYER);
        epochs.submitEpoch(s, _proofs(), _signature());

        IBackstopEpochs.EpochResult memory r = _result(s, venue);
        assertEq(r.statementHash, epochs.hashStatement(s), "statementHash");
        assertEq(r.statementHash, _statementHash(s), "statementHash is SPEC 7.5's statement hash");
        assertTrue(epochs.isRecorded(s.epoch, r), "the whole result is the recorded one");
        IBackstopEpochs.EpochRecord memory record = epochs.epochs(s.epoch);
        assertTrue(record.accepted, "accepted");
        assertEq(record.solvent, s.solvent, "solvent");
        assertEq(record.insuranceCovered, s.insuranceCovered, "insuranceCovered");
        assertEq(record.liabilitiesDisclosed, s.liabilitiesDisclosed, "liabilitiesDisclosed");
        assertEq(uint256(record.exponent), _exponent(s), "exponent");
        assertEq(uint256(record.quoteDecimals), s.quoteDecimals, "quoteDecimals");
        assertEq(uint256(record.batchCount), s.stateCommitments.length, "batchCount");
        assertEq(uint256(record.liquidationCount), s.liquidations.length, "liquidationCount");
        assertEq(uint256(record.acceptedAtBlock), block.number, "acceptedAtBlock");
        assertEq(record.liquidationsHash, keccak256(abi.encodePacked(s.liquidations)), "liquidationsHash");
        assertEq(record.resultHash, keccak256(abi.encode(r)), "resultHash");
        assertEq(uint256(epochs.latestEpoch()), s.epoch, "latestEpoch");

        // Any other result is not the recorded one.
        IBackstopEpochs.EpochResult memory other = _result(s, venue);
        other.badDebt += 1;
        assertFalse(epochs.isRecorded(s.epoch, other), "another bad debt");
        other = _result(s, venue);
        other.venue = RELAYER;
        assertFalse(epochs.isRecorded(s.epoch, other), "another venue");
        assertFalse(epochs.isRecorded(s.epoch + 1, r), "another epoch");

        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, _acceptanceEvents(), "one event (and AssetSolvency)");
        assertEq(logs[0].emitter, address(epochs), "emitted by the contract");
        assertEq(logs[0].topics.length, 2, "two topics");
        assertEq(logs[0].topics[0], IBackstopEpochs.EpochAccepted.selector, "EpochAccepted");
        assertEq(logs[0].topics[1], bytes32(uint256(s.epoch)), "indexed epoch");
        assertEq(logs[0].data, abi.encode(r, s.liquidations), "the event's result and liquidations");

        for (uint256 i = 0; i < s.liquidations.length; ++i) {
            assertTrue(epochs.isLiquidatable(s.epoch, s.liquidations, s.liquidations[i]), "a listed id");
        }
        assertFalse(epochs.isLiquidatable(s.epoch, s.liquidations, _unlisted(s)), "an unlisted id");
        if (!_contains(s.liquidations, 0)) {
            assertFalse(epochs.isLiquidatable(s.epoch, s.liquidations, 0), "id 0");
        }
        if (!_contains(s.liquidations, type(uint64).max)) {
            assertFalse(epochs.isLiquidatable(s.epoch, s.liquidations, type(uint64).max), "the largest id");
        }

        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.LiquidationsMismatch.selector));
        epochs.isLiquidatable(s.epoch, _withIds(_statement(), new uint64[](0)).liquidations, s.liquidations[0]);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.UnknownEpoch.selector, s.epoch + 1));
        epochs.isLiquidatable(s.epoch + 1, s.liquidations, s.liquidations[0]);

        // The signature alone does not make the relayer a submitter.
        assertFalse(epochs.isSubmitter(RELAYER), "the relayer is no submitter");
    }

    function test_replayIsRefused() public {
        IBackstopEpochs.Statement memory s = _submitted();
        uint256[8][] memory proofs = _proofs();
        bytes memory signature = _signature();
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochNotIncreasing.selector, s.epoch, s.epoch));
        epochs.submitEpoch(s, proofs, signature);
        // Also from the venue, unsigned.
        vm.prank(venue);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochNotIncreasing.selector, s.epoch, s.epoch));
        epochs.submitEpoch(s, proofs, "");
        if (s.epoch > 0) {
            IBackstopEpochs.Statement memory t = _statement();
            t.epoch = s.epoch - 1;
            vm.prank(venue);
            vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochNotIncreasing.selector, s.epoch, s.epoch - 1));
            epochs.submitEpoch(t, proofs, "");
        }
    }

    function test_acceptsUnsignedFromVenue() public {
        IBackstopEpochs.Statement memory s = _statement();
        vm.prank(venue);
        epochs.submitEpoch(s, _proofs(), "");
        assertTrue(epochs.epochs(s.epoch).accepted, "accepted");
        assertTrue(epochs.isRecorded(s.epoch, _result(s, venue)), "recorded with the venue");
    }

    function test_fixtureSignatureIsOverTheStatementHash() public view {
        // The venue signed SPEC §7.5's statement hash as an EIP-191 message.
        IBackstopEpochs.Statement memory s = _statement();
        bytes memory signature = _signature();
        bytes32 r;
        bytes32 sigS;
        assembly {
            r := mload(add(signature, 32))
            sigS := mload(add(signature, 64))
        }
        uint8 v = uint8(signature[64]);
        bytes32 digest = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", _statementHash(s)));
        assertEq(ecrecover(digest, v, r, sigS), venue, "the fixture's signature recovers to its venue");
    }

    // ---- tampering: each field, sent by the venue without a signature ------------

    function test_tamperedEpochIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.epoch += 1;
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_tamperedQuoteDecimalsIsRefused() public {
        _refusedFromVenue(_otherDecimals(QUOTE, PRICE), _invalidProofs());
    }

    function test_tamperedReservesIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.reserves += 1;
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_tamperedInsuranceFundIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.insuranceFund += 1;
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_tamperedMarketSymbolIsRefused() public {
        for (uint256 m = 0; m < _statement().markets.length; ++m) {
            IBackstopEpochs.Statement memory t = _statement();
            t.markets[m].symbol = bytes32(uint256(t.markets[m].symbol) ^ (1 << 248));
            _refusedFromVenue(t, _invalidProofs());
        }
    }

    function test_tamperedMarketPriceIsRefused() public {
        for (uint256 m = 0; m < _statement().markets.length; ++m) {
            IBackstopEpochs.Statement memory t = _statement();
            uint64 p = t.markets[m].price;
            t.markets[m].price = p < type(uint64).max ? p + 1 : p - 1;
            _refusedFromVenue(t, _invalidProofs());
        }
    }

    function test_tamperedMarketPriceDecimalsIsRefused() public {
        for (uint256 m = 0; m < _statement().markets.length; ++m) {
            _refusedFromVenue(_otherDecimals(m, PRICE), _invalidProofs());
        }
    }

    function test_tamperedMarketSizeDecimalsIsRefused() public {
        for (uint256 m = 0; m < _statement().markets.length; ++m) {
            _refusedFromVenue(_otherDecimals(m, SIZE), _invalidProofs());
        }
    }

    function test_tamperedMarketMarginRateIsRefused() public {
        for (uint256 m = 0; m < _statement().markets.length; ++m) {
            IBackstopEpochs.Statement memory t = _statement();
            uint16 mm = t.markets[m].maintenanceMarginBps;
            t.markets[m].maintenanceMarginBps = mm < 10000 ? mm + 1 : mm - 1;
            _refusedFromVenue(t, _invalidProofs());
        }
    }

    function test_swappedMarketsAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        if (t.markets.length < 2) return;
        (t.markets[0], t.markets[1]) = (t.markets[1], t.markets[0]);
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_tamperedAccountsCommitmentIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.accountsCommitment += 1;
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_tamperedStateCommitmentsAreRefused() public {
        for (uint256 b = 0; b < _statement().stateCommitments.length; ++b) {
            IBackstopEpochs.Statement memory t = _statement();
            t.stateCommitments[b] += 1;
            _refusedFromVenue(t, _invalidProofs());
        }
        IBackstopEpochs.Statement memory u = _statement();
        (u.stateCommitments[0], u.stateCommitments[1]) = (u.stateCommitments[1], u.stateCommitments[0]);
        _refusedFromVenue(u, _invalidProofs());
    }

    function test_addedLiquidationIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        uint64[] memory ids = new uint64[](t.liquidations.length + 1);
        for (uint256 i = 0; i < t.liquidations.length; ++i) {
            ids[i] = t.liquidations[i];
        }
        ids[t.liquidations.length] = t.liquidations[t.liquidations.length - 1] + 1;
        _refusedFromVenue(_withIds(t, ids), _invalidProofs());
    }

    function test_removedLiquidationIsRefused() public {
        uint256 n = _statement().liquidations.length;
        for (uint256 drop = 0; drop < n; ++drop) {
            IBackstopEpochs.Statement memory t = _statement();
            uint64[] memory ids = new uint64[](n - 1);
            for (uint256 i = 0; i < n; ++i) {
                if (i < drop) ids[i] = t.liquidations[i];
                else if (i > drop) ids[i - 1] = t.liquidations[i];
            }
            _refusedFromVenue(_withIds(t, ids), _invalidProofs());
        }
    }

    function test_changedLiquidationIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.liquidations[t.liquidations.length - 1] += 1;
        _refusedFromVenue(t, _invalidProofs());
        // The first id lowered (still ascending).
        IBackstopEpochs.Statement memory u = _statement();
        if (u.liquidations[0] > 0) {
            u.liquidations[0] -= 1;
            _refusedFromVenue(u, _invalidProofs());
        }
    }

    function test_tamperedBadDebtIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.badDebt += 1;
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_flippedSolventIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.solvent = !t.solvent;
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_flippedInsuranceCoveredIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.insuranceCovered = !t.insuranceCovered;
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_changedOwnerBindingIsRefused() public {
        for (uint8 delta = 1; delta < 3; ++delta) {
            IBackstopEpochs.Statement memory t = _statement();
            t.ownerBinding = (t.ownerBinding + delta) % 3;
            _refusedFromVenue(t, _invalidProofs());
        }
    }

    function test_toggledLiabilitiesDisclosedIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.liabilitiesDisclosed = !t.liabilitiesDisclosed;
        if (!t.liabilitiesDisclosed) t.liabilities = 0; // else LiabilitiesOutOfBounds
        _refusedFromVenue(t, _invalidProofs());
    }

    function test_tamperedLiabilitiesAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.liabilities += 1;
        _refusedFromVenue(
            t,
            t.liabilitiesDisclosed
                ? _invalidProofs()
                : abi.encodeWithSelector(IBackstopEpochs.LiabilitiesOutOfBounds.selector)
        );
    }

    // ---- out-of-bounds statements: their validation errors ------------------------

    function test_decimalsOutOfBoundsAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.quoteDecimals = 19;
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.DecimalsOutOfBounds.selector, type(uint256).max));
        for (uint256 m = 0; m < _statement().markets.length; ++m) {
            t = _statement();
            t.markets[m].priceDecimals = 19;
            _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.DecimalsOutOfBounds.selector, m));
            t = _statement();
            t.markets[m].sizeDecimals = 19;
            _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.DecimalsOutOfBounds.selector, m));
        }
    }

    function test_marginRateOutOfBoundsIsRefused() public {
        for (uint256 m = 0; m < _statement().markets.length; ++m) {
            IBackstopEpochs.Statement memory t = _statement();
            t.markets[m].maintenanceMarginBps = 10001;
            _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.MarginRateOutOfBounds.selector, m));
        }
    }

    function test_scaleOutOfBoundsIsRefused() public {
        // E − q > 18: quote 0 decimals, a market of 18 + 18.
        IBackstopEpochs.Statement memory t = _statement();
        t.quoteDecimals = 0;
        t.markets[0].priceDecimals = 18;
        t.markets[0].sizeDecimals = 18;
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.ScaleOutOfBounds.selector, type(uint256).max));
        if (t.markets.length < 2) return;
        // E − p_0 − s_0 > 18: E = 19 from market 1, market 0 with no decimals.
        t = _statement();
        t.quoteDecimals = 18;
        for (uint256 m = 0; m < t.markets.length; ++m) {
            t.markets[m].priceDecimals = 0;
            t.markets[m].sizeDecimals = 0;
        }
        t.markets[1].priceDecimals = 18;
        t.markets[1].sizeDecimals = 1;
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.ScaleOutOfBounds.selector, 0));
    }

    function test_marketCountIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        IBackstopEpochs.Statement memory t = _statement();
        t.markets = new IBackstopEpochs.Market[](s.markets.length + 1);
        for (uint256 m = 0; m < s.markets.length; ++m) {
            t.markets[m] = s.markets[m];
        }
        t.markets[s.markets.length] = s.markets[0];
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.MarketCount.selector, s.markets.length + 1));
        t.markets = new IBackstopEpochs.Market[](s.markets.length - 1);
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.MarketCount.selector, s.markets.length - 1));
    }

    function test_unsortedLiquidationsAreRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256 n = s.liquidations.length;
        // A repeated id.
        uint64[] memory ids = new uint64[](n + 1);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = s.liquidations[i];
        }
        ids[n] = s.liquidations[n - 1];
        _refusedFromVenue(
            _withIds(_statement(), ids), abi.encodeWithSelector(IBackstopEpochs.LiquidationsNotAscending.selector, n)
        );
        // A descending pair.
        ids[n] = s.liquidations[n - 1] == 0 ? 0 : s.liquidations[n - 1] - 1;
        _refusedFromVenue(
            _withIds(_statement(), ids), abi.encodeWithSelector(IBackstopEpochs.LiquidationsNotAscending.selector, n)
        );
        if (n >= 2) {
            IBackstopEpochs.Statement memory t = _statement();
            (t.liquidations[0], t.liquidations[1]) = (t.liquidations[1], t.liquidations[0]);
            _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.LiquidationsNotAscending.selector, 1));
        }
    }

    function test_commitmentsNotInFieldAreRefused() public {
        bytes memory err = abi.encodeWithSelector(IBackstopEpochs.CommitmentNotInField.selector);
        IBackstopEpochs.Statement memory t = _statement();
        t.accountsCommitment = R;
        _refusedFromVenue(t, err);
        t = _statement();
        t.accountsCommitment = type(uint256).max;
        _refusedFromVenue(t, err);
        for (uint256 b = 0; b < _statement().stateCommitments.length; ++b) {
            t = _statement();
            t.stateCommitments[b] = R;
            _refusedFromVenue(t, err);
        }
        // C_b + r: the same residue, still refused.
        t = _statement();
        t.stateCommitments[0] += R;
        _refusedFromVenue(t, err);
    }

    function test_badDebtAndLiabilitiesOutOfBoundsAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.badDebt = 1 << 226;
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.BadDebtOutOfBounds.selector));
        t = _statement();
        t.liabilitiesDisclosed = true;
        t.liabilities = 1 << 226;
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.LiabilitiesOutOfBounds.selector));
        t = _statement();
        t.liabilitiesDisclosed = false;
        t.liabilities = 1;
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.LiabilitiesOutOfBounds.selector));
    }

    function test_noBatchIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.stateCommitments = new uint256[](0);
        _refusedFromVenue(t, new uint256[8][](0), abi.encodeWithSelector(IBackstopEpochs.BatchCount.selector, 0));
    }

    function test_wrongVerifyingKeyIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        bytes32 expected = t.verifyingKeyHash;
        t.verifyingKeyHash = bytes32(uint256(expected) ^ 1);
        _refusedFromVenue(
            t, abi.encodeWithSelector(IBackstopEpochs.VerifyingKeyMismatch.selector, expected, t.verifyingKeyHash)
        );
    }

    function test_wrongVenueIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.venue = STRANGER;
        _refusedFromVenue(t, abi.encodeWithSelector(IBackstopEpochs.VenueMismatch.selector, venue, STRANGER));
        // Relayed with the venue's signature too.
        _refusedRelayed(
            t, _signature(), abi.encodeWithSelector(IBackstopEpochs.VenueMismatch.selector, venue, STRANGER)
        );
    }

    function test_missingOrExtraProofIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        uint256 k = proofs.length;
        _refusedFromVenue(
            s, _slice(proofs, 0, k - 1), abi.encodeWithSelector(IBackstopEpochs.ProofCount.selector, k, k - 1)
        );
        _refusedFromVenue(
            s, _slice(proofs, 1, k), abi.encodeWithSelector(IBackstopEpochs.ProofCount.selector, k, k - 1)
        );
        uint256[8][] memory more = new uint256[8][](k + 1);
        for (uint256 i = 0; i < k; ++i) {
            more[i] = proofs[i];
        }
        more[k] = proofs[k - 1];
        _refusedFromVenue(s, more, abi.encodeWithSelector(IBackstopEpochs.ProofCount.selector, k, k + 1));
    }

    function test_swappedOrRepeatedProofsAreRefused() public {
        uint256[8][] memory proofs = _proofs();
        (proofs[0], proofs[1]) = (proofs[1], proofs[0]);
        _refusedFromVenue(_statement(), proofs, _invalidProofs());
        proofs = _proofs();
        proofs[1] = proofs[0];
        _refusedFromVenue(_statement(), proofs, _invalidProofs());
    }

    // ---- who publishes -----------------------------------------------------------

    function test_unsignedFromStrangerIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.NotAuthorized.selector, STRANGER));
        epochs.submitEpoch(s, proofs, "");
    }

    /// Every field that reaches the signature check, changed under the venue's
    /// signature: the relayer's change breaks it before the proofs are checked.
    function test_relayedChangeBreaksSignature() public {
        bytes memory sig = _signature();
        bytes memory err = _invalidSignature();
        IBackstopEpochs.Statement memory t;

        t = _statement();
        t.epoch += 1;
        _refusedRelayed(t, sig, err);
        _refusedRelayed(_otherDecimals(QUOTE, PRICE), sig, err);
        t = _statement();
        t.reserves += 1;
        _refusedRelayed(t, sig, err);
        t = _statement();
        t.insuranceFund += 1;
        _refusedRelayed(t, sig, err);
        for (uint256 m = 0; m < t.markets.length; ++m) {
            t = _statement();
            t.markets[m].symbol = bytes32(uint256(t.markets[m].symbol) ^ (1 << 248));
            _refusedRelayed(t, sig, err);
            t = _statement();
            t.markets[m].price ^= 1;
            _refusedRelayed(t, sig, err);
            _refusedRelayed(_otherDecimals(m, PRICE), sig, err);
            _refusedRelayed(_otherDecimals(m, SIZE), sig, err);
            t = _statement();
            t.markets[m].maintenanceMarginBps = t.markets[m].maintenanceMarginBps < 10000
                ? t.markets[m].maintenanceMarginBps + 1
                : t.markets[m].maintenanceMarginBps - 1;
            _refusedRelayed(t, sig, err);
        }
        t = _statement();
        t.accountsCommitment += 1;
        _refusedRelayed(t, sig, err);
        for (uint256 b = 0; b < t.stateCommitments.length; ++b) {
            t = _statement();
            t.stateCommitments[b] += 1;
            _refusedRelayed(t, sig, err);
        }
        t = _statement();
        t.liquidations[t.liquidations.length - 1] += 1;
        _refusedRelayed(t, sig, err);
        t = _statement();
        t.badDebt += 1;
        _refusedRelayed(t, sig, err);
        t = _statement();
        t.solvent = !t.solvent;
        _refusedRelayed(t, sig, err);
        t = _statement();
        t.insuranceCovered = !t.insuranceCovered;
        _refusedRelayed(t, sig, err);
        t = _statement();
        t.ownerBinding = (t.ownerBinding + 1) % 3;
        _refusedRelayed(t, sig, err);
        t = _statement();
        t.liabilitiesDisclosed = !t.liabilitiesDisclosed;
        if (!t.liabilitiesDisclosed) t.liabilities = 0;
        _refusedRelayed(t, sig, err);
    }

    function test_malformedSignaturesAreRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        bytes memory err = _invalidSignature();
        bytes memory good = _signature();
        bytes32 r;
        bytes32 sigS;
        assembly {
            r := mload(add(good, 32))
            sigS := mload(add(good, 64))
        }
        uint8 v = uint8(good[64]);
        // The malleated twin (n − s, the other v): the same signer, s above n/2.
        _refusedRelayed(s, abi.encodePacked(r, bytes32(N - uint256(sigS)), v == 27 ? uint8(28) : uint8(27)), err);
        // v not 27 or 28.
        _refusedRelayed(s, abi.encodePacked(r, sigS, uint8(v - 27)), err);
        _refusedRelayed(s, abi.encodePacked(r, sigS, uint8(29)), err);
        // The other v: another signer.
        _refusedRelayed(s, abi.encodePacked(r, sigS, v == 27 ? uint8(28) : uint8(27)), err);
        // 64 and 66 bytes.
        _refusedRelayed(s, abi.encodePacked(r, sigS), err);
        _refusedRelayed(s, abi.encodePacked(good, uint8(0)), err);
        // A flipped bit of r.
        _refusedRelayed(s, abi.encodePacked(r ^ bytes32(uint256(1)), sigS, v), err);
        // Another key's valid signature of the same statement hash.
        _refusedRelayed(s, _sign(OTHER_KEY, _statementHash(s)), err);
    }

    // ---- flipped bits ----------------------------------------------------------------

    /// The fuzz tests' call, unchanged, is accepted: what refuses their calls is the
    /// flipped bit.
    function test_unflippedCallIsAccepted() public {
        bytes memory data = abi.encodeCall(IBackstopEpochs.submitEpoch, (_statement(), _proofs(), ""));
        vm.prank(venue);
        (bool ok,) = address(epochs).call(data);
        assertTrue(ok, "the unchanged call is accepted");
        assertTrue(epochs.epochs(_statement().epoch).accepted, "and recorded");
    }

    /// One bit of one word of one proof flipped: refused, whatever the reason
    /// (a coordinate out of the field, a point off the curve, or the pairing check).
    function testFuzz_flippedProofByteIsRefused(uint256 proof, uint256 word, uint8 bit) public {
        uint256[8][] memory proofs = _proofs();
        proof %= proofs.length;
        word %= 8;
        proofs[proof][word] ^= uint256(1) << bit;
        bytes memory data = abi.encodeCall(IBackstopEpochs.submitEpoch, (_statement(), proofs, ""));
        vm.prank(venue);
        (bool ok,) = address(epochs).call(data);
        assertFalse(ok, "a flipped proof bit was accepted");
    }

    /// One byte of the call's ABI encoding (after the selector) changed: refused.
    function testFuzz_flippedCalldataByteIsRefused(uint256 pos, uint8 mask) public {
        vm.assume(mask != 0);
        bytes memory data = abi.encodeCall(IBackstopEpochs.submitEpoch, (_statement(), _proofs(), ""));
        pos = 4 + pos % (data.length - 4);
        data[pos] ^= bytes1(mask);
        vm.prank(venue);
        (bool ok,) = address(epochs).call(data);
        assertFalse(ok, string.concat("a changed calldata byte was accepted at ", vm.toString(pos)));
    }

    // ---- chunked submission ----------------------------------------------------------

    function test_chunkedSubmissionRecordsWhatSubmitEpochRecords() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        bytes memory sig = _signature();
        uint256 k = proofs.length;
        bytes32 key = epochs.hashStatement(s);

        // One batch per chunk, relayed with the signature.
        for (uint256 b = 0; b < k; ++b) {
            assertEq(epochs.nextBatch(key), b, "nextBatch before the chunk");
            vm.recordLogs();
            vm.prank(RELAYER);
            epochs.submitBatches(s, b, _slice(proofs, b, b + 1), sig);
            Vm.Log[] memory logs = vm.getRecordedLogs();
            assertEq(logs.length, 1, "one BatchesVerified");
            assertEq(logs[0].topics[0], IBackstopEpochs.BatchesVerified.selector, "BatchesVerified");
            assertEq(logs[0].topics[1], bytes32(uint256(s.epoch)), "its epoch");
            assertEq(logs[0].topics[2], key, "its statement hash");
            assertEq(logs[0].data, abi.encode(b, uint256(1), k), "first, count, batches");
            assertFalse(epochs.epochs(s.epoch).accepted, "not recorded before finalizeEpoch");
        }
        assertEq(epochs.nextBatch(key), k, "all batches verified");
        vm.recordLogs();
        vm.prank(STRANGER); // anyone may finalize
        epochs.finalizeEpoch(s);
        Vm.Log[] memory finalLogs = vm.getRecordedLogs();
        assertEq(epochs.nextBatch(key), 0, "progress cleared");
        assertEq(uint256(epochs.latestEpoch()), s.epoch, "latestEpoch");

        // The same record and event as submitEpoch on a fresh deployment.
        BackstopEpochs whole = new BackstopEpochs(IBackstopVerifier(address(verifier)), venue);
        vm.recordLogs();
        vm.prank(RELAYER);
        whole.submitEpoch(s, proofs, sig);
        Vm.Log[] memory wholeLogs = vm.getRecordedLogs();
        assertEq(abi.encode(epochs.epochs(s.epoch)), abi.encode(whole.epochs(s.epoch)), "the same record");
        assertEq(finalLogs.length, _acceptanceEvents(), "one EpochAccepted (and AssetSolvency)");
        assertEq(abi.encode(finalLogs[0].topics), abi.encode(wholeLogs[0].topics), "the same topics");
        assertEq(finalLogs[0].data, wholeLogs[0].data, "the same event data");

        // A chunk after the epoch is recorded: its id is no longer above the latest.
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochNotIncreasing.selector, s.epoch, s.epoch));
        epochs.submitBatches(s, 0, _slice(proofs, 0, 1), sig);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochIncomplete.selector, 0, k));
        epochs.finalizeEpoch(s);
    }

    function test_chunkedSubmissionInUnevenChunksFromTheVenue() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        uint256 k = proofs.length;
        vm.startPrank(venue);
        epochs.submitBatches(s, 0, _slice(proofs, 0, 1), "");
        epochs.submitBatches(s, 1, _slice(proofs, 1, k), "");
        vm.stopPrank();
        epochs.finalizeEpoch(s);
        assertTrue(epochs.epochs(s.epoch).accepted, "accepted");
        assertEq(uint256(epochs.epochs(s.epoch).batchCount), k, "batchCount");
    }

    function test_chunkOutOfOrderIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        bytes memory sig = _signature();
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ChunkOutOfOrder.selector, 0, 1));
        epochs.submitBatches(s, 1, _slice(proofs, 1, 2), sig);
        vm.prank(RELAYER);
        epochs.submitBatches(s, 0, _slice(proofs, 0, 1), sig);
        // Repeated.
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ChunkOutOfOrder.selector, 1, 0));
        epochs.submitBatches(s, 0, _slice(proofs, 0, 1), sig);
        // Skipping ahead.
        if (proofs.length > 2) {
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ChunkOutOfOrder.selector, 1, 2));
            epochs.submitBatches(s, 2, _slice(proofs, 2, 3), sig);
        }
        assertEq(epochs.nextBatch(epochs.hashStatement(s)), 1, "only the first chunk counted");
    }

    function test_chunkSizeIsChecked() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        uint256 k = proofs.length;
        uint256[8][] memory more = new uint256[8][](k + 1);
        for (uint256 i = 0; i < k; ++i) {
            more[i] = proofs[i];
        }
        more[k] = proofs[0];
        vm.startPrank(venue);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ProofCount.selector, k, 0));
        epochs.submitBatches(s, 0, new uint256[8][](0), "");
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ProofCount.selector, k, k + 1));
        epochs.submitBatches(s, 0, more, "");
        epochs.submitBatches(s, 0, _slice(proofs, 0, 1), "");
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ProofCount.selector, k - 1, k));
        epochs.submitBatches(s, 1, _slice(more, 1, k + 1), "");
        vm.stopPrank();
    }

    function test_finalizeBeforeAllBatchesIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        uint256 k = proofs.length;
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochIncomplete.selector, 0, k));
        epochs.finalizeEpoch(s);
        vm.prank(venue);
        epochs.submitBatches(s, 0, _slice(proofs, 0, k - 1), "");
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochIncomplete.selector, k - 1, k));
        epochs.finalizeEpoch(s);
        // Another statement's progress does not count.
        IBackstopEpochs.Statement memory t = _statement();
        t.reserves += 1;
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.EpochIncomplete.selector, 0, k));
        epochs.finalizeEpoch(t);
    }

    function test_badProofInChunkIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        uint256 k = proofs.length;
        vm.startPrank(venue);
        // Batch 1's proof claimed as batch 0.
        vm.expectRevert(_invalidProofs());
        epochs.submitBatches(s, 0, _slice(proofs, 1, 2), "");
        // Two proofs swapped within a chunk.
        uint256[8][] memory swapped = _slice(proofs, 0, 2);
        (swapped[0], swapped[1]) = (swapped[1], swapped[0]);
        vm.expectRevert(_invalidProofs());
        epochs.submitBatches(s, 0, swapped, "");
        // A valid first chunk, then batch 0's proof claimed as batch 1.
        epochs.submitBatches(s, 0, _slice(proofs, 0, 1), "");
        vm.expectRevert(_invalidProofs());
        epochs.submitBatches(s, 1, _slice(proofs, 0, 1), "");
        // A chunk of this epoch's proofs under a changed statement.
        IBackstopEpochs.Statement memory t = _statement();
        t.badDebt += 1;
        vm.expectRevert(_invalidProofs());
        epochs.submitBatches(t, 0, _slice(proofs, 0, 1), "");
        vm.stopPrank();
        assertEq(epochs.nextBatch(epochs.hashStatement(s)), 1, "failed chunks do not count");
        assertEq(epochs.nextBatch(epochs.hashStatement(t)), 0, "nothing for the changed statement");
        assertTrue(k >= 2, "k");
    }

    function test_rotationBeforeFinalizeIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        vm.startPrank(venue);
        epochs.submitBatches(s, 0, proofs, "");
        epochs.rotateVenueKey(STRANGER, "");
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.VenueMismatch.selector, STRANGER, venue));
        epochs.finalizeEpoch(s);
    }

    // ---- the venue's rules -------------------------------------------------------------

    function test_rotatedKeyRefusesTheOldVenuesStatements() public {
        address next = vm.addr(OTHER_KEY);
        vm.prank(venue);
        epochs.rotateVenueKey(next, "");
        assertEq(epochs.venue(), next, "rotated");
        assertFalse(epochs.isSubmitter(venue), "the old key no longer submits");
        _refusedRelayed(
            _statement(), _signature(), abi.encodeWithSelector(IBackstopEpochs.VenueMismatch.selector, next, venue)
        );
        _refusedFromVenue(_statement(), abi.encodeWithSelector(IBackstopEpochs.VenueMismatch.selector, next, venue));
        // The old key can no longer act for the venue.
        vm.prank(venue);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.NotAuthorized.selector, venue));
        epochs.rotateVenueKey(venue, "");
    }

    function test_submitterMaySubmitUnsigned() public {
        vm.prank(venue);
        epochs.setSubmitter(RELAYER, true, "");
        assertTrue(epochs.isSubmitter(RELAYER), "registered");
        IBackstopEpochs.Statement memory s = _statement();
        vm.prank(RELAYER);
        epochs.submitEpoch(s, _proofs(), "");
        assertTrue(epochs.epochs(s.epoch).accepted, "accepted from the submitter");
    }

    function test_removedOrRevokedSubmitterIsRefused() public {
        IBackstopEpochs.Statement memory s = _statement();
        uint256[8][] memory proofs = _proofs();
        vm.startPrank(venue);
        epochs.setSubmitter(RELAYER, true, "");
        epochs.setSubmitter(RELAYER, false, "");
        vm.stopPrank();
        assertFalse(epochs.isSubmitter(RELAYER), "removed");
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.NotAuthorized.selector, RELAYER));
        epochs.submitEpoch(s, proofs, "");
        // A rotation revokes the previous key's submitters.
        vm.startPrank(venue);
        epochs.setSubmitter(RELAYER, true, "");
        epochs.rotateVenueKey(vm.addr(OTHER_KEY), "");
        vm.stopPrank();
        assertFalse(epochs.isSubmitter(RELAYER), "revoked by the rotation");
    }

    function test_strangerCannotActForTheVenue() public {
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.NotAuthorized.selector, STRANGER));
        epochs.setSubmitter(STRANGER, true, "");
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.NotAuthorized.selector, STRANGER));
        epochs.rotateVenueKey(STRANGER, "");
        vm.prank(venue);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.ZeroVenue.selector));
        epochs.rotateVenueKey(address(0), "");
    }

    function test_venueActionsBySignature() public {
        // Rotate to a key this test holds, then relay its signed actions.
        address next = vm.addr(OTHER_KEY);
        vm.prank(venue);
        epochs.rotateVenueKey(next, "");

        bytes memory sig = _sign(OTHER_KEY, epochs.venueActionHash(keccak256(abi.encode("submitter", RELAYER, true))));
        vm.prank(STRANGER);
        epochs.setSubmitter(RELAYER, true, sig);
        assertTrue(epochs.isSubmitter(RELAYER), "registered by signature");
        assertEq(epochs.venueNonce(), 1, "nonce used");
        // Each signature works once.
        vm.prank(STRANGER);
        vm.expectRevert(_invalidSignature());
        epochs.setSubmitter(RELAYER, true, sig);
        // A signature of another action does not authorize this one.
        bytes memory other =
            _sign(OTHER_KEY, epochs.venueActionHash(keccak256(abi.encode("submitter", STRANGER, true))));
        vm.prank(STRANGER);
        vm.expectRevert(_invalidSignature());
        epochs.rotateVenueKey(STRANGER, other);

        bytes memory rotate = _sign(OTHER_KEY, epochs.venueActionHash(keccak256(abi.encode("rotate", venue))));
        vm.prank(STRANGER);
        epochs.rotateVenueKey(venue, rotate);
        assertEq(epochs.venue(), venue, "rotated back by signature");
        assertEq(epochs.venueNonce(), 2, "nonce used");
        assertFalse(epochs.isSubmitter(RELAYER), "revoked by the rotation");
        // The fixture's statement is the venue's again.
        vm.prank(RELAYER);
        epochs.submitEpoch(_statement(), _proofs(), _signature());
        assertTrue(epochs.epochs(_statement().epoch).accepted, "accepted after rotating back");
    }
}
