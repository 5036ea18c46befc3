// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

import {BackstopTest, Vm} from "./BackstopTest.sol";
import {EpochFixture} from "./EpochFixture.sol";
import {IBackstopEpochs} from "../src/IBackstopEpochs.sol";
import {BackstopEpochs, IBackstopVerifier} from "../src/BackstopEpochs.sol";
import {BackstopVerifier} from "../src/BackstopVerifier.sol";

/// What only a waterfall shape's BackstopEpochs has (SPEC §2.4, §5.5, §6.4), against
/// the proven epoch of EpochFixture (a waterfall statement signed by its venue): the
/// waterfall recorded as the contract derives it from D, the fund and F', readable
/// and emitted, and each waterfall member refused when changed, by the proofs or by
/// its own rule. BackstopEpochsTest runs the rest of the contract's tests on the same
/// deployment.
contract BackstopEpochsWaterfallTest is BackstopTest {
    address internal constant RELAYER = address(0xBEEF);
    uint256 internal constant PPB = 1_000_000_000;

    BackstopVerifier internal verifier;
    BackstopEpochs internal epochs;
    address internal venue;

    function setUp() public {
        verifier = new BackstopVerifier();
        epochs = new BackstopEpochs(IBackstopVerifier(address(verifier)), EpochFixture.VENUE);
        venue = EpochFixture.VENUE;
        IBackstopEpochs.Statement memory s = EpochFixture.statement();
        assertEq(s.liquidationFeeBps.length, s.markets.length, "one fee rate per market");
        assertTrue(verifier.WATERFALL(), "a waterfall verifier");
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

    function _invalidProofs() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IBackstopEpochs.InvalidProofs.selector);
    }

    function _error(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }

    /// The waterfall of SPEC §2.4 recomputed here from the statement, every amount
    /// ×10^4 in common units (E the recorded exponent).
    function _expected(IBackstopEpochs.Statement memory s, uint8 e)
        internal
        pure
        returns (IBackstopEpochs.WaterfallRecord memory w)
    {
        uint256 debt = 10000 * s.badDebt;
        uint256 available = 10000 * uint256(s.insuranceFund) * 10 ** (e - s.quoteDecimals) + s.liquidationFees;
        uint256 draw = debt < available ? debt : available;
        w.liquidationFees = s.liquidationFees;
        w.insuranceDraw = draw;
        w.deficit = debt - draw;
        w.insuranceFundAfter = available - draw;
        w.haircutPpb = s.haircutPpb;
        w.shortfall = s.shortfall;
    }

    // ---- the ABI and the shape ---------------------------------------------------

    /// The WaterfallRecorded topic and the view's selector.
    function test_abiIsPinnedWaterfall() public pure {
        assertEq(
            IBackstopEpochs.WaterfallRecorded.selector,
            keccak256("WaterfallRecorded(uint64,(uint256,uint256,uint256,uint256,uint32,bool),uint16[])"),
            "WaterfallRecorded topic"
        );
        assertEq(
            bytes32(IBackstopEpochs.waterfall.selector), bytes32(bytes4(keccak256("waterfall(uint64)"))), "waterfall"
        );
    }

    // ---- the record --------------------------------------------------------------

    /// An accepted epoch's waterfall is the one derived from D, the fund and F',
    /// emitted after EpochAccepted with the fee rates; an unknown epoch has none.
    function test_waterfallIsRecordedAndReadable() public {
        IBackstopEpochs.Statement memory s = _statement();
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.UnknownEpoch.selector, s.epoch));
        epochs.waterfall(s.epoch);

        vm.recordLogs();
        vm.prank(RELAYER);
        epochs.submitEpoch(s, EpochFixture.proofs(), EpochFixture.signature());
        Vm.Log[] memory logs = vm.getRecordedLogs();
        IBackstopEpochs.WaterfallRecord memory expected = _expected(s, epochs.epochs(s.epoch).exponent);
        Vm.Log memory last = logs[logs.length - 1];
        assertEq(last.topics[0], IBackstopEpochs.WaterfallRecorded.selector, "WaterfallRecorded last");
        assertEq(last.topics[1], bytes32(uint256(s.epoch)), "its epoch");
        assertEq(last.data, abi.encode(expected, s.liquidationFeeBps), "the record and the rates");

        IBackstopEpochs.WaterfallRecord memory w = epochs.waterfall(s.epoch);
        assertEq(abi.encode(w), abi.encode(expected), "the recorded waterfall");
        assertEq(w.insuranceDraw + w.deficit, 10000 * s.badDebt, "draw + deficit = D");
        assertTrue(!w.shortfall || w.haircutPpb == PPB, "a shortfall takes everything");
        assertTrue((w.deficit == 0) == (w.haircutPpb == 0), "a haircut exactly when a deficit");
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.UnknownEpoch.selector, s.epoch + 1));
        epochs.waterfall(s.epoch + 1);
    }

    // ---- refused by the proofs ---------------------------------------------------

    function test_haircutChangedIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        if (t.haircutPpb < PPB) {
            t.haircutPpb += 1;
            _refused(t, _invalidProofs());
        }
        t = _statement();
        if (t.haircutPpb > 0 && !t.shortfall) {
            t.haircutPpb -= 1;
            _refused(t, _invalidProofs());
        }
    }

    function test_feesChangedAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.liquidationFees += 1;
        _refused(t, _invalidProofs());
        t = _statement();
        if (t.liquidationFees > 0) {
            t.liquidationFees -= 1;
            _refused(t, _invalidProofs());
        }
    }

    function test_feeRateChangedIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.liquidationFeeBps[0] = t.liquidationFeeBps[0] == 10000 ? 9999 : t.liquidationFeeBps[0] + 1;
        _refused(t, _invalidProofs());
    }

    function test_shortfallFlippedIsRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.shortfall = !t.shortfall;
        // Claimed with h below 10^9, the contract's own rule refuses it first.
        _refused(t, t.shortfall && t.haircutPpb != PPB ? _error(IBackstopEpochs.HaircutOutOfBounds.selector) : _invalidProofs());
        t = _statement();
        if (!t.shortfall) {
            t.shortfall = true;
            t.haircutPpb = uint32(PPB);
            _refused(t, _invalidProofs());
        }
    }

    // ---- refused by the contract's rules ------------------------------------------

    function test_waterfallBoundsAreRefused() public {
        IBackstopEpochs.Statement memory t = _statement();
        t.haircutPpb = uint32(PPB + 1);
        _refused(t, _error(IBackstopEpochs.HaircutOutOfBounds.selector));
        t = _statement();
        t.liquidationFees = 1 << 240;
        _refused(t, _error(IBackstopEpochs.LiquidationFeesOutOfBounds.selector));
        t = _statement();
        t.liquidationFeeBps[t.liquidationFeeBps.length - 1] = 10001;
        _refused(
            t,
            abi.encodeWithSelector(IBackstopEpochs.FeeRateOutOfBounds.selector, t.liquidationFeeBps.length - 1)
        );
        t = _statement();
        t.liquidationFeeBps = new uint16[](t.markets.length + 1);
        _refused(t, abi.encodeWithSelector(IBackstopEpochs.FeeRateCount.selector, t.markets.length + 1));
    }

    /// Any haircut rate above 10^9 is refused by name, whatever the other members.
    function testFuzz_haircutAboveAllIsRefused(uint32 h) public {
        vm.assume(h > PPB);
        IBackstopEpochs.Statement memory t = _statement();
        t.haircutPpb = h;
        _refused(t, _error(IBackstopEpochs.HaircutOutOfBounds.selector));
    }
}
