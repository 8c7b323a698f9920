//! 10 `seller-inline-operations`: the seller builds linked resources "inline" — a product in
//! its shop and category, its variants and images, a product coupon, an auction of the
//! product — cross-links them, publishes everything and checks the links hold.
//!
//! Decisions:
//! - Step 1 uses the seller's own shop (the seeded seller owns `test-shop-001`); it creates a
//!   shop only when the seller has none, since a seller may own one shop. The seed probed a
//!   random slug and always created a new shop.
//! - Step 3 picks the first category whose name contains "electronics"; only if there is
//!   none does it create one, as an admin (sellers cannot create categories).
//! - Steps 5 and 6 add the variants and their images to the product for real (the seed only
//!   made up ids); step 2 stays local, as its name says.
//! - Step 8 and 12 look the coupon up by its id: the marketplace resolves a coupon by code or
//!   id. Step 9 checks the local discount math against `POST /api/coupons/validate`. Step 12
//!   checks the links (shop, category, coupon product, auction shop, descriptions) instead of
//!   only fetching.
//! - The auction goes live in step 13, as in the seed. A shop may have only a few active
//!   auctions, so after the last step (also when a step failed) the workflow cancels the
//!   auction it created; it would otherwise pile up over repeated runs. The product and the
//!   coupon stay, as in the seed (other workflows may be browsing the product by then).
//! - Names, slugs and the coupon code carry a unique suffix.

use workflow_harness::prelude::*;

use crate::checks::{expect_num, expect_str};
use crate::common::*;

workflow! {
    id: "seller-inline-operations",
    name: "Seller Inline Operations",
    tags: ["seller", "products", "coupons", "auctions"],
    steps: 15,
    run: seller_inline_operations,
}

/// The coupon's percentage and cap (the seed's 15% up to 500).
const COUPON_PERCENT: f64 = 15.0;
const COUPON_CAP: f64 = 500.0;
const PRODUCT_PRICE: f64 = 2999.0;

async fn seller_inline_operations(cx: &mut Ctx) -> StepResult {
    let seller = as_seeded(cx, SELLER_ID)?;
    let mut auction = None;
    let result = inline_operations(cx, &seller, &mut auction).await;
    // Cleanup: cancel the auction this run created, so the shop's active auctions do not pile
    // up. A failure here only matters when the workflow itself passed.
    let cleanup = match auction {
        Some(id) => cancel_auction(cx, &id).await,
        None => Ok(()),
    };
    result.and(cleanup.context("cleanup: cancelling the workflow's auction"))
}

async fn cancel_auction(cx: &Ctx, id: &str) -> StepResult {
    let cancelled: Value = cx
        .patch_json(
            &format!("/api/auctions/{id}"),
            &json!({ "status": "cancelled" }),
        )
        .await?;
    expect_str(&cancelled, "status", "cancelled")
}

async fn inline_operations(
    cx: &mut Ctx,
    seller: &Session,
    auction_slot: &mut Option<String>,
) -> StepResult {
    let tag = unique("");

    let shop: Value = cx
        .step("Step 1: Check or Create Seller Shop (Inline)", async |cx| {
            let mine: Value = cx
                .get_json(&format!("/api/shops?ownerId={SELLER_ID}&limit=100"))
                .await?;
            let shops = mine.data()?;
            let existing = shops
                .iter()
                .find(|s| s["id"] == TEST_SHOP_ID)
                .or_else(|| shops.first());
            let shop = match existing {
                Some(shop) => shop.clone(),
                None => {
                    cx.post_json(
                        "/api/shops",
                        &json!({
                            "name": format!("Inline Test Shop {tag}"),
                            "slug": format!("inline-test-shop-{tag}"),
                            "description": "Shop created inline by the seller workflow",
                            "email": "inline-shop@example.test",
                            "phone": "+919876543210",
                            "address": {
                                "line1": "123 Test Street", "city": "Mumbai",
                                "state": "Maharashtra", "pincode": "400001", "country": "India",
                            },
                            "showOnHomepage": true,
                        }),
                    )
                    .await?
                }
            };
            expect_str(&shop, "ownerId", SELLER_ID)?;
            Ok(shop)
        })
        .await?;
    let shop_id = shop.id()?;
    let shop_slug = shop.str_at("slug")?.to_owned();

    let brand: String = cx
        .step("Step 2: Create Brand (Inline Simulation)", async |_| {
            // There is no brand resource; the seed simulated one. The name goes on the product.
            Ok(format!("Inline Brand {tag}"))
        })
        .await?;

    let category_id: String = cx
        .step(
            "Step 3: Browse/Select Category (Create if needed)",
            async |cx| {
                let answer: Value = cx.get_json("/api/categories").await?;
                let found = answer.array_at("data")?.iter().find(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|n| n.to_lowercase().contains("electronics"))
                });
                if let Some(category) = found {
                    return Ok(category.id()?);
                }
                // Creating a category needs an admin.
                as_seeded(cx, ADMIN_ID)?;
                let created = cx
                    .post_json::<Value, _>(
                        "/api/categories",
                        &json!({
                            "name": format!("Electronics {tag}"),
                            "slug": format!("electronics-{tag}"),
                            "parentId": null,
                            "sortOrder": 1,
                            "isActive": true,
                            "commissionRate": 10,
                        }),
                    )
                    .await;
                act_as(cx, seller)?;
                Ok(created?.at("data")?.id()?)
            },
        )
        .await?;

    let product_name = format!("Inline Test Product {tag}");
    let product_id: String = cx
        .step("Step 4: Create Base Product", async |cx| {
            let product: Value = cx
                .post_json(
                    "/api/products",
                    &json!({
                        "shopId": shop_id,
                        "categoryId": category_id,
                        "name": product_name,
                        "slug": format!("inline-test-product-{tag}"),
                        "description": "Base product created inline.",
                        "price": PRODUCT_PRICE,
                        "stockCount": 100,
                        "lowStockThreshold": 10,
                        "brand": brand,
                        "condition": "new",
                        "status": "draft",
                    }),
                )
                .await?;
            expect_num(&product, "price", PRODUCT_PRICE)?;
            expect_str(&product, "status", "draft")?;
            Ok(product.id()?)
        })
        .await?;
    let product_path = format!("/api/products/{product_id}");

    let variants = ["Black", "Silver", "Blue"];
    cx.step("Step 5: Add Product Variants", async |cx| {
        let body: Vec<Value> = variants
            .iter()
            .map(|v| json!({ "name": v, "value": v, "stock": 30 }))
            .collect();
        let product: Value = cx
            .patch_json(&product_path, &json!({ "variants": body }))
            .await?;
        let names: Vec<&str> = product
            .array_at("variants")?
            .iter()
            .filter_map(|v| v["name"].as_str())
            .collect();
        ensure!(
            names == variants,
            "variants not stored: {}",
            short(&product)
        );
        Ok(())
    })
    .await?;

    cx.step("Step 6: Upload Variant Images", async |cx| {
        let images: Vec<String> = variants
            .iter()
            .map(|v| format!("https://example.test/images/inline-{tag}-{v}.jpg"))
            .collect();
        let product: Value = cx
            .patch_json(&product_path, &json!({ "images": images }))
            .await?;
        ensure!(
            product["images"] == json!(images),
            "images not stored: {}",
            short(&product)
        );
        Ok(())
    })
    .await?;

    let code = format!("INLINE{tag}");
    let coupon_id: String = cx
        .step("Step 7: Create Coupon for Product", async |cx| {
            let coupon: Value = cx
                .post_json(
                    "/api/coupons",
                    &json!({
                        "shopId": shop_id,
                        "code": code,
                        "name": "Inline product coupon",
                        "type": "percentage",
                        "discountValue": COUPON_PERCENT,
                        "minPurchaseAmount": 2000,
                        "minQuantity": 1,
                        "maxDiscountAmount": COUPON_CAP,
                        "usageLimit": 100,
                        "usageLimitPerUser": 1,
                        "applicability": "product",
                        "applicableProducts": [product_id],
                        "startDate": iso_in_days(0),
                        "endDate": iso_in_days(30),
                        "firstOrderOnly": false,
                        "newUsersOnly": false,
                        "canCombineWithOtherCoupons": false,
                        "autoApply": false,
                        "isPublic": true,
                        "isFeatured": false,
                    }),
                )
                .await?;
            expect_str(&coupon, "code", &code)?;
            ensure!(
                coupon["applicableProducts"] == json!([product_id]),
                "the coupon is not limited to the product: {}",
                short(&coupon)
            );
            Ok(coupon.id()?)
        })
        .await?;
    let coupon_path = format!("/api/coupons/{coupon_id}");

    cx.step("Step 8: Link Coupon to Product", async |cx| {
        let product: Value = cx.get_json(&product_path).await?;
        let coupon: Value = cx.get_json(&coupon_path).await?;
        expect_str(&coupon, "id", &coupon_id)?;
        let description = format!(
            "{} Use code {} for {COUPON_PERCENT}% off.",
            product.str_at("description")?,
            coupon.str_at("code")?
        );
        let updated: Value = cx
            .patch_json(&product_path, &json!({ "description": description }))
            .await?;
        expect_str(&updated, "description", &description)
    })
    .await?;

    cx.step("Step 9: Test Coupon Application", async |cx| {
        let product: Value = cx.get_json(&product_path).await?;
        let coupon: Value = cx.get_json(&coupon_path).await?;
        let price = product.f64_at("price")?;
        let percent = coupon.f64_at("discountValue")?;
        let cap = coupon.f64_at("maxDiscountAmount")?;
        let expected = (price * percent / 100.0).min(cap);
        let check: Value = cx
            .post_json(
                "/api/coupons/validate",
                &json!({
                    "code": code,
                    "cartTotal": price,
                    "items": [{ "productId": product_id, "categoryId": category_id,
                                "quantity": 1, "price": price }],
                }),
            )
            .await?;
        ensure!(
            check["valid"] == true,
            "the coupon does not apply: {}",
            short(&check)
        );
        expect_num(&check, "discount", (expected * 100.0).round() / 100.0)
    })
    .await?;

    let auction_id: String = cx
        .step("Step 10: Create Auction from Product", async |cx| {
            let product: Value = cx.get_json(&product_path).await?;
            let starting_bid = product.f64_at("price")? * 0.7;
            let auction: Value = cx
                .post_json(
                    "/api/auctions",
                    &json!({
                        "shopId": shop_id,
                        "name": format!("{} - Auction", product.str_at("name")?),
                        "slug": format!("inline-auction-{tag}"),
                        "description": format!("Auction of {product_id}"),
                        "startingBid": starting_bid,
                        "startTime": chrono_in_hours(1),
                        "endTime": iso_in_days(7),
                        "status": "scheduled",
                    }),
                )
                .await?;
            let id = auction.id()?;
            *auction_slot = Some(id.clone());
            expect_num(&auction, "startingBid", starting_bid)?;
            expect_num(&auction, "currentBid", starting_bid)?;
            expect_str(&auction, "status", "scheduled")?;
            auction.str_at("startTime")?;
            auction.str_at("endTime")?;
            Ok(id)
        })
        .await?;
    let auction_path = format!("/api/auctions/{auction_id}");

    cx.step("Step 11: Link Auction to Product", async |cx| {
        let product: Value = cx.get_json(&product_path).await?;
        let description = format!(
            "{} Also up for auction: {auction_id}.",
            product.str_at("description")?
        );
        let updated: Value = cx
            .patch_json(&product_path, &json!({ "description": description }))
            .await?;
        expect_str(&updated, "description", &description)
    })
    .await?;

    cx.step("Step 12: Verify Cross-Resource Links", async |cx| {
        let product: Value = cx.get_json(&product_path).await?;
        let shop: Value = cx.get_json(&format!("/api/shops/{shop_slug}")).await?;
        let category: Value = cx
            .get_json(&format!("/api/categories/{category_id}"))
            .await?;
        let coupon: Value = cx.get_json(&coupon_path).await?;
        let auction: Value = cx.get_json(&auction_path).await?;
        expect_str(&shop, "id", &shop_id)?;
        expect_str(&product, "shopId", &shop_id)?;
        expect_str(&product, "categoryId", category.at("data")?.str_at("id")?)?;
        expect_str(&coupon, "shopId", &shop_id)?;
        ensure!(
            coupon["applicableProducts"] == json!([product_id]),
            "the coupon lost its product link: {}",
            short(&coupon)
        );
        expect_str(&auction, "shopId", &shop_id)?;
        let description = product.str_at("description")?;
        ensure!(
            description.contains(&code) && description.contains(&auction_id),
            "the product description does not mention the coupon and the auction: {description:?}"
        );
        Ok(())
    })
    .await?;

    cx.step("Step 13: Publish All Resources", async |cx| {
        let product: Value = cx
            .patch_json(&product_path, &json!({ "status": "published" }))
            .await?;
        expect_str(&product, "status", "published")?;
        let auction: Value = cx
            .patch_json(&auction_path, &json!({ "status": "live" }))
            .await?;
        expect_str(&auction, "status", "live")
    })
    .await?;

    cx.step("Step 14: Verify Integrated Workflow", async |cx| {
        let product: Value = cx.get_json(&product_path).await?;
        let auction: Value = cx.get_json(&auction_path).await?;
        let coupon: Value = cx.get_json(&coupon_path).await?;
        expect_str(&product, "status", "published")?;
        expect_str(&auction, "status", "live")?;
        expect_str(&coupon, "status", "active")
    })
    .await?;

    cx.step("Step 15: Generate Summary Report", async |_| {
        let summary = json!({
            "shop": shop_id,
            "brand": brand,
            "category": category_id,
            "product": product_id,
            "variants": variants,
            "coupon": code,
            "auction": auction_id,
        });
        ensure!(summary.as_object().is_some_and(|o| o.len() == 7));
        Ok(())
    })
    .await
}

/// An RFC 3339 timestamp `hours` hours from now.
fn chrono_in_hours(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
