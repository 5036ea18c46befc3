//! The default waterfall through the CLI (`docs/SPEC.md` §2.4): a Groth16 epoch of
//! the committed `waterfall-socialized` fixture, audited (the waterfall as a table
//! in text, JSON and markdown) and checked account by account with `inclusion
//! verify`, which recomputes each account's fee and haircut from its leaf and the
//! published rate.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::decimal::format_scaled;
use backstop_circuits::native::waterfall::{AMOUNT_EXTRA_DECIMALS, haircut};
use backstop_circuits::native::{Scales, account_risk, evaluate};
use backstop_circuits::snapshot;
use backstop_prover::venue::VenueKey;
use serde_json::Value;

mod common;
use common::{backstop, inclusion_prove, ok, prove_waterfall_epoch, s, text};

const SECRET_HEX: &str = "5b0b000000000000000000000000000000000000000000000000000000c0ffee";

#[test]
fn the_audit_and_each_owner_see_the_proven_waterfall() {
    let book = backstop_fixtures::data_dir().join("waterfall-socialized/snapshot");
    let e = prove_waterfall_epoch("groth16", &book, "3", SECRET_HEX, &[]);
    let statement: Value =
        serde_json::from_slice(&std::fs::read(e.dir.join("statement.json")).unwrap()).unwrap();
    let ppb = statement["haircut_ppb"].as_u64().unwrap() as u32;
    assert!(ppb > 0 && ppb < 1_000_000_000, "socialized: {ppb}");

    // The audit: the table in every format, with the published figures.
    let venue = VenueKey::demo().address().to_string();
    let audit = |format: &str| {
        let out = backstop(&[
            "audit",
            s(&e.dir),
            "--venue-key",
            &venue,
            "--format",
            format,
        ]);
        ok(&out, &format!("audit --format {format}"));
        text(&out.stdout)
    };
    let plain = audit("text");
    assert!(plain.contains("Default waterfall (proven):"), "{plain}");
    for field in [
        "insurance_fund",
        "liquidation_fees",
        "insurance_draw",
        "deficit",
    ] {
        let figure = statement[field].as_str().unwrap();
        assert!(plain.contains(figure), "{field} {figure} in\n{plain}");
    }
    assert!(plain.contains(&format!("{ppb} ppb")), "{plain}");
    assert!(
        plain.contains("is the least that covers the deficit"),
        "{plain}"
    );
    let json: Value = serde_json::from_str(&audit("json")).unwrap();
    assert_eq!(json["waterfall"]["haircut_ppb"], statement["haircut_ppb"]);
    assert_eq!(json["waterfall"]["deficit"], statement["deficit"]);
    assert_eq!(json["waterfall"]["shortfall"], false);
    let markdown = audit("markdown");
    assert!(
        markdown.contains("## Default waterfall (proven)"),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("| haircut rate | {ppb} ppb")),
        "{markdown}"
    );

    // Each owner: the fee and haircut `inclusion verify` prints are the native
    // engine's, for a fee payer and for an account that only pays the haircut.
    let snap = snapshot::load(&e.snapshot).unwrap();
    let params = snap.params();
    let scales = Scales::new(params);
    assert_eq!(evaluate(&snap).waterfall.haircut_ppb, ppb);
    let q = params.quote_decimals();
    let risks: Vec<_> = (snap.accounts().iter())
        .map(|a| (a, account_risk(&scales, a)))
        .collect();
    let payer = risks
        .iter()
        .find(|(_, r)| r.liquidation_fee.is_positive())
        .unwrap();
    let healthy = risks
        .iter()
        .find(|(_, r)| !r.liquidatable && haircut(r.haircut_base, ppb).is_positive())
        .unwrap();
    for (account, risk) in [payer, healthy] {
        let id = account.id().get().to_string();
        let proof = e.root.path().join(format!("inclusion-{id}.json"));
        ok(&inclusion_prove(&e, &id, &proof), "inclusion prove");
        let out = backstop(&["inclusion", "verify", s(&proof), "--epoch", s(&e.dir)]);
        ok(&out, "inclusion verify");
        let said = text(&out.stdout);
        let fee = format_scaled(
            risk.liquidation_fee,
            scales.exponent + AMOUNT_EXTRA_DECIMALS,
            q,
        );
        let cut = format_scaled(haircut(risk.haircut_base, ppb), scales.exponent, q);
        assert!(
            said.contains(&format!(
                "liquidation fee {fee}, haircut {cut} at the published rate of {ppb} ppb"
            )),
            "account {id}: {said}"
        );
    }
}

/// halo2 proves the waterfall too (`docs/SPEC.md` §8.4): the committed
/// `waterfall-socialized` fixture at `B = 8` (several batches, so `F'`, `S` and
/// `S^lo` travel through the hidden state) verifies and publishes the golden
/// waterfall, and the audit shows it.
#[test]
fn halo2_proves_the_waterfall_over_several_batches() {
    let fixture = backstop_fixtures::data_dir().join("waterfall-socialized");
    let e = prove_waterfall_epoch("halo2", &fixture.join("snapshot"), "3", SECRET_HEX, &[]);
    let statement: Value =
        serde_json::from_slice(&std::fs::read(e.dir.join("statement.json")).unwrap()).unwrap();
    let golden: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).unwrap()).unwrap();
    assert_eq!(statement["backend"], "halo2-pasta");
    let batches: u64 = statement["batch_count"].as_str().unwrap().parse().unwrap();
    assert!(batches >= 2, "{statement}");
    for field in [
        "bad_debt",
        "liquidation_fees",
        "insurance_draw",
        "insurance_fund_after",
        "deficit",
        "haircut_ppb",
        "shortfall",
    ] {
        assert_eq!(statement[field], golden[field], "{field}");
    }
    ok(
        &backstop(&["verify", s(&e.dir), "--params", s(&e.keys)]),
        "verify a halo2 waterfall epoch",
    );
    let venue = VenueKey::demo().address().to_string();
    let audit = backstop(&["audit", s(&e.dir), "--venue-key", &venue]);
    ok(&audit, "audit a halo2 waterfall epoch");
    assert!(
        text(&audit.stdout).contains("Default waterfall (proven):"),
        "{}",
        text(&audit.stdout)
    );

    // A venue holding its key and re-signing cannot publish another waterfall: h,
    // F and the shortfall are bound by O in every x_b, a fee rate by the
    // parameters hash. (`statement sign` itself refuses a draw, deficit or fund
    // after that does not follow from D, the fund and F; the Groth16 tamper
    // catalogue covers those.)
    type Lie = (&'static str, fn(&mut Value));
    let lies: [Lie; 5] = [
        ("haircut_ppb + 1", |v| {
            v["haircut_ppb"] = (v["haircut_ppb"].as_u64().unwrap() + 1).into()
        }),
        ("haircut_ppb − 1", |v| {
            v["haircut_ppb"] = (v["haircut_ppb"].as_u64().unwrap() - 1).into()
        }),
        ("shortfall", |v| v["shortfall"] = true.into()),
        (
            "liquidation_fees, with the draw and deficit that follow",
            |v| {
                v["liquidation_fees"] = "15728.53749752".into();
                v["insurance_draw"] = "34278.53749752".into();
                v["deficit"] = "1065531.51820791".into();
            },
        ),
        ("a fee rate", |v| {
            let fee = &mut v["markets"][0]["liquidation_fee_bps"];
            *fee = (fee.as_u64().unwrap() + 1).into();
        }),
    ];
    for (what, lie) in lies {
        let (_tmp, dir) = common::edited_signed_copy(&e.dir, lie);
        let out = backstop(&["verify", s(&dir), "--params", s(&e.keys)]);
        assert!(
            !out.status.success(),
            "{what} verified:\n{}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stderr).contains("proof does not verify against the public input"),
            "{what}: {}",
            text(&out.stderr)
        );
    }
}
