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
//! - Step 8 asserts `valid` and the discount for both codes (the seed only logged them).
//! - Step 10 swallowed its errors in the seed; here the two PATCHes must succeed.
//! - The seed's `cleanup()` (DELETE every created coupon) was never called. Here it runs after
//!   the last step — and also when a step failed — outside the numbered steps, and checks each
//!   coupon is gone.

use workflow_harness::prelude::*;

use crate::checks::{expect_bool, expect_num, expect_str};
use crate::common::*;

workflow! {
    id: "seller-coupons",
    name: "Seller Coupon Management",
    tags: ["seller", "coupons"],
    steps: 13,
    run: seller_coupons,
}

async fn seller_coupons(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, SELLER_ID)?;
    let suffix = unique("");
    let mut created = Vec::new();
    let result = coupon_steps(cx, &suffix, &mut created).await;
    let cleanup = delete_coupons(cx, &created).await;
    result.and(cleanup.context("cleanup: deleting the workflow's coupons"))
}

/// The seed's `cleanup()`: deletes every coupon this run created and checks it is gone.
async fn delete_coupons(cx: &Ctx, codes: &[String]) -> StepResult {
    let mut failures = Vec::new();
    for code in codes {
        let path = format!("/api/coupons/{code}");
        let outcome = async {
            cx.delete(&path).await?.expect_success()?;
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

/// The coupon fields every coupon of the seed shares.
fn coupon(fields: Value) -> Value {
    let mut body = json!({
        "shopId": TEST_SHOP_ID,
        "minQuantity": 1,
        "autoApply": false,
        "isPublic": true,
        "canCombineWithOtherCoupons": false,
    });
    if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
        body.extend(fields.clone());
    }
    body
}

/// Creates a coupon, checks it echoes the code, type and shop, and records its code.
async fn create(cx: &Ctx, created: &mut Vec<String>, fields: Value) -> StepResult<Value> {
    let body = coupon(fields);
    let answer: Value = cx.post_json("/api/coupons", &body).await?;
    let code = answer.str_at("code")?.to_owned();
    created.push(code.clone());
    expect_str(&answer, "code", body.str_at("code")?)?;
    expect_str(&answer, "type", body.str_at("type")?)?;
    expect_str(&answer, "shopId", TEST_SHOP_ID)?;
    expect_str(&answer, "status", "active")?;
    Ok(answer)
}

async fn coupon_steps(cx: &mut Ctx, suffix: &str, created: &mut Vec<String>) -> StepResult {
    let save10 = format!("SAVE10_{suffix}");
    let restricted = format!("RESTRICTED_{suffix}");
    let flat100 = format!("FLAT100_{suffix}");
    let welcome20 = format!("WELCOME20_{suffix}");
    let future25 = format!("FUTURE25_{suffix}");

    cx.step(
        "Step 1: Navigate to Coupons Page & Verify Access",
        async |cx| {
            let shop: Value = cx.get_json(&format!("/api/shops/{TEST_SHOP_ID}")).await?;
            expect_str(&shop, "ownerId", SELLER_ID)?;
            let list: Value = cx
                .get_json(&format!("/api/coupons?shopId={TEST_SHOP_ID}&limit=5"))
                .await?;
            let coupons = list.data()?;
            ensure!(
                coupons.len() <= 5 && coupons.iter().all(|c| c["shopId"] == TEST_SHOP_ID),
                "the shop's coupon list holds other coupons: {}",
                short(&list)
            );
            Ok(())
        },
    )
    .await?;

    cx.step(
        "Step 2: Create Percentage Discount Coupon (10% off)",
        async |cx| {
            let c = create(
                cx,
                created,
                json!({
                    "code": save10, "name": "Save 10%", "type": "percentage",
                    "discountValue": 10, "maxDiscountAmount": 500, "minPurchaseAmount": 0,
                    "applicability": "all", "usageLimitPerUser": 1,
                    "startDate": iso_in_days(0), "endDate": iso_in_days(30), "isFeatured": false,
                }),
            )
            .await?;
            expect_num(&c, "discountValue", 10.0)
        },
    )
    .await?;

    cx.step(
        "Step 3: Set Coupon Restrictions (Min Order ₹500, Categories)",
        async |cx| {
            let answer: Value = cx.get_json("/api/categories").await?;
            let categories: Vec<String> = answer
                .array_at("data")?
                .iter()
                .take(2)
                .map(JsonExt::id)
                .collect::<Result<_, _>>()?;
            let applicability = if categories.len() == 2 {
                "category"
            } else {
                "all"
            };
            let c = create(
                cx,
                created,
                json!({
                    "code": restricted, "name": "Restricted 15%", "type": "percentage",
                    "discountValue": 15, "maxDiscountAmount": 1000, "minPurchaseAmount": 500,
                    "applicability": applicability, "applicableCategories": categories,
                    "usageLimitPerUser": 3, "usageLimit": 100,
                    "startDate": iso_in_days(0), "endDate": iso_in_days(15),
                }),
            )
            .await?;
            expect_num(&c, "minPurchaseAmount", 500.0)?;
            expect_str(&c, "applicability", applicability)?;
            ensure!(
                c["applicableCategories"] == json!(categories),
                "the categories were not stored: {}",
                short(&c)
            );
            Ok(())
        },
    )
    .await?;

    cx.step(
        "Step 4: Create Fixed Amount Coupon (₹100 off)",
        async |cx| {
            let c = create(
                cx,
                created,
                json!({
                    "code": flat100, "name": "Flat 100 off", "type": "flat",
                    "discountValue": 100, "minPurchaseAmount": 1000, "applicability": "all",
                    "usageLimitPerUser": 2,
                    "startDate": iso_in_days(0), "endDate": iso_in_days(20), "isFeatured": true,
                }),
            )
            .await?;
            expect_num(&c, "discountValue", 100.0)
        },
    )
    .await?;

    cx.step("Step 5: Verify Usage Limits Configuration", async |cx| {
        let c: Value = cx.get_json(&format!("/api/coupons/{flat100}")).await?;
        expect_num(&c, "usageLimitPerUser", 2.0)?;
        expect_num(&c, "minPurchaseAmount", 1000.0)?;
        expect_num(&c, "usageCount", 0.0)
    })
    .await?;

    cx.step(
        "Step 6: Create First-Time Buyer Coupon (20% off)",
        async |cx| {
            let c = create(
                cx,
                created,
                json!({
                    "code": welcome20, "name": "Welcome 20%", "type": "percentage",
                    "discountValue": 20, "maxDiscountAmount": 1000, "minPurchaseAmount": 500,
                    "applicability": "all", "firstOrderOnly": true, "newUsersOnly": true,
                    "startDate": iso_in_days(0), "endDate": iso_in_days(60), "isFeatured": true,
                }),
            )
            .await?;
            expect_bool(&c, "firstOrderOnly", true)?;
            expect_bool(&c, "newUsersOnly", true)
        },
    )
    .await?;

    cx.step("Step 7: Create Scheduled Future Coupon", async |cx| {
        let c = create(
            cx,
            created,
            json!({
                "code": future25, "name": "Future 25%", "type": "percentage",
                "discountValue": 25, "maxDiscountAmount": 2000, "minPurchaseAmount": 1500,
                "applicability": "all", "usageLimit": 50,
                "startDate": iso_in_days(7), "endDate": iso_in_days(37),
            }),
        )
        .await?;
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
            let check: Value = cx
                .post_json(
                    "/api/coupons/validate",
                    &json!({
                        "code": code,
                        "cartTotal": total,
                        "items": [{ "productId": "test-product-1", "categoryId": "test-category-1",
                                    "quantity": quantity, "price": price }],
                    }),
                )
                .await?;
            ensure!(
                check["valid"] == true,
                "{code} should be valid for a cart of {total}: {}",
                short(&check)
            );
            expect_num(&check, "discount", discount)?;
        }
        Ok(())
    })
    .await?;

    cx.step("Step 9: View Coupon Usage Statistics", async |cx| {
        let list: Value = cx
            .get_json(&format!("/api/coupons?shopId={TEST_SHOP_ID}&limit=20"))
            .await?;
        ensure!(list.data()?.len() <= 20, "the limit was not applied");
        let ours = own_coupons(cx, suffix).await?;
        let scheduled = ours
            .iter()
            .filter(|c| starts_later(c).unwrap_or(false))
            .count();
        let active = ours.iter().filter(|c| c["status"] == "active").count();
        ensure!(
            ours.len() == 5 && active == 5 && scheduled == 1,
            "expected 5 active coupons of which 1 scheduled, got {} ({active} active, \
             {scheduled} scheduled)",
            ours.len()
        );
        Ok(())
    })
    .await?;

    cx.step("Step 10: Bulk Update Coupons (Make Featured)", async |cx| {
        for code in [&save10, &restricted] {
            let c: Value = cx
                .patch_json(
                    &format!("/api/coupons/{code}"),
                    &json!({ "isFeatured": true }),
                )
                .await?;
            expect_bool(&c, "isFeatured", true)?;
        }
        Ok(())
    })
    .await?;

    cx.step("Step 11: Extend Coupon Expiry Date", async |cx| {
        let c: Value = cx
            .patch_json(
                &format!("/api/coupons/{save10}"),
                &json!({ "endDate": iso_in_days(60) }),
            )
            .await?;
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
        let c: Value = cx
            .patch_json(
                &format!("/api/coupons/{future25}"),
                &json!({ "status": "inactive" }),
            )
            .await?;
        expect_str(&c, "status", "inactive")
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
        let by_code = |code: &str| {
            ours.iter()
                .find(|c| c["code"] == code)
                .with_context(|| format!("{code} is missing"))
        };
        expect_bool(by_code(&save10)?, "isFeatured", true)?;
        expect_bool(by_code(&restricted)?, "isFeatured", true)?;
        expect_bool(by_code(&flat100)?, "isFeatured", true)?;
        expect_str(by_code(&future25)?, "status", "inactive")?;
        expect_str(by_code(&welcome20)?, "status", "active")
    })
    .await
}

/// This run's coupons: the shop's coupons whose code contains the run's suffix.
async fn own_coupons(cx: &Ctx, suffix: &str) -> StepResult<Vec<Value>> {
    let list: Value = cx
        .get_json(&format!(
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
