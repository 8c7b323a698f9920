//! 08 `seller-product-creation`: a seller opens a shop, creates a product as a draft, fills in
//! details, images, shipping and SEO data step by step, publishes it and finds it in the
//! shop's published list and in search.
//!
//! Decisions:
//! - The seller is freshly registered, so it owns no shop and step 1 reaches `POST
//!   /api/shops`, as the seed intended (its seeded seller already owned `test-shop-001`, so
//!   the creation never ran). Step 1 still checks as the seed did: it reuses `test-shop-001`
//!   if this seller owns it, else another shop of the seller, and only then creates one (a
//!   seller may own one shop), with a unique slug.
//! - The product's slug and name carry a unique suffix, so parallel and repeated runs never
//!   collide. Like the seed, the published product is left in place: other workflows may be
//!   browsing it by then, and the seed never deleted it.
//! - Every PATCH is checked to have stored what it sent (the seed checked only step 5). Step
//!   10 looks for the product in the shop's published list sorted newest first — a product
//!   published a moment ago must be on the first page — and, for "searchable", in a search by
//!   its unique name.

use workflow_harness::prelude::*;

use crate::checks::{expect_listed, expect_some_each, patch_stored, post_stored};
use crate::common::*;

workflow! {
    id: "seller-product-creation",
    name: "Seller Product Creation",
    tags: ["seller", "products"],
    steps: 11,
    run: seller_product_creation,
}

async fn seller_product_creation(cx: &mut Ctx) -> StepResult {
    let seller = as_new_user(cx, "seller").await?;
    let seller_id = seller.user_id.as_str();
    let tag = unique("");

    let shop_id: String = cx
        .step("Step 1: Check or Create Seller Shop", async |cx| {
            let seeded = cx.get(&format!("/api/shops/{TEST_SHOP_ID}")).await?;
            if seeded.status().is_success() {
                let shop = seeded.json_value()?;
                if shop.str_at("ownerId")? == seller_id {
                    return Ok(shop.id()?);
                }
            }
            let mine = cx
                .get_value(&format!("/api/shops?ownerId={seller_id}&limit=1"))
                .await?;
            if let Some(shop) = mine.data()?.first() {
                return Ok(shop.id()?);
            }
            let body = json!({
                "name": format!("Test Shop {tag}"),
                "slug": format!("test-shop-{tag}"),
                "description": "Shop created by the seller product creation workflow",
                "phone": "+919876543210",
                "email": "test-shop@example.test",
            });
            Ok(cx.post_value("/api/shops", &body).await?.id()?)
        })
        .await?;

    cx.step("Step 2: Validate Shop Ownership", async |cx| {
        let shop = cx.get_value(&format!("/api/shops/{shop_id}")).await?;
        expect_json!(shop, { "ownerId": seller_id })?;
        // An unverified shop may still sell; the seed only warned about it.
        shop.bool_at("isVerified")?;
        Ok(())
    })
    .await?;

    cx.step("Step 3: Browse Available Categories", async |cx| {
        let answer = cx.get_value("/api/categories?isActive=true").await?;
        let categories = answer.data()?;
        ensure!(!categories.is_empty(), "there are no active categories");
        expect_some_each(categories, &json!({ "isActive": true }))?;
        find_subset(categories, &json!({ "id": ELECTRONICS_ID }))?;
        Ok(())
    })
    .await?;

    let name = format!("Test Product {tag}");
    let product_id: String = cx
        .step("Step 4: Create Product Draft", async |cx| {
            let body = json!({
                "name": name,
                "slug": format!("test-product-{tag}"),
                "description": "A product created by the seller product creation workflow.",
                "price": 999,
                "categoryId": ELECTRONICS_ID,
                "shopId": shop_id,
                "stockCount": 0,
                "lowStockThreshold": 5,
                "condition": "new",
                "countryOfOrigin": "India",
                "isReturnable": true,
                "returnWindowDays": 7,
                "status": "draft",
            });
            Ok(post_stored(cx, "/api/products", body).await?.id()?)
        })
        .await?;
    let path = format!("/api/products/{product_id}");

    cx.step("Step 5: Add Product Details", async |cx| {
        let body = json!({
            "description": "Detailed description: a well-built test product with a one-year \
                            warranty, shipped from Mumbai.",
            "price": 1499,
            "stockCount": 50,
            "sku": format!("SKU-{tag}"),
            "brand": "Test Brand",
            "specifications": [
                { "name": "Material", "value": "Aluminium" },
                { "name": "Colour", "value": "Black" },
                { "name": "Warranty", "value": "1 year" },
            ],
            "tags": ["test", "electronics", "workflow", "new"],
            "isFeatured": true,
            "showOnHomepage": true,
        });
        patch_stored(cx, &path, body).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 6: Upload Product Images", async |cx| {
        let images: Vec<String> = (1..=3)
            .map(|i| format!("https://example.test/images/test-product-{tag}-{i}.jpg"))
            .collect();
        patch_stored(cx, &path, json!({ "images": images })).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 7: Set Shipping Details", async |cx| {
        let body = json!({
            "shippingClass": "standard",
            "dimensions": {
                "length": 20, "width": 15, "height": 10, "unit": "cm",
                "weight": 0.5, "weightUnit": "kg",
            },
            "isReturnable": true,
            "returnWindowDays": 7,
            "warranty": "1 year manufacturer warranty",
        });
        patch_stored(cx, &path, body).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 8: Add SEO Metadata", async |cx| {
        let current = cx.get_value(&path).await?;
        let mut tags = current.array_at("tags")?.clone();
        tags.push(json!("seo"));
        let body = json!({
            "metaTitle": format!("{} | Buy Online", current.str_at("name")?),
            "metaDescription": "Buy the test product online with free returns.",
            "tags": tags,
        });
        patch_stored(cx, &path, body).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 9: Publish Product", async |cx| {
        patch_stored(cx, &path, json!({ "status": "published" })).await?;
        Ok(())
    })
    .await?;

    cx.step(
        "Step 10: Verify Product is Live and Searchable",
        async |cx| {
            let product = cx.get_value(&path).await?;
            let live = json!({ "status": "published", "isFeatured": true, "showOnHomepage": true });
            expect_subset(&product, &live)?;
            let listed = cx
                .get_value(&format!(
                    "/api/products?shopId={shop_id}&status=published&sortBy=createdAt&sortOrder=desc"
                ))
                .await?;
            expect_listed(&listed, &product_id)
                .context("not on the first page of the shop's published products")?;
            let found = cx
                .get_value(&format!("/api/products?search={tag}&status=published"))
                .await?;
            expect_listed(&found, &product_id)
                .with_context(|| format!("searching for {name:?} does not find it"))
        },
    )
    .await
}
