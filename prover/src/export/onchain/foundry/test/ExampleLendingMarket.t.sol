// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

import {BackstopTest, Vm} from "./BackstopTest.sol";
import {EpochFixture} from "./EpochFixture.sol";
import {IBackstopEpochs} from "../src/IBackstopEpochs.sol";
import {BackstopEpochs, IBackstopVerifier} from "../src/BackstopEpochs.sol";
import {BackstopVerifier} from "../src/BackstopVerifier.sol";
import {ExampleLendingMarket} from "../src/examples/ExampleLendingMarket.sol";

/// The example consumer against the fixture's epoch.
contract ExampleLendingMarketTest is BackstopTest {
    uint64 internal constant MAX_AGE = 100;
    address internal constant LIQUIDATOR = address(0x11D);

    BackstopEpochs internal epochs;
    ExampleLendingMarket internal market;

    function setUp() public {
        BackstopVerifier verifier = new BackstopVerifier();
        epochs = new BackstopEpochs(IBackstopVerifier(address(verifier)), EpochFixture.VENUE);
        market = new ExampleLendingMarket(IBackstopEpochs(address(epochs)), MAX_AGE);
    }

    function _accept() internal returns (IBackstopEpochs.Statement memory s) {
        s = EpochFixture.statement();
        epochs.submitEpoch(s, EpochFixture.proofs(), EpochFixture.signature());
    }

    /// An id the list does not hold.
    function _unlisted(uint64[] memory ids) internal pure returns (uint64 id) {
        id = ids[0] + 1;
        for (uint256 i = 0; i < ids.length;) {
            if (ids[i] == id) {
                ++id;
                i = 0;
            } else {
                ++i;
            }
        }
    }

    function test_refusesBeforeAnyEpoch() public {
        uint64[] memory ids = EpochFixture.statement().liquidations;
        vm.expectRevert(abi.encodeWithSelector(ExampleLendingMarket.NoEpoch.selector));
        market.liquidate(ids[0], ids);
    }

    function test_liquidatesListedAccounts() public {
        IBackstopEpochs.Statement memory s = _accept();
        for (uint256 i = 0; i < s.liquidations.length; ++i) {
            vm.recordLogs();
            vm.prank(LIQUIDATOR);
            uint64 epoch = market.liquidate(s.liquidations[i], s.liquidations);
            assertEq(uint256(epoch), s.epoch, "relied on the latest epoch");
            Vm.Log[] memory logs = vm.getRecordedLogs();
            assertEq(logs.length, 1, "one event");
            assertEq(logs[0].topics[0], ExampleLendingMarket.Liquidated.selector, "Liquidated");
            assertEq(logs[0].topics[1], bytes32(uint256(s.epoch)), "its epoch");
            assertEq(logs[0].topics[2], bytes32(uint256(s.liquidations[i])), "its account");
            assertEq(logs[0].topics[3], bytes32(uint256(uint160(LIQUIDATOR))), "its liquidator");
        }
    }

    function test_refusesUnlistedAccount() public {
        IBackstopEpochs.Statement memory s = _accept();
        uint64 account = _unlisted(s.liquidations);
        vm.expectRevert(abi.encodeWithSelector(ExampleLendingMarket.NotLiquidatable.selector, s.epoch, account));
        market.liquidate(account, s.liquidations);
    }

    function test_refusesAnotherList() public {
        IBackstopEpochs.Statement memory s = _accept();
        uint64 account = _unlisted(s.liquidations);
        // The caller's own list naming the account: not the recorded one.
        uint64[] memory ids = new uint64[](1);
        ids[0] = account;
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.LiquidationsMismatch.selector));
        market.liquidate(account, ids);
        // A listed account with the list short of one id.
        uint64[] memory shorter = new uint64[](s.liquidations.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = s.liquidations[i];
        }
        vm.expectRevert(abi.encodeWithSelector(IBackstopEpochs.LiquidationsMismatch.selector));
        market.liquidate(s.liquidations[0], shorter);
    }

    function test_refusesStaleEpoch() public {
        IBackstopEpochs.Statement memory s = _accept();
        uint64 acceptedAt = epochs.epochs(s.epoch).acceptedAtBlock;
        // Still fresh at exactly MAX_AGE blocks.
        vm.roll(uint256(acceptedAt) + MAX_AGE);
        market.liquidate(s.liquidations[0], s.liquidations);
        vm.roll(uint256(acceptedAt) + MAX_AGE + 1);
        vm.expectRevert(abi.encodeWithSelector(ExampleLendingMarket.StaleEpoch.selector, s.epoch, acceptedAt));
        market.liquidate(s.liquidations[0], s.liquidations);
    }
}
