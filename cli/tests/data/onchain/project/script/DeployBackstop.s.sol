// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.25;

import {VM} from "../test/BackstopTest.sol";
import {BackstopVerifier} from "../src/BackstopVerifier.sol";
import {BackstopEpochs, IBackstopVerifier} from "../src/BackstopEpochs.sol";

/// @notice Deploys BackstopVerifier, then BackstopEpochs(verifier, venue) for the venue
/// key address in the environment variable BACKSTOP_VENUE (statement.json `venue`):
///
///     BACKSTOP_VENUE=0x… forge script script/DeployBackstop.s.sol \
///         --rpc-url $RPC_URL --broadcast --private-key $KEY   # or --account NAME
///
/// Both transactions are sent by the key forge is given. Before relying on the
/// deployment, check its VERIFYING_KEY_HASH() (docs/ONCHAIN.md, "Deploy").
contract DeployBackstop {
    /// @return verifier the BackstopVerifier's address
    /// @return epochs the BackstopEpochs' address
    function run() external returns (address verifier, address epochs) {
        address venue = VM.envAddress("BACKSTOP_VENUE");
        VM.startBroadcast();
        BackstopVerifier v = new BackstopVerifier();
        BackstopEpochs e = new BackstopEpochs(IBackstopVerifier(address(v)), venue);
        VM.stopBroadcast();
        return (address(v), address(e));
    }
}
