//! 17 `seller-coupons`: the seller of `test-shop-001` creates five kinds of coupons
//! (percentage, category-restricted, flat, first-order, scheduled), validates codes against a
//! cart, features, extends and deactivates coupons, and checks the result.
//!
//! Decisions:
//! - Every code ends with one suffix unique to the run (`SAVE10_<suffix>`, …), so parallel and
//!   repeated runs never collide and step 9/13 can find exactly this run's coupons with
//!   `search=<suffix>` whatever else the shop holds.
//! - The flat coupon is created and counted as type `flat` (the seed counted `fixed`, which
//!   never matched); step 13 asserts the counts by type and the state of each coupon.
//! - Step 8 asserts `valid` and the discount for both codes (the seed only logged them), and
//!   that the restrictions hold: the category coupon refuses a cart of another category, the
//!   first-order coupon refuses a customer who has ordered before.
//! - Step 10 swallowed its errors in the seed; here the two PATCHes must succeed.
//! - The seed's `cleanup()` (DELETE every created coupon) was never called. Here it is a
//!   deferred step (`cx.defer`), "Cleanup: Delete Test Coupons", that runs after the last step
//!   — and also after a failure, a panic or a timeout — and checks each of the run's five codes
//!   is gone (a code the run never got to create is already gone).

use workflow_harness::prelude::*;

use crate::checks::{expect_some_each, patch_stored};
use crate::common::*;

workflow! {
    id: "seller-coupons",
    name: "Seller Coupon Management",
    tags: ["seller", "coupons"],
    steps: 14,
    run: seller_coupons,
}

async fn seller_coupons(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, SELLER_ID)?;
    let suffix = unique("");
    let codes = ["SAVE10", "RESTRICTED", "FLAT100", "WELCOME20", "FUTURE25"]
        .map(|kind| format!("{kind}_{suffix}"));
    cx.defer("Cleanup: Delete Test Coupons", async move |cx| {
        delete_coupons(cx, &codes).await
    });
    coupon_steps(cx, &suffix).await
}

/// The seed's `cleanup()`: deletes each of the run's coupons that exists and checks it is gone.
async fn delete_coupons(cx: &Ctx, codes: &[String]) -> StepResult {
    let mut failures = Vec::new();
    for code in codes {
        let path = format!("/api/coupons/{code}");
        let outcome = async {
            let answer = cx.delete(&path).await?;
            if answer.status() != StatusCode::NOT_FOUND {
                answer.expect_success()?;
            }
            cx.get(&path).await?.expect_status(404)?;
            StepResult::Ok(())
        }
        .await;
        if let Err(e) = outcome {
            failures.push(format!("{code}: {e:#}"));
        }
    }
    ensure!(failures.is_empty(), "{}", failures.join("; "));
    Ok(())
}

/// Creates a coupon of [`TEST_SHOP_ID`] from `fields` plus the fields every coupon of the
/// seed shares, and checks it is active and holds every field sent.
async fn create(cx: &Ctx, fields: Value) -> StepResult<Value> {
    let mut body = json!({
        "shopId": TEST_SHOP_ID,
        "minQuantity": 1,
        "autoApply": false,
        "isPublic": true,
        "canCombineWithOtherCoupons": false,
    });
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    let answer = cx.post_value("/api/coupons", &body).await?;
    expect_subset(&answer, &body)?;
    expect_json!(answer, { "status": "active" })?;
    Ok(answer)
}

async fn coupon_steps(cx: &mut Ctx, suffix: &str) -> StepResult {
    let save10 = format!("SAVE10_{suffix}");
    let restricted = format!("RESTRICTED_{suffix}");
    let flat100 = format!("FLAT100_{suffix}");
    let welcome20 = format!("WELCOME20_{suffix}");
    let future25 = format!("FUTURE25_{suffix}");

    cx.step(
        "Step 1: Navigate to Coupons Page & Verify Access",
        async |cx| {
            let shop = cx.get_value(&format!("/api/shops/{TEST_SHOP_ID}")).await?;
            expect_json!(shop, { "ownerId": SELLER_ID })?;
            let list = cx
                .get_value(&format!("/api/coupons?shopId={TEST_SHOP_ID}&limit=5"))
                .await?;
            let coupons = list.data()?;
            ensure!(coupons.len() <= 5, "asked for 5, got {}", coupons.len());
            expect_some_each(coupons, &json!({ "shopId": TEST_SHOP_ID }))
        },
    )
    .await?;

    // Each creation checks the coupon holds every field sent (type, value, limits, flags).
    cx.step(
        "Step 2: Create Percentage Discount Coupon (10% off)",
        async |cx| {
            let fields = json!({
                "code": save10, "name": "Save 10%", "type": "percentage",
                "discountValue": 10, "maxDiscountAmount": 500, "minPurchaseAmount": 0,
                "applicability": "all", "usageLimitPerUser": 1,
                "startDate": iso_in_days(0), "endDate": iso_in_days(30), "isFeatured": false,
            });
            create(cx, fields).await.map(drop)
        },
    )
    .await?;

    cx.step(
        "Step 3: Set Coupon Restrictions (Min Order ₹500, Categories)",
        async |cx| {
            let answer = cx.get_value("/api/categories").await?;
            let categories: Vec<String> = answer.ids_at("data")?.into_iter().take(2).collect();
            let applicability = if categories.len() == 2 {
                "category"
            } else {
                "all"
            };
            let fields = json!({
                "code": restricted, "name": "Restricted 15%", "type": "percentage",
                "discountValue": 15, "maxDiscountAmount": 1000, "minPurchaseAmount": 500,
                "applicability": applicability, "applicableCategories": categories,
                "usageLimitPerUser": 3, "usageLimit": 100,
                "startDate": iso_in_days(0), "endDate": iso_in_days(15),
            });
            create(cx, fields).await.map(drop)
        },
    )
    .await?;

    cx.step(
        "Step 4: Create Fixed Amount Coupon (₹100 off)",
        async |cx| {
            let fields = json!({
                "code": flat100, "name": "Flat 100 off", "type": "flat",
                "discountValue": 100, "minPurchaseAmount": 1000, "applicability": "all",
                "usageLimitPerUser": 2,
                "startDate": iso_in_days(0), "endDate": iso_in_days(20), "isFeatured": true,
            });
            create(cx, fields).await.map(drop)
        },
    )
    .await?;

    cx.step("Step 5: Verify Usage Limits Configuration", async |cx| {
        let c = cx.get_value(&format!("/api/coupons/{flat100}")).await?;
        Ok(expect_json!(c, { "usageLimitPerUser": 2, "minPurchaseAmount": 1000, "usageCount": 0 })?)
    })
    .await?;

    cx.step(
        "Step 6: Create First-Time Buyer Coupon (20% off)",
        async |cx| {
            let fields = json!({
                "code": welcome20, "name": "Welcome 20%", "type": "percentage",
                "discountValue": 20, "maxDiscountAmount": 1000, "minPurchaseAmount": 500,
                "applicability": "all", "firstOrderOnly": true, "newUsersOnly": true,
                "startDate": iso_in_days(0), "endDate": iso_in_days(60), "isFeatured": true,
            });
            create(cx, fields).await.map(drop)
        },
    )
    .await?;

    cx.step("Step 7: Create Scheduled Future Coupon", async |cx| {
        let fields = json!({
            "code": future25, "name": "Future 25%", "type": "percentage",
            "discountValue": 25, "maxDiscountAmount": 2000, "minPurchaseAmount": 1500,
            "applicability": "all", "usageLimit": 50,
            "startDate": iso_in_days(7), "endDate": iso_in_days(37),
        });
        let c = create(cx, fields).await?;
        ensure!(
            starts_later(&c)?,
            "the coupon should start in the future: {}",
            short(&c)
        );
        Ok(())
    })
    .await?;

    cx.step("Step 8: Validate Coupon Codes", async |cx| {
        for (code, total, price, quantity, discount) in [
            (&save10, 1000.0, 500.0, 2, 100.0),
            (&flat100, 1200.0, 1200.0, 1, 100.0),
        ] {
            let body = json!({
                "code": code,
                "cartTotal": total,
                "items": [{ "productId": "test-product-1", "categoryId": "test-category-1",
                            "quantity": quantity, "price": price }],
            });
            let check = cx.post_value("/api/coupons/validate", &body).await?;
            expect_json!(check, { "valid": true, "discount": discount })
                .with_context(|| format!("{code} for a cart of {total}"))?;
        }
        // The restrictions are enforced, not only stored: the category coupon refuses a cart
        // of another category and takes one of its own; the first-order coupon refuses a
        // customer with orders and takes the seller, who has ordered nothing.
        let coupon = cx.get_value(&format!("/api/coupons/{restricted}")).await?;
        if coupon["applicability"] == "category" {
            let own = coupon.str_at("/applicableCategories/0")?.to_owned();
            for (category, valid) in [("no-such-category", false), (own.as_str(), true)] {
                let body = json!({
                    "code": restricted, "cartTotal": 1000,
                    "items": [{ "categoryId": category, "quantity": 1, "price": 1000 }],
                });
                let check = cx.post_value("/api/coupons/validate", &body).await?;
                expect_json!(check, { "valid": valid })
                    .with_context(|| format!("{restricted} for a cart of category {category}"))?;
            }
        }
        let body = json!({ "code": welcome20, "cartTotal": 1000 });
        let repeat_buyer = seeded("test-customer-001");
        let check = cx
            .as_user(&repeat_buyer)
            .post_value("/api/coupons/validate", &body)
            .await?;
        expect_json!(check, { "valid": false })
            .with_context(|| format!("{welcome20} for a customer with orders"))?;
        ensure!(
            check.str_at("message")?.contains("first order"),
            "the refusal does not say why: {}",
            short(&check)
        );
        let check = cx.post_value("/api/coupons/validate", &body).await?;
        expect_json!(check, { "valid": true, "discount": 200 })
            .with_context(|| format!("{welcome20} for a first order"))?;
        Ok(())
    })
    .await?;

    cx.step("Step 9: View Coupon Usage Statistics", async |cx| {
        let list = cx
            .get_value(&format!("/api/coupons?shopId={TEST_SHOP_ID}&limit=20"))
            .await?;
        ensure!(list.data()?.len() <= 20, "the limit was not applied");
        let ours = own_coupons(cx, suffix).await?;
        let scheduled = ours
            .iter()
            .filter(|c| starts_later(c).unwrap_or(false))
            .count();
        ensure!(ours.len() == 5, "expected 5 coupons, got {}", ours.len());
        expect_some_each(&ours, &json!({ "status": "active" }))?;
        ensure!(
            scheduled == 1,
            "expected 1 scheduled coupon, got {scheduled}"
        );
        Ok(())
    })
    .await?;

    cx.step("Step 10: Bulk Update Coupons (Make Featured)", async |cx| {
        for code in [&save10, &restricted] {
            let path = format!("/api/coupons/{code}");
            patch_stored(cx, &path, json!({ "isFeatured": true })).await?;
        }
        Ok(())
    })
    .await?;

    cx.step("Step 11: Extend Coupon Expiry Date", async |cx| {
        let path = format!("/api/coupons/{save10}");
        let c = patch_stored(cx, &path, json!({ "endDate": iso_in_days(60) })).await?;
        let end = timestamp(c.str_at("endDate")?)?;
        ensure!(
            end > chrono::Utc::now() + chrono::Duration::days(59),
            "the end date was not extended: {}",
            short(&c)
        );
        Ok(())
    })
    .await?;

    cx.step("Step 12: Deactivate Coupon", async |cx| {
        let path = format!("/api/coupons/{future25}");
        patch_stored(cx, &path, json!({ "status": "inactive" })).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 13: Verify All Coupon Operations", async |cx| {
        let ours = own_coupons(cx, suffix).await?;
        let count = |kind: &str| ours.iter().filter(|c| c["type"] == kind).count();
        let (percentage, flat) = (count("percentage"), count("flat"));
        ensure!(
            ours.len() == 5 && percentage == 4 && flat == 1,
            "expected 4 percentage and 1 flat coupon, got {percentage} and {flat} of {}",
            ours.len()
        );
        for (code, state) in [
            (&save10, json!({ "isFeatured": true })),
            (&restricted, json!({ "isFeatured": true })),
            (&flat100, json!({ "isFeatured": true })),
            (&future25, json!({ "status": "inactive" })),
            (&welcome20, json!({ "status": "active" })),
        ] {
            let coupon = find_subset(&ours, &json!({ "code": code }))?;
            expect_subset(coupon, &state).with_context(|| format!("coupon {code}"))?;
        }
        Ok(())
    })
    .await
}

/// This run's coupons: the shop's coupons whose code contains the run's suffix.
async fn own_coupons(cx: &Ctx, suffix: &str) -> StepResult<Vec<Value>> {
    let list = cx
        .get_value(&format!(
            "/api/coupons?shopId={TEST_SHOP_ID}&search={suffix}&limit=50"
        ))
        .await?;
    Ok(list
        .data()?
        .iter()
        .filter(|c| {
            c["code"]
                .as_str()
                .is_some_and(|code| code.ends_with(suffix))
        })
        .cloned()
        .collect())
}

/// Whether a coupon's `startDate` is still ahead (the seed's "scheduled").
fn starts_later(coupon: &Value) -> StepResult<bool> {
    Ok(timestamp(coupon.str_at("startDate")?)? > chrono::Utc::now())
}

fn timestamp(text: &str) -> StepResult<chrono::DateTime<chrono::Utc>> {
    Ok(chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("not an RFC 3339 timestamp: {text:?}"))?
        .with_timezone(&chrono::Utc))
}
