//! 16 `seller-returns`: the seller of `test-shop-001` works through its return requests —
//! reviews one with its evidence, approves it, records the item as received and refunds it,
//! rejects another — and reads its return statistics.
//!
//! Decisions:
//! - The seed took "the first requested returns" of the shop, which parallel workflows (20)
//!   and earlier runs consume. Here step 1 first builds this run's own: a fresh customer
//!   orders two lines from `test-shop-001`, the seller delivers the order, and the customer
//!   files a return per line (`POST /api/returns`; see `fixtures`). Step 2 lists the shop's
//!   requested returns for that order and must find both.
//! - Steps 3–8 stay optional, as in the seed, but each now checks its outcome: the return is
//!   this shop's and requested, the evidence is what the customer attached, approval gives
//!   `approved`, the update `item-received`, the refund `refund-processed` with its amount
//!   and transaction id, the rejection `rejected`.
//! - Steps 9–11 read statistics and lists of the whole shop, which other workflows change at
//!   the same time, so they check shapes and only bounds this run guarantees (its rejected
//!   and refunded returns are counted); step 11 then checks this run's two returns end in
//!   the expected states.

use workflow_harness::prelude::*;

use super::fixtures::{ReturnSpec, return_stats, returned_order};
use crate::checks::{expect_bool, expect_num, expect_str, ids};
use crate::common::*;

workflow! {
    id: "seller-returns",
    name: "Seller Returns Management",
    tags: ["seller", "returns"],
    steps: 11,
    run: seller_returns,
}

const REFUND_AMOUNT: f64 = 1000.0;

const RETURNS: [ReturnSpec; 2] = [
    ReturnSpec {
        reason: "defective",
        description: "The item stopped working after one day.",
        media: &[
            "https://example.test/returns/defect-1.jpg",
            "https://example.test/returns/defect-2.jpg",
        ],
    },
    ReturnSpec {
        reason: "changed-mind",
        description: "I no longer need it.",
        media: &[],
    },
];

async fn seller_returns(cx: &mut Ctx) -> StepResult {
    let seller = as_seeded(cx, SELLER_ID)?;

    let (order_id, filed): (String, Vec<String>) = cx
        .step("View Returns Dashboard", async |cx| {
            let shop: Value = cx.get_json(&format!("/api/shops/{TEST_SHOP_ID}")).await?;
            expect_str(&shop, "ownerId", SELLER_ID)?;
            let fixture = returned_order(cx, &seller, &RETURNS).await?;
            let filed = fixture
                .returns
                .iter()
                .map(JsonExt::id)
                .collect::<Result<_, _>>()?;
            Ok((fixture.order.id()?, filed))
        })
        .await?;

    let return_ids: Vec<String> = cx
        .step("Check Pending Returns", async |cx| {
            let list: Value = cx
                .get_json(&format!(
                    "/api/returns?shopId={TEST_SHOP_ID}&status=requested&orderId={order_id}&limit=10"
                ))
                .await?;
            ensure!(
                list.data()?
                    .iter()
                    .all(|r| r["status"] == "requested" && r["shopId"] == TEST_SHOP_ID),
                "the requested list holds other returns: {}",
                short(&list)
            );
            let mut found = ids(&list)?;
            found.sort();
            let mut expected = filed.clone();
            expected.sort();
            ensure!(
                found == expected,
                "expected this run's requested returns {expected:?}, got {found:?}"
            );
            // The seed keeps up to 3; the first filed is handled first.
            Ok(filed.into_iter().take(3).collect())
        })
        .await?;
    let first = return_ids[0].clone();
    let second = return_ids[1].clone();
    let first_path = format!("/api/returns/{first}");

    cx.optional_step("View Return Request Details", async |cx| {
        let ret: Value = cx.get_json(&first_path).await?;
        expect_str(&ret, "shopId", TEST_SHOP_ID)?;
        expect_str(&ret, "orderId", &order_id)?;
        expect_str(&ret, "status", "requested")?;
        expect_str(&ret, "reason", RETURNS[0].reason)
    })
    .await;

    cx.optional_step("Review Return Evidence", async |cx| {
        let ret: Value = cx.get_json(&first_path).await?;
        let media = ret.array_at("media")?;
        ensure!(
            media.len() == RETURNS[0].media.len(),
            "expected the customer's {} photos, got {}",
            RETURNS[0].media.len(),
            short(&ret)
        );
        Ok(())
    })
    .await;

    let approved = cx
        .optional_step("Approve Return Request", async |cx| {
            let ret: Value = cx
                .post_json(
                    &format!("{first_path}/approve"),
                    &json!({ "approved": true, "notes": "Defect confirmed from the photos" }),
                )
                .await?;
            expect_str(&ret, "status", "approved")
        })
        .await;

    let received = cx
        .optional_step("Update Return Status", async |cx| {
            let ret: Value = cx
                .patch_json(
                    &first_path,
                    &json!({ "status": "item-received", "adminNotes": "Item received at the warehouse" }),
                )
                .await?;
            expect_str(&ret, "status", "item-received")
        })
        .await;

    let transaction = unique("TXN_");
    let refunded = cx
        .optional_step("Process Refund", async |cx| {
            let ret: Value = cx
                .post_json(
                    &format!("{first_path}/refund"),
                    &json!({
                        "refundAmount": REFUND_AMOUNT,
                        "refundMethod": "original_payment_method",
                        "refundTransactionId": transaction,
                    }),
                )
                .await?;
            expect_str(&ret, "status", "refund-processed")?;
            expect_num(&ret, "refundAmount", REFUND_AMOUNT)?;
            expect_str(&ret, "refundTransactionId", &transaction)
        })
        .await;

    let rejected = cx
        .optional_step("Reject Invalid Return", async |cx| {
            let ret: Value = cx
                .post_json(
                    &format!("/api/returns/{second}/approve"),
                    &json!({ "approved": false, "notes": "Change of mind is outside the policy" }),
                )
                .await?;
            expect_str(&ret, "status", "rejected")
        })
        .await;

    cx.step("View Return Statistics", async |cx| {
        let path = format!("/api/returns/stats?shopId={TEST_SHOP_ID}");
        let fields = [
            "total",
            "pending",
            "approved",
            "rejected",
            "completed",
            "totalRefundAmount",
        ];
        let stats = return_stats(cx, &path, &fields, RETURNS.len()).await?;
        if rejected.is_some() {
            ensure!(
                stats.f64_at("rejected")? >= 1.0,
                "the rejected return is not counted: {}",
                short(&stats)
            );
        }
        if refunded.is_some() {
            ensure!(
                stats.f64_at("totalRefundAmount")? >= REFUND_AMOUNT,
                "the refund is not counted: {}",
                short(&stats)
            );
        }
        Ok(())
    })
    .await?;

    cx.step("Check Completed Returns", async |cx| {
        let list: Value = cx
            .get_json(&format!(
                "/api/returns?shopId={TEST_SHOP_ID}&status=completed&limit=5"
            ))
            .await?;
        let completed = list.data()?;
        ensure!(
            completed.len() <= 5 && completed.iter().all(|r| r["status"] == "completed"),
            "the completed list holds other returns: {}",
            short(&list)
        );
        Ok(())
    })
    .await?;

    cx.step("Verify All Operations", async |cx| {
        let all: Value = cx
            .get_json(&format!("/api/returns?shopId={TEST_SHOP_ID}&limit=50"))
            .await?;
        ensure!(
            all.data()?.iter().all(|r| r["shopId"] == TEST_SHOP_ID),
            "the shop's list holds other shops' returns"
        );
        let first: Value = cx.get_json(&first_path).await?;
        let second: Value = cx.get_json(&format!("/api/returns/{second}")).await?;
        let expected_first = if refunded.is_some() {
            "refund-processed"
        } else if received.is_some() {
            "item-received"
        } else if approved.is_some() {
            "approved"
        } else {
            "requested"
        };
        expect_str(&first, "status", expected_first)?;
        expect_str(
            &second,
            "status",
            if rejected.is_some() {
                "rejected"
            } else {
                "requested"
            },
        )?;
        expect_bool(&first, "requiresAdminIntervention", false)
    })
    .await
}
