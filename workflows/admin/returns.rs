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
//! - Steps 3–10 were optional in the seed, whose backend lacked these routes; the marketplace
//!   has them all, so they are required, and each checks its outcome: the seller's decision is
//!   the rejection, the evidence is the customer's photos, the override gives `approved`, the
//!   manual refund `refund-processed` with its amount, the dispute approval `approved` and
//!   clears the intervention flag, the notes are stored, the partial refund resolves to
//!   `refund-processed` with 750.
//! - Steps 11–13 read this run's returns and marketplace-wide statistics; only bounds this run
//!   guarantees are asserted on the shared numbers.

use workflow_harness::prelude::*;

use crate::checks::{expect_ids, expect_some_each, patch_stored, return_stats};
use crate::common::*;
use crate::seller::fixtures::{ReturnSpec, returned_order};

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
    as_seeded(cx, ADMIN_ID)?;

    let (order_id, return_ids) = cx
        .step("View All Returns Dashboard", async |cx| {
            let dashboard = cx.get_value("/api/returns?limit=20").await?;
            ensure!(dashboard.data()?.len() <= 20, "the limit was not applied");
            let fixture = returned_order(cx, &RETURNS).await?;
            let (order_id, filed) = (fixture.order.id()?, fixture.return_ids()?);
            // The seller turns down returns 0 and 2 …
            let seller = cx.as_user(&seeded(SELLER_ID));
            let rejection = json!({ "approved": false, "notes": "Damage caused by the customer" });
            for id in [&filed[0], &filed[2]] {
                let path = format!("/api/returns/{id}/approve");
                let ret = seller.post_value(&path, &rejection).await?;
                expect_json!(ret, { "status": "rejected" })?;
            }
            // … and the customer escalates returns 1 and 2.
            let customer = cx.as_user(&fixture.customer);
            for id in [&filed[1], &filed[2]] {
                let path = format!("/api/returns/{id}");
                let ret = patch_stored(&customer, &path, json!({ "status": "escalated" })).await?;
                expect_json!(ret, { "requiresAdminIntervention": true })?;
            }
            let mine = cx
                .get_value(&format!("/api/returns?orderId={order_id}&limit=20"))
                .await?;
            expect_ids(&mine, &filed).context("the dashboard does not show this run's returns")?;
            Ok((order_id, filed))
        })
        .await?;
    let paths: Vec<String> = return_ids
        .iter()
        .map(|id| format!("/api/returns/{id}"))
        .collect();

    cx.step("Filter Pending & Disputed Returns", async |cx| {
        let pending = cx
            .get_value("/api/returns?status=requested&limit=10")
            .await?;
        expect_some_each(pending.data()?, &json!({ "status": "requested" }))?;
        let disputed = cx
            .get_value(&format!(
                "/api/returns?requiresAdminIntervention=true&orderId={order_id}&limit=10"
            ))
            .await?;
        expect_some_each(
            disputed.data()?,
            &json!({ "requiresAdminIntervention": true }),
        )?;
        expect_ids(&disputed, &return_ids[1..]).context("the disputed returns")
    })
    .await?;

    cx.step("View Return Details", async |cx| {
        let ret = cx.get_value(&paths[0]).await?;
        Ok(expect_json!(ret, {
            "orderId": order_id,
            "shopId": TEST_SHOP_ID,
            "reason": RETURNS[0].reason,
        })?)
    })
    .await?;

    cx.step("Review Seller Decision", async |cx| {
        let ret = cx.get_value(&paths[0]).await?;
        expect_json!(ret, { "status": "rejected" })?;
        ensure!(
            !ret.str_at("sellerNotes")?.is_empty(),
            "the seller's rejection carries no reason"
        );
        Ok(())
    })
    .await?;

    cx.step("Review Buyer Evidence", async |cx| {
        let ret = cx.get_value(&paths[0]).await?;
        Ok(expect_json!(ret, { "media": RETURNS[0].media })?)
    })
    .await?;

    cx.step("Override Seller Rejection", async |cx| {
        expect_json!(cx.get_value(&paths[0]).await?, { "status": "rejected" })?;
        let body = json!({
            "approved": true,
            "notes": "Transit damage: the seller's rejection is overridden",
        });
        let ret = cx
            .post_value(&format!("{}/approve", paths[0]), &body)
            .await?;
        Ok(expect_json!(ret, { "status": "approved" })?)
    })
    .await?;

    cx.step("Approve Disputed Return", async |cx| {
        let body = json!({ "approved": true, "notes": "Wrong item confirmed" });
        let ret = cx
            .post_value(&format!("{}/approve", paths[1]), &body)
            .await?;
        Ok(expect_json!(ret, { "status": "approved", "requiresAdminIntervention": false })?)
    })
    .await?;

    let transaction = unique("ADMIN_TXN_");
    cx.step("Process Refund Manually", async |cx| {
        let body = json!({
            "refundAmount": MANUAL_REFUND,
            "refundMethod": "original_payment_method",
            "refundTransactionId": transaction,
        });
        let ret = cx
            .post_value(&format!("{}/refund", paths[0]), &body)
            .await?;
        Ok(expect_json!(ret, {
            "status": "refund-processed",
            "refundAmount": MANUAL_REFUND,
            "refundTransactionId": transaction,
        })?)
    })
    .await?;

    let notes = "Customer contacted; replacement shipped separately.";
    cx.step("Add Admin Notes", async |cx| {
        patch_stored(cx, &paths[1], json!({ "adminNotes": notes })).await
    })
    .await?;

    cx.step("Resolve Dispute", async |cx| {
        let body = json!({
            "resolution": "partial_refund",
            "refundAmount": PARTIAL_REFUND,
            "notes": "Partial refund agreed with both parties",
        });
        let ret = cx
            .post_value(&format!("{}/resolve", paths[2]), &body)
            .await?;
        Ok(expect_json!(ret, {
            "status": "refund-processed",
            "resolution": "partial_refund",
            "refundAmount": PARTIAL_REFUND,
            "requiresAdminIntervention": false,
        })?)
    })
    .await?;

    cx.step("Track Refund Status", async |cx| {
        let mut returns = Vec::new();
        for path in &paths {
            returns.push(cx.get_value(path).await?);
        }
        let expected = json!({ "status": "refund-processed", "refundAmount": MANUAL_REFUND });
        expect_subset(&returns[0], &expected)?;
        expect_json!(returns[1], { "status": "approved" })?;
        let expected = json!({ "status": "refund-processed", "refundAmount": PARTIAL_REFUND });
        expect_subset(&returns[2], &expected)?;
        Ok(())
    })
    .await?;

    cx.step("View Return Statistics", async |cx| {
        let more = ["adminIntervention", "averageRefundAmount"];
        let stats = return_stats(cx, "/api/returns/stats", &more, RETURNS.len()).await?;
        let refunds = MANUAL_REFUND + PARTIAL_REFUND;
        ensure!(
            stats.f64_at("totalRefundAmount")? >= refunds,
            "this run's refunds of {refunds} are not counted: {}",
            short(&stats)
        );
        Ok(())
    })
    .await?;

    cx.step("Verify All Operations", async |cx| {
        let all = cx.get_value("/api/returns?limit=100").await?;
        let returns = all.data()?;
        ensure!(returns.len() <= 100, "the limit was not applied");
        all.ids_at("data")?;
        for ret in returns {
            ret.str_at("status")?;
        }
        let mine = cx
            .get_value(&format!("/api/returns?orderId={order_id}&limit=10"))
            .await?;
        let open = mine
            .data()?
            .iter()
            .filter(|r| r["requiresAdminIntervention"] == true)
            .count();
        ensure!(
            open == 0,
            "{open} of this run's returns still need an admin"
        );
        Ok(())
    })
    .await
}
