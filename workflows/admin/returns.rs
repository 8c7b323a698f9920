//! 20 `admin-returns`: an admin reviews returns across shops — overrides a seller's
//! rejection and refunds it manually, approves a disputed return and annotates it, resolves
//! another dispute with a partial refund — and reads the return statistics.
//!
//! Decisions:
//! - The seed worked on "the first returns" it listed, which the seller workflow (16) and
//!   earlier runs consume. Here step 1 first builds this run's own three returns: a fresh
//!   customer orders three lines from `test-shop-001`, the shop's seller delivers the order,
//!   and the customer files a return per line (see `seller::fixtures`). Then, to give each
//!   admin step the case it is written for, the seller rejects returns 0 and 2 and the
//!   customer escalates returns 1 and 2 (which sets `requiresAdminIntervention`). Step 2
//!   must find the two disputed ones among the disputed returns of that order.
//! - Steps 3–10 stay optional, as in the seed, but each now checks its outcome: the seller's
//!   decision is the rejection, the evidence is the customer's photos, the override gives
//!   `approved`, the manual refund `refund-processed` with its amount, the dispute approval
//!   `approved` and clears the intervention flag, the notes are stored, the partial refund
//!   resolves to `refund-processed` with 750.
//! - Steps 11–13 read this run's returns and marketplace-wide statistics; only bounds this run
//!   guarantees are asserted on the shared numbers.

use workflow_harness::prelude::*;

use crate::checks::{expect_bool, expect_num, expect_str, ids};
use crate::common::*;
use crate::seller::fixtures::{ReturnSpec, return_stats, returned_order};

workflow! {
    id: "admin-returns",
    name: "Admin Returns & Refunds",
    tags: ["admin", "returns"],
    steps: 13,
    run: admin_returns,
}

const MANUAL_REFUND: f64 = 1500.0;
const PARTIAL_REFUND: f64 = 750.0;

const RETURNS: [ReturnSpec; 3] = [
    ReturnSpec {
        reason: "damaged",
        description: "The box arrived crushed and the item is cracked.",
        media: &[
            "https://example.test/returns/damaged-1.jpg",
            "https://example.test/returns/damaged-2.jpg",
            "https://example.test/returns/damaged-3.jpg",
        ],
    },
    ReturnSpec {
        reason: "wrong-item",
        description: "I received a different model than the one I ordered.",
        media: &["https://example.test/returns/wrong-item.jpg"],
    },
    ReturnSpec {
        reason: "not-as-described",
        description: "The colour is nothing like the photos.",
        media: &[],
    },
];

async fn admin_returns(cx: &mut Ctx) -> StepResult {
    let admin = as_seeded(cx, ADMIN_ID)?;
    let seller = seeded(SELLER_ID);

    let (order_id, return_ids): (String, Vec<String>) = cx
        .step("View All Returns Dashboard", async |cx| {
            let dashboard: Value = cx.get_json("/api/returns?limit=20").await?;
            ensure!(dashboard.data()?.len() <= 20, "the limit was not applied");
            let fixture = returned_order(cx, &admin, &RETURNS).await?;
            let filed: Vec<String> = fixture
                .returns
                .iter()
                .map(JsonExt::id)
                .collect::<Result<_, _>>()?;
            let disputes = async |cx: &mut Ctx| {
                // The seller turns down returns 0 and 2 …
                act_as(cx, &seller)?;
                for id in [&filed[0], &filed[2]] {
                    let ret: Value = cx
                        .post_json(
                            &format!("/api/returns/{id}/approve"),
                            &json!({ "approved": false, "notes": "Damage caused by the customer" }),
                        )
                        .await?;
                    expect_str(&ret, "status", "rejected")?;
                }
                // … and the customer escalates returns 1 and 2.
                act_as(cx, &fixture.customer)?;
                for id in [&filed[1], &filed[2]] {
                    let ret: Value = cx
                        .patch_json(
                            &format!("/api/returns/{id}"),
                            &json!({ "status": "escalated" }),
                        )
                        .await?;
                    expect_str(&ret, "status", "escalated")?;
                    expect_bool(&ret, "requiresAdminIntervention", true)?;
                }
                StepResult::Ok(())
            };
            let outcome = disputes(cx).await;
            act_as(cx, &admin)?;
            outcome?;
            let mine: Value = cx
                .get_json(&format!(
                    "/api/returns?orderId={}&limit=20",
                    fixture.order.id()?
                ))
                .await?;
            let mut listed = ids(&mine)?;
            listed.sort();
            let mut expected = filed.clone();
            expected.sort();
            ensure!(
                listed == expected,
                "the dashboard does not show this run's returns {expected:?}: {listed:?}"
            );
            Ok((fixture.order.id()?, filed))
        })
        .await?;
    let paths: Vec<String> = return_ids
        .iter()
        .map(|id| format!("/api/returns/{id}"))
        .collect();

    cx.step("Filter Pending & Disputed Returns", async |cx| {
        let pending: Value = cx
            .get_json("/api/returns?status=requested&limit=10")
            .await?;
        ensure!(
            pending.data()?.iter().all(|r| r["status"] == "requested"),
            "the requested filter returned other returns: {}",
            short(&pending)
        );
        let disputed: Value = cx
            .get_json(&format!(
                "/api/returns?requiresAdminIntervention=true&orderId={order_id}&limit=10"
            ))
            .await?;
        ensure!(
            disputed
                .data()?
                .iter()
                .all(|r| r["requiresAdminIntervention"] == true),
            "the disputed filter returned undisputed returns: {}",
            short(&disputed)
        );
        let mut found = ids(&disputed)?;
        found.sort();
        let mut expected = vec![return_ids[1].clone(), return_ids[2].clone()];
        expected.sort();
        ensure!(
            found == expected,
            "expected the disputed returns {expected:?}, got {found:?}"
        );
        Ok(())
    })
    .await?;

    cx.optional_step("View Return Details", async |cx| {
        let ret: Value = cx.get_json(&paths[0]).await?;
        expect_str(&ret, "orderId", &order_id)?;
        expect_str(&ret, "shopId", TEST_SHOP_ID)?;
        expect_str(&ret, "reason", RETURNS[0].reason)
    })
    .await;

    cx.optional_step("Review Seller Decision", async |cx| {
        let ret: Value = cx.get_json(&paths[0]).await?;
        expect_str(&ret, "status", "rejected")?;
        ensure!(
            !ret.str_at("sellerNotes")?.is_empty(),
            "the seller's rejection carries no reason"
        );
        Ok(())
    })
    .await;

    cx.optional_step("Review Buyer Evidence", async |cx| {
        let ret: Value = cx.get_json(&paths[0]).await?;
        ensure!(
            ret["media"] == json!(RETURNS[0].media),
            "the customer's photos are missing: {}",
            short(&ret)
        );
        Ok(())
    })
    .await;

    let overridden = cx
        .optional_step("Override Seller Rejection", async |cx| {
            let current: Value = cx.get_json(&paths[0]).await?;
            expect_str(&current, "status", "rejected")?;
            let ret: Value = cx
                .post_json(
                    &format!("{}/approve", paths[0]),
                    &json!({ "approved": true, "notes": "Transit damage: the seller's rejection is overridden" }),
                )
                .await?;
            expect_str(&ret, "status", "approved")
        })
        .await;

    let approved = cx
        .optional_step("Approve Disputed Return", async |cx| {
            let ret: Value = cx
                .post_json(
                    &format!("{}/approve", paths[1]),
                    &json!({ "approved": true, "notes": "Wrong item confirmed" }),
                )
                .await?;
            expect_str(&ret, "status", "approved")?;
            expect_bool(&ret, "requiresAdminIntervention", false)
        })
        .await;

    let transaction = unique("ADMIN_TXN_");
    let refunded = cx
        .optional_step("Process Refund Manually", async |cx| {
            let ret: Value = cx
                .post_json(
                    &format!("{}/refund", paths[0]),
                    &json!({
                        "refundAmount": MANUAL_REFUND,
                        "refundMethod": "original_payment_method",
                        "refundTransactionId": transaction,
                    }),
                )
                .await?;
            expect_str(&ret, "status", "refund-processed")?;
            expect_num(&ret, "refundAmount", MANUAL_REFUND)?;
            expect_str(&ret, "refundTransactionId", &transaction)
        })
        .await;

    let notes = "Customer contacted; replacement shipped separately.";
    cx.optional_step("Add Admin Notes", async |cx| {
        let ret: Value = cx
            .patch_json(&paths[1], &json!({ "adminNotes": notes }))
            .await?;
        expect_str(&ret, "adminNotes", notes)
    })
    .await;

    let resolved = cx
        .optional_step("Resolve Dispute", async |cx| {
            let ret: Value = cx
                .post_json(
                    &format!("{}/resolve", paths[2]),
                    &json!({
                        "resolution": "partial_refund",
                        "refundAmount": PARTIAL_REFUND,
                        "notes": "Partial refund agreed with both parties",
                    }),
                )
                .await?;
            expect_str(&ret, "status", "refund-processed")?;
            expect_str(&ret, "resolution", "partial_refund")?;
            expect_num(&ret, "refundAmount", PARTIAL_REFUND)?;
            expect_bool(&ret, "requiresAdminIntervention", false)
        })
        .await;

    cx.step("Track Refund Status", async |cx| {
        let mut returns = Vec::new();
        for path in &paths {
            returns.push(cx.get_json::<Value>(path).await?);
        }
        if refunded.is_some() {
            expect_str(&returns[0], "status", "refund-processed")?;
            expect_num(&returns[0], "refundAmount", MANUAL_REFUND)?;
        } else if overridden.is_some() {
            expect_str(&returns[0], "status", "approved")?;
        }
        if approved.is_some() {
            expect_str(&returns[1], "status", "approved")?;
        }
        if resolved.is_some() {
            expect_str(&returns[2], "status", "refund-processed")?;
            expect_num(&returns[2], "refundAmount", PARTIAL_REFUND)?;
        }
        Ok(())
    })
    .await?;

    cx.step("View Return Statistics", async |cx| {
        let stats = return_stats(
            cx,
            "/api/returns/stats",
            &[
                "total",
                "pending",
                "approved",
                "rejected",
                "completed",
                "adminIntervention",
                "totalRefundAmount",
                "averageRefundAmount",
            ],
            RETURNS.len(),
        )
        .await?;
        let refunds = [(&refunded, MANUAL_REFUND), (&resolved, PARTIAL_REFUND)]
            .iter()
            .filter(|(done, _)| done.is_some())
            .map(|(_, amount)| amount)
            .sum::<f64>();
        ensure!(
            stats.f64_at("totalRefundAmount")? >= refunds,
            "this run's refunds of {refunds} are not counted: {}",
            short(&stats)
        );
        Ok(())
    })
    .await?;

    cx.step("Verify All Operations", async |cx| {
        let all: Value = cx.get_json("/api/returns?limit=100").await?;
        let returns = all.data()?;
        ensure!(returns.len() <= 100, "the limit was not applied");
        ensure!(
            returns
                .iter()
                .all(|r| r["status"].is_string() && r["id"].is_string()),
            "a return without id or status: {}",
            short(&all)
        );
        let mine: Value = cx
            .get_json(&format!("/api/returns?orderId={order_id}&limit=10"))
            .await?;
        let open = mine
            .data()?
            .iter()
            .filter(|r| r["requiresAdminIntervention"] == true)
            .count();
        let expected_open = usize::from(approved.is_none()) + usize::from(resolved.is_none());
        ensure!(
            open == expected_open,
            "{open} of this run's returns still need an admin, expected {expected_open}"
        );
        Ok(())
    })
    .await
}
