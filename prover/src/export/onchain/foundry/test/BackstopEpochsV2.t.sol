// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

import {BackstopTest, Vm} from "./BackstopTest.sol";
import {EpochFixture} from "./EpochFixture.sol";
import {IBackstopEpochs} from "../src/IBackstopEpochs.sol";
import {BackstopEpochs, IBackstopVerifier} from "../src/BackstopEpochs.sol";
import {BackstopVerifier} from "../src/BackstopVerifier.sol";

/// What only a risk model v2 shape's BackstopEpochs has (SPEC §2.1, §6.4, §7.1),
/// against the proven epoch of EpochFixture (K ≥ 2 batches, a market with tiers, at
/// least one collateral asset, one asset's total disclosed and one hidden, signed by
/// its venue): its ABI and shared inputs, the
/// per-asset flags recorded and readable, and every tier and asset field refused when
/// changed, by the proofs or by its own rule. BackstopEpochsTest runs the rest of
/// the contract's tests on the same deployment.
contract BackstopEpochsV2Test is BackstopTest {
    address internal constant RELAYER = address(0xBEEF);

    BackstopVerifier internal verifier;
    BackstopEpochs internal epochs;
    address internal venue;
    /// The first market with tiers.
    uint256 internal tiered;

    function setUp() public {
        verifier = new BackstopVerifier();
        epochs = new BackstopEpochs(IBackstopVerifier(address(verifier)), EpochFixture.VENUE);
        venue = EpochFixture.VENUE;
        IBackstopEpochs.Statement memory s = EpochFixture.statement();
        assertTrue(s.stateCommitments.length >= 2, "the fixture has at least two batches");
        assertTrue(s.assets.length >= 1, "the fixture has a collateral asset");
        tiered = type(uint256).max;
        for (uint256 m = 0; m < s.tiers.length; ++m) {
            if (s.tiers[m].length > 0 && tiered == type(uint256).max) tiered = m;
        }
        assertTrue(tiered != type(uint256).max, "the fixture has a market with tiers");
        assertEq(s.assetDisclosures.length, s.assets.length, "one disclosure word per asset");
        (bool shown, bool hidden) = (false, false);
        for (uint256 c = 0; c < s.assets.length; ++c) {
            if (s.assetDisclosures[c] == 0) hidden = true;
            else shown = true;
        }
        assertTrue(shown && hidden, "the fixture discloses one asset's total and hides another's");
    }

    // ---- helpers -----------------------------------------------------------------

    function _statement() internal pure returns (IBackstopEpochs.Statement memory) {
        return EpochFixture.statement();
    }

    /// Sent by the venue itself without a signature, so that the statement's checks
    /// and the proofs, not the signature, must catch the change.
    function _refused(IBackstopEpochs.Statement memory t, bytes memory err) internal {
        uint256[8][] memory proofs = EpochFixture.proofs();
        vm.prank(venue);
        vm.expectRevert(err);
        epochs.submitEpoch(t, proofs, "");
        assertFalse(epochs.epochs(t.epoch).accepted, "nothing recorded");
    }

    /// Like `_refused`, matching only the error's selector (its arguments name the
    /// market, tier or asset).
    function _refusedBy(IBackstopEpochs.Statement memory t, bytes4 selector) internal {
        uint256[8][] memory proofs = EpochFixture.proofs();
        vm.prank(venue);
        vm.expectPartialRevert(selector);
        epochs.submitEpoch(t, proofs, "");
    }

    function _invalidProofs() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IBackstopEpochs.InvalidProofs.selector);
    }

    function _accept() internal returns (IBackstopEpochs.Statement memory s) {
        s = _statement();
        uint256[8][] memory proofs = EpochFixture.proofs();
        bytes memory signature = EpochFixture.signature();
        vm.prank(RELAYER);
        epochs.submitEpoch(s, proofs, signature);
    }

    function _symbols(IBackstopEpochs.Statement memory s) internal pure returns (bytes32[] memory symbols) {
        symbols = new bytes32[](s.assets.length);
        for (uint256 c = 0; c < s.assets.length; ++c) {
            symbols[c] = s.assets[c].symbol;
        }
    }

    // ---- the ABI and the shape ---------------------------------------------------

    string internal constant STATEMENT_V2 =
        "(address,uint64,uint8,uint128,uint128,(bytes32,uint64,uint8,uint8,uint16)[],uint256,uint256[],uint64[],uint256,bool,bool,bytes32,uint8,bool,uint256,(uint64,uint16)[][],(bytes32,uint64,uint8,uint8,uint16,uint128)[],bool[],uint256[])";

    /// The selectors of the functions taking a risk model v2 Statement, and the
    /// AssetSolvency topic.
    function test_abiIsPinnedV2() public pure {
        assertSelector(
            IBackstopEpochs.submitEpoch.selector,
            bytes4(keccak256(bytes(string.concat("submitEpoch(", STATEMENT_V2, ",uint256[8][],bytes)")))),
            "submitEpoch"
        );
        assertSelector(
            IBackstopEpochs.submitBatches.selector,
            bytes4(keccak256(bytes(string.concat("submitBatches(", STATEMENT_V2, ",uint256,uint256[8][],bytes)")))),
            "submitBatches"
        );
        assertSelector(
            IBackstopEpochs.finalizeEpoch.selector,
            bytes4(keccak256(bytes(string.concat("finalizeEpoch(", STATEMENT_V2, ")")))),
            "finalizeEpoch"
        );
        assertSelector(
            IBackstopEpochs.hashStatement.selector,
            bytes4(keccak256(bytes(string.concat("hashStatement(", STATEMENT_V2, ")")))),
            "hashStatement"
        );
        assertEq(
            IBackstopEpochs.AssetSolvency.selector,
            keccak256("AssetSolvency(uint64,bytes32[],bool[])"),
            "AssetSolvency topic"
        );
    }

    function assertSelector(bytes4 got, bytes4 expected, string memory message) internal pure {
        assertEq(bytes32(got), bytes32(expected), message);
    }

    /// T and A match the verifier's and the fixture's; the shared inputs are SPEC
    /// §6.4's 7 + ⌈M/3⌉ + 2·⌈M·(T − 1)/3⌉ + A + ⌈A/2⌉.
    function test_deploymentV2() public view {
        IBackstopEpochs.Statement memory s = _statement();
        uint256 m = epochs.MARKETS();
        uint256 t = epochs.BRACKETS();
        uint256 a = epochs.ASSETS();
        assertEq(t, verifier.BRACKETS(), "T");
        assertEq(a, verifier.ASSETS(), "A");
        assertEq(a, s.assets.length, "the fixture's assets");
        uint256 most = 0;
        for (uint256 i = 0; i < s.tiers.length; ++i) {
            if (s.tiers[i].length > most) most = s.tiers[i].length;
        }
        assertEq(t, most + 1, "the fixture's brackets");
        assertEq(
            epochs.SHARED_INPUTS(), 7 + (m + 2) / 3 + 2 * ((m * (t - 1) + 2) / 3) + a + (a + 1) / 2, "shared inputs"
        );
    }

    // ---- the per-asset record ----------------------------------------------------

    /// An accepted epoch's flags are readable three ways and emitted with the
    /// symbols; another symbol list, index or symbol is refused.
    function test_assetFlagsAreRecordedAndReadable() public {
        vm.recordLogs();
        IBackstopEpochs.Statement memory s = _accept();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32[] memory symbols = _symbols(s);
        assertEq(logs.length, 2, "EpochAccepted, then AssetSolvency");
        assertEq(logs[1].topics[0], IBackstopEpochs.AssetSolvency.selector, "AssetSolvency");
        assertEq(logs[1].topics[1], bytes32(uint256(s.epoch)), "its epoch");
        assertEq(logs[1].data, abi.encode(symbols, s.assetSolvency), "the symbols and flags");

        bool[] memory flags = epochs.assetSolvency(s.epoch);
        assertEq(flags.length, s.assets.length, "one flag per asset");
        for (uint256 c = 0; c < s.assets.length; ++c) {
            assertEq(flags[c], s.assetSolvency[c], "assetSolvency");
            assertEq(epochs.assetSolvent(s.epoch, c), s.assetSolvency[c], "assetSolvent");
            assertEq(epochs.isAssetSolvent(s.epoch, symbols, symbols[c]), s.assetSolvency[c], "isAssetSolvent");
        }

        uint256 count = s.assets.length;
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.UnknownAsset.selector, s.epoch, count));
        epochs.assetSolvent(s.epoch, count);
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.UnknownAssetSymbol.selector, s.epoch, bytes32("NOPE")));
        epochs.isAssetSolvent(s.epoch, symbols, bytes32("NOPE"));
        bytes32[] memory renamed = _symbols(s);
        renamed[0] = bytes32("NOPE");
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.AssetsMismatch.selector));
        epochs.isAssetSolvent(s.epoch, renamed, bytes32("NOPE"));
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.UnknownEpoch.selector, s.epoch + 1));
        epochs.assetSolvency(s.epoch + 1);
    }

    /// A disclosed total reads as (true, ℓ − 1), a hidden one as (false, 0).
    function test_assetTotalsAreRecorded() public {
        IBackstopEpochs.Statement memory s = _accept();
        for (uint256 c = 0; c < s.assets.length; ++c) {
            (bool disclosed, uint256 total) = epochs.assetTotal(s.epoch, c);
            uint256 l = s.assetDisclosures[c];
            assertEq(disclosed, l != 0, "disclosed");
            assertEq(total, l == 0 ? 0 : l - 1, "total");
        }
        uint256 count = s.assets.length;
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.UnknownAsset.selector, s.epoch, count));
        epochs.assetTotal(s.epoch, count);
    }

    // ---- assets: refused by the proofs -------------------------------------------

    /// A disclosed total one more or one less, a disclosed total hidden, a hidden
    /// total disclosed (as 1, a total of 0).
    function test_tamperedAssetDisclosuresAreRefused() public {
        for (uint256 c = 0; c < _statement().assets.length; ++c) {
            IBackstopEpochs.Statement memory t = _statement();
            if (t.assetDisclosures[c] == 0) {
                t.assetDisclosures[c] = 1;
                _refused(t, _invalidProofs());
                continue;
            }
            t.assetDisclosures[c] += 1;
            _refused(t, _invalidProofs());
            t = _statement();
            t.assetDisclosures[c] -= 1;
            _refused(t, _invalidProofs());
            t = _statement();
            t.assetDisclosures[c] = 0;
            _refused(t, _invalidProofs());
        }
    }

    function test_flippedAssetFlagsAreRefused() public {
        for (uint256 c = 0; c < _statement().assets.length; ++c) {
            IBackstopEpochs.Statement memory t = _statement();
            t.assetSolvency[c] = !t.assetSolvency[c];
            _refused(t, _invalidProofs());
        }
    }

    function test_tamperedAssetPriceIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.assets[0].price += 1;
        _refused(t, _invalidProofs());
    }

    function test_tamperedCollateralRatioIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.assets[0].collateralRatioBps = t.assets[0].collateralRatioBps == 0 ? 1 : t.assets[0].collateralRatioBps - 1;
        _refused(t, _invalidProofs());
    }

    function test_tamperedAssetReservesAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.assets[0].reserves += 1;
        _refused(t, _invalidProofs());
    }

    /// A decimal moved between an asset's amounts and its price keeps every scale
    /// (E − a − p) and still changes what the amounts mean.
    function test_movedAssetDecimalIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        IBackstopEpochs.Asset memory a = t.assets[0];
        if (a.amountDecimals > 0 && a.priceDecimals < 18) {
            a.amountDecimals -= 1;
            a.priceDecimals += 1;
        } else {
            a.amountDecimals += 1;
            a.priceDecimals -= 1;
        }
        _refused(t, _invalidProofs());
    }

    function test_renamedAssetIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.assets[0].symbol = bytes32("RENAMED");
        _refused(t, _invalidProofs());
    }

    function test_swappedAssetsAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        if (t.assets.length < 2) {
            // One asset: swapping it with a renamed copy of itself is the rename above.
            t.assets[0].symbol = bytes32("SWAPPED");
        } else {
            (t.assets[0], t.assets[1]) = (t.assets[1], t.assets[0]);
            (t.assetSolvency[0], t.assetSolvency[1]) = (t.assetSolvency[1], t.assetSolvency[0]);
        }
        _refused(t, _invalidProofs());
    }

    // ---- assets: refused by their rules ------------------------------------------

    function test_assetRulesAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.assets[0].collateralRatioBps = 10001;
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.CollateralRatioOutOfBounds.selector, 0));

        t = _statement();
        t.assets[0].symbol = bytes32(0);
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.InvalidAssetSymbol.selector, 0));

        t = _statement();
        t.assets[0].amountDecimals = 19;
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.AssetDecimalsOutOfBounds.selector, 0));

        t = _statement();
        t.assets[0].reserves = uint128(1) << 96;
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.AssetReservesOutOfBounds.selector, 0));

        t = _statement();
        IBackstopEpochs.Asset[] memory fewer = new IBackstopEpochs.Asset[](t.assets.length - 1);
        for (uint256 c = 0; c + 1 < t.assets.length; ++c) {
            fewer[c] = t.assets[c];
        }
        t.assets = fewer;
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.AssetCount.selector, fewer.length));

        t = _statement();
        t.assetDisclosures = new uint256[](t.assets.length + 1);
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.AssetDisclosureCount.selector, t.assets.length + 1));

        t = _statement();
        t.assetDisclosures[0] = (uint256(1) << 95) + 1;
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.AssetTotalOutOfBounds.selector, 0));

        t = _statement();
        t.assetSolvency = new bool[](t.assets.length + 1);
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.AssetSolvencyCount.selector, t.assets.length + 1));

        if (t.assets.length >= 2) {
            t = _statement();
            t.assets[1].symbol = t.assets[0].symbol;
            _refused(t, abi.encodeWithSelector(IBackstopEpochs.DuplicateAsset.selector, 1));
        }
    }

    // ---- tiers -------------------------------------------------------------------

    function test_tamperedTierFloorIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        IBackstopEpochs.Tier[] memory tiers = t.tiers[tiered];
        uint256 last = tiers.length - 1;
        tiers[last].notionalFloor += 1;
        _refused(t, _invalidProofs());
    }

    function test_tamperedTierRateIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        IBackstopEpochs.Tier[] memory tiers = t.tiers[tiered];
        uint256 last = tiers.length - 1;
        // Down to the bracket before's rate (or the market's) keeps the rule.
        uint16 floor = last == 0 ? t.markets[tiered].maintenanceMarginBps : tiers[last - 1].maintenanceMarginBps;
        assertTrue(tiers[last].maintenanceMarginBps > floor, "the fixture's last tier raises the rate");
        tiers[last].maintenanceMarginBps -= 1;
        _refused(t, _invalidProofs());
    }

    function test_tierRulesAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.tiers[tiered][0].notionalFloor = 0;
        _refusedBy(t, IBackstopEpochs.TierFloorNotIncreasing.selector);

        t = _statement();
        t.tiers[tiered][0].maintenanceMarginBps = 10001;
        _refusedBy(t, IBackstopEpochs.TierRateOutOfBounds.selector);

        t = _statement();
        t.tiers[tiered][0].maintenanceMarginBps = 0;
        if (t.markets[tiered].maintenanceMarginBps > 0) {
            _refusedBy(t, IBackstopEpochs.TierRateOutOfBounds.selector);
        }

        t = _statement();
        t.tiers = new IBackstopEpochs.Tier[][](t.markets.length + 1);
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.TierListCount.selector, t.markets.length + 1));

        // One bracket more than the shape has: refused by its count.
        t = _statement();
        IBackstopEpochs.Tier[] memory more = new IBackstopEpochs.Tier[](epochs.BRACKETS());
        for (uint256 i = 0; i < more.length; ++i) {
            more[i] = IBackstopEpochs.Tier({notionalFloor: uint64(1000 * (i + 1)), maintenanceMarginBps: 10000});
        }
        t.tiers[tiered] = more;
        _refusedBy(t, IBackstopEpochs.TierCount.selector);

        // Every market's tiers removed: the shape is not the least for them.
        t = _statement();
        t.tiers = new IBackstopEpochs.Tier[][](t.markets.length);
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.ShapeNotLeast.selector, 1));
    }
}
