// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

/// The Foundry cheatcodes the tests and the deployment script use (a subset of
/// forge-std's Vm, which this project does without: it needs no library).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectPartialRevert(bytes4 revertData) external;
    function assume(bool condition) external pure;
    function roll(uint256 newHeight) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function envAddress(string calldata name) external view returns (address);
    function setEnv(string calldata name, string calldata value) external;
    function startBroadcast() external;
    function stopBroadcast() external;
    function toString(address value) external pure returns (string memory);
    function toString(bytes32 value) external pure returns (string memory);
    function toString(uint256 value) external pure returns (string memory);
    function toString(bool value) external pure returns (string memory);
}

// The cheatcode address (forge-std's VM_ADDRESS).
Vm constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

/// A minimal base for forge tests: the cheatcodes and assertions that revert with a
/// message (forge reports a test as failed when it reverts).
abstract contract BackstopTest {
    Vm internal constant vm = VM;

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(message);
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) fail(message);
    }

    function assertEq(bool got, bool expected, string memory message) internal pure {
        if (got != expected) fail(_mismatch(message, vm.toString(got), vm.toString(expected)));
    }

    function assertEq(uint256 got, uint256 expected, string memory message) internal pure {
        if (got != expected) fail(_mismatch(message, vm.toString(got), vm.toString(expected)));
    }

    function assertEq(bytes32 got, bytes32 expected, string memory message) internal pure {
        if (got != expected) fail(_mismatch(message, vm.toString(got), vm.toString(expected)));
    }

    function assertEq(address got, address expected, string memory message) internal pure {
        if (got != expected) fail(_mismatch(message, vm.toString(got), vm.toString(expected)));
    }

    function assertEq(bytes memory got, bytes memory expected, string memory message) internal pure {
        if (keccak256(got) != keccak256(expected)) fail(string.concat(message, ": bytes differ"));
    }

    function _mismatch(string memory message, string memory got, string memory expected)
        private
        pure
        returns (string memory)
    {
        return string.concat(message, ": got ", got, ", expected ", expected);
    }
}
