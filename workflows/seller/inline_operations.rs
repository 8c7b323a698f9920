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
//!   auctions, so once the workflow ends (passed, failed, panicked or timed out) a deferred
//!   step, "Cleanup: Cancel Test Auction" (`cx.defer`), cancels the auction it created; it
//!   would otherwise pile up over repeated runs. The product and the coupon stay, as in the
//!   seed (other workflows may be browsing the product by then).
//! - Step 10 also checks the marketplace's cap of 5 active auctions per shop: it fills the
//!   shop's active auctions up to the cap with probes (each cancelled by a deferred step) and
//!   one more must be refused with 409.
//! - Names, slugs and the coupon code carry a unique suffix.

use workflow_harness::prelude::*;

use crate::checks::{patch_stored, post_stored};
use crate::common::*;

workflow! {
    id: "seller-inline-operations",
    name: "Seller Inline Operations",
    tags: ["seller", "products", "coupons", "auctions"],
    steps: 16,
    run: seller_inline_operations,
}

/// The coupon's percentage and cap (the seed's 15% up to 500).
const COUPON_PERCENT: f64 = 15.0;
const COUPON_CAP: f64 = 500.0;
const PRODUCT_PRICE: f64 = 2999.0;

async fn seller_inline_operations(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, SELLER_ID)?;
    inline_operations(cx).await
}

/// The most active (scheduled or live) auctions a shop may have (the marketplace's rule).
const MAX_ACTIVE_AUCTIONS: u64 = 5;

/// The shop's active auctions are filled up to the cap with probes like `template` (each
/// cancelled once the workflow ends), and one more must be refused with 409.
async fn expect_auction_cap(cx: &Ctx, shop_id: &str, template: &Value) -> StepResult {
    let mut active = 0;
    for status in ["live", "scheduled"] {
        let path = format!("/api/auctions?shopId={shop_id}&status={status}&limit=1");
        active += cx.get_value(&path).await?.i64_at("/pagination/total")? as u64;
    }
    ensure!(
        active <= MAX_ACTIVE_AUCTIONS,
        "shop {shop_id} has {active} active auctions, more than {MAX_ACTIVE_AUCTIONS}"
    );
    let probe = |n: u64| {
        let mut body = template.clone();
        body["name"] = json!(format!("Cap probe {n}"));
        body["slug"] = json!(format!(
            "{}-cap-{n}",
            template["slug"].as_str().unwrap_or("probe")
        ));
        body
    };
    for n in active..MAX_ACTIVE_AUCTIONS {
        let id = cx.post_value("/api/auctions", &probe(n)).await?.id()?;
        let path = format!("/api/auctions/{id}");
        cx.defer("Cleanup: Cancel Cap Probe", async move |cx| {
            patch_stored(cx, &path, json!({ "status": "cancelled" }))
                .await
                .map(drop)
        });
    }
    let refused = cx
        .post("/api/auctions")
        .json(&probe(MAX_ACTIVE_AUCTIONS))
        .await?;
    refused.expect_status(409)?;
    Ok(())
}

/// `amount` rounded to cents, as the marketplace stores money.
fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

/// An RFC 3339 timestamp `hours` hours from now.
fn in_hours(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Appends `sentence` to the description of the product at `path`, checking it was stored.
async fn append_to_description(cx: &Ctx, path: &str, sentence: &str) -> StepResult {
    let product = cx.get_value(path).await?;
    let description = format!("{} {sentence}", product.str_at("description")?);
    patch_stored(cx, path, json!({ "description": description })).await?;
    Ok(())
}

async fn inline_operations(cx: &mut Ctx) -> StepResult {
    let tag = unique("");

    let shop = cx
        .step("Step 1: Check or Create Seller Shop (Inline)", async |cx| {
            let mine = cx
                .get_value(&format!("/api/shops?ownerId={SELLER_ID}&limit=100"))
                .await?;
            let shops = mine.data()?;
            let existing = find_subset(shops, &json!({ "id": TEST_SHOP_ID }))
                .ok()
                .or_else(|| shops.first());
            let shop = match existing {
                Some(shop) => shop.clone(),
                None => {
                    let body = json!({
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
                    });
                    cx.post_value("/api/shops", &body).await?
                }
            };
            expect_json!(shop, { "ownerId": SELLER_ID })?;
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
                let answer = cx.get_value("/api/categories").await?;
                let found = answer.data()?.iter().find(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|n| n.to_lowercase().contains("electronics"))
                });
                if let Some(category) = found {
                    return Ok(category.id()?);
                }
                // Creating a category needs an admin.
                let body = json!({
                    "name": format!("Electronics {tag}"),
                    "slug": format!("electronics-{tag}"),
                    "parentId": null,
                    "sortOrder": 1,
                    "isActive": true,
                    "commissionRate": 10,
                });
                let admin = seeded(ADMIN_ID);
                let created = cx
                    .as_user(&admin)
                    .post_value("/api/categories", &body)
                    .await?;
                Ok(created.at("data")?.id()?)
            },
        )
        .await?;

    let product_name = format!("Inline Test Product {tag}");
    let product_id: String = cx
        .step("Step 4: Create Base Product", async |cx| {
            let body = json!({
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
            });
            Ok(post_stored(cx, "/api/products", body).await?.id()?)
        })
        .await?;
    let product_path = format!("/api/products/{product_id}");

    let variants = ["Black", "Silver", "Blue"];
    cx.step("Step 5: Add Product Variants", async |cx| {
        let body: Vec<Value> = variants
            .iter()
            .map(|v| json!({ "name": v, "value": v, "stock": 30 }))
            .collect();
        patch_stored(cx, &product_path, json!({ "variants": body })).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 6: Upload Variant Images", async |cx| {
        let images: Vec<String> = variants
            .iter()
            .map(|v| format!("https://example.test/images/inline-{tag}-{v}.jpg"))
            .collect();
        patch_stored(cx, &product_path, json!({ "images": images })).await?;
        Ok(())
    })
    .await?;

    let code = format!("INLINE{tag}");
    let coupon_id: String = cx
        .step("Step 7: Create Coupon for Product", async |cx| {
            let body = json!({
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
            });
            Ok(post_stored(cx, "/api/coupons", body).await?.id()?)
        })
        .await?;
    let coupon_path = format!("/api/coupons/{coupon_id}");

    cx.step("Step 8: Link Coupon to Product", async |cx| {
        let coupon = cx.get_value(&coupon_path).await?;
        expect_json!(coupon, { "id": coupon_id })?;
        let sentence = format!(
            "Use code {} for {COUPON_PERCENT}% off.",
            coupon.str_at("code")?
        );
        append_to_description(cx, &product_path, &sentence).await
    })
    .await?;

    cx.step("Step 9: Test Coupon Application", async |cx| {
        let product = cx.get_value(&product_path).await?;
        let coupon = cx.get_value(&coupon_path).await?;
        let price = product.f64_at("price")?;
        let percent = coupon.f64_at("discountValue")?;
        let cap = coupon.f64_at("maxDiscountAmount")?;
        let body = json!({
            "code": code,
            "cartTotal": price,
            "items": [{ "productId": product_id, "categoryId": category_id,
                        "quantity": 1, "price": price }],
        });
        let check = cx.post_value("/api/coupons/validate", &body).await?;
        let discount = cents((price * percent / 100.0).min(cap));
        Ok(expect_json!(check, { "valid": true, "discount": discount })?)
    })
    .await?;

    let auction_id: String = cx
        .step("Step 10: Create Auction from Product", async |cx| {
            let product = cx.get_value(&product_path).await?;
            let starting_bid = cents(product.f64_at("price")? * 0.7);
            let body = json!({
                "shopId": shop_id,
                "name": format!("{} - Auction", product.str_at("name")?),
                "slug": format!("inline-auction-{tag}"),
                "description": format!("Auction of {product_id}"),
                "startingBid": starting_bid,
                "startTime": in_hours(1),
                "endTime": iso_in_days(7),
                "status": "scheduled",
            });
            let auction = cx.post_value("/api/auctions", &body).await?;
            let id = auction.id()?;
            // Cancelled once the workflow ends, however it ends: a shop may have only a few
            // active auctions, and they would pile up over repeated runs.
            let path = format!("/api/auctions/{id}");
            cx.defer("Cleanup: Cancel Test Auction", async move |cx| {
                patch_stored(cx, &path, json!({ "status": "cancelled" }))
                    .await
                    .map(drop)
            });
            expect_subset(&auction, &body)?;
            expect_json!(auction, { "currentBid": starting_bid })?;
            expect_auction_cap(cx, &shop_id, &body).await?;
            Ok(id)
        })
        .await?;
    let auction_path = format!("/api/auctions/{auction_id}");

    cx.step("Step 11: Link Auction to Product", async |cx| {
        let sentence = format!("Also up for auction: {auction_id}.");
        append_to_description(cx, &product_path, &sentence).await
    })
    .await?;

    cx.step("Step 12: Verify Cross-Resource Links", async |cx| {
        let product = cx.get_value(&product_path).await?;
        let shop = cx.get_value(&format!("/api/shops/{shop_slug}")).await?;
        let category = cx
            .get_value(&format!("/api/categories/{category_id}"))
            .await?;
        let coupon = cx.get_value(&coupon_path).await?;
        let auction = cx.get_value(&auction_path).await?;
        expect_json!(shop, { "id": shop_id })?;
        expect_json!(product, { "shopId": shop_id, "categoryId": category.str_at("/data/id")? })?;
        expect_json!(coupon, { "shopId": shop_id, "applicableProducts": [product_id] })?;
        expect_json!(auction, { "shopId": shop_id })?;
        let description = product.str_at("description")?;
        ensure!(
            description.contains(&code) && description.contains(&auction_id),
            "the product description does not mention the coupon and the auction: {description:?}"
        );
        Ok(())
    })
    .await?;

    cx.step("Step 13: Publish All Resources", async |cx| {
        patch_stored(cx, &product_path, json!({ "status": "published" })).await?;
        patch_stored(cx, &auction_path, json!({ "status": "live" })).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 14: Verify Integrated Workflow", async |cx| {
        expect_json!(cx.get_value(&product_path).await?, { "status": "published" })?;
        expect_json!(cx.get_value(&auction_path).await?, { "status": "live" })?;
        Ok(expect_json!(cx.get_value(&coupon_path).await?, { "status": "active" })?)
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
